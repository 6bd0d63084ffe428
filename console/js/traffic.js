// Each provider's throughput and circuit as the senders share them (`GET /traffic`): words for the
// operator, the table of the Overview, the badge of the Providers list and the panel of a provider's page.

import { api } from './api.js';
import { h, time } from './ui.js';

export const REFRESH_S = 5;

const CIRCUIT_WORDS = { closed: 'closed', open: 'open', half_open: 'half-open' };

/** The circuit's state as the operator reads it: `closed`, `open`, `half-open`. */
export function circuitWord(circuit) {
  return CIRCUIT_WORDS[circuit] ?? String(circuit ?? 'unknown');
}

/** `iso` relative to `nowIso` in whole seconds: "in 28 s", "2 s ago", "now" ('' when either is missing). */
export function relative(iso, nowIso) {
  if (!iso || !nowIso) return '';
  const seconds = Math.round((new Date(iso).getTime() - new Date(nowIso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return '';
  if (seconds === 0) return 'now';
  const span = Math.abs(seconds);
  const amount = span < 120 ? `${span} s` : span < 7200 ? `${Math.round(span / 60)} min` : `${Math.round(span / 3600)} h`;
  return seconds > 0 ? `in ${amount}` : `${amount} ago`;
}

function perSecond(value) {
  const number = Number(value);
  // A fraction widens the window (0.5: one request every 2 s): said both ways.
  if (number > 0 && number < 1) return `${number} per second (one every ${Math.round(1 / number * 10) / 10} s)`;
  return `${number} per second`;
}

/**
 * One provider's traffic (an item of `GET /traffic`) in words, relative to the answer's `at`:
 * `{circuit, circuitDetail, limit, granted, slowdown, failover, healthy}`.
 */
export function describeTraffic(item, at) {
  const circuit = circuitWord(item.circuit);
  const detail = [];
  if (item.failures) detail.push(`${item.failures} consecutive failure${item.failures === 1 ? '' : 's'}`);
  if (item.circuit !== 'closed' && item.opened_at) detail.push(`opened ${relative(item.opened_at, at)}`);
  if (item.circuit === 'open' && item.half_open_at) detail.push(`half-opens ${relative(item.half_open_at, at)}`);
  if (item.circuit === 'half_open') detail.push('the next message probes it');
  const limited = item.per_second !== null && item.per_second !== undefined;
  const slowdown = [];
  if (item.paused_until) slowdown.push(`paused after a 429, resumes ${relative(item.paused_until, at)}`);
  if (item.slowed_until) slowdown.push(`half rate after a 429, full ${relative(item.slowed_until, at)}`);
  const failover = Array.isArray(item.failover) ? item.failover : [];
  return {
    circuit,
    circuitDetail: detail.join(' · '),
    limit: limited ? `${perSecond(item.per_second)}${item.burst ? `, burst ${item.burst}` : ''}` : 'unlimited',
    granted: limited ? `${item.granted_last_second ?? 0} of ${item.per_second}` : String(item.granted_last_second ?? 0),
    slowdown: slowdown.join(' · '),
    failover: failover.length ? failover.join(' → ') : 'none',
    healthy: item.circuit === 'closed' && !slowdown.length,
  };
}

/** How many circuits are not closed, in words ('' when all are). */
export function trafficSummary(view) {
  const providers = view?.providers ?? [];
  const open = providers.filter((item) => item.circuit === 'open').length;
  const halfOpen = providers.filter((item) => item.circuit === 'half_open').length;
  const paused = providers.filter((item) => item.paused_until || item.slowed_until).length;
  return [
    open ? `${open} circuit${open === 1 ? '' : 's'} open` : '',
    halfOpen ? `${halfOpen} half-open` : '',
    paused ? `${paused} slowed down after a 429` : '',
  ].filter(Boolean).join(', ');
}

/**
 * A provider's spend this month (`GET /providers/{provider}/spend`) in words: "8 of 10 segments (80 %) in
 * 2026-11", then what waits when the limit is reached; "no limit" without one.
 */
export function describeSpend(view) {
  if (!view || view.limit === null || view.limit === undefined) return 'no limit';
  const kinds = (view.types ?? []).join(' and ') || 'limited';
  const count = `${view.segments} of ${view.limit} segments (${view.percent ?? 0} %) in ${view.month}`;
  return view.reached ? `${count}: reached, ${kinds} messages wait` : count;
}

/** `GET /traffic`, quietly: the screens say themselves when it could not be read. */
export function readTraffic() {
  return api('GET', '/traffic', undefined, { quiet: true });
}

/** The circuit as a badge (its colour from the stylesheet: `circuit-<state>`), its detail in its title. */
export function circuitBadge(item, at) {
  const words = describeTraffic(item, at);
  return h('span', { class: `badge circuit-${String(item.circuit).replace(/[^a-z_-]/gi, '')}`, title: words.circuitDetail || undefined },
    words.circuit);
}

// ---------------------------------------------------------------- the table (Overview)

const COLUMNS = [
  ['Provider', (item) => h('a', { href: `#/providers/${encodeURIComponent(item.provider)}` }, item.provider)],
  ['Circuit', (item, words, at) => [circuitBadge(item, at), words.circuitDetail ? h('span', { class: 'traffic-detail' }, words.circuitDetail) : null]],
  ['Limit', (item, words) => words.limit],
  ['Granted (last second)', (item, words) => words.granted],
  ['After a 429', (item, words) => (words.slowdown ? h('span', { class: 'traffic-slowed' }, words.slowdown) : h('span', { class: 'muted' }, 'no slow-down'))],
  ['Failover', (item, words) => words.failover],
];

/**
 * The traffic table, kept in `container` and updated in place: a refresh rewrites the cells of the
 * providers already shown, so that the focus (a provider's link, the scrolled region) stays where it is.
 */
export function showTrafficTable(container, view) {
  const providers = view.providers ?? [];
  const rowsShown = [...container.querySelectorAll('tbody tr')].map((row) => row.dataset.provider);
  const same = rowsShown.length === providers.length && rowsShown.every((id, index) => id === providers[index].provider);
  if (!providers.length) {
    container.replaceChildren(h('p', { class: 'empty' }, 'No provider yet.'));
    return;
  }
  if (!same) {
    container.replaceChildren(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Throughput and circuits' },
      h('table', { class: 'traffic-table' },
        h('caption', {}, 'Each provider\'s circuit, throughput limit, slow-down and failover'),
        h('thead', {}, h('tr', {}, COLUMNS.map(([heading]) => h('th', { scope: 'col' }, heading)))),
        h('tbody', {}, providers.map((item) => h('tr', { dataset: { provider: item.provider } },
          COLUMNS.map(([heading]) => h('td', { 'data-label': heading }))))))));
  }
  const rows = container.querySelectorAll('tbody tr');
  providers.forEach((item, index) => {
    const words = describeTraffic(item, view.at);
    rows[index].classList.toggle('traffic-trouble', !words.healthy);
    [...rows[index].children].forEach((cell, column) => {
      if (column === 0 && cell.firstChild) return; // the link: the same provider, and maybe focused
      const content = COLUMNS[column][1](item, words, view.at);
      cell.replaceChildren(...[content].flat().filter(Boolean).map((part) => (part instanceof Node ? part : document.createTextNode(String(part)))));
    });
  });
}

/**
 * The Overview's traffic panel: read now, on "Refresh traffic", and every REFRESH_S seconds while
 * shown (the page visible, the box ticked); it stops by itself once the screen is left.
 */
export function trafficPanel() {
  const table = h('div', { class: 'traffic-body' }, h('p', { class: 'loading' }, 'Reading the providers\' traffic…'));
  // Announced when it changes (a circuit opens or closes), unlike the table read every few seconds.
  const summary = h('p', { class: 'traffic-summary', 'aria-live': 'polite' });
  const readAt = h('span', { class: 'muted' });
  const auto = h('input', { type: 'checkbox', name: 'traffic-auto', checked: true });
  const autoLabel = h('label', { class: 'choice' }, auto, `Refresh every ${REFRESH_S} s`);
  let busy = false;
  const load = async () => {
    if (busy) return;
    busy = true;
    try {
      const result = await readTraffic();
      if (!result.ok) {
        table.replaceChildren(h('p', { class: 'problem' }, result.json?.message ?? `GET /traffic answered ${result.status}.`));
        return;
      }
      const view = result.json;
      const words = trafficSummary(view);
      summary.textContent = words ? `Attention: ${words}.` : 'Every circuit is closed; no provider is slowed down.';
      summary.classList.toggle('problem', Boolean(words));
      readAt.replaceChildren('as of ', time(view.at));
      showTrafficTable(table, view);
    } finally {
      busy = false;
    }
  };
  const refresh = h('button', { type: 'button', class: 'secondary', onclick: load }, 'Refresh traffic');
  const panel = h('section', { class: 'panel traffic', 'aria-labelledby': 'traffic-title' },
    h('div', { class: 'traffic-head' },
      h('h2', { id: 'traffic-title' }, 'Throughput and circuits ', readAt),
      h('div', { class: 'traffic-controls' }, autoLabel, refresh)),
    summary, table);
  const timer = setInterval(() => {
    if (!panel.isConnected) {
      clearInterval(timer);
      return;
    }
    if (auto.checked && document.visibilityState === 'visible') load();
  }, REFRESH_S * 1000);
  return { element: panel, load };
}

// ---------------------------------------------------------------- one provider (its page)

/** A provider's traffic as facts, for its page: read now and on "Refresh". */
export function providerTrafficPanel(providerId) {
  const facts = h('div', { class: 'traffic-facts' }, h('p', { class: 'loading' }, 'Reading…'));
  const load = async () => {
    const [result, spend] = await Promise.all([
      readTraffic(), api('GET', `/providers/${encodeURIComponent(providerId)}/spend`, undefined, { quiet: true })]);
    if (!result.ok) {
      facts.replaceChildren(h('p', { class: 'problem' }, `Could not read the traffic: ${result.json?.message ?? result.status}`));
      return;
    }
    const item = (result.json.providers ?? []).find((entry) => entry.provider === providerId);
    if (!item) {
      facts.replaceChildren(h('p', { class: 'muted' }, 'Not known to the senders yet.'));
      return;
    }
    const words = describeTraffic(item, result.json.at);
    const shown = [
      ['Circuit', [circuitBadge(item, result.json.at), words.circuitDetail ? ` ${words.circuitDetail}` : '']],
      ['Opened', item.opened_at && item.circuit !== 'closed' ? time(item.opened_at) : null],
      ['Half-opens', item.half_open_at && item.circuit === 'open' ? time(item.half_open_at) : null],
      ['Limit', words.limit],
      ['Granted (last second)', words.granted],
      ['After a 429', words.slowdown || 'no slow-down'],
      ['Failover', words.failover],
      ['Spend this month', spend.ok ? describeSpend(spend.json) : null],
    ].filter(([, value]) => value !== null);
    facts.replaceChildren(
      h('dl', { class: 'pv-facts' }, shown.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
      h('p', { class: 'muted' }, 'As of ', time(result.json.at), '.'));
  };
  const element = h('section', { class: 'pv-traffic', 'aria-labelledby': 'pv-traffic-title' },
    h('div', { class: 'pv-title-row' },
      h('h2', { id: 'pv-traffic-title' }, 'Traffic now'),
      h('button', { type: 'button', class: 'pv-small', onclick: load, 'aria-label': 'Refresh the traffic' }, 'Refresh')),
    facts);
  return { element, load };
}
