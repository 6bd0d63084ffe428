// DOM building blocks shared by the screens: elements from data (never HTML strings), labelled
// fields, field errors, notices, confirmation dialogs, times and statuses.

import { fieldErrors } from './api.js';

/**
 * An element: `h('a', {href: '#/x', class: 'y'}, 'text', child)`. Text is always set as text, so
 * what the API answers (a provider's body, an inbound SMS) can never become markup.
 * Attributes: `class`, `dataset`, `on<event>` (a function), `value` and `checked` (as properties),
 * booleans, anything else as an attribute.
 */
export function h(tag, attributes = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const element = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name === 'value' && !svg) {
      element.value = value;  // the property: a textarea's or a select's value is no attribute
    } else if (name === 'checked') {
      element.checked = Boolean(value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
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

let fieldCount = 0;

/**
 * A labelled field: `field('Phone number', h('input', {name: 'phone'}), {hint})`. The control gets
 * an id tied to its label, its hint and its error message (`aria-describedby`).
 */
export function field(label, control, { hint, wide = false } = {}) {
  fieldCount += 1;
  const id = control.id || `f${fieldCount}`;
  control.id = id;
  const describedBy = [];
  const hintElement = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintElement) describedBy.push(hintElement.id);
  const errorElement = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  describedBy.push(errorElement.id);
  control.setAttribute('aria-describedby', describedBy.join(' '));
  return h('div', { class: wide ? 'field wide' : 'field', dataset: { field: control.name || '' } },
    h('label', { for: id }, label), control, hintElement, errorElement);
}

/** A `<select>` of `options` (`[value, label]` pairs or plain values), `selected` chosen. */
export function select(name, options, selected = '') {
  return h('select', { name },
    options.map((option) => {
      const [value, label] = Array.isArray(option) ? option : [option, option];
      return h('option', { value, selected: String(value) === String(selected) }, label);
    }));
}

/** Clears the form's field errors, then shows those of `result` on their fields; answers the ones
 * no field of the form matches (shown by the caller, beside the form). */
export function showFieldErrors(form, result) {
  for (const element of form.querySelectorAll('.field-error')) {
    element.hidden = true;
    element.textContent = '';
  }
  for (const element of form.querySelectorAll('[aria-invalid]')) element.removeAttribute('aria-invalid');
  const unmatched = [];
  let first = null;
  for (const error of fieldErrors(result)) {
    const control = form.querySelector(`[name="${CSS.escape(error.field)}"]`)
      ?? form.querySelector(`[name="${CSS.escape(error.field.split('.')[0])}"]`);
    if (!control) {
      unmatched.push(error);
      continue;
    }
    control.setAttribute('aria-invalid', 'true');
    const message = control.id ? document.getElementById(`${control.id}-error`) : null;
    if (!message) {
      unmatched.push(error); // a control without a message of its own (a radio group): said beside the form
      continue;
    }
    message.hidden = false;
    message.textContent = message.textContent ? `${message.textContent} ${error.msg}` : error.msg;
    first ??= control;
  }
  first?.focus();
  return unmatched;
}

/** The form's named values, trimmed, empty ones left out. */
export function formValues(form) {
  const values = {};
  for (const [name, value] of new FormData(form).entries()) {
    const text = typeof value === 'string' ? value.trim() : value;
    if (text !== '') values[name] = text;
  }
  return values;
}

// ---------------------------------------------------------------- notices

const notices = () => document.getElementById('notices');

/** A notice at the top of the page: `kind` is `error`, `credentials` or `done`. */
export function notify({ title, message = '', todo = [], kind = 'error' }) {
  const container = notices();
  if (!container) return;
  const key = `${kind}|${title}|${message}`;
  for (const existing of container.children) {
    if (existing.dataset.key === key) return; // the same problem twice (parallel calls): once
  }
  const close = h('button', { type: 'button', class: 'close', 'aria-label': `Dismiss: ${title}` }, '×');
  const notice = h('section', { class: `notice ${kind}`, role: kind === 'done' ? 'status' : 'alert', dataset: { key } },
    h('h2', {}, title),
    message ? h('p', { class: 'message' }, message) : null,
    todo.length ? h('div', { class: 'todo' }, h('h3', {}, 'What to do'), h('ul', {}, todo.map((item) => h('li', {}, item)))) : null,
    close);
  close.addEventListener('click', () => notice.remove());
  container.append(notice);
  if (kind === 'done') setTimeout(() => notice.remove(), 6000);
}

export function clearNotices() {
  notices()?.replaceChildren();
}

// ---------------------------------------------------------------- confirmation

/**
 * Asks the operator to confirm with a modal `<dialog>` (Escape or Cancel answers false).
 * `details` is shown below the question (what exactly will happen).
 */
export function confirmAction({ title, details = [], action, danger = false }) {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', class: 'secondary', value: 'cancel' }, 'Cancel');
    const confirm = h('button', { type: 'button', class: danger ? 'danger' : 'primary', value: 'confirm' }, action);
    const heading = h('h2', { id: 'confirm-title' }, title);
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' },
      heading,
      details.map((line) => (line instanceof Node ? line : h('p', {}, line))),
      h('div', { class: 'actions' }, cancel, confirm));
    const opener = document.activeElement;
    let answer = false;
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', () => { answer = true; dialog.close(); });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
      // Back to the button that opened it, once its action has finished and enabled it again.
      setTimeout(() => {
        if (opener instanceof HTMLElement && opener.isConnected && !opener.disabled) opener.focus();
      }, 0);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus(); // the safe answer has the focus: Enter does not destroy anything by accident
  });
}

// ---------------------------------------------------------------- values

/** A `<time>` showing an ISO-8601 instant in the operator's time zone, the UTC value in its title. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '-');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, String(iso));
  return h('time', { datetime: date.toISOString(), title: date.toISOString() }, formatDate(date));
}

const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

export function formatDate(date) {
  return dateFormat.format(date);
}

/** A status word as a badge; its colour comes from the stylesheet (`status-<word>`). */
export function statusBadge(status) {
  const word = String(status ?? 'unknown');
  return h('span', { class: `badge status-${word.replace(/[^a-z0-9_-]/gi, '')}` }, word);
}

/** A `datetime-local` value (the operator's time zone) as ISO-8601 UTC, or '' when empty/invalid. */
export function localInputToIso(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** An ISO-8601 instant as a `datetime-local` value in the operator's time zone. */
export function isoToLocalInput(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

/** A table: `columns` are `[heading, (item) => cell content]`; `caption` names it for screen readers. */
export function table({ caption, columns, items, empty = 'Nothing to show.' }) {
  if (!items.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map(([heading]) => h('th', { scope: 'col' }, heading)))),
      h('tbody', {}, items.map((item) => tableRow(columns, item)))));
}

export function tableRow(columns, item) {
  return h('tr', {}, columns.map(([heading, cell]) => h('td', { 'data-label': heading }, cell(item))));
}

/** Text that may be JSON, pretty-printed when it is. */
export function prettyBody(body) {
  if (body === undefined || body === null) return '';
  if (typeof body !== 'string') return JSON.stringify(body, null, 2);
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** A button that runs `action` once at a time, disabled (and saying so) while it runs. */
export function actionButton(label, action, { kind = 'secondary', busyLabel = `${label}…`, ...attributes } = {}) {
  const button = h('button', { type: 'button', class: kind, ...attributes }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = busyLabel;
    try {
      await action();
    } finally {
      if (button.isConnected) {
        button.disabled = false;
        button.textContent = label;
      }
    }
  });
  return button;
}

/** The screen's heading, focused after navigation so keyboard and screen-reader users land on it. */
export function screenHeading(text, ...extra) {
  return h('div', { class: 'screen-head' }, h('h1', { tabindex: '-1' }, text), ...extra);
}
