// Dead letters: what the dead-letter queue holds and why (`GET /dead-letters`); redrive one or all, or delete, each after a confirmation.

import { api, segment, withQuery } from '../api.js';
import { actionButton, confirmAction, h, notify, prettyBody, screenHeading, table, time } from '../ui.js';

const LIMIT = 200; // the API's maximum: the operator sees as much of the queue as one call gives

export async function render(root) {
  const list = h('div', { class: 'results', 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Reading the queue…'));
  const redriveAll = actionButton('Redrive all', () => redrive({ all: true }, 'every message of the dead-letter queue', () => load(list, redriveAll)),
    { kind: 'primary', busyLabel: 'Redriving…' });
  root.replaceChildren(
    screenHeading('Dead letters', actionButton('Refresh', () => load(list, redriveAll)), redriveAll),
    h('p', { class: 'lead' }, 'Messages the bridge could not send or could not read, each with its reason. Redriving puts a message back on the outbound queue as it is: one that was refused for its content comes back here with its reason.'),
    list);
  await load(list, redriveAll);
}

async function load(container, redriveAll) {
  const result = await api('GET', withQuery('/dead-letters', { limit: LIMIT }));
  if (!result.ok) {
    container.replaceChildren(h('p', { class: 'problem' }, result.json?.message ?? 'The dead-letter queue could not be read.'));
    return;
  }
  const items = result.json?.items ?? [];
  redriveAll.hidden = items.length === 0;
  const reload = () => load(container, redriveAll);
  container.replaceChildren(
    h('p', { class: 'count' }, items.length === LIMIT
      ? `The first ${LIMIT} messages of the queue are shown.`
      : `${items.length} message${items.length === 1 ? '' : 's'} in the dead-letter queue.`),
    table({
      caption: 'Messages in the dead-letter queue',
      columns: [
        ['Reason', (d) => h('span', { class: 'reason' }, d.reason ?? 'no reason recorded')],
        ['Message', (d) => (d.message_id ? h('a', { href: `#/messages/${encodeURIComponent(d.message_id)}`, class: 'mono' }, d.message_id) : h('span', { class: 'muted' }, 'no id could be read'))],
        ['Sent to the queue', (d) => time(d.sent_at)],
        ['Body', (d) => h('details', {}, h('summary', {}, 'Show the body'), h('pre', { tabindex: '0' }, prettyBody(d.body)))],
        ['Actions', (d) => h('div', { class: 'row-actions' },
          actionButton('Redrive', () => redrive({ ids: [d.id] }, describe(d), reload), { 'aria-label': `Redrive ${describe(d)}` }),
          actionButton('Delete', () => remove(d, reload), { kind: 'danger', 'aria-label': `Delete ${describe(d)}` }))],
      ],
      items,
      empty: 'The dead-letter queue is empty.',
    }));
}

function describe(deadLetter) {
  return deadLetter.message_id ? `message ${deadLetter.message_id}` : `dead letter ${deadLetter.id}`;
}

async function redrive(body, what, reload) {
  const confirmed = await confirmAction({
    title: `Redrive ${what}?`,
    details: ['It goes back on the outbound queue as it is, and is sent again (or comes back here with its reason).'],
    action: 'Redrive',
  });
  if (!confirmed) return;
  const result = await api('POST', '/dead-letters/redrive', body);
  if (result.ok) {
    const count = result.json?.redriven ?? 0;
    notify({ kind: 'done', title: 'Redriven', message: `${count} message${count === 1 ? '' : 's'} put back on the outbound queue.` });
  }
  await reload();
}

async function remove(deadLetter, reload) {
  const confirmed = await confirmAction({
    title: `Delete ${describe(deadLetter)}?`,
    details: ['It is removed from the dead-letter queue for good: it will not be sent.', h('pre', {}, prettyBody(deadLetter.body).slice(0, 600))],
    action: 'Delete',
    danger: true,
  });
  if (!confirmed) return;
  const result = await api('DELETE', `/dead-letters/${segment(deadLetter.id)}`);
  if (result.ok) notify({ kind: 'done', title: 'Deleted', message: `${describe(deadLetter)} was removed from the dead-letter queue.` });
  await reload();
}
