// "Prove it": test connection, test send to a number the operator types, check balance now; each shows
// the provider's answer (status, body, time taken). They run against the saved provider.

import { api } from "../api.js";
import { h, fill, uid, apiMessage } from "./dom.js";

/**
 * @param {object} options
 * @param {string|null} options.providerId  the saved provider (null while it is not saved)
 * @param {() => boolean} options.hasBalance whether the draft configures `balance`
 * @param {() => boolean} options.isDirty    whether the form has unsaved edits
 * @param {() => object} options.sample      the preview's sample message
 */
export function proveIt({ providerId, hasBalance, isDirty, sample }) {
  const result = h("div", { class: "pv-prove-result", "aria-live": "polite" });
  const note = h("p", { class: "pv-hint" });
  const toId = uid("to");
  const to = h("input", { id: toId, type: "tel", autocomplete: "off", placeholder: "+14155550123", spellcheck: "false" });
  const buttons = {
    test: h("button", { type: "button", onclick: () => run("Test connection", "test") }, "Test connection"),
    send: h("button", { type: "button", onclick: () => testSend() }, "Send test SMS"),
    balance: h("button", { type: "button", onclick: () => run("Balance check", "test") }, "Check balance now"),
  };
  const element = h("section", { class: "pv-prove", "aria-labelledby": "pv-prove-title" },
    h("h2", { id: "pv-prove-title" }, "Prove it"), note,
    h("div", { class: "pv-prove-actions" }, buttons.test, buttons.balance),
    h("form", { class: "pv-test-send", onsubmit: (event) => { event.preventDefault(); testSend(); } },
      h("div", { class: "pv-field" }, h("label", { for: toId }, "Test send to (phone number)"), to),
      buttons.send),
    result);

  function update() {
    const saved = Boolean(providerId);
    for (const button of Object.values(buttons)) button.disabled = !saved;
    to.disabled = !saved;
    buttons.balance.hidden = !hasBalance();
    note.textContent = !saved
      ? "Save the provider first: the tests call it as saved."
      : isDirty()
        ? "You have unsaved edits: the tests use the saved version."
        : "The tests call the provider as saved.";
  }

  async function run(title, route, body) {
    const started = performance.now();
    fill(result, h("p", {}, `${title}: waiting for the provider…`));
    const answer = await api("POST", `/providers/${encodeURIComponent(providerId)}/${route}`, body);
    const tookMs = Math.round(performance.now() - started);
    show(title, answer, tookMs);
  }

  function testSend() {
    const number = to.value.trim();
    if (!number) {
      fill(result, h("p", { class: "pv-bad", role: "alert" }, "Type the phone number to send the test SMS to."));
      to.focus();
      return;
    }
    const message = { ...sample(), to: number };
    run("Test send", "test-send", message);
  }

  function show(title, answer, tookMs) {
    const data = answer.json || {};
    const good = answer.ok && (data.ok === undefined || data.ok) && !["failed", "rejected", "blocked"].includes(data.status);
    const rows = [];
    const add = (label, value) => { if (value !== undefined && value !== null && value !== "") rows.push([label, value]); };
    if (!answer.ok) add("API", apiMessage(answer));
    add("check", data.check);
    add("outcome", data.detail || data.status);
    add("reason", data.reason);
    add("provider status", data.status_code);
    add("provider message id", data.provider_message_id);
    add("message id", data.id);
    add("url", data.url);
    add("time taken", data.elapsed_ms !== undefined && data.elapsed_ms !== null ? `${data.elapsed_ms} ms at the provider, ${tookMs} ms in all` : `${tookMs} ms in all`);
    fill(result,
      h("h3", {}, `${title}: `, h("span", { class: good ? "pv-ok" : "pv-bad" }, good ? "ok" : "failed")),
      h("dl", { class: "pv-facts" }, rows.map(([label, value]) => [h("dt", {}, label), h("dd", {}, String(value))])),
      data.body ? [h("h4", {}, "Provider's answer"), h("pre", { class: "pv-code-block", tabindex: "0" }, data.body)] : null);
  }

  update();
  return { element, update };
}
