// console/js/traffic.js: a provider's spend this month (GET /providers/{provider}/spend) in the operator's words.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { describeSpend } from '../../../console/js/traffic.js';

const VIEW = { provider: 'acme', month: '2026-11', segments: 8, limit: 10, types: ['MARKETING'], percent: 80.0,
  reached: false, alerts_sent: { 80: '2026-11-30T14:00:00.000000Z' } };

test('Given 8 of 10 segments counted, Then the count, its share and the month are said', () => {
  assert.equal(describeSpend(VIEW), '8 of 10 segments (80 %) in 2026-11');
});

test('Given the limit reached, Then it says which messages wait', () => {
  assert.equal(describeSpend({ ...VIEW, segments: 10, percent: 100.0, reached: true }),
    '10 of 10 segments (100 %) in 2026-11: reached, MARKETING messages wait');
});

test('Given a provider without a limit, Then it says so', () => {
  assert.equal(describeSpend({ ...VIEW, limit: null, percent: null, segments: 0 }), 'no limit');
});
