// One message (`GET /messages/{id}`): its details and its history as a timeline, with each provider answer;
// a scheduled message shows when it is sent and can be canceled (`DELETE /messages/{id}`).

import { api, segment } from '../api.js';
import { describeInFlight, statusReason } from '../outcome.js';
import { actionButton, confirmAction, h, notify, prettyBody, screenHeading, statusBadge, time } from '../ui.js';

export async function render(root, params) {
  const id = params.id;
  const body = h('div', { class: 'message-body', 'aria-live': 'polite' });
  root.replaceChildren(
    h('p', { class: 'back' }, h('a', { href: '#/messages' }, '← All messages')),
    screenHeading(`Message ${id}`, actionButton('Refresh', () => load(body, id))),
    body);
  await load(body, id);
}

async function load(container, id) {
  const result = await api('GET', `/messages/${segment(id)}`, undefined, { quiet: true });
  if (result.status === 404) {
    container.replaceChildren(h('p', { class: 'problem' }, result.json?.message ?? `No message ${id}.`));
    return;
  }
  if (!result.ok) {
    container.replaceChildren(h('p', { class: 'problem' }, result.json?.message ?? `GET /messages/${id} answered ${result.status}.`));
    return;
  }
  const message = result.json;
  const facts = [
    ['Status', statusBadge(message.status)],
    ['Why', statusReason(message)],
    ['In flight', inFlight(message.in_flight)],
    ['Scheduled for', message.send_at ? time(message.send_at) : undefined],
    ['To', h('span', { class: 'mono' }, message.to ?? '-')],
    ['Provider', message.provider ?? '-'],
    ['Type', message.type],
    ['Segments', message.segments],
    ['Unicode', message.is_unicode === undefined || message.is_unicode === null ? undefined : (message.is_unicode ? 'yes (UCS-2)' : 'no (GSM-7)')],
    ['Provider message id', message.provider_message_id ? h('span', { class: 'mono' }, message.provider_message_id) : undefined],
    ['Campaign', message.campaign_id],
    ['Callback URL', message.callback_url ? h('span', { class: 'mono' }, message.callback_url) : undefined],
    ['Metadata', message.metadata ? h('span', { class: 'mono' }, JSON.stringify(message.metadata)) : undefined],
    ['Created', message.created_at ? time(message.created_at) : undefined],
    ['Updated', message.updated_at ? time(message.updated_at) : undefined],
  ].filter(([, value]) => value !== undefined && value !== null && value !== '');
  const history = Array.isArray(message.history) ? message.history : [];
  // Only a scheduled message can be canceled (the API answers 409 for any other).
  const cancel = message.status === 'scheduled'
    ? h('p', { class: 'actions' }, actionButton('Cancel this message', () => cancelMessage(container, id, message), { kind: 'danger', busyLabel: 'Canceling…' }))
    : null;
  container.replaceChildren(
    h('dl', { class: 'facts panel' }, facts.map(([name, value]) => h('div', {}, h('dt', {}, name), h('dd', {}, value)))),
    ...(cancel ? [cancel] : []),
    h('h2', {}, 'History'),
    history.length
      ? h('ol', { class: 'timeline', 'aria-label': 'Status changes, oldest first' }, history.map(step))
      : h('p', { class: 'empty' }, 'No status change recorded yet.'));
}

function inFlight(attempt) {
  const said = describeInFlight(attempt);
  return said && h('span', {}, said, ...(attempt.since ? [' since ', time(attempt.since)] : []));
}

async function cancelMessage(container, id, message) {
  const confirmed = await confirmAction({
    title: `Cancel message ${id}?`,
    details: [`It was to be sent ${message.send_at ? `at ${new Date(message.send_at).toLocaleString()}` : 'later'}; once canceled it is never sent.`],
    action: 'Cancel message',
    danger: true,
  });
  if (!confirmed) return;
  const result = await api('DELETE', `/messages/${segment(id)}`, undefined, { quiet: true });
  if (result.ok) {
    notify({ kind: 'done', title: 'Canceled', message: `Message ${id} will not be sent.` });
  } else {
    notify({ title: 'Not canceled', message: result.json?.message ?? `DELETE /messages/${id} answered ${result.status}.` });
  }
  await load(container, id);
}

function step(change) {
  const answer = change.answer;
  return h('li', { class: `step status-${String(change.status ?? '').replace(/[^a-z_-]/gi, '')}` },
    h('div', { class: 'step-head' },
      statusBadge(change.status),
      time(change.at),
      change.attempt !== undefined && change.attempt !== null ? h('span', { class: 'muted' }, `attempt ${change.attempt}`) : null,
      // The provider of this entry: after a failover, the one that did not take it, then the one that sent it.
      change.provider ? h('span', { class: 'step-provider' }, 'provider ', h('strong', {}, change.provider)) : null),
    change.reason ? h('p', { class: 'reason' }, change.reason) : null,
    answer ? providerAnswer(answer) : null);
}

function providerAnswer(answer) {
  const summary = ['Provider answer'];
  if (answer.status_code !== undefined && answer.status_code !== null) summary.push(`HTTP ${answer.status_code}`);
  if (answer.message_id) summary.push(`id ${answer.message_id}`);
  const body = prettyBody(answer.body);
  return h('details', { class: 'provider-answer', open: true },
    h('summary', {}, summary.join(' · ')),
    body ? h('pre', { tabindex: '0' }, body) : h('p', { class: 'muted' }, 'No body.'));
}
