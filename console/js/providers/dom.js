// A small element builder for the provider screens (text goes in as text nodes: nothing is parsed as HTML).

let counter = 0;

/** A unique id for label/field pairs. */
export function uid(prefix = "pv") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** `h("button", {type: "button", onclick}, "Save")`: attributes, `on*` listeners, `class`, `dataset`. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "value") element.value = value;
    else if (key === "checked") element.checked = Boolean(value);
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the content of `element` with `children`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

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
