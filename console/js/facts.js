// Facts the console asks the API for (statuses, message types, provider ids): it keeps no copy of
// its own. Each is fetched once per page load; a failed look-up is tried again next time.

import { api } from './api.js';

const cache = new Map();

function once(key, load) {
  if (!cache.has(key)) {
    const pending = load().then((value) => {
      if (value === null) cache.delete(key);
      return value;
    });
    cache.set(key, pending);
  }
  return cache.get(key);
}

/** `GET /meta` (placeholders, auth types, statuses, provider schema), or null when it failed. */
export function meta() {
  return once('meta', async () => {
    const result = await api('GET', '/meta', undefined, { quiet: true });
    return result.ok && result.json ? result.json : null;
  });
}

/** The message statuses, in the API's order; [] when the API could not say. */
export async function statuses() {
  return (await meta())?.statuses ?? [];
}

/** The message types `POST /messages` takes, read from the OpenAPI document's schema. */
export function messageTypes() {
  return once('messageTypes', async () => {
    const result = await api('GET', '/openapi.json', undefined, { quiet: true });
    if (!result.ok) return null;
    const schemas = result.json?.components?.schemas ?? {};
    const schema = schemas.MessageType ?? schemas.OutboundMessage?.properties?.type;
    const enumeration = schema?.enum ?? schema?.anyOf?.find((option) => option.enum)?.enum;
    return Array.isArray(enumeration) ? enumeration : null;
  }).then((types) => types ?? []);
}

/** The configured providers' ids, in the API's order; [] when the API could not say. */
export function providerIds() {
  return once('providers', async () => {
    const result = await api('GET', '/providers', undefined, { quiet: true });
    if (!result.ok) return null;
    const providers = Array.isArray(result.json) ? result.json : result.json?.providers ?? [];
    return providers.map((provider) => provider.id).filter(Boolean);
  }).then((ids) => ids ?? []);
}

/** Forget what was fetched (after a change the facts depend on). */
export function forget(key) {
  cache.delete(key);
}
