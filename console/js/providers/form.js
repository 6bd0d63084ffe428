// The provider form (SPEC 3), built from GET /meta's JSON Schemas: every field of the provider document,
// the auth fields of the chosen type, a JSON body editor, write-only secrets, API errors on their fields.

import { h, fill, uid, labelOf } from "./dom.js";
import {
  MASK, getPath, setPath, clone, checkJson, placeholdersIn, stringsIn, errorsByLoc, nearestLoc,
  plainSchema, resolveRef, isSecretSchema, parseList,
} from "./draft.js";

// Top-level groups, in the order of SPEC 3; any other property of the schema goes under "More".
const SECTIONS = [
  ["request", "Request", "How a message is sent: the HTTP request, its body template and batching."],
  ["auth", "Authentication", "How the bridge proves who it is to the provider."],
  ["response", "Response", "What success looks like, where the message id is, what is retried."],
  ["throughput", "Throughput", "The most requests per second this provider receives, shared by every sender: messages over it wait on the queue, they are not failed."],
  ["inbound", "Inbound messages", "Webhooks the provider sends for received SMS: signature, fields, keywords."],
  ["status", "Delivery receipts", "Webhooks the provider sends for status changes."],
  ["balance", "Balance", "How to read the credit balance, how often, and who is told when it runs low."],
  ["secrets", "Secrets", "Named secrets used as {{secrets.NAME}} in templates. Write-only: stored values show masked and are kept unless replaced."],
];
const LONG_TEXT = /(^|\.)(string_to_sign|private_key|replies\.[a-z_]+)$/;

/**
 * @param {object} options
 * @param {object} options.meta      GET /meta
 * @param {object} options.draft     the provider document being edited (mutated in place)
 * @param {boolean} options.isNew    whether the id may still be chosen
 * @param {string[]} options.needs   preset fields still to fill (marked until edited)
 * @param {object} options.hints     per need, what to put there (GET /presets' `hints`)
 * @param {Function} options.onChange called after every edit, with `{bodyValid}`
 * @param {string[]|null} options.providers the existing providers' ids (the failover list chooses among them)
 */
export function providerForm({ meta, draft, isNew, needs = [], hints = {}, onChange, providers = null }) {
  const providerRoot = meta.provider_schema || {};
  let root = providerRoot; // where `$ref`s resolve: an auth schema from /meta is a document of its own
  const fields = new Map(); // loc -> field wrapper, for errors and needs
  let bodyValid = true;
  const changed = () => onChange && onChange({ bodyValid });

  const form = h("form", { class: "pv-form", novalidate: true, "aria-label": "Provider configuration", onsubmit: (event) => event.preventDefault() });
  const summary = h("div", { class: "pv-error-summary", role: "alert", tabindex: "-1", hidden: true });
  form.append(summary);

  // ------------------------------------------------------------ field wrappers

  function wrapper(loc, label, control, { hint, controlId, inline } = {}) {
    const errorId = uid("err");
    const hintId = hint ? uid("hint") : null;
    const node = h("div", { class: `pv-field${inline ? " pv-inline" : ""}`, dataset: { loc } },
      inline ? [control, h("label", { for: controlId }, label)] : [h("label", { for: controlId }, label), control],
      hint ? h("p", { class: "pv-hint", id: hintId }, hint) : null,
      h("p", { class: "pv-field-error", id: errorId, hidden: true }));
    const target = control.matches("input, select, textarea") ? control : control.querySelector("input, select, textarea");
    if (target) target.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
    node.errorSlot = node.lastChild;
    node.focusTarget = target;
    fields.set(loc, node);
    return node;
  }

  function scalarField(loc, key, schema, required) {
    const id = uid("f");
    const value = getPath(draft, loc);
    const hint = [schema.description, defaultHint(schema)].filter(Boolean).join(" · ");
    if (schema.type === "boolean") {
      const input = h("input", { type: "checkbox", id, checked: value ?? schema.default ?? false,
        onchange: () => { setPath(draft, loc, input.checked); touched(loc); changed(); } });
      return wrapper(loc, labelOf(key, schema), input, { controlId: id, hint: schema.description, inline: true });
    }
    if (Array.isArray(schema.enum) || schema.const !== undefined) {
      const options = schema.enum || [schema.const];
      const select = h("select", { id, required },
        required ? null : h("option", { value: "" }, schema.default !== undefined && schema.default !== null ? `(default: ${schema.default})` : "(none)"),
        options.map((option) => h("option", { value: String(option) }, String(option))));
      select.value = value === undefined || value === null ? (required && schema.default !== undefined ? String(schema.default) : "") : String(value);
      select.addEventListener("change", () => { setPath(draft, loc, select.value === "" ? undefined : select.value); touched(loc); changed(); });
      return wrapper(loc, labelOf(key, schema), select, { controlId: id, hint: schema.description });
    }
    if (schema.type === "number" || schema.type === "integer") {
      const input = h("input", { type: "number", id, inputmode: "decimal", step: schema.type === "integer" ? "1" : "any",
        min: schema.minimum, max: schema.maximum, value: value ?? "", placeholder: schema.default ?? "",
        oninput: () => { setPath(draft, loc, input.value === "" ? undefined : Number(input.value)); touched(loc); changed(); } });
      return wrapper(loc, labelOf(key, schema), input, { controlId: id, hint });
    }
    if (schema.type === "array") {
      const itemType = plainSchema(schema.items || {}, root).schema.type;
      if (["string", "integer", "number"].includes(itemType)) {
        const input = h("input", { type: "text", id, value: Array.isArray(value) ? value.join(", ") : "",
          placeholder: "comma-separated",
          oninput: () => { setPath(draft, loc, parseList(input.value, itemType)); touched(loc); changed(); } });
        return wrapper(loc, labelOf(key, schema), input, { controlId: id, hint: [hint, "separate values with commas"].filter(Boolean).join(" · ") });
      }
      return jsonField(loc, key, schema);
    }
    if (schema.type === "string") {
      if (isSecretSchema(schema)) return secretInput(loc, key, schema, value, id);
      const long = LONG_TEXT.test(loc);
      const input = h(long ? "textarea" : "input", { id, rows: long ? 3 : undefined, type: long ? undefined : "text",
        value: value ?? "", placeholder: schema.default ?? "", required, spellcheck: "false",
        oninput: () => { setPath(draft, loc, input.value === "" && !required ? undefined : input.value); touched(loc); changed(); } });
      return wrapper(loc, labelOf(key, schema), input, { controlId: id, hint });
    }
    return jsonField(loc, key, schema);
  }

  function secretInput(loc, key, schema, value, id) {
    const stored = value === MASK;
    const input = h("input", { type: "password", id, value: value ?? "", autocomplete: "new-password", spellcheck: "false",
      oninput: () => { setPath(draft, loc, input.value === "" ? undefined : input.value); touched(loc); changed(); } });
    const hint = [schema.description, stored ? "stored secret: kept unless you type a new one" : "write-only: never shown again once saved"]
      .filter(Boolean).join(" · ");
    return wrapper(loc, labelOf(key, schema), input, { controlId: id, hint });
  }

  // Any JSON value (claims, extra fields, a form body as pairs): edited as JSON text, checked as typed.
  function jsonField(loc, key, schema) {
    const id = uid("f");
    const value = getPath(draft, loc);
    const status = h("p", { class: "pv-json-status", "aria-live": "polite" });
    const area = h("textarea", { id, rows: 4, spellcheck: "false", class: "pv-code",
      value: value === undefined ? "" : JSON.stringify(value, null, 2),
      oninput: () => {
        const checked = checkJson(area.value);
        area.setAttribute("aria-invalid", String(!checked.ok));
        status.textContent = checked.ok ? "" : `not JSON: ${checked.message}`;
        if (checked.ok) { setPath(draft, loc, checked.value); touched(loc); changed(); }
      } });
    const node = wrapper(loc, labelOf(key, schema), h("div", {}, area, status), { controlId: id, hint: [schema.description, "JSON"].filter(Boolean).join(" · ") });
    return node;
  }

  // headers, query, fields, map: an object of name to text, edited as rows.
  function mapField(loc, key, schema) {
    const valueSchema = plainSchema(schema.additionalProperties || Object.values(schema.patternProperties || {})[0] || {}, root).schema;
    const names = schema.propertyNames && schema.propertyNames.enum;
    const secret = isSecretSchema(valueSchema);
    const rows = h("div", { class: "pv-rows" });
    const listId = names ? uid("names") : null;
    const legend = labelOf(key, schema);
    const sync = () => {
      const object = {};
      for (const row of rows.children) {
        const name = row.querySelector(".pv-key").value.trim();
        if (name) object[name] = valueSchema.type === "string" || secret ? row.querySelector(".pv-value").value : row.querySelector(".pv-value").value;
      }
      setPath(draft, loc, Object.keys(object).length ? object : undefined);
      touched(loc);
      changed();
    };
    const addRow = (name = "", value = "") => {
      const keyId = uid("k");
      const valueId = uid("v");
      const valueInput = Array.isArray(valueSchema.enum)
        ? h("select", { id: valueId, class: "pv-value", onchange: sync }, valueSchema.enum.map((option) => h("option", { value: option }, option)))
        : h("input", { id: valueId, class: "pv-value", type: secret ? "password" : "text", autocomplete: secret ? "new-password" : "off", spellcheck: "false", oninput: sync });
      valueInput.value = value;
      const row = h("div", { class: "pv-row" },
        h("label", { for: keyId, class: "pv-visually-hidden" }, `${legend}: name`),
        h("input", { id: keyId, class: "pv-key", type: "text", list: listId, value: name, spellcheck: "false", placeholder: "name", oninput: sync }),
        h("label", { for: valueId, class: "pv-visually-hidden" }, `${legend}: value`),
        valueInput,
        h("button", { type: "button", class: "pv-small", "aria-label": `remove this ${key} entry`, onclick: () => { row.remove(); sync(); } }, "Remove"));
      rows.append(row);
      return row;
    };
    for (const [name, value] of Object.entries(getPath(draft, loc) || {})) addRow(name, value);
    const add = h("button", { type: "button", class: "pv-small", onclick: () => addRow().querySelector(".pv-key").focus() }, `Add ${key === "secrets" ? "secret" : "entry"}`);
    const hint = [schema.description, secret ? "stored secrets show masked and are kept unless replaced" : null].filter(Boolean).join(" · ");
    const node = h("fieldset", { class: "pv-field pv-map", dataset: { loc } },
      h("legend", {}, legend), hint ? h("p", { class: "pv-hint" }, hint) : null,
      listId ? h("datalist", { id: listId }, names.map((name) => h("option", { value: name }))) : null,
      rows, add, h("p", { class: "pv-field-error", hidden: true }));
    node.errorSlot = node.lastChild;
    node.focusTarget = add;
    fields.set(loc, node);
    return node;
  }

  // The failover list: other providers chosen in order, each row its own field (an API error names
  // its index: `failover.1`), the first tried first.
  function failoverField(loc, key, schema) {
    const rows = h("ol", { class: "pv-failover" });
    const add = h("button", { type: "button", class: "pv-small", onclick: () => { addRow(""); sync(); rows.lastChild.querySelector("select").focus(); } },
      "Add a failover provider");
    const others = () => providers.filter((id) => id !== draft.id);
    const hadList = Array.isArray(getPath(draft, loc));
    const register = () => {
      for (const [known] of [...fields]) if (known.startsWith(`${loc}.`)) fields.delete(known);
      [...rows.children].forEach((row, index) => {
        row.querySelector("label").textContent = `failover ${index + 1}`;
        row.querySelector(".pv-up").setAttribute("aria-label", `move failover ${index + 1} up`);
        row.querySelector(".pv-up").disabled = index === 0;
        row.querySelector(".pv-remove").setAttribute("aria-label", `remove failover ${index + 1}`);
        fields.set(`${loc}.${index}`, row);
      });
      add.disabled = rows.children.length >= (schema.maxItems || 10);
    };
    const sync = () => {
      const chosen = [...rows.querySelectorAll("select")].map((select) => select.value).filter(Boolean);
      setPath(draft, loc, chosen.length || hadList ? chosen : undefined);
      register();
      touched(loc);
      changed();
    };
    const addRow = (value) => {
      const id = uid("fo");
      const errorId = uid("err");
      // A stored id that no longer names a provider stays shown, so that saving says so on its row.
      const choices = value && !others().includes(value) ? [...others(), value] : others();
      const select = h("select", { id, "aria-describedby": errorId, onchange: () => { clearError(`${loc}.${[...rows.children].indexOf(row)}`); sync(); } },
        h("option", { value: "" }, "(choose a provider)"), choices.map((choice) => h("option", { value: choice }, choice)));
      select.value = value;
      const row = h("li", { class: "pv-row pv-field" },
        h("label", { for: id }), select,
        h("button", { type: "button", class: "pv-small pv-up", onclick: () => {
          if (row.previousElementSibling) row.parentNode.insertBefore(row, row.previousElementSibling);
          sync();
          select.focus();
        } }, "Move up"),
        h("button", { type: "button", class: "pv-small pv-remove", onclick: () => {
          const next = row.nextElementSibling || row.previousElementSibling;
          row.remove();
          sync();
          (next ? next.querySelector("select") : add).focus();
        } }, "Remove"),
        h("p", { class: "pv-field-error", id: errorId, hidden: true }));
      row.errorSlot = row.lastChild;
      row.focusTarget = select;
      rows.append(row);
    };
    for (const value of getPath(draft, loc) || []) addRow(value);
    const hint = [schema.description, others().length ? null : "no other provider exists yet"].filter(Boolean).join(" · ");
    const node = h("fieldset", { class: "pv-field pv-map", dataset: { loc } },
      h("legend", {}, labelOf(key, schema)), hint ? h("p", { class: "pv-hint" }, hint) : null,
      rows, add, h("p", { class: "pv-field-error", hidden: true }));
    node.errorSlot = node.lastChild;
    node.focusTarget = add;
    fields.set(loc, node);
    register();
    return node;
  }

  // ------------------------------------------------------------ objects and unions

  function objectFields(loc, schema, container, skip = []) {
    const required = new Set(schema.required || []);
    for (const [key, propertySchema] of Object.entries(schema.properties || {})) {
      if (skip.includes(key)) continue;
      container.append(property(loc ? `${loc}.${key}` : key, key, propertySchema, required.has(key)));
    }
    return container;
  }

  function property(loc, key, rawSchema, required) {
    if (loc === "request.body") return bodyEditor();
    if (loc === "auth") return unionField(loc, key, meta.auth_types || {});
    if (loc === "inbound.auth") return unionField(loc, key, meta.inbound_auth_types || {});
    if (loc === "failover" && Array.isArray(providers)) return failoverField(loc, key, plainSchema(rawSchema, root).schema);
    const { schema, nullable } = plainSchema(rawSchema, root);
    if (schema.oneOf && schema.discriminator) {
      const choices = {};
      for (const [name, ref] of Object.entries(schema.discriminator.mapping || {})) choices[name] = resolveRef({ $ref: ref }, root);
      return unionField(loc, key, choices);
    }
    if (schema.type === "object" && schema.properties) return objectSection(loc, key, schema, nullable || (!required && schema.default === null));
    if (schema.type === "object" && (schema.patternProperties || (schema.additionalProperties && typeof schema.additionalProperties === "object" && schema.additionalProperties.type)))
      return mapField(loc, key, schema);
    return scalarField(loc, key, schema, required);
  }

  // A nested object; an optional one (inbound, status, balance, batch) is switched on and off.
  function objectSection(loc, key, schema, optional, { title, description } = {}) {
    const body = h("div", { class: "pv-section-body" });
    const heading = title || labelOf(key, schema);
    const node = h("fieldset", { class: "pv-section", dataset: { loc } }, h("legend", {}, heading));
    if (description || schema.description) node.append(h("p", { class: "pv-hint" }, description || schema.description));
    const render = () => {
      fill(body);
      for (const [known] of [...fields]) if (known.startsWith(`${loc}.`)) fields.delete(known);
      if (!optional || getPath(draft, loc) !== undefined) objectFields(loc, schema, body);
    };
    if (optional) {
      const id = uid("use");
      const toggle = h("input", { type: "checkbox", id, checked: getPath(draft, loc) != null,
        onchange: () => {
          setPath(draft, loc, toggle.checked ? starter(schema) : undefined);
          render();
          changed();
        } });
      node.append(h("div", { class: "pv-field pv-inline" }, toggle, h("label", { for: id }, `configure ${heading}`)));
    }
    node.append(body, h("p", { class: "pv-field-error", hidden: true }));
    node.errorSlot = node.lastChild;
    fields.set(loc, node);
    render();
    return node;
  }

  // An object with a `type` choosing its fields (auth, inbound.auth): the fields come from the chosen schema.
  function unionField(loc, key, choices) {
    const id = uid("type");
    const body = h("div", { class: "pv-section-body" });
    const current = () => (getPath(draft, loc) || {}).type || "";
    const select = h("select", { id },
      h("option", { value: "" }, "(choose a type)"),
      Object.keys(choices).map((name) => h("option", { value: name }, name)));
    select.value = current();
    const render = () => {
      fill(body);
      for (const [known] of [...fields]) if (known.startsWith(`${loc}.`) && known !== `${loc}.type`) fields.delete(known);
      const schema = choices[current()];
      if (schema) {
        const own = plainSchema(schema, schema).schema;
        if (own.description) body.append(h("p", { class: "pv-hint" }, own.description));
        objectFieldsWithRoot(loc, own, body, schema);
      }
    };
    select.addEventListener("change", () => {
      // Another type is another object (SPEC 3): nothing of the old one is kept.
      setPath(draft, loc, select.value ? { type: select.value } : undefined);
      touched(loc);
      render();
      changed();
    });
    const node = h("fieldset", { class: "pv-section", dataset: { loc } }, h("legend", {}, labelOf(key)),
      h("div", { class: "pv-field", dataset: { loc: `${loc}.type` } }, h("label", { for: id }, "type"), select),
      body, h("p", { class: "pv-field-error", hidden: true }));
    node.errorSlot = node.lastChild;
    node.focusTarget = select;
    fields.set(loc, node);
    render();
    return node;
  }

  // The auth schemas from /meta are documents of their own: their `$ref`s resolve inside them.
  function objectFieldsWithRoot(loc, schema, container, ownRoot) {
    const outer = root;
    root = ownRoot;
    try {
      objectFields(loc, schema, container, ["type"]);
    } finally {
      root = outer;
    }
  }

  // ------------------------------------------------------------ the body editor

  function bodyEditor() {
    const id = uid("body");
    const loc = "request.body";
    const status = h("p", { class: "pv-json-status", id: uid("st"), "aria-live": "polite" });
    const used = h("ul", { class: "pv-placeholders", "aria-label": "placeholders used in the body" });
    const value = getPath(draft, loc);
    const area = h("textarea", { id, rows: 10, class: "pv-code", spellcheck: "false",
      value: value === undefined || value === null ? "" : JSON.stringify(value, null, 2) });
    const check = () => {
      const checked = checkJson(area.value);
      bodyValid = checked.ok;
      area.setAttribute("aria-invalid", String(!checked.ok));
      status.className = `pv-json-status ${checked.ok ? "pv-ok" : "pv-bad"}`;
      status.textContent = checked.ok
        ? (checked.empty ? "no body" : "valid JSON")
        : `not valid JSON${checked.line ? ` (line ${checked.line}, column ${checked.column})` : ""}: ${checked.message}`;
      if (checked.ok) setPath(draft, loc, checked.value);
      const found = placeholdersIn(checked.ok ? stringsIn(checked.value) : [area.value], meta.placeholders || []);
      fill(used, found.length ? found.map((item) => h("li", { class: item.known ? "" : "pv-unknown", title: item.description || "" },
        h("code", {}, item.written), item.name && item.written !== `{{${item.name}}}` ? ` → ${item.name}` : "", item.known ? "" : " (unknown)"))
        : h("li", {}, "no placeholder: the body carries neither recipient nor text"));
      return checked.ok;
    };
    area.addEventListener("input", () => { check(); touched(loc); changed(); });
    const hint = "The body template: for content type json, any JSON (placeholders in string leaves); for form, an object of key to value template or a list of [key, value] pairs; none: leave empty.";
    const node = wrapper(loc, "body", h("div", { class: "pv-body-editor" }, area, status, h("p", { class: "pv-subhead" }, "Placeholders used"), used), { controlId: id, hint });
    check();
    return node;
  }

  // ------------------------------------------------------------ build

  const topSchema = plainSchema(root, root).schema;
  const props = topSchema.properties || {};
  const sectioned = new Set(SECTIONS.map(([key]) => key));
  const general = h("fieldset", { class: "pv-section", dataset: { loc: "general" } }, h("legend", {}, "Provider"));
  const required = new Set(topSchema.required || []);
  const more = [];
  for (const [key, schema] of Object.entries(props)) {
    if (sectioned.has(key)) continue;
    const { schema: plain } = plainSchema(schema, root);
    if (plain.type === "object" || plain.oneOf || (plain.type === "array" && plain.items && plainSchema(plain.items, root).schema.type === "object")) more.push([key, schema]);
    else if (key === "id" && !isNew) general.append(readonlyField("id", draft.id));
    else if (key === "preset") general.append(presetField());
    else general.append(property(key, key, schema, required.has(key)));
  }
  form.append(general);
  for (const [key, title, description] of SECTIONS) {
    if (!props[key]) continue;
    if (key === "auth" || key === "secrets") {
      const node = property(key, key, props[key], required.has(key));
      node.querySelector("legend").textContent = title;
      node.insertBefore(h("p", { class: "pv-hint" }, description), node.children[1]);
      form.append(node);
      continue;
    }
    const { schema, nullable } = plainSchema(props[key], root);
    form.append(objectSection(key, key, schema, nullable, { title, description }));
  }
  for (const [key, schema] of more) form.append(property(key, key, schema, required.has(key)));

  function readonlyField(loc, value) {
    const id = uid("f");
    return wrapper(loc, "id", h("input", { id, type: "text", readonly: true, value }), { controlId: id, hint: "the provider's id (fixed once created)" });
  }

  function presetField() {
    const id = uid("f");
    const input = h("input", { id, type: "text", readonly: true, value: draft.preset || "(none)" });
    const detach = h("button", { type: "button", class: "pv-small", hidden: !draft.preset,
      onclick: () => { delete draft.preset; input.value = "(none)"; detach.hidden = true; changed(); } }, "Detach from preset");
    return wrapper("preset", "preset", h("div", { class: "pv-row" }, input, detach), { controlId: id,
      hint: "fields left out here take the preset's values when saved; detach to keep exactly what the form shows" });
  }

  // ------------------------------------------------------------ needs and errors

  const pending = new Set();
  function touched(loc) {
    for (const need of [...pending]) {
      if (need === loc || need.startsWith(`${loc}.`) || loc.startsWith(`${need}.`)) {
        pending.delete(need);
        const node = fields.get(nearestLoc(need, fields));
        if (node) node.classList.remove("pv-needs");
      }
    }
    clearError(loc);
  }
  for (const need of needs) {
    const node = fields.get(nearestLoc(need, fields));
    if (!node) continue;
    pending.add(need);
    node.classList.add("pv-needs");
    const label = node.querySelector("label, legend");
    if (label && !label.querySelector(".pv-badge")) label.append(h("span", { class: "pv-badge" }, "to fill"));
    if (hints[need]) {
      const hint = h("p", { class: "pv-hint pv-need-hint" }, `${need}: ${hints[need]}`);
      label.insertAdjacentElement("afterend", hint);
    }
  }

  function clearError(loc) {
    const node = fields.get(loc);
    if (node && node.errorSlot) {
      node.errorSlot.hidden = true;
      node.classList.remove("pv-has-error");
      if (node.focusTarget) node.focusTarget.removeAttribute("aria-invalid");
    }
  }

  function clearErrors() {
    for (const node of fields.values()) {
      if (!node.errorSlot) continue;
      node.errorSlot.hidden = true;
      node.classList.remove("pv-has-error");
    }
    summary.hidden = true;
    fill(summary);
  }

  /** Show `[{loc, msg}]` on their fields; what has no field goes in the summary at the top. */
  function showErrors(errors, message, { focus = false, summary: withSummary = true } = {}) {
    clearErrors();
    const tags = { auth: Object.keys(meta.auth_types || {}), "inbound.auth": Object.keys(meta.inbound_auth_types || {}) };
    const byLoc = errorsByLoc(errors, tags);
    const items = [];
    let first = null;
    for (const [loc, messages] of byLoc) {
      const where = nearestLoc(loc, fields);
      const node = fields.get(where);
      if (node && node.errorSlot) {
        const extra = where === loc ? "" : `${loc.slice(where.length + (where ? 1 : 0))}: `;
        const text = messages.map((msg) => `${extra}${msg}`).join("; ");
        node.errorSlot.textContent = node.errorSlot.hidden ? text : `${node.errorSlot.textContent}; ${text}`;
        node.errorSlot.hidden = false;
        node.classList.add("pv-has-error");
        if (node.focusTarget) node.focusTarget.setAttribute("aria-invalid", "true");
        first = first || node;
      }
      items.push(h("li", {}, h("a", { href: "#", onclick: (event) => { event.preventDefault(); focusField(where); } }, loc || "document"), `: ${messages.join("; ")}`));
    }
    if (withSummary && (message || items.length)) {
      fill(summary, message ? h("p", {}, message) : null, items.length ? h("ul", {}, items) : null);
      summary.hidden = false;
    }
    if (focus) (items.length ? summary : first ? first : summary).focus();
  }

  function focusField(loc) {
    const node = fields.get(loc);
    if (!node) return;
    node.scrollIntoView({ block: "center" });
    (node.focusTarget || node.querySelector("input, select, textarea, button") || node).focus();
  }

  return {
    element: form,
    showErrors,
    clearErrors,
    get bodyValid() { return bodyValid; },
    pendingNeeds: () => [...pending],
  };

  function starter(schema) {
    const value = {};
    for (const key of schema.required || []) {
      const property = plainSchema(schema.properties[key], root).schema;
      if (property.oneOf || property.discriminator) continue;
      value[key] = property.type === "object" ? {} : property.type === "array" ? [] : property.default ?? "";
    }
    return value;
  }
}

function defaultHint(schema) {
  if (schema.default === undefined || schema.default === null || typeof schema.default === "object") return "";
  return `default: ${schema.default}`;
}

export { clone };
