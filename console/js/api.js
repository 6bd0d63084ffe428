// The admin API as the console calls it: same-origin absolute paths, JSON in and out.
// (Minimal version written by console-providers; the shell's api.js takes precedence at merge.)

export async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    // No answer at all (server down, network gone): shown like an API error, never thrown.
    return { status: 0, ok: false, json: { message: `no answer from the API: ${error.message}` } };
  }
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = { message: text.slice(0, 500) };
    }
  }
  return { status: response.status, ok: response.ok, json };
}
