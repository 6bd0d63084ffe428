// The providers list (GET /providers/summary, GET /traffic): enabled, default, last send, balance, errors in the
// last hour, and the circuit and throughput limit of each.

import { api } from "../api.js";
import { h, fill, apiMessage } from "./dom.js";
import { ago } from "./draft.js";
import { circuitBadge, describeTraffic, readTraffic } from "../traffic.js";

export async function renderList(root, { onCreate }) {
  const status = h("p", { class: "pv-status", "aria-live": "polite" }, "Loading providers…");
  const table = h("div", { class: "pv-list" });
  fill(root, h("div", { class: "pv-screen" },
    h("div", { class: "pv-title-row" }, h("h1", {}, "Providers"),
      h("button", { type: "button", class: "pv-primary", onclick: onCreate }, "New provider")),
    status, table));
  const [answer, traffic] = await Promise.all([api("GET", "/providers/summary"), readTraffic()]);
  if (!answer.ok) {
    status.textContent = `Could not load the providers (${apiMessage(answer)}).`;
    status.classList.add("pv-bad");
    return;
  }
  const providers = Array.isArray(answer.json) ? answer.json : [];
  status.textContent = providers.length ? `${providers.length} provider${providers.length === 1 ? "" : "s"}.` : "No provider yet: create one.";
  if (!providers.length) return;
  const now = new Date();
  const trafficOf = new Map(traffic.ok ? (traffic.json.providers || []).map((item) => [item.provider, item]) : []);
  fill(table, h("table", { class: "pv-table" },
    h("caption", { class: "pv-visually-hidden" }, "Providers"),
    h("thead", {}, h("tr", {}, ["Provider", "Enabled", "Default", "Last send", "Balance", "Errors (1 h)", "Traffic"].map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, providers.map((provider) => h("tr", { dataset: { provider: provider.id } }, cells(
      h("td", { "data-label": "Provider" }, h("a", { href: `#/providers/${encodeURIComponent(provider.id)}` }, provider.name || provider.id),
        provider.name ? h("span", { class: "pv-muted" }, ` ${provider.id}`) : null,
        provider.preset ? h("span", { class: "pv-tag" }, provider.preset) : null),
      h("td", { "data-label": "Enabled" }, provider.enabled ? "yes" : h("span", { class: "pv-bad" }, "no")),
      h("td", { "data-label": "Default" }, provider.default ? "default" : ""),
      h("td", { "data-label": "Last send" }, provider.last_send
        ? [h("span", { class: `pv-state pv-state-${provider.last_send.status}` }, provider.last_send.status), " ",
          h("time", { datetime: provider.last_send.at, title: provider.last_send.at }, ago(provider.last_send.at, now))]
        : h("span", { class: "pv-muted" }, "never")),
      h("td", { "data-label": "Balance" }, balanceCell(provider.balance, now)),
      h("td", { "data-label": "Errors (1 h)", class: provider.errors_last_hour ? "pv-bad" : "" }, String(provider.errors_last_hour ?? 0)),
      h("td", { "data-label": "Traffic" }, trafficCell(trafficOf.get(provider.id), traffic.ok ? traffic.json.at : null))))))));
}

// Each cell's content in one element: on narrow screens a cell is a two-column grid (label, value).
function cells(...tds) {
  for (const td of tds) td.replaceChildren(h("div", {}, ...td.childNodes));
  return tds;
}

// The circuit first (an open one is why messages go elsewhere or wait), then the limit and the failover.
function trafficCell(item, at) {
  if (!item) return h("span", { class: "pv-muted" }, at ? "not known yet" : "could not be read");
  const words = describeTraffic(item, at);
  return [circuitBadge(item, at),
    words.circuitDetail ? h("span", { class: "pv-muted" }, ` ${words.circuitDetail}`) : null,
    h("span", { class: "pv-traffic-line" }, item.per_second ? `limit ${item.per_second}/s` : "no limit"),
    words.slowdown ? h("span", { class: "pv-traffic-line pv-bad" }, words.slowdown) : null,
    item.failover && item.failover.length ? h("span", { class: "pv-traffic-line" }, `failover ${words.failover}`) : null];
}

function balanceCell(balance, now) {
  if (!balance) return h("span", { class: "pv-muted" }, "not checked");
  const low = balance.state && balance.state !== "ok";
  return [h("span", { class: low ? "pv-bad" : "" }, balance.balance === null || balance.balance === undefined ? "?" : String(balance.balance)),
    balance.minimum !== null && balance.minimum !== undefined ? h("span", { class: "pv-muted" }, ` (min ${balance.minimum})`) : null,
    balance.state ? [" ", h("span", { class: `pv-state pv-state-${balance.state}` }, balance.state)] : null,
    balance.checked_at ? [" ", h("time", { datetime: balance.checked_at, title: balance.checked_at }, ago(balance.checked_at, now))] : null];
}
