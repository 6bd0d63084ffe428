// Why a message stands where it does, in the operator's words: the reason of an `unknown` or otherwise
// unsent final status (SPEC 11), and the attempt an invocation is sending (`in_flight`). Pure: no DOM, no API.

// Final statuses the provider never confirmed: the page says why beside the status.
const EXPLAINED = new Set(['unknown', 'failed', 'expired', 'blocked', 'rejected', 'canceled']);

/** The reason of the history entry that set the message's status, for a status worth explaining; else null. */
export function statusReason(message) {
  if (!message || !EXPLAINED.has(message.status)) return null;
  const history = Array.isArray(message.history) ? message.history : [];
  for (let i = history.length - 1; i >= 0; i -= 1) {
    if (history[i]?.status === message.status) return history[i].reason || null;
  }
  return null;
}

/** The attempt in flight (`{attempt, provider, since}`) without its time, which the page shows as it shows
 * every time; null when there is none. */
export function describeInFlight(inFlight) {
  if (!inFlight || !inFlight.provider) return null;
  const attempt = Number.isFinite(Number(inFlight.attempt)) ? `attempt ${inFlight.attempt}` : 'an attempt';
  return `${attempt} to provider ${inFlight.provider}`;
}
