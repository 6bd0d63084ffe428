// console/js/outcome.js: the reason shown beside an `unknown` (or other unsent final) status, and the attempt in flight.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { describeInFlight, statusReason } from '../../../console/js/outcome.js';

const UNKNOWN = {
  status: 'unknown',
  history: [
    { status: 'queued', at: '2026-11-30T10:00:00.000000Z', reason: null },
    { status: 'unknown', at: '2026-11-30T10:03:00.000000Z', attempt: 1, provider: 'acme',
      reason: 'the function stopped while provider acme held attempt 1 (claimed at 2026-11-30T10:00:01.000000Z), before its result was written: the outcome is unknown, and a MARKETING message is not sent again' },
  ],
};

test('Given an unknown message, Then its reason names the provider and the attempt', () => {
  assert.match(statusReason(UNKNOWN), /provider acme held attempt 1/);
});

test('Given a sent message, Then no reason is shown beside its status', () => {
  assert.equal(statusReason({ status: 'sent', history: [{ status: 'sent', reason: 'accepted (201)' }] }), null);
});

test('Given an unknown message whose history was cut, Then no reason is made up', () => {
  assert.equal(statusReason({ status: 'unknown', history: [{ status: 'queued' }] }), null);
});

test('Given an attempt in flight, Then it is said with its number and provider (the page adds its time)', () => {
  assert.equal(describeInFlight({ attempt: 2, provider: 'acme', since: '2026-11-30T10:00:01.000000Z' }),
    'attempt 2 to provider acme');
  assert.equal(describeInFlight({ provider: 'acme' }), 'an attempt to provider acme');
  assert.equal(describeInFlight(null), null);
});
