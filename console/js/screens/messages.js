// Messages: the searchable log (`GET /messages`, newest first, by cursor) and the "send a message" form (`POST /messages`).

import { api, withQuery } from '../api.js';
import { messageTypes, providerIds, statuses } from '../facts.js';
import {
  field, formValues, h, isoToLocalInput, localInputToIso, notify, screenHeading, select, showFieldErrors,
  statusBadge, table, tableRow, time,
} from '../ui.js';

const PAGE_SIZE = 50;
const FILTERS = ['phone', 'provider', 'status', 'since', 'until'];

const COLUMNS = [
  ['Message', (m) => h('a', { href: `#/messages/${encodeURIComponent(m.id)}`, class: 'mono' }, m.id)],
  ['Status', (m) => statusBadge(m.status)],
  ['To', (m) => h('span', { class: 'mono' }, m.to ?? '-')],
  ['Provider', (m) => m.provider ?? '-'],
  ['Type', (m) => m.type ?? '-'],
  ['Segments', (m) => m.segments ?? '-'],
  ['Created', (m) => time(m.created_at)],
  ['Updated', (m) => time(m.updated_at)],
];

export async function render(root, params) {
  const [providers, knownStatuses, types] = await Promise.all([providerIds(), statuses(), messageTypes()]);
  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.query.get(name) ?? '']));

  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  root.replaceChildren(
    screenHeading('Messages'),
    h('div', { class: 'messages-top' }, searchForm(filters, providers, knownStatuses), sendForm(providers, types)),
    results,
  );
  await showResults(results, filters);
}

function searchForm(filters, providers, knownStatuses) {
  const idInput = h('input', { name: 'id', type: 'search', autocomplete: 'off', spellcheck: 'false' });
  const statusControl = knownStatuses.length
    ? select('status', [['', 'any status'], ...knownStatuses], filters.status)
    : h('input', { name: 'status', value: filters.status });
  const providerControl = providers.length
    ? select('provider', [['', 'any provider'], ...providers], filters.provider)
    : h('input', { name: 'provider', value: filters.provider });
  const form = h('form', { class: 'panel search', 'aria-labelledby': 'search-title', novalidate: true },
    h('h2', { id: 'search-title' }, 'Search'),
    h('div', { class: 'fields' },
      field('Message id', idInput, { hint: 'Opens that message' }),
      field('Phone number', h('input', { name: 'phone', type: 'tel', value: filters.phone, autocomplete: 'off', placeholder: '+33612345678' })),
      field('Provider', providerControl),
      field('Status', statusControl),
      field('From', h('input', { name: 'since', type: 'datetime-local', value: filters.since ? isoToLocalInput(filters.since) : '' })),
      field('Until', h('input', { name: 'until', type: 'datetime-local', value: filters.until ? isoToLocalInput(filters.until) : '' }))),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Search'),
      h('a', { href: '#/messages', class: 'button secondary' }, 'Clear')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = formValues(form);
    if (values.id) {
      location.hash = `#/messages/${encodeURIComponent(values.id)}`;
      return;
    }
    const query = {
      phone: values.phone, provider: values.provider, status: values.status,
      since: localInputToIso(values.since), until: localInputToIso(values.until),
    };
    // The search lives in the address: it survives a reload and can be shared.
    const next = withQuery('#/messages', query);
    if (location.hash === next) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = next;
  });
  return form;
}

async function showResults(container, filters) {
  container.replaceChildren(h('p', { class: 'loading' }, 'Searching…'));
  const result = await api('GET', withQuery('/messages', { ...filters, limit: PAGE_SIZE }));
  if (!result.ok) {
    container.replaceChildren(h('p', { class: 'problem' }, result.json?.message ?? 'The search failed.'));
    return;
  }
  const items = result.json?.items ?? [];
  const described = describe(filters);
  const count = h('p', { class: 'count' });
  const list = table({ caption: `Messages${described}, newest first`, columns: COLUMNS, items, empty: `No message${described}.` });
  container.replaceChildren(count, list);
  let shown = items.length;
  let cursor = result.json?.cursor ?? null;
  const more = h('button', { type: 'button', class: 'secondary' }, 'Load older messages');
  const updateCount = () => {
    count.textContent = `${shown} message${shown === 1 ? '' : 's'} shown${cursor ? ', more are older' : ''}.`;
    more.hidden = !cursor;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    const page = await api('GET', withQuery('/messages', { ...filters, limit: PAGE_SIZE, cursor }));
    more.disabled = false;
    if (!page.ok) return;
    const rows = container.querySelector('tbody');
    const added = page.json?.items ?? [];
    for (const item of added) rows?.append(tableRow(COLUMNS, item));
    shown += added.length;
    cursor = page.json?.cursor ?? null;
    updateCount();
    // The keyboard user carries on from the first new row.
    rows?.children[shown - added.length]?.querySelector('a')?.focus();
  });
  if (items.length) container.append(more);
  updateCount();
}

function describe(filters) {
  const parts = [];
  if (filters.phone) parts.push(`to ${filters.phone}`);
  if (filters.provider) parts.push(`through ${filters.provider}`);
  if (filters.status) parts.push(`with status ${filters.status}`);
  if (filters.since) parts.push(`since ${new Date(filters.since).toLocaleString()}`);
  if (filters.until) parts.push(`until ${new Date(filters.until).toLocaleString()}`);
  return parts.length ? ` ${parts.join(', ')}` : '';
}

function sendForm(providers, types) {
  const answer = h('div', { class: 'answer', 'aria-live': 'polite' });
  const form = h('form', { class: 'panel send', 'aria-labelledby': 'send-title', novalidate: true },
    h('h2', { id: 'send-title' }, 'Send a message'),
    h('div', { class: 'fields' },
      field('To', h('input', { name: 'to', type: 'tel', required: true, autocomplete: 'off', placeholder: '+33612345678' }),
        { hint: 'Any format the bridge can read as a phone number; stored as E.164' }),
      field('Provider', select('provider', [['', 'the default provider'], ...providers])),
      field('Sender', h('input', { name: 'sender', autocomplete: 'off', maxlength: '15' }), { hint: 'Optional: the provider\'s default when empty' }),
      field('Type', select('type', [['', 'as the provider decides'], ...types])),
      field('Text', h('textarea', { name: 'text', rows: '3', required: true }), { wide: true })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Send')),
    answer);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const message = formValues(form);
    // The text is sent as typed (its spaces and newlines are the message).
    message.text = new FormData(form).get('text');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    const result = await api('POST', '/messages', message);
    button.disabled = false;
    const unmatched = showFieldErrors(form, result);
    if (!result.ok) {
      answer.replaceChildren(...unmatched.map((e) => h('p', { class: 'problem' }, `${e.loc}: ${e.msg}`)));
      return;
    }
    const id = result.json?.id;
    notify({ kind: 'done', title: 'Message queued', message: `Message ${id} is on the outbound queue.` });
    answer.replaceChildren(h('p', {}, 'Queued as ', h('a', { href: `#/messages/${encodeURIComponent(id)}`, class: 'mono' }, id), '.'));
    form.querySelector('[name=text]').value = '';
  });
  return form;
}
