// The one way the console calls the admin API: same-origin paths, JSON in and out, problems reported.

const problemListeners = new Set();

/** Called with `{title, message, todo, result}` each time a call fails (unless `quiet`). */
export function onProblem(listener) {
  problemListeners.add(listener);
  return () => problemListeners.delete(listener);
}

function report(problem) {
  for (const listener of problemListeners) listener(problem);
}

/**
 * Calls the admin API. `path` is absolute and same-origin (`/messages?status=sent`): locally the
 * runtime serves it, deployed the `make console` proxy signs and forwards it.
 * Answers `{status, ok, json}` and never throws: a network failure is status 0 with a message.
 * A failed call is reported to the operator with the API's `message` (see `onProblem`); the
 * field errors (`json.errors`) are the screen's to show, see `fieldErrors`.
 */
export async function api(method, path, body, { quiet = false } = {}) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    const result = {
      status: 0, ok: false,
      json: { message: `The API did not answer ${method} ${path} (${error.message}). Is the local runtime (make run) or make console still running?` },
    };
    if (!quiet) report(describeProblem(result, method, path));
    return result;
  }
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON (a proxy's or gateway's page): its text is still what the operator needs.
      json = { message: text.slice(0, 500) };
    }
  }
  const result = { status: response.status, ok: response.ok, json, errorType: response.headers.get('x-amzn-ErrorType') };
  // `quiet` leaves a failure to the screen, except the operator's credentials: no screen can fix those.
  if (!response.ok && (!quiet || credentialProblem(result))) report(describeProblem(result, method, path));
  return result;
}

/** The API's field errors as `{loc, msg, field}`: `field` is the loc without its `body.` prefix. */
export function fieldErrors(result) {
  const errors = Array.isArray(result?.json?.errors) ? result.json.errors : [];
  return errors.map((error) => {
    const loc = Array.isArray(error.loc) ? error.loc.join('.') : String(error.loc ?? '');
    return { loc, msg: String(error.msg ?? error.message ?? ''), field: loc.replace(/^(body|query|path)\./, '') };
  });
}

// What API Gateway (IAM authorisation) and botocore say when the signature cannot be accepted,
// and what the `make console` proxy says when it has no credentials to sign with.
const CREDENTIAL_WORDS = /credential|security token|token included|expired|signature|not authorized|execute-api|\biam\b|\bsso\b|access ?denied|authentication token|unrecognizedclient|sigv4|aws_profile/i;

/**
 * When the answer is the deployed stack (through `make console`) refusing the operator's AWS
 * identity, what it means and what to do; null for any other answer.
 */
export function credentialProblem(result) {
  if (result.status !== 401 && result.status !== 403) return null;
  const message = String(result.json?.message ?? result.json?.Message ?? '');
  const type = String(result.errorType ?? '');
  if (!CREDENTIAL_WORDS.test(`${message} ${type}`)) return null;
  const todo = [];
  if (result.json?.hint) todo.push(String(result.json.hint));
  if (/expired/i.test(`${message} ${type}`)) {
    todo.push('Your AWS session has expired: sign in again (aws sso login --profile <profile>, or refresh your temporary credentials), then reload this page.');
  } else if (/not authorized|access ?denied/i.test(`${message} ${type}`)) {
    todo.push('Your AWS identity was recognised but may not call this API: it needs execute-api:Invoke on the stack\'s admin API (ask your account administrator, or use a profile that has it).');
  } else if (/signature/i.test(`${message} ${type}`)) {
    todo.push('The request signature was refused: check the computer\'s clock, and that the credentials belong to the stack\'s account.');
  } else {
    todo.push('make console signs each call with your own AWS credentials (profile, environment, SSO, as the AWS CLI finds them): check them with aws sts get-caller-identity, then restart make console STAGE=<stage>.');
  }
  return {
    title: result.status === 401 ? 'No usable AWS credentials' : 'AWS refused the request (IAM)',
    message: message || type,
    todo,
  };
}

function describeProblem(result, method, path) {
  const credentials = credentialProblem(result);
  if (credentials) return { ...credentials, kind: 'credentials', result };
  const message = result.json?.message ?? `${method} ${path} answered ${result.status}`;
  const title = result.status === 0 ? 'The API is unreachable' : `${method} ${path.split('?')[0]} failed (${result.status})`;
  return { title, message: String(message), todo: [], kind: 'error', result };
}

/** `path` with the non-empty values of `params` as its query string. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** A path segment, encoded (a phone number's `+` must not become a space). */
export function segment(value) {
  return encodeURIComponent(String(value));
}
