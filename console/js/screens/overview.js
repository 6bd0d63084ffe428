// Overview (`GET /stats`, `GET /traffic`): each provider's circuit and throughput now, counts by status over the period,
// sent/failed/blocked over time per provider, balances against their minimums.

import { api, withQuery } from '../api.js';
import { lineChart } from '../chart.js';
import { statuses } from '../facts.js';
import { trafficPanel } from '../traffic.js';
import { actionButton, field, h, screenHeading, select, statusBadge, table, time } from '../ui.js';

const SERIES = ['sent', 'failed', 'blocked'];
const PERIODS = [['1', 'the last hour'], ['24', 'the last 24 hours'], ['168', 'the last 7 days']];
const MAX_FILLED_BUCKETS = 1000;

export async function render(root, params) {
  const hours = PERIODS.some(([value]) => value === params.query.get('hours')) ? params.query.get('hours') : '24';
  const period = select('hours', PERIODS, hours);
  const body = h('div', { class: 'overview-body', 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Counting…'));
  // Read again in place (the focus stays on the list, as keyboard users step through it), and
  // kept in the address without a new navigation.
  period.addEventListener('change', () => {
    history.replaceState(null, '', `#/overview?hours=${period.value}`);
    load(body, period.value);
  });
  // Traffic is the state now, whatever the period: first, since an open circuit is what needs an operator.
  const traffic = trafficPanel();
  root.replaceChildren(
    screenHeading('Overview', h('div', { class: 'inline-field' }, field('Period', period)),
      actionButton('Refresh', () => Promise.all([load(body, period.value), traffic.load()]))),
    traffic.element,
    body);
  await Promise.all([load(body, hours), traffic.load()]);
}

async function load(container, hours) {
  const until = new Date();
  const since = new Date(until.getTime() - Number(hours) * 3600 * 1000);
  const ticket = String(Number(container.dataset.ticket ?? 0) + 1);
  container.dataset.ticket = ticket;
  const [result, known] = await Promise.all([
    api('GET', withQuery('/stats', { since: since.toISOString(), until: until.toISOString() })),
    statuses(),
  ]);
  if (container.dataset.ticket !== ticket) return; // a newer period was asked for meanwhile
  if (!result.ok) {
    container.replaceChildren(h('p', { class: 'problem' }, result.json?.message ?? 'The statistics could not be read.'));
    return;
  }
  const stats = result.json;
  container.replaceChildren(
    countsSection(stats, known),
    chartsSection(stats),
    balancesSection(stats.balances ?? []));
}

function countsSection(stats, known) {
  const counts = stats.counts ?? {};
  // The API's order of statuses (GET /meta); any status it counts that /meta did not list, after.
  const order = [...known, ...Object.keys(counts).filter((s) => !known.includes(s))];
  const total = Object.values(counts).reduce((sum, n) => sum + (Number(n) || 0), 0);
  return h('section', { class: 'panel', 'aria-labelledby': 'counts-title' },
    h('h2', { id: 'counts-title' }, 'Messages by status ', h('span', { class: 'muted' }, `(${total} in all, `, time(stats.since), ' to ', time(stats.until), ')')),
    h('ul', { class: 'counts' }, order.map((status) => h('li', { class: `count-card status-${status}` },
      h('a', { href: withQuery('#/messages', { status, since: stats.since, until: stats.until }), 'aria-label': `${counts[status] ?? 0} ${status}: show them` },
        h('span', { class: 'number' }, String(counts[status] ?? 0)), statusBadge(status))))));
}

/** Each provider's points on every bucket of the period (the API may leave out empty ones). */
export function seriesByProvider(stats) {
  const bucket = Number(stats.bucket_s) * 1000;
  // A point belongs to the bucket it falls in (so that a filled-in zero never sits beside it).
  const slot = (t) => (bucket > 0 ? Math.floor(t / bucket) * bucket : t);
  const byProvider = new Map();
  for (const point of stats.series ?? []) {
    if (!byProvider.has(point.provider)) byProvider.set(point.provider, new Map());
    byProvider.get(point.provider).set(slot(new Date(point.at).getTime()), point);
  }
  const start = new Date(stats.since).getTime();
  const end = new Date(stats.until).getTime();
  const canFill = bucket > 0 && Number.isFinite(start) && Number.isFinite(end) && (end - start) / bucket <= MAX_FILLED_BUCKETS;
  const result = [];
  for (const [provider, points] of byProvider) {
    let filled;
    if (canFill) {
      filled = [];
      const times = new Set([...points.keys()]);
      for (let t = slot(start); t <= end; t += bucket) times.add(t);
      for (const t of [...times].sort((a, b) => a - b)) {
        const point = points.get(t);
        filled.push(point ? { ...point, at: new Date(t).toISOString() } : { at: new Date(t).toISOString(), provider, sent: 0, failed: 0, blocked: 0 });
      }
    } else {
      filled = [...points.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
    }
    result.push({ provider, points: filled });
  }
  return result.sort((a, b) => String(a.provider).localeCompare(String(b.provider)));
}

function chartsSection(stats) {
  const providers = seriesByProvider(stats);
  const days = (new Date(stats.until) - new Date(stats.since)) / 86400000;
  const formatTime = days > 1.5
    ? (d) => d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' })
    : (d) => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const legend = h('ul', { class: 'legend', 'aria-hidden': 'true' }, SERIES.map((name) => h('li', { class: `series-${name}` }, name)));
  return h('section', { class: 'panel', 'aria-labelledby': 'chart-title' },
    h('h2', { id: 'chart-title' }, 'Sent, failed and blocked over time'),
    stats.bucket_s ? h('p', { class: 'muted' }, `One point per ${describeSeconds(stats.bucket_s)}.`) : null,
    providers.length ? legend : h('p', { class: 'empty' }, 'Nothing was sent in this period.'),
    h('div', { class: 'charts' }, providers.map(({ provider, points }) => h('figure', { class: 'chart-box' },
      h('figcaption', {}, provider),
      lineChart({ points, series: SERIES, title: `${provider}: sent, failed and blocked over time`, formatTime, width: chartWidth() }),
      h('details', {}, h('summary', {}, `${provider} as a table`),
        table({
          caption: `${provider}: messages per ${describeSeconds(stats.bucket_s)}`,
          columns: [['From', (p) => time(p.at)], ...SERIES.map((name) => [name, (p) => String(p[name] ?? 0)])],
          items: points.filter((p) => SERIES.some((name) => Number(p[name]) > 0)),
          empty: 'Nothing in this period.',
        }))))));
}

/** The chart's drawing width: about the width it gets on screen, so that its text stays legible at 390 px. */
function chartWidth() {
  const available = document.getElementById('main')?.clientWidth ?? 640;
  return Math.round(Math.min(640, Math.max(320, available - 64)));
}

function describeSeconds(seconds) {
  const s = Number(seconds);
  if (s % 86400 === 0) return s === 86400 ? 'day' : `${s / 86400} days`;
  if (s % 3600 === 0) return s === 3600 ? 'hour' : `${s / 3600} hours`;
  if (s % 60 === 0) return s === 60 ? 'minute' : `${s / 60} minutes`;
  return `${s} seconds`;
}

function balancesSection(balances) {
  return h('section', { class: 'panel', 'aria-labelledby': 'balances-title' },
    h('h2', { id: 'balances-title' }, 'Balances'),
    table({
      caption: 'Provider balances against their minimums',
      columns: [
        ['Provider', (b) => b.provider],
        ['Balance', (b) => balanceMeter(b)],
        ['Minimum', (b) => (b.minimum ?? '-')],
        ['State', (b) => h('span', { class: `badge balance-${String(b.state ?? 'unknown').replace(/[^a-z_-]/gi, '')}` }, b.state ?? 'unknown')],
        ['Checked', (b) => time(b.checked_at)],
      ],
      items: balances,
      empty: 'No provider has a balance check configured.',
    }));
}

function balanceMeter(balance) {
  const value = Number(balance.balance);
  const minimum = Number(balance.minimum);
  if (!Number.isFinite(value)) return h('span', { class: 'muted' }, balance.balance ?? 'not checked yet');
  // The scale runs to twice the minimum (or the balance, when higher): low is what the minimum marks.
  const max = Math.max(value, Number.isFinite(minimum) && minimum > 0 ? minimum * 2 : value, 1);
  return h('span', { class: 'meter' },
    h('meter', { min: 0, max, low: Number.isFinite(minimum) ? minimum : undefined, optimum: max, value, 'aria-label': `balance ${value}${Number.isFinite(minimum) ? ` against a minimum of ${minimum}` : ''}` }),
    h('span', { class: 'number' }, String(balance.balance)));
}
