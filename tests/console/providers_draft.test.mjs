// Pure logic of the console's provider screens (console/js/providers/draft.js). Run: node --test tests/console/
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  setPath, getPath, checkJson, jsonErrorOffset, placeholdersIn, errorsByLoc, nearestLoc, encodingRuns, plainSchema, parseList,
} from "../../console/js/providers/draft.js";

const META_PLACEHOLDERS = [
  { name: "to", aliases: ["$$To", "%TO%"], description: "the recipient" },
  { name: "text", aliases: ["$$Body", "%MESSAGE%"], description: "the text" },
  { name: "is_unicode", aliases: [], description: "" },
];

test("given an API error under a typed auth, when keyed, then it lands on the auth field without body or tag", () => {
  const errors = [{ loc: "body.auth.basic.username", msg: "Field required" }, { loc: "body.request.url", msg: "bad" }];
  const byLoc = errorsByLoc(errors, { auth: ["basic", "api_key"] });
  assert.deepEqual([...byLoc.keys()], ["auth.username", "request.url"]);
});

test("given a preview error under body.provider and a need written with brackets, when keyed, then both are document paths", () => {
  assert.deepEqual([...errorsByLoc([{ loc: "body.provider.request.url", msg: "x" }]).keys()], ["request.url"]);
  const draft = { request: { body: { recipients: [{ msisdn: "{{to}}" }] } } };
  assert.equal(getPath(draft, "request.body.recipients[0].msisdn"), "{{to}}");
});

test("given an error deeper than any field, when placed, then the nearest field above it takes it", () => {
  assert.equal(nearestLoc("request.batch.key", new Set(["request", "request.batch"])), "request.batch");
  assert.equal(nearestLoc("nowhere.at.all", new Set(["request"])), "");
});

test("given an optional field emptied, when set to undefined, then the key and its emptied parents go", () => {
  const draft = { id: "x", balance: { minimum: 5 } };
  setPath(draft, "balance.minimum", undefined);
  assert.deepEqual(draft, { id: "x" });
  setPath(draft, "request.headers.X-Key", "v");
  assert.equal(getPath(draft, "request.headers.X-Key"), "v");
});

test("given a body with aliases, a choice and an unknown name, when scanned, then each is named once", () => {
  const found = placeholdersIn(['{"to": "$$To", "t": "%MESSAGE%", "u": "{{is_unicode?unicode:text}}", "x": "{{nope}}", "v": "{{vars.order}}", "again": "$$To"}'], META_PLACEHOLDERS);
  assert.deepEqual(found.map((item) => [item.written, item.name, item.known]), [
    ["$$To", "to", true], ["%MESSAGE%", "text", true], ["{{is_unicode?unicode:text}}", "is_unicode", true],
    ["{{nope}}", "nope", false], ["{{vars.order}}", "vars.order", true],
  ]);
});

test("given broken JSON on line 2, when checked, then the line and column are told", () => {
  const checked = checkJson('{\n  "to": }');
  assert.equal(checked.ok, false);
  assert.equal(checked.line, 2);
  assert.ok(checked.column >= 8);
});

test("given a text with an emoji and a curly quote, when cut, then only those runs are UCS-2", () => {
  assert.deepEqual(encodingRuns("Hi 🎉 it’s", ["🎉", "’"]), [
    { text: "Hi ", ucs2: false }, { text: "🎉", ucs2: true }, { text: " it", ucs2: false }, { text: "’", ucs2: true }, { text: "s", ucs2: false },
  ]);
});

test("given a nullable $ref, when made plain, then the object schema comes back marked nullable", () => {
  const root = { $defs: { B: { type: "object", properties: { url: { type: "string" } } } } };
  const { schema, nullable } = plainSchema({ anyOf: [{ $ref: "#/$defs/B" }, { type: "null" }], default: null }, root);
  assert.equal(nullable, true);
  assert.equal(schema.type, "object");
  assert.ok(schema.properties.url);
});

test("given status codes typed with commas, when parsed, then they are numbers, and nothing typed is no list", () => {
  assert.deepEqual(parseList("200, 201", "integer"), [200, 201]);
  assert.equal(parseList(" , ", "integer"), undefined);
});

test("given JSON broken in several ways, when scanned, then the offset is where JSON.parse gives up", () => {
  for (const [text, offset] of [['{"a": }', 6], ['[1, 2,]', 6], ['{"a" 1}', 5], ['{"a": "x\\q"}', 9], ['{"a": 1} x', 9], ['{"a": tru}', 6]]) {
    assert.equal(jsonErrorOffset(text), offset, text);
  }
  const valid = '{"a": [1, {"b": null}], "c": "\\u00e9"}';
  assert.equal(jsonErrorOffset(valid), valid.length, "valid JSON has no error before its end");
});
