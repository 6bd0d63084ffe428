// console/js/traffic.js: a provider's circuit, limit and slow-down (an item of GET /traffic) in the operator's words.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { circuitWord, describeTraffic, relative, trafficSummary } from '../../../console/js/traffic.js';

const AT = '2026-11-30T14:00:00.000Z';
const CLOSED = {
  provider: 'backup', per_second: null, burst: null, granted_last_second: 0, paused_until: null, slowed_until: null,
  circuit: 'closed', failures: 0, opened_at: null, half_open_at: null, failover: [],
};

test('Given the API\'s circuit states, Then the operator reads closed, open and half-open', () => {
  assert.deepEqual(['closed', 'open', 'half_open'].map(circuitWord), ['closed', 'open', 'half-open']);
});

test('Given instants around the answer\'s time, Then they read as seconds ago or to come, minutes past two', () => {
  assert.equal(relative('2026-11-30T13:59:58.120Z', AT), '2 s ago');
  assert.equal(relative('2026-11-30T14:00:28.120Z', AT), 'in 28 s');
  assert.equal(relative(AT, AT), 'now');
  assert.equal(relative('2026-11-30T14:10:00Z', AT), 'in 10 min');
  assert.equal(relative(null, AT), '');
});

test('Given an open circuit (the API\'s example), Then it says the failures, when it opened and when it half-opens', () => {
  const words = describeTraffic({
    ...CLOSED, provider: 'acme', per_second: 20.0, burst: 10, granted_last_second: 7, circuit: 'open', failures: 3,
    opened_at: '2026-11-30T13:59:58.120Z', half_open_at: '2026-11-30T14:00:28.120Z', failover: ['backup', 'spare'],
  }, AT);

  assert.equal(words.circuit, 'open');
  assert.equal(words.circuitDetail, '3 consecutive failures · opened 2 s ago · half-opens in 28 s');
  assert.equal(words.limit, '20 per second, burst 10');
  assert.equal(words.granted, '7 of 20');
  assert.equal(words.failover, 'backup → spare');
  assert.equal(words.healthy, false);
});

test('Given a half-open circuit, Then it says the next message probes it', () => {
  const words = describeTraffic({ ...CLOSED, circuit: 'half_open', failures: 3, opened_at: '2026-11-30T13:59:30Z',
    half_open_at: '2026-11-30T14:00:00Z' }, AT);

  assert.equal(words.circuit, 'half-open');
  assert.equal(words.circuitDetail, '3 consecutive failures · opened 30 s ago · the next message probes it');
});

test('Given a provider paused then slowed after a 429, Then both are said with when they end, and it is not healthy', () => {
  const words = describeTraffic({ ...CLOSED, per_second: 0.5, paused_until: '2026-11-30T14:00:01Z',
    slowed_until: '2026-11-30T14:00:11Z' }, AT);

  assert.equal(words.slowdown, 'paused after a 429, resumes in 1 s · half rate after a 429, full in 11 s');
  assert.equal(words.limit, '0.5 per second (one every 2 s)');
  assert.equal(words.healthy, false);
});

test('Given a closed circuit without limit or failover, Then it reads unlimited, none, and healthy', () => {
  const words = describeTraffic({ ...CLOSED, granted_last_second: 4 }, AT);

  assert.deepEqual(words, { circuit: 'closed', circuitDetail: '', limit: 'unlimited', granted: '4', slowdown: '',
    failover: 'none', healthy: true });
});

test('Given several providers, Then the summary counts the open, the half-open and the slowed, and is empty when all is well', () => {
  const view = { at: AT, providers: [
    { ...CLOSED, provider: 'a', circuit: 'open' }, { ...CLOSED, provider: 'b', circuit: 'open' },
    { ...CLOSED, provider: 'c', circuit: 'half_open' }, { ...CLOSED, provider: 'd', slowed_until: '2026-11-30T14:00:05Z' },
  ] };

  assert.equal(trafficSummary(view), '2 circuits open, 1 half-open, 1 slowed down after a 429');
  assert.equal(trafficSummary({ at: AT, providers: [CLOSED] }), '');
});
