// Inbound: the SMS received that were not keywords (`GET /inbound-messages`), newest first, by cursor.

import { api, withQuery } from '../api.js';
import {
  field, formValues, h, isoToLocalInput, localInputToIso, screenHeading, table, tableRow, time,
} from '../ui.js';

const PAGE_SIZE = 50;

const COLUMNS = [
  ['Received', (m) => time(m.received_at)],
  ['From', (m) => h('span', { class: 'mono' }, m.from ?? '-')],
  ['To', (m) => h('span', { class: 'mono' }, m.to ?? '-')],
  ['Provider', (m) => m.provider ?? '-'],
  ['Text', (m) => h('span', { class: 'sms-text' }, m.text ?? '')],
  ['Sent', (m) => time(m.sent_at)],
  ['Id', (m) => h('span', { class: 'mono small' }, m.id ?? '-')],
];

export async function render(root, params) {
  const since = params.query.get('since') ?? '';
  const form = h('form', { class: 'panel search', 'aria-labelledby': 'filter-title', novalidate: true },
    h('h2', { id: 'filter-title' }, 'Filter'),
    h('div', { class: 'fields' },
      field('Received since', h('input', { name: 'since', type: 'datetime-local', value: since ? isoToLocalInput(since) : '' }))),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Show'),
      h('a', { href: '#/inbound', class: 'button secondary' }, 'All')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = withQuery('#/inbound', { since: localInputToIso(formValues(form).since) });
    if (location.hash === next) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = next;
  });
  const results = h('div', { class: 'results', 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Loading…'));
  root.replaceChildren(
    screenHeading('Inbound messages'),
    h('p', { class: 'lead' }, 'SMS sent to your numbers that were not keywords (STOP, START...): replies for your application.'),
    form, results);

  const result = await api('GET', withQuery('/inbound-messages', { since, limit: PAGE_SIZE }));
  if (!result.ok) {
    results.replaceChildren(h('p', { class: 'problem' }, result.json?.message ?? 'The list could not be read.'));
    return;
  }
  const items = result.json?.items ?? [];
  let cursor = result.json?.cursor ?? null;
  const more = h('button', { type: 'button', class: 'secondary', hidden: !cursor }, 'Load older messages');
  results.replaceChildren(
    table({ caption: 'Inbound messages, newest first', columns: COLUMNS, items, empty: 'No inbound message yet.' }),
    more);
  more.addEventListener('click', async () => {
    more.disabled = true;
    const page = await api('GET', withQuery('/inbound-messages', { since, limit: PAGE_SIZE, cursor }));
    more.disabled = false;
    if (!page.ok) return;
    const rows = results.querySelector('tbody');
    for (const item of page.json?.items ?? []) rows?.append(tableRow(COLUMNS, item));
    cursor = page.json?.cursor ?? null;
    more.hidden = !cursor;
  });
}
