// Pure logic of the provider screens: paths in a draft, JSON checking, placeholders, errors, encoding marks.
// No DOM and no fetch here, so that it can be tested with `node --test`.

export const MASK = "**********";

/** A dotted location ("request.url", "auth.password") as its parts; numeric parts index lists. */
export function pathParts(loc) {
  if (Array.isArray(loc)) return loc;
  // `request.body.recipients[0]` (as the presets' notes write it) is `request.body.recipients.0`.
  return String(loc).replace(/\[(\d+)\]/g, ".$1").split(".").filter((part) => part !== "").map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

export function getPath(document, loc) {
  let node = document;
  for (const part of pathParts(loc)) {
    if (node === null || typeof node !== "object") return undefined;
    node = node[part];
  }
  return node;
}

/** Set `value` at `loc`, creating objects on the way; `undefined` removes the key (so that the
 * model's default applies) and then removes parents left empty, except the top level. */
export function setPath(document, loc, value) {
  const parts = pathParts(loc);
  const trail = [document];
  let node = document;
  for (const part of parts.slice(0, -1)) {
    if (node[part] === null || typeof node[part] !== "object") {
      if (value === undefined) return document;
      node[part] = {};
    }
    node = node[part];
    trail.push(node);
  }
  const leaf = parts[parts.length - 1];
  if (value === undefined) {
    delete node[leaf];
    for (let index = trail.length - 1; index > 0; index -= 1) {
      const holder = trail[index];
      if (Array.isArray(holder) || Object.keys(holder).length) break;
      delete trail[index - 1][parts[index - 1]];
    }
  } else {
    node[leaf] = value;
  }
  return document;
}

export function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** `text` checked as JSON: `{ok, value}` or `{ok: false, message, line, column}` (1-based). */
export function checkJson(text) {
  if (text.trim() === "") return { ok: true, value: undefined, empty: true };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const message = String(error.message);
    let line = null;
    let column = null;
    const lineColumn = /line (\d+) column (\d+)/.exec(message);
    const position = /position (\d+)/.exec(message);
    if (lineColumn) {
      line = Number(lineColumn[1]);
      column = Number(lineColumn[2]);
    } else {
      // V8 names the position for some errors only ("Unexpected token '}', ... is not valid JSON"):
      // find it by scanning, so that the operator is always told where.
      const offset = position ? Number(position[1]) : jsonErrorOffset(text);
      const before = text.slice(0, offset);
      line = before.split("\n").length;
      column = before.length - before.lastIndexOf("\n");
    }
    return { ok: false, message, line, column };
  }
}

// The placeholder grammar of SPEC 4 (the names themselves come from GET /meta).
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*(?:\?([^{}?:]*):([^{}?:]*))?\}\}|\$\$([A-Za-z_][A-Za-z0-9_]*)|%(TO|MESSAGE)%/g;

/** The offset of the first JSON syntax error in `text` (a small recursive-descent scan). */
export function jsonErrorOffset(text) {
  let at = 0;
  const space = () => { while (at < text.length && " \t\n\r".includes(text[at])) at += 1; };
  const fail = () => { throw at; };
  const literal = (word) => { if (text.startsWith(word, at)) at += word.length; else fail(); };
  const string = () => {
    at += 1;
    while (at < text.length && text[at] !== '"') {
      if (text[at] === "\\") {
        at += 1;
        if (text[at] === "u") { if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail(); at += 4; }
        else if (!'"\\/bfnrt'.includes(text[at] ?? "x")) fail();
      } else if (text.charCodeAt(at) < 0x20) fail();
      at += 1;
    }
    if (at >= text.length) fail();
    at += 1;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (!match) fail();
    at += match[0].length;
  };
  const value = () => {
    space();
    const character = text[at];
    if (character === "{") {
      at += 1; space();
      if (text[at] === "}") { at += 1; return; }
      for (;;) {
        space(); if (text[at] !== '"') fail(); string(); space();
        if (text[at] !== ":") fail(); at += 1; value(); space();
        if (text[at] === ",") { at += 1; continue; }
        if (text[at] === "}") { at += 1; return; }
        fail();
      }
    } else if (character === "[") {
      at += 1; space();
      if (text[at] === "]") { at += 1; return; }
      for (;;) {
        value(); space();
        if (text[at] === ",") { at += 1; continue; }
        if (text[at] === "]") { at += 1; return; }
        fail();
      }
    } else if (character === '"') string();
    else if (character === "t") literal("true");
    else if (character === "f") literal("false");
    else if (character === "n") literal("null");
    else number();
  };
  try {
    value(); space();
    return at < text.length ? at : text.length;
  } catch (offset) {
    return offset;
  }
}

/** Every string leaf of a JSON value (keys of objects too: a form key may hold a placeholder). */
export function stringsIn(value, out = []) {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((item) => stringsIn(item, out));
  else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      stringsIn(item, out);
    }
  }
  return out;
}

/** The placeholders written in `templates` (strings), each once, in order of first use:
 * `{written, name, known, description}`, names resolved through `meta.placeholders` aliases. */
export function placeholdersIn(templates, metaPlaceholders = []) {
  const byAlias = new Map();
  for (const entry of metaPlaceholders) {
    byAlias.set(entry.name, entry);
    for (const alias of entry.aliases || []) byAlias.set(alias, entry);
  }
  const seen = new Map();
  for (const template of templates) {
    for (const match of String(template).matchAll(PLACEHOLDER)) {
      const written = match[0];
      if (seen.has(written)) continue;
      let name = match[1] ?? null;
      let entry = null;
      if (name !== null) {
        entry = byAlias.get(name) || byAlias.get(`{{${name}}}`) || null;
      } else {
        entry = byAlias.get(written) || null;
        name = entry ? entry.name.replace(/^\{\{|\}\}$/g, "") : match[4] ? `vars.${match[4]}` : null;
      }
      const scope = name && name.includes(".") ? name.split(".")[0] : null;
      const known = Boolean(entry) || scope === "vars" || scope === "secrets";
      seen.set(written, { written, name, known, description: entry ? entry.description : scopeDescription(scope) });
    }
  }
  return [...seen.values()];
}

function scopeDescription(scope) {
  if (scope === "vars") return "a value from the message's vars";
  if (scope === "secrets") return "a named secret of this provider";
  return "";
}

/** API errors (`[{loc, msg}]`) keyed by their place in the provider document: the `body.` of a
 * request body dropped, and `provider.` after it (POST /providers/preview holds the draft under
 * `provider`, a name no field of the document has), and the discriminator tag pydantic puts after
 * `auth` (`auth.basic.username`). */
export function errorsByLoc(errors, tags = {}) {
  const out = new Map();
  for (const error of errors || []) {
    let parts = pathParts(error.loc || "");
    if (parts[0] === "body") parts = parts.slice(1);
    if (parts[0] === "provider") parts = parts.slice(1);
    for (const [prefix, names] of Object.entries(tags)) {
      const prefixParts = prefix.split(".");
      const head = parts.slice(0, prefixParts.length).join(".");
      if (head === prefix && names.includes(parts[prefixParts.length])) {
        parts = [...parts.slice(0, prefixParts.length), ...parts.slice(prefixParts.length + 1)];
      }
    }
    const loc = parts.join(".");
    if (!out.has(loc)) out.set(loc, []);
    out.get(loc).push(error.msg || String(error));
  }
  return out;
}

/** The longest of `known` locations that is `loc` or one of its parents ("" when none). */
export function nearestLoc(loc, known) {
  const parts = pathParts(loc);
  for (let length = parts.length; length > 0; length -= 1) {
    const candidate = parts.slice(0, length).join(".");
    if (known.has(candidate)) return candidate;
  }
  return "";
}

/** The text cut into runs that force UCS-2 or not, by code point: `[{text, ucs2}]`. */
export function encodingRuns(text, ucs2Characters = []) {
  const forcing = new Set(ucs2Characters);
  const runs = [];
  for (const character of Array.from(text)) {
    const ucs2 = forcing.has(character);
    const last = runs[runs.length - 1];
    if (last && last.ucs2 === ucs2) last.text += character;
    else runs.push({ text: character, ucs2 });
  }
  return runs;
}

/** A JSON Schema with its `$ref` resolved and a nullable `anyOf` unwrapped: `{schema, nullable}`. */
export function plainSchema(schema, root) {
  let nullable = false;
  let current = resolveRef(schema, root);
  if (current && Array.isArray(current.anyOf)) {
    const others = current.anyOf.filter((option) => option.type !== "null");
    if (others.length !== current.anyOf.length) nullable = true;
    if (others.length === 1) {
      const { anyOf, ...rest } = current;
      current = { ...rest, ...resolveRef(others[0], root) };
    }
  }
  return { schema: current || {}, nullable };
}

export function resolveRef(schema, root) {
  let current = schema;
  for (let depth = 0; current && current.$ref && depth < 10; depth += 1) {
    const { $ref, ...rest } = current;
    const target = $ref.replace(/^#\//, "").split("/").reduce((node, key) => (node ? node[key] : undefined), root);
    current = { ...(target || {}), ...rest };
  }
  return current;
}

/** The secret fields of a schema: string properties marked `writeOnly` or `format: password`. */
export function isSecretSchema(schema) {
  return Boolean(schema && (schema.writeOnly || schema.format === "password"));
}

/** A list typed as text ("200, 201" or "a, b") back to a list of the item type; `undefined` when empty. */
export function parseList(text, itemType) {
  const items = String(text).split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (!items.length) return undefined;
  if (itemType === "integer" || itemType === "number") return items.map((item) => (Number.isFinite(Number(item)) ? Number(item) : item));
  return items;
}

/** "3 min ago" for an ISO time, relative to `now` (a Date). */
export function ago(iso, now = new Date()) {
  if (!iso) return "";
  const seconds = Math.round((now - new Date(iso)) / 1000);
  if (!Number.isFinite(seconds)) return iso;
  if (seconds < 60) return `${Math.max(seconds, 0)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** A preset's `needs` that the draft still leaves empty or as a sample to replace. */
export function unfilledNeeds(needs, draft) {
  return (needs || []).filter((loc) => {
    const value = getPath(draft, loc);
    return value === undefined || value === null || value === "";
  });
}
