// Creating a provider: from a preset (GET /presets), from a pasted curl command (POST /providers/import-curl),
// or from scratch; each ends in the editor with a draft.

import { api } from "../api.js";
import { h, fill, uid, apiMessage } from "./dom.js";

// A blank document: the least a provider needs, so that the form and the preview have something to show.
const SCRATCH = {
  id: "",
  request: { url: "https://", method: "POST", content_type: "json", body: { to: "{{to}}", text: "{{text}}" } },
  auth: { type: "none" },
};

/** @param {(start: {draft, needs?, notes?, errors?, origin}) => void} openEditor */
export function renderCreate(root, { openEditor, onCancel }) {
  const panels = {
    preset: presetPanel(openEditor),
    curl: curlPanel(openEditor),
    scratch: scratchPanel(openEditor),
  };
  const tabs = [["preset", "From a preset"], ["curl", "From a curl command"], ["scratch", "From scratch"]];
  const tabList = h("div", { class: "pv-tabs", role: "tablist", "aria-label": "How to start" });
  const ids = Object.fromEntries(tabs.map(([key]) => [key, uid("tab")]));
  const select = (key, focus) => {
    for (const [name] of tabs) {
      const tab = tabList.querySelector(`[data-tab="${name}"]`);
      tab.setAttribute("aria-selected", String(name === key));
      tab.tabIndex = name === key ? 0 : -1;
      panels[name].element.hidden = name !== key;
      if (name === key && focus) tab.focus();
    }
    panels[key].shown();
  };
  for (const [key, label] of tabs) {
    tabList.append(h("button", { type: "button", role: "tab", id: ids[key], dataset: { tab: key }, "aria-controls": `${ids[key]}-panel`,
      onclick: () => select(key),
      onkeydown: (event) => {
        const index = tabs.findIndex(([name]) => name === key);
        if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
          event.preventDefault();
          const next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length][0];
          select(next, true);
        }
      } }, label));
    Object.assign(panels[key].element, { id: `${ids[key]}-panel` });
    panels[key].element.setAttribute("role", "tabpanel");
    panels[key].element.setAttribute("aria-labelledby", ids[key]);
  }
  fill(root, h("div", { class: "pv-screen" },
    h("div", { class: "pv-title-row" }, h("h1", {}, "New provider"),
      h("button", { type: "button", onclick: onCancel }, "Back to the list")),
    tabList, Object.values(panels).map((panel) => panel.element)));
  select("preset");
}

function presetPanel(openEditor) {
  const status = h("p", { class: "pv-status", "aria-live": "polite" });
  const list = h("ul", { class: "pv-presets" });
  const filterId = uid("filter");
  const filter = h("input", { id: filterId, type: "search", placeholder: "twilio, vonage, …", oninput: () => show() });
  const element = h("section", { class: "pv-panel" },
    h("div", { class: "pv-field" }, h("label", { for: filterId }, "Filter the presets"), filter), status, list);
  let presets = null;

  async function load() {
    status.textContent = "Loading presets…";
    const answer = await api("GET", "/presets");
    if (!answer.ok) {
      status.textContent = `Could not load the presets (${apiMessage(answer)}).`;
      return;
    }
    presets = Array.isArray(answer.json) ? answer.json : [];
    show();
  }

  function show() {
    const words = filter.value.trim().toLowerCase();
    const shown = (presets || []).filter((preset) => !words || `${preset.name} ${preset.title}`.toLowerCase().includes(words));
    status.textContent = `${shown.length} of ${(presets || []).length} presets.`;
    fill(list, shown.map((preset) => h("li", {},
      h("button", { type: "button", class: "pv-preset", dataset: { preset: preset.name }, onclick: () => choose(preset) },
        h("strong", {}, preset.title || preset.name), h("span", { class: "pv-muted" }, ` ${preset.name}`),
        h("span", { class: "pv-needs-count" }, preset.needs && preset.needs.length ? ` · to fill: ${preset.needs.join(", ")}` : " · nothing to fill")),
      (preset.sources || []).length ? h("details", {}, h("summary", {}, "Documentation followed"),
        h("ul", {}, preset.sources.map((source) => h("li", {}, /^https?:\/\//.test(source)
          ? h("a", { href: source.split(" ")[0], target: "_blank", rel: "noopener noreferrer" }, source) : source)))) : null)));
  }

  async function choose(preset) {
    status.textContent = `Loading ${preset.name}…`;
    const answer = await api("GET", `/presets/${encodeURIComponent(preset.name)}`);
    if (!answer.ok) {
      status.textContent = `Could not load ${preset.name} (${apiMessage(answer)}).`;
      return;
    }
    const document = structuredClone(answer.json.document || {});
    for (const key of Object.keys(document)) if (key.startsWith("_")) delete document[key];
    openEditor({ draft: { id: "", ...document, preset: preset.name }, needs: ["id", ...(answer.json.needs || preset.needs || [])], hints: answer.json.hints || {}, origin: `preset ${preset.title || preset.name}` });
  }

  return { element, shown: () => { if (!presets) load(); filter.focus(); } };
}

function curlPanel(openEditor) {
  const curlId = uid("curl");
  const idId = uid("id");
  const status = h("div", { class: "pv-status", "aria-live": "polite" });
  const area = h("textarea", { id: curlId, rows: 8, class: "pv-code", spellcheck: "false", required: true,
    placeholder: "curl -X POST https://api.example.com/sms -H 'Authorization: Bearer …' -d '{\"to\": \"+33612345678\", \"text\": \"hello\"}'" });
  const id = h("input", { id: idId, type: "text", pattern: "[a-z0-9][a-z0-9_\\-]{0,63}", spellcheck: "false", placeholder: "my-provider" });
  const element = h("section", { class: "pv-panel" },
    h("form", { onsubmit: (event) => { event.preventDefault(); submit(); } },
      h("div", { class: "pv-field" }, h("label", { for: curlId }, "The provider's sample curl command"), area,
        h("p", { class: "pv-hint" }, "Credentials found in it become auth or named secrets; the recipient, text and sender become placeholders.")),
      h("div", { class: "pv-field" }, h("label", { for: idId }, "Provider id (optional)"), id),
      h("button", { type: "submit", class: "pv-primary" }, "Import")),
    status);

  async function submit() {
    if (!area.value.trim()) {
      fill(status, h("p", { class: "pv-bad", role: "alert" }, "Paste a curl command first."));
      area.focus();
      return;
    }
    fill(status, h("p", {}, "Reading the command…"));
    const body = { curl: area.value };
    if (id.value.trim()) body.id = id.value.trim();
    const answer = await api("POST", "/providers/import-curl", body, { quiet: true });
    if (!answer.ok) {
      const errors = (answer.json && answer.json.errors) || [];
      fill(status, h("div", { class: "pv-bad", role: "alert" }, h("p", {}, `Not imported: ${apiMessage(answer)}`),
        errors.length ? h("ul", {}, errors.map((error) => h("li", {}, `${error.loc}: ${error.msg}`))) : null));
      return;
    }
    openEditor({ draft: answer.json.provider || {}, notes: answer.json.notes || [], errors: answer.json.errors || [], origin: "curl command", curl: area.value });
  }

  return { element, shown: () => area.focus() };
}

function scratchPanel(openEditor) {
  const element = h("section", { class: "pv-panel" },
    h("p", {}, "An empty provider: a JSON POST with the recipient and the text, no authentication. Change anything in the form."),
    h("button", { type: "button", class: "pv-primary", onclick: () => openEditor({ draft: structuredClone(SCRATCH), needs: ["id", "request.url"], origin: "scratch" }) }, "Start from scratch"));
  return { element, shown: () => {} };
}
