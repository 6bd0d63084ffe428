// console/js/router.js: which screen a hash opens, and with which parameters.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseHash } from '../../../console/js/router.js';

test('Given each screen\'s hash, Then its module is the one rendered', () => {
  const modules = Object.fromEntries(['#/providers', '#/messages', '#/messages/m-1', '#/consent', '#/routing', '#/inbound', '#/dead-letters', '#/overview']
    .map((hash) => [hash, parseHash(hash).route.module]));

  assert.deepEqual(modules, {
    '#/providers': './providers/index.js',
    '#/messages': './screens/messages.js',
    '#/messages/m-1': './screens/message.js',
    '#/consent': './screens/consent.js',
    '#/routing': './screens/routing.js',
    '#/inbound': './screens/inbound.js',
    '#/dead-letters': './screens/dead-letters.js',
    '#/overview': './screens/overview.js',
  });
});

test('Given a message id with reserved characters and a query, Then the screen gets them decoded', () => {
  const { params } = parseHash('#/messages/order%2F42%20a?status=sent&phone=%2B33612345678');

  assert.equal(params.id, 'order/42 a');
  assert.equal(params.query.get('status'), 'sent');
  assert.equal(params.query.get('phone'), '+33612345678');
});

test('Given a path below providers, Then the providers screen gets it whole', () => {
  const { route, params } = parseHash('#/providers/twilio/edit');

  assert.equal(route.module, './providers/index.js');
  assert.deepEqual(params.path, ['twilio', 'edit']);
});

test('Given an unknown or malformed hash, Then no route (the shell goes to the overview)', () => {
  assert.equal(parseHash('#/nowhere'), null);
  assert.equal(parseHash('#main'), null);
  assert.equal(parseHash('#/consent/extra'), null);
  assert.equal(parseHash('#/messages/%E0%A4%A').params.id, '%E0%A4%A');
});
