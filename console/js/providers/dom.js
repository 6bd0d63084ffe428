// Small DOM helpers of the provider screens; elements are built by the shell's `h` (text goes in as
// text nodes: nothing is parsed as HTML).

let counter = 0;

/** A unique id for label/field pairs. */
export function uid(prefix = "pv") {
  counter += 1;
  return `${prefix}-${counter}`;
}

// One element builder for the whole console: the shell's.
export { h, fill } from "../ui.js";

/** `fn` called once `wait` ms after the last call. */
export function debounce(fn, wait) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

/** An API answer's message, for a status line. */
export function apiMessage(answer) {
  if (answer.status === 0) return answer.json.message;
  const message = answer.json && answer.json.message ? answer.json.message : "";
  return `${answer.status}${message ? `: ${message}` : ""}`;
}

/** A field's label: its key as the provider document spells it (what SPEC 3 and the API errors name). */
export function labelOf(key) {
  return key;
}
