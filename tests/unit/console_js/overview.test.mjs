// console/js/chart.js and the overview's series: value axes and per-provider buckets.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { niceTicks } from '../../../console/js/chart.js';
import { seriesByProvider } from '../../../console/js/screens/overview.js';

test('Given counts, Then the value axis has round steps from 0 up to at least the highest', () => {
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.deepEqual(niceTicks(1), [0, 1]);
  assert.deepEqual(niceTicks(7), [0, 2, 4, 6, 8]);
  assert.deepEqual(niceTicks(10), [0, 5, 10]);
  assert.deepEqual(niceTicks(1234), [0, 500, 1000, 1500]);
});

test('Given a series with empty buckets left out, Then each provider gets every bucket of the period, zero where nothing happened', () => {
  const stats = {
    since: '2026-11-30T10:00:00Z', until: '2026-11-30T13:00:00Z', bucket_s: 3600,
    series: [
      { at: '2026-11-30T12:00:00Z', provider: 'twilio', sent: 4, failed: 1, blocked: 0 },
      { at: '2026-11-30T11:00:00.250Z', provider: 'sandbox', sent: 2, failed: 0, blocked: 1 },
    ],
  };

  const series = seriesByProvider(stats);

  assert.deepEqual(series.map((s) => s.provider), ['sandbox', 'twilio']);
  const [sandbox, twilio] = series;
  assert.deepEqual(sandbox.points.map((p) => [p.at.slice(11, 16), p.sent, p.blocked]),
    [['10:00', 0, 0], ['11:00', 2, 1], ['12:00', 0, 0], ['13:00', 0, 0]]);
  assert.deepEqual(twilio.points.map((p) => [p.at.slice(11, 16), p.sent, p.failed]),
    [['10:00', 0, 0], ['11:00', 0, 0], ['12:00', 4, 1], ['13:00', 0, 0]]);
});
