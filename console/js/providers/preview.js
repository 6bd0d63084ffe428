// The live preview beside the form: the exact request the draft would send for a sample message, its curl,
// and the text's encoding with the characters that force UCS-2 highlighted (POST /providers/preview).

import { api } from "../api.js";
import { h, fill, uid, debounce, apiMessage } from "./dom.js";
import { clone, checkJson, encodingRuns } from "./draft.js";

const DEBOUNCE_MS = 400;

/**
 * @param {object} options
 * @param {() => object} options.getDraft  the provider document as edited
 * @param {(errors: object[], message: string) => void} options.onErrors  a draft the API refuses
 * @param {() => void} options.onValid      the draft renders: field errors from an earlier preview can go
 */
export function livePreview({ getDraft, onErrors, onValid }) {
  const message = { to: "+14155550123", text: "Your code is 1234 🎉", type: "NOTIFICATION", vars: {} };
  let sequence = 0;
  let localProblem = null;

  const output = h("div", { class: "pv-preview-output", "aria-live": "polite", "aria-busy": "false" });
  const state = h("p", { class: "pv-preview-state" }, "Edit the form or the sample to see the request.");

  const varsId = uid("vars");
  const varsStatus = h("p", { class: "pv-json-status" });
  const sample = h("fieldset", { class: "pv-sample" }, h("legend", {}, "Sample message"),
    textInput("recipient (to)", message.to, (value) => { message.to = value; }, { type: "tel", autocomplete: "off" }),
    textArea("text", message.text, (value) => { message.text = value; }),
    selectInput("type", ["NOTIFICATION", "MARKETING"], message.type, (value) => { message.type = value; }),
    h("div", { class: "pv-field" }, h("label", { for: varsId }, "vars (JSON object)"),
      h("textarea", { id: varsId, rows: 2, class: "pv-code", spellcheck: "false", value: "{}",
        oninput: (event) => {
          const checked = checkJson(event.target.value);
          const ok = checked.ok && (checked.empty || (checked.value && typeof checked.value === "object" && !Array.isArray(checked.value)));
          varsStatus.textContent = ok ? "" : "vars must be a JSON object";
          event.target.setAttribute("aria-invalid", String(!ok));
          if (ok) { message.vars = checked.value || {}; refresh(); }
        } }), varsStatus));

  const element = h("section", { class: "pv-preview", "aria-labelledby": "pv-preview-title" },
    h("h2", { id: "pv-preview-title" }, "Live preview"), sample, state, output);

  function textInput(label, value, set, attrs = {}) {
    const id = uid("s");
    return h("div", { class: "pv-field" }, h("label", { for: id }, label),
      h("input", { id, value, ...attrs, oninput: (event) => { set(event.target.value); refresh(); } }));
  }
  function textArea(label, value, set) {
    const id = uid("s");
    return h("div", { class: "pv-field" }, h("label", { for: id }, label),
      h("textarea", { id, rows: 3, value, oninput: (event) => { set(event.target.value); refresh(); } }));
  }
  function selectInput(label, options, value, set) {
    const id = uid("s");
    const select = h("select", { id, onchange: () => { set(select.value); refresh(); } }, options.map((option) => h("option", { value: option }, option)));
    select.value = value;
    return h("div", { class: "pv-field" }, h("label", { for: id }, label), select);
  }

  async function run() {
    const mine = ++sequence;
    if (localProblem) {
      state.textContent = `Not previewed: ${localProblem}`;
      return;
    }
    const draft = clone(getDraft());
    // The preview route validates a whole document: an id not chosen yet must not hide the rest.
    if (!draft.id) draft.id = "draft";
    const body = { provider: draft, message: sampleMessage() };
    state.textContent = "Rendering…";
    output.setAttribute("aria-busy", "true");
    const answer = await api("POST", "/providers/preview", body, { quiet: true });
    if (mine !== sequence || !element.isConnected) return; // a newer edit has its own request under way
    output.setAttribute("aria-busy", "false");
    if (!answer.ok) {
      const errors = (answer.json && answer.json.errors) || [];
      state.textContent = errors.length
        ? `The draft does not render yet: ${errors.length} problem${errors.length === 1 ? "" : "s"}, marked on the form.`
        : `The draft does not render yet (${apiMessage(answer)}).`;
      fill(output);
      if (answer.status === 422 || answer.status === 400) onErrors(answer.json && answer.json.errors ? answer.json.errors : [], answer.json && answer.json.message);
      return;
    }
    onValid();
    state.textContent = `Rendered ${new Date().toLocaleTimeString()}: what the bridge would send, secrets masked.`;
    showRequest(answer.json);
  }

  function sampleMessage() {
    const out = { to: message.to, text: message.text, type: message.type };
    if (message.vars && Object.keys(message.vars).length) out.vars = message.vars;
    return out;
  }

  function showRequest(preview) {
    const headers = Object.entries(preview.headers || {});
    const body = preview.json_body !== undefined && preview.json_body !== null ? JSON.stringify(preview.json_body, null, 2) : preview.body;
    const encoding = preview.encoding;
    fill(output,
      h("h3", {}, "Request"),
      h("p", { class: "pv-request-line" }, h("code", {}, `${preview.method} ${preview.url}`)),
      headers.length ? h("table", { class: "pv-headers" }, h("caption", {}, "Headers"),
        h("tbody", {}, headers.map(([name, value]) => h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, h("code", {}, value)))))) : null,
      h("h3", {}, "Body"),
      body ? h("pre", { class: "pv-code-block", tabindex: "0", "aria-label": "request body" }, body) : h("p", {}, "(no body)"),
      h("h3", {}, "curl"),
      h("pre", { class: "pv-code-block", tabindex: "0", "aria-label": "curl command" }, preview.curl || ""),
      h("button", { type: "button", class: "pv-small", onclick: (event) => copy(preview.curl, event.target) }, "Copy curl"),
      encoding ? encodingView(encoding) : null);
  }

  function encodingView(encoding) {
    const forcing = encoding.ucs2_characters || [];
    const runs = encodingRuns(message.text, forcing);
    const replaced = encoding.replaced || [];
    return h("div", { class: "pv-encoding" },
      h("h3", {}, "Encoding"),
      h("p", {}, h("strong", {}, encoding.is_unicode ? "UCS-2 (Unicode)" : "GSM-7"),
        ` · ${encoding.segments} segment${encoding.segments === 1 ? "" : "s"} · ${encoding.units} ${encoding.is_unicode ? "UTF-16 units" : "septets"}`),
      forcing.length
        ? h("p", {}, "Characters forcing UCS-2: ", forcing.map((character) => h("mark", { class: "pv-ucs2" }, character)).flatMap((mark, index) => (index ? [" ", mark] : [mark])))
        : h("p", {}, "Every character fits GSM-7."),
      h("p", { class: "pv-text-marked", "aria-label": "the text with UCS-2 characters highlighted" },
        runs.map((run) => (run.ucs2 ? h("mark", { class: "pv-ucs2", title: "forces UCS-2" }, run.text) : run.text))),
      replaced.length
        ? h("p", {}, "Smart encoding replaced: ", replaced.map((r) => `${shown(r.original)} → ${shown(r.replacement)} (×${r.count})`).join(", "))
        : null,
      encoding.smart_text ? h("p", { class: "pv-text-marked", "aria-label": "the text as sent" }, encoding.smart_text) : null);
  }

  // Spaces and invisible characters would not show: named by their code point.
  function shown(character) {
    if (!character) return "(removed)";
    return /^[\p{L}\p{N}\p{P}\p{S}]+$/u.test(character)
      ? character
      : [...character].map((c) => `U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`).join(" ");
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select the text to copy";
    }
  }

  const refresh = debounce(run, DEBOUNCE_MS);
  return {
    element,
    refresh,
    /** A problem found in the browser (a body that is not JSON): shown instead of asking the API. */
    setLocalProblem(problem) { localProblem = problem; },
    message: () => sampleMessage(),
  };
}
