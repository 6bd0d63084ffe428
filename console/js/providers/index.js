// The Providers screens: `#/providers` (the list, and creating one) and `#/providers/<id>` (editing one).

import { api } from "../api.js";
import { h, fill, apiMessage } from "./dom.js";
import { renderList } from "./list.js";
import { renderCreate } from "./create.js";
import { renderEditor } from "./editor.js";
import { forget, providerIds } from "../facts.js";

let metaAnswer = null; // GET /meta, once per page: the facts the form is built from
let notice = null; // told on the next screen (a save re-renders the provider from the API)

async function loadMeta() {
  if (!metaAnswer || !metaAnswer.ok) metaAnswer = await api("GET", "/meta");
  return metaAnswer;
}

// The providers a failover list may name: read again each time, since one may have been added or deleted meanwhile.
function loadProviderIds() {
  forget("providers");
  return providerIds();
}

/** The provider id the route names: `params.id`, a string, or the hash itself. */
function providerIdOf(params) {
  if (typeof params === "string") return params || null;
  if (Array.isArray(params)) return params[0] || null;
  if (params && (params.id || params.provider)) return params.id || params.provider;
  const match = /^#\/providers\/([^/?#]+)/.exec(window.location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

export async function render(root, params) {
  const id = providerIdOf(params);
  const toList = () => { window.location.hash = "#/providers"; };
  const toProvider = (providerId, told = null) => {
    notice = told;
    const hash = `#/providers/${encodeURIComponent(providerId)}`;
    if (window.location.hash === hash) render(root, { id: providerId });
    else window.location.hash = hash;
  };

  const openEditor = async (start) => {
    const [meta, providers] = await Promise.all([loadMeta(), loadProviderIds()]);
    if (!meta.ok) return failed(root, "the form's schemas (GET /meta)", meta);
    renderEditor(root, start, meta.json, { onSaved: toProvider, onDeleted: toList, onCancel: toList, providers });
  };

  if (!id) {
    const showList = () => renderList(root, { onCreate: () => renderCreate(root, { openEditor, onCancel: showList }) });
    return showList();
  }

  fill(root, h("p", { class: "pv-status", "aria-live": "polite" }, `Loading provider ${id}…`));
  const [meta, provider, providers] = await Promise.all([loadMeta(), api("GET", `/providers/${encodeURIComponent(id)}`), loadProviderIds()]);
  if (!meta.ok) return failed(root, "the form's schemas (GET /meta)", meta);
  if (!provider.ok) return failed(root, `provider ${id}`, provider);
  const told = notice;
  notice = null;
  renderEditor(root, { draft: provider.json, savedId: id, notice: told }, meta.json, { onSaved: toProvider, onDeleted: toList, onCancel: toList, providers });
}

function failed(root, what, answer) {
  fill(root, h("div", { class: "pv-screen" }, h("h1", {}, "Providers"),
    h("p", { class: "pv-bad", role: "alert" }, `Could not load ${what}: ${apiMessage(answer)}`),
    h("p", {}, h("a", { href: "#/providers" }, "Back to the providers"))));
}
