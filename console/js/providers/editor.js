// The provider editor: the form, the live preview beside it and the "prove it" buttons; validate, save, delete.

import { api } from "../api.js";
import { h, fill, apiMessage } from "./dom.js";
import { providerForm } from "./form.js";
import { livePreview } from "./preview.js";
import { proveIt } from "./prove.js";
import { clone, MASK } from "./draft.js";
import { providerTrafficPanel } from "../traffic.js";

/**
 * @param {HTMLElement} root
 * @param {object} start  `{draft, needs?, hints?, notes?, errors?, origin?, curl?, savedId?, notice?}`
 * @param {object} meta   GET /meta
 */
export function renderEditor(root, start, meta, { onSaved, onDeleted, onCancel, providers = null }) {
  const draft = clone(start.draft);
  let savedId = start.savedId || null;
  let saved = JSON.stringify(draft);
  const isDirty = () => JSON.stringify(draft) !== saved;

  const status = h("div", { class: "pv-status", "aria-live": "polite" });
  let preview = null;
  let prove = null;
  const form = providerForm({
    meta, draft, isNew: !savedId, needs: start.needs || [], hints: start.hints || {}, providers,
    onChange: ({ bodyValid }) => {
      preview.setLocalProblem(bodyValid ? null : "the body is not valid JSON");
      preview.refresh();
  if (traffic) traffic.load();
      prove.update();
      status.textContent = isDirty() ? "Unsaved changes." : "";
    },
  });
  preview = livePreview({
    getDraft: () => draft,
    // While typing, errors go on their fields only: the summary (an alert) is for save and validate.
    onErrors: (errors) => form.showErrors(errors, null, { summary: false }),
    onValid: () => form.clearErrors(),
  });
  prove = proveIt({ providerId: savedId, hasBalance: () => Boolean(draft.balance), isDirty, sample: () => preview.message() });

  const actions = h("div", { class: "pv-actions" },
    h("button", { type: "button", class: "pv-primary", onclick: save }, savedId ? "Save changes" : "Create provider"),
    h("button", { type: "button", onclick: validate }, "Validate"),
    savedId ? h("button", { type: "button", class: "pv-danger", onclick: remove }, "Delete") : null,
    h("button", { type: "button", onclick: onCancel }, "Back to the list"));

  const notes = start.notes && start.notes.length
    ? h("section", { class: "pv-notes", "aria-labelledby": "pv-notes-title" }, h("h2", { id: "pv-notes-title" }, "Import notes"),
      h("ul", {}, start.notes.map((note) => h("li", {}, note))))
    : null;

  // A saved provider's circuit and throughput, above its form: why its messages wait or go elsewhere.
  const traffic = savedId ? providerTrafficPanel(savedId) : null;

  const title = savedId ? `Provider ${draft.name || savedId}` : `New provider${start.origin ? ` from ${start.origin}` : ""}`;
  fill(root, h("div", { class: "pv-screen pv-editor" },
    h("div", { class: "pv-title-row" }, h("h1", {}, title),
      // On a narrow screen the preview comes after the whole form: a way there without scrolling.
      h("button", { type: "button", class: "pv-small pv-narrow-only", onclick: () => {
        const heading = root.querySelector("#pv-preview-title");
        heading.scrollIntoView();
        heading.closest("section").querySelector("input, textarea, select").focus();
      } }, "Go to the preview")),
    notes,
    h("div", { class: "pv-columns" },
      h("div", { class: "pv-main" }, traffic ? traffic.element : null, form.element, actions, status),
      h("aside", { class: "pv-side", "aria-label": "Preview and tests" }, preview.element, prove.element))));

  if (start.notice) status.textContent = start.notice;
  if (start.errors && start.errors.length) form.showErrors(start.errors, "The draft is not valid yet: see the fields marked.");
  preview.refresh();
  if (traffic) traffic.load();

  async function validate() {
    status.textContent = "Validating…";
    const body = clone(draft);
    if (!body.id) body.id = "draft";
    const answer = await api("POST", "/providers/validate", body, { quiet: true });
    if (answer.ok && answer.json && answer.json.valid) {
      form.clearErrors();
      status.textContent = `Valid: saving would be accepted${draft.id ? "" : " once you choose an id"}.`;
      return;
    }
    const errors = (answer.json && answer.json.errors) || [];
    form.showErrors(errors, answer.ok ? "Saving would be refused:" : apiMessage(answer), { focus: true });
    status.textContent = "Not valid: see the fields marked.";
  }

  async function save() {
    if (!form.bodyValid) {
      form.showErrors([{ loc: "request.body", msg: "the body is not valid JSON" }], null, { focus: true });
      return;
    }
    status.textContent = "Saving…";
    const body = clone(draft);
    if (!savedId && start.curl && JSON.stringify(body).includes(JSON.stringify(MASK))) {
      // The import answered with its secrets masked: only the import itself can store them. Once it
      // has, the edited draft is a PUT, where a masked secret keeps the stored one.
      const imported = await api("POST", "/providers/import-curl", { curl: start.curl, id: body.id || undefined, save: true }, { quiet: true });
      if (!imported.ok || !imported.json.saved) {
        const errors = (imported.json && imported.json.errors) || [];
        form.showErrors(errors, `Not saved: the secrets of the curl command could not be stored (${imported.ok ? "the command's own draft is not valid" : apiMessage(imported)}). Type the secret values in their fields, or fix the command.`, { focus: true });
        status.textContent = "Not saved.";
        return;
      }
      savedId = imported.json.provider.id;
      body.id = savedId;
      draft.id = savedId;
    }
    const answer = savedId
      ? await api("PUT", `/providers/${encodeURIComponent(savedId)}`, body, { quiet: true })
      : await api("POST", "/providers", body, { quiet: true });
    if (!answer.ok) {
      const errors = (answer.json && answer.json.errors) || [];
      form.showErrors(errors, errors.length ? `Not saved (${answer.status}): ${errors.length} field${errors.length === 1 ? "" : "s"} to fix.` : `Not saved: ${apiMessage(answer)}`, { focus: true });
      status.textContent = "Not saved.";
      return;
    }
    saved = JSON.stringify(draft);
    status.textContent = "Saved.";
    onSaved(savedId || draft.id, `Saved ${new Date().toLocaleTimeString()}.`);
  }

  async function remove() {
    if (!window.confirm(`Delete provider ${savedId} and its secrets? Messages queued for it will fail.`)) return;
    const answer = await api("DELETE", `/providers/${encodeURIComponent(savedId)}`);
    if (!answer.ok) {
      status.textContent = `Not deleted: ${apiMessage(answer)}`;
      return;
    }
    onDeleted();
  }
}
