// Routing: the ordered rules that choose a message's provider and sender (`GET|PUT /routing`), edited as a list.

import { api, fieldErrors } from '../api.js';
import { providerIds } from '../facts.js';
import { field, h, notify, screenHeading, select } from '../ui.js';

const TYPES = [['', 'Any type'], ['NOTIFICATION', 'NOTIFICATION'], ['MARKETING', 'MARKETING']];

export async function render(root) {
  const [providers, result] = await Promise.all([providerIds(), api('GET', '/routing', undefined, { quiet: true })]);
  if (!result.ok) {
    root.replaceChildren(screenHeading('Routing'), h('p', { class: 'problem' }, result.json?.message ?? 'The rules could not be read.'));
    return;
  }
  const list = h('ol', { class: 'routing-rules' });
  const rules = Array.isArray(result.json?.rules) ? result.json.rules : [];
  for (const rule of rules) list.append(ruleItem(rule, providers));
  const problems = h('div', { class: 'routing-problems', 'aria-live': 'polite' });
  const form = h('form', { class: 'panel', 'aria-labelledby': 'rules-title', novalidate: true },
    h('h2', { id: 'rules-title' }, 'Rules, first match wins'),
    h('p', { class: 'hint' }, 'A message that names its provider skips the rules; when none matches, the default provider sends it. '
      + 'Countries are ISO codes (GB, FR, IN), prefixes start with + (+44); leave a condition empty to ignore it.'),
    list,
    h('p', { class: 'empty-rules', hidden: rules.length > 0 }, 'No rule: every message goes to its own or the default provider.'),
    problems,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => { list.append(ruleItem({ match: {} }, providers)); renumber(form); } }, 'Add a rule'),
      h('button', { type: 'submit', class: 'primary' }, 'Save the rules')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const answer = await api('PUT', '/routing', { rules: readRules(list) }, { quiet: true });
    showErrors(form, problems, answer);
    if (answer.ok) notify({ kind: 'done', title: 'Routing saved', message: `${answer.json.rules.length} rule(s) in force within 30 seconds.` });
  });
  root.replaceChildren(screenHeading('Routing'), form);
  renumber(form);
}

function ruleItem(rule, providers) {
  const match = rule.match ?? {};
  const provider = providers.length
    ? select('provider', [['', 'Choose…'], ...providers], rule.provider ?? '')
    : h('input', { name: 'provider', value: rule.provider ?? '', autocomplete: 'off' });
  const item = h('li', { class: 'panel routing-rule' },
    h('h3', { class: 'rule-title' }),
    h('div', { class: 'fields' },
      field('Countries', h('input', { name: 'countries', value: (match.countries ?? []).join(', '), autocomplete: 'off', placeholder: 'GB, IE' })),
      field('Prefixes', h('input', { name: 'prefixes', value: (match.prefixes ?? []).join(', '), autocomplete: 'off', placeholder: '+44' })),
      field('Type', select('type', TYPES, match.type ?? '')),
      field('Provider', provider),
      field('Sender', h('input', { name: 'sender', value: rule.sender ?? '', autocomplete: 'off' }), { hint: 'When the message has none' })),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => move(item, -1) }, 'Move up'),
      h('button', { type: 'button', class: 'secondary', onclick: () => move(item, 1) }, 'Move down'),
      h('button', { type: 'button', class: 'secondary danger', onclick: () => { const form = item.closest('form'); item.remove(); renumber(form); } }, 'Remove')));
  return item;
}

function move(item, step) {
  const sibling = step < 0 ? item.previousElementSibling : item.nextElementSibling;
  if (!sibling) return;
  if (step < 0) sibling.before(item);
  else sibling.after(item);
  renumber(item.closest('form'));
}

function renumber(form) {
  const items = [...form.querySelectorAll('li.routing-rule')];
  items.forEach((item, index) => { item.querySelector('.rule-title').textContent = `Rule ${index + 1}`; });
  form.querySelector('.empty-rules').hidden = items.length > 0;
}

/** The rules as the API takes them: empty conditions left out, lists split on commas and spaces. */
export function readRules(list) {
  return [...list.querySelectorAll('li.routing-rule')].map((item) => {
    const value = (name) => item.querySelector(`[name="${name}"]`).value.trim();
    const words = (name) => value(name).split(/[\s,]+/).filter(Boolean);
    const match = {};
    if (words('countries').length) match.countries = words('countries');
    if (words('prefixes').length) match.prefixes = words('prefixes');
    if (value('type')) match.type = value('type');
    const rule = { match, provider: value('provider') };
    if (value('sender')) rule.sender = value('sender');
    return rule;
  });
}

// An error's loc is `body.rules.<n>.<field>` (maybe `.match.` and an index after): shown on that rule's control.
function showErrors(form, problems, result) {
  for (const element of form.querySelectorAll('.field-error')) { element.hidden = true; element.textContent = ''; }
  for (const element of form.querySelectorAll('[aria-invalid]')) element.removeAttribute('aria-invalid');
  problems.replaceChildren();
  if (result.ok) return;
  const items = [...form.querySelectorAll('li.routing-rule')];
  let first = null;
  for (const error of fieldErrors(result)) {
    const parts = error.field.split('.');
    const name = parts[2] === 'match' ? parts[3] : parts[2];
    const control = parts[0] === 'rules' ? items[Number(parts[1])]?.querySelector(`[name="${name}"]`) : null;
    const message = control ? document.getElementById(`${control.id}-error`) : null;
    if (!message) {
      problems.append(h('p', { class: 'problem' }, `${error.loc}: ${error.msg}`));
      continue;
    }
    control.setAttribute('aria-invalid', 'true');
    message.hidden = false;
    message.textContent = message.textContent ? `${message.textContent} ${error.msg}` : error.msg;
    first ??= control;
  }
  if (!first && !problems.children.length) problems.append(h('p', { class: 'problem' }, result.json?.message ?? 'The rules were not saved.'));
  first?.focus();
}
