// console/js/api.js: answers as {status, ok, json}, problems reported with the API's message, IAM refusals explained.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';

import { api, credentialProblem, fieldErrors, onProblem, segment, withQuery } from '../../../console/js/api.js';

const realFetch = globalThis.fetch;
let problems = [];
const stopListening = [];

function answering(status, body, headers = {}) {
  const calls = [];
  globalThis.fetch = async (path, init) => {
    calls.push({ path, init });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers });
  };
  problems = [];
  stopListening.push(onProblem((problem) => problems.push(problem)));
  return calls;
}

afterEach(() => {
  globalThis.fetch = realFetch;
  while (stopListening.length) stopListening.pop()();
});

test('Given a JSON answer, When the console calls the API, Then it gets status, ok and the parsed body, same-origin', async () => {
  const calls = answering(202, { id: 'm-1' });

  const result = await api('POST', '/messages', { to: '+33612345678', text: 'hi' });

  assert.equal(result.status, 202);
  assert.equal(result.ok, true);
  assert.deepEqual(result.json, { id: 'm-1' });
  assert.equal(calls[0].path, '/messages');
  assert.equal(calls[0].init.credentials, 'same-origin');
  assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
  assert.equal(calls[0].init.body, '{"to":"+33612345678","text":"hi"}');
  assert.deepEqual(problems, []);
});

test('Given a 422 with field errors, When called, Then the operator is told the API message and the screen gets the fields', async () => {
  answering(422, { message: 'invalid message', errors: [{ loc: 'body.to', msg: 'not a phone number' }, { loc: ['body', 'text'], msg: 'empty' }] });

  const result = await api('POST', '/messages', { to: 'x' });

  assert.equal(result.ok, false);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].message, 'invalid message');
  assert.equal(problems[0].kind, 'error');
  assert.deepEqual(fieldErrors(result), [
    { loc: 'body.to', msg: 'not a phone number', field: 'to' },
    { loc: 'body.text', msg: 'empty', field: 'text' },
  ]);
});

test('Given a quiet call that fails, When called, Then the screen handles it and no notice is raised', async () => {
  answering(404, { message: 'no message m-9' });

  const result = await api('GET', '/messages/m-9', undefined, { quiet: true });

  assert.equal(result.status, 404);
  assert.equal(result.json.message, 'no message m-9');
  assert.deepEqual(problems, []);
});

test('Given an answer that is not JSON, When called, Then its text is the message', async () => {
  answering(502, '<html>Bad gateway</html>');

  const result = await api('GET', '/stats');

  assert.equal(result.json.message, '<html>Bad gateway</html>');
  assert.equal(problems[0].message, '<html>Bad gateway</html>');
});

test('Given a 204, When called, Then json is null and ok is true', async () => {
  answering(204, '');

  const result = await api('DELETE', '/dead-letters/abc');

  assert.deepEqual(result, { status: 204, ok: true, json: null, errorType: null });
});

test('Given the API cannot be reached, When called, Then the answer is status 0 with what to check', async () => {
  globalThis.fetch = async () => { throw new TypeError('Failed to fetch'); };
  problems = [];
  stopListening.push(onProblem((problem) => problems.push(problem)));

  const result = await api('GET', '/stats');

  assert.equal(result.status, 0);
  assert.equal(result.ok, false);
  assert.match(result.json.message, /Failed to fetch.*make run.*make console/s);
  assert.equal(problems[0].title, 'The API is unreachable');
});

test('Given an expired AWS session behind make console, When a quiet call is refused, Then the operator is still told, with what to do', async () => {
  answering(403, { message: 'The security token included in the request is expired' }, { 'x-amzn-ErrorType': 'ExpiredTokenException' });

  await api('GET', '/meta', undefined, { quiet: true });

  assert.equal(problems.length, 1);
  assert.equal(problems[0].kind, 'credentials');
  assert.equal(problems[0].title, 'AWS refused the request (IAM)');
  assert.equal(problems[0].message, 'The security token included in the request is expired');
  assert.match(problems[0].todo.join(' '), /aws sso login/);
});

test('Given IAM refusals of several kinds, Then each is explained with its own remedy', () => {
  const notAuthorized = credentialProblem({ status: 403, json: { message: 'User: arn:aws:iam::123456789012:user/op is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:...' } });
  const badSignature = credentialProblem({ status: 403, json: { message: 'The request signature we calculated does not match the signature you provided.' } });
  const noCredentials = credentialProblem({ status: 401, json: { message: 'No AWS credentials found: set AWS_PROFILE or run aws configure', hint: 'aws sso login --profile dev' } });
  const missingToken = credentialProblem({ status: 403, json: { message: 'Missing Authentication Token' } });

  assert.match(notAuthorized.todo.join(' '), /execute-api:Invoke/);
  assert.match(badSignature.todo.join(' '), /clock/);
  assert.equal(noCredentials.title, 'No usable AWS credentials');
  assert.equal(noCredentials.todo[0], 'aws sso login --profile dev');
  assert.match(missingToken.todo.join(' '), /aws sts get-caller-identity/);
});

test('Given a refusal that is not about credentials, Then it is an ordinary error', () => {
  assert.equal(credentialProblem({ status: 403, json: { message: 'provider twilio is disabled' } }), null);
  assert.equal(credentialProblem({ status: 404, json: { message: 'The security token included in the request is expired' } }), null);
  assert.equal(credentialProblem({ status: 422, json: { message: 'invalid' } }), null);
});

test('Given search filters, Then only the given ones are in the query, and a phone number keeps its plus', () => {
  assert.equal(withQuery('/messages', { phone: '+33612345678', status: '', provider: null, limit: 50 }), '/messages?phone=%2B33612345678&limit=50');
  assert.equal(withQuery('/dead-letters', {}), '/dead-letters');
  assert.equal(`/consent/sandbox/${segment('+33612345678')}`, '/consent/sandbox/%2B33612345678');
});
