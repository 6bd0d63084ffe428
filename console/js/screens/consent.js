// Consent: a number's state and full history per provider (`GET /consent/{provider}/{phone}`), and opting it in or out with a reason (`PUT`).

import { api, segment, withQuery } from '../api.js';
import { providerIds } from '../facts.js';
import {
  field, formValues, h, notify, prettyBody, screenHeading, select, showFieldErrors, table, time,
} from '../ui.js';

const STATE_LABELS = { opted_in: 'Opted in', opted_out: 'Opted out', opt_in_requested: 'Waiting for confirmation' };

export async function render(root, params) {
  const providers = await providerIds();
  const provider = params.query.get('provider') ?? '';
  const phone = params.query.get('phone') ?? '';
  const lookup = lookupForm(providers, provider, phone);
  const view = h('div', { class: 'consent-view', 'aria-live': 'polite' });
  root.replaceChildren(screenHeading('Consent'), lookup, view);
  if (provider && phone) await show(view, provider, phone);
}

function lookupForm(providers, provider, phone) {
  const providerControl = providers.length
    ? select('provider', providers, provider || providers[0])
    : h('input', { name: 'provider', value: provider, required: true });
  const form = h('form', { class: 'panel', 'aria-labelledby': 'lookup-title', novalidate: true },
    h('h2', { id: 'lookup-title' }, 'Look a number up'),
    h('div', { class: 'fields' },
      field('Provider', providerControl, { hint: 'Consent is kept per provider' }),
      field('Phone number', h('input', { name: 'phone', type: 'tel', value: phone, required: true, autocomplete: 'off', placeholder: '+33612345678' }))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Look up')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = formValues(form);
    if (!values.provider || !values.phone) {
      showFieldErrors(form, { json: { errors: [
        ...(values.provider ? [] : [{ loc: 'provider', msg: 'Choose a provider.' }]),
        ...(values.phone ? [] : [{ loc: 'phone', msg: 'Type a phone number.' }]),
      ] } });
      return;
    }
    const next = withQuery('#/consent', { provider: values.provider, phone: values.phone });
    if (location.hash === next) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = next;
  });
  return form;
}

async function show(container, provider, phone) {
  container.replaceChildren(h('p', { class: 'loading' }, 'Looking up…'));
  const result = await api('GET', `/consent/${segment(provider)}/${segment(phone)}`);
  if (!result.ok) {
    container.replaceChildren(h('p', { class: 'problem' }, result.json?.message ?? 'The look-up failed.'));
    return;
  }
  const consent = result.json;
  const state = consent.state;
  const history = Array.isArray(consent.history) ? consent.history : [];
  container.replaceChildren(
    h('section', { class: 'panel', 'aria-labelledby': 'state-title' },
      h('h2', { id: 'state-title' }, h('span', { class: 'mono' }, consent.phone ?? phone), ` with ${consent.provider ?? provider}`),
      h('p', { class: 'state' }, 'State: ',
        h('strong', { class: `badge consent-${state ?? 'none'}` }, state ? STATE_LABELS[state] ?? state : 'No consent recorded')),
      // Double opt-in: the number asked to opt in; it counts only once it confirms, by this time.
      state === 'opt_in_requested' && consent.record?.confirm_by
        ? h('p', { class: 'pending' }, 'Asked to opt in; counts as opted in only if it confirms by ', time(consent.record.confirm_by), '.')
        : null,
      consent.record ? h('details', {}, h('summary', {}, 'The record as stored'), h('pre', { tabindex: '0' }, prettyBody(consent.record))) : null),
    h('h2', {}, 'History'),
    table({
      caption: `Consent events for ${consent.phone ?? phone}`,
      columns: [
        // `time` is the provider's time of the event (it decides the order), `recorded_at` the bridge's.
        ['When', (e) => time(e.time ?? e.at ?? e.recorded_at)],
        ['State', (e) => STATE_LABELS[e.state] ?? e.state ?? '-'],
        ['Source', (e) => e.source ?? '-'],
        ['Reason', (e) => e.reason ?? (e.keyword ? `keyword ${e.keyword}` : null) ?? e.text ?? '-'],
        ['Took effect', (e) => (e.applied === false ? 'no (a newer event wins)' : 'yes')],
        ['Details', (e) => h('details', {}, h('summary', {}, 'All fields'), h('pre', {}, prettyBody(e)))],
      ],
      items: history,
      empty: 'No consent event recorded for this number.',
    }),
    changeForm(consent.provider ?? provider, consent.phone ?? phone, state, container));
}

function changeForm(provider, phone, state, container) {
  const target = state === 'opted_out' ? 'opted_in' : 'opted_out';
  const radios = h('fieldset', { class: 'choices' },
    h('legend', {}, 'New state'),
    ['opted_in', 'opted_out'].map((value) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'state', value, checked: value === target }), ` ${STATE_LABELS[value]}`)));
  const form = h('form', { class: 'panel', 'aria-labelledby': 'change-title', novalidate: true },
    h('h2', { id: 'change-title' }, 'Opt in or out'),
    radios,
    h('div', { class: 'fields' },
      field('Reason', h('input', { name: 'reason', autocomplete: 'off', maxlength: '500' }), { hint: 'Recorded in the history (who asked, and how)', wide: true })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Record')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(form);
    for (const old of form.querySelectorAll('p.problem')) old.remove();
    const result = await api('PUT', `/consent/${segment(provider)}/${segment(phone)}`, values);
    const unmatched = showFieldErrors(form, result);
    if (!result.ok) {
      for (const error of unmatched) form.append(h('p', { class: 'problem' }, `${error.loc}: ${error.msg}`));
      return;
    }
    notify({ kind: 'done', title: 'Consent recorded', message: `${phone} is now ${STATE_LABELS[values.state] ?? values.state} for ${provider}.` });
    await show(container, provider, phone);
    container.querySelector('#state-title')?.focus();
  });
  return form;
}
