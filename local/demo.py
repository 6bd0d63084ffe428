"""`python -m local.demo` (`make demo`): a scripted scenario against a fresh local stack, through
public interfaces only (the API, the queue, the sandbox provider); prints each step's result and
exits non-zero if any step failed.

A step is a function decorated with `@step("what a user would check")`: it gets the `Scenario`,
does what a user would do, and returns a one-line detail, or raises (`assert` is fine) to fail.
Steps run in the order they are declared; add yours at the end of the list, grouped by topic.
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin

import requests

from local.runtime import LocalRuntime, LocalSettings, configure_logging
from local.template import load_document

PHONE = "+33612345678"


class StepFailed(AssertionError):
    pass


def wait_for(condition: Callable[[], Any], *, timeout_s: float = 20, every_s: float = 0.25, what: str = "it") -> Any:
    """Poll `condition` until it returns something truthy; StepFailed naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise StepFailed(f"no {what} after {timeout_s:g} s (last value: {value!r})")
        time.sleep(every_s)


@dataclass
class Scenario:
    """The running stack, and what the steps hand on to each other (ids, texts)."""

    runtime: LocalRuntime
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return self.runtime.api_url

    @property
    def sandbox(self) -> str:
        return self.runtime.sandbox_url

    def post(self, path: str, payload: Any, *, base: str | None = None) -> requests.Response:
        return requests.post((base or self.api) + path, json=payload, timeout=30)

    def get(self, path: str, *, base: str | None = None, **params: Any) -> requests.Response:
        return requests.get((base or self.api) + path, params=params, timeout=30)

    def inbox(self, **filters: str) -> list[dict[str, Any]]:
        return self.get("/api/inbox", base=self.sandbox, **filters).json()

    def message(self, message_id: str) -> dict[str, Any]:
        return self.get(f"/messages/{message_id}").json()

    def sqs(self) -> Any:
        return self.runtime.session().client("sqs")

    def outbound_queue(self) -> str:
        return self.runtime.source_queues["OutboundQueue"]

    def bulk_queue(self) -> str:
        return self.runtime.source_queues["BulkQueue"]

    def dead_letter_queue(self) -> str:
        return next(iter(self.runtime.dead_letter_queues.values()))

    wait_for = staticmethod(wait_for)


@dataclass
class Step:
    title: str
    run: Callable[[Scenario], str]


STEPS: list[Step] = []


def step(title: str) -> Callable[[Callable[[Scenario], str]], Callable[[Scenario], str]]:
    def register(function: Callable[[Scenario], str]) -> Callable[[Scenario], str]:
        STEPS.append(Step(title, function))
        return function

    return register


# ---------------------------------------------------------------- sending

@step("Send a notification with POST /messages")
def send_notification(s: Scenario) -> str:
    text = f"Your code is {uuid.uuid4().int % 10000:04d}"
    answer = s.post("/messages", {"to": PHONE, "text": text, "type": "NOTIFICATION"})
    assert answer.status_code == 202, f"{answer.status_code} {answer.text}"
    s.notes["notification"] = {"id": answer.json()["id"], "text": text}
    return f"202, id {answer.json()['id']}"


@step("The notification reaches the sandbox inbox")
def notification_arrives(s: Scenario) -> str:
    note = s.notes["notification"]
    [received] = s.wait_for(lambda: s.inbox(text=note["text"]), what="SMS in the inbox")
    note["provider_id"] = received["id"]
    return f"{received['id']} to {received['to']} from {received['from']}"


@step("GET /messages/{id} shows it sent, with its history")
def notification_sent(s: Scenario) -> str:
    note = s.notes["notification"]
    view = s.wait_for(lambda: (v := s.message(note["id"])).get("status") == "sent" and v, what="status sent")
    return "history: " + " → ".join(h["status"] for h in view["history"])


@step("A unicode message arrives intact")
def unicode_message(s: Scenario) -> str:
    text = f"Rendez-vous à 18h ✓ «salle 2» 🎉 {uuid.uuid4().hex[:6]}"
    answer = s.post("/messages", {"to": PHONE, "text": text})
    assert answer.status_code == 202, f"{answer.status_code} {answer.text}"
    [received] = s.wait_for(lambda: s.inbox(text=text), what="unicode SMS in the inbox")
    view = s.wait_for(lambda: (v := s.message(answer.json()["id"])).get("status") == "sent" and v,
                      what="status sent")
    return f"{received['text']!r}, {view.get('segments')} segment(s), unicode={view.get('is_unicode')}"


@step("A message put straight on the queue with boto3 is delivered")
def queued_with_boto3(s: Scenario) -> str:
    message_id = f"demo-{uuid.uuid4()}"
    text = f"Queued by an application {message_id[-6:]}"
    s.sqs().send_message(QueueUrl=s.outbound_queue(),
                         MessageBody=json.dumps({"id": message_id, "to": PHONE, "text": text}))
    s.wait_for(lambda: s.inbox(text=text), what="SMS in the inbox")
    s.wait_for(lambda: s.message(message_id).get("status") == "sent", what="status sent")
    return f"id {message_id}: sent"


@step("A campaign put on BulkQueue (the MARKETING lane) is delivered")
def campaign_on_bulk_queue(s: Scenario) -> str:
    run = uuid.uuid4().hex[:6]
    ids = [f"promo-{run}-{i}" for i in range(25)]
    sqs = s.sqs()
    for start in range(0, len(ids), 10):
        sqs.send_message_batch(QueueUrl=s.bulk_queue(), Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"id": message_id, "to": PHONE, "text": f"Sale {message_id}",
                                                      "type": "MARKETING"})}
            for i, message_id in enumerate(ids[start:start + 10])])
    s.wait_for(lambda: len([m for m in s.inbox() if m["text"].startswith(f"Sale promo-{run}-")]) == len(ids),
               what="every campaign SMS in the inbox")
    return f"{len(ids)} MARKETING messages from BulkQueue delivered"


@step("A malformed queue body ends in the dead-letter queue with its reason")
def malformed_body(s: Scenario) -> str:
    body = f"this is not JSON {uuid.uuid4().hex[:6]}"
    s.sqs().send_message(QueueUrl=s.outbound_queue(), MessageBody=body)

    def dead_letter() -> dict[str, Any] | None:
        answer = s.sqs().receive_message(QueueUrl=s.dead_letter_queue(), MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                         VisibilityTimeout=0, MessageAttributeNames=["All"])
        return next((m for m in answer.get("Messages", []) if m["Body"] == body), None)

    dead = s.wait_for(dead_letter, what="dead letter")
    reason = dead.get("MessageAttributes", {}).get("reason", {}).get("StringValue")
    assert reason, "the dead letter carries a reason"
    return f"reason: {reason[:70]}"


# ---------------------------------------------------------------- delivery receipts

@step("The sandbox's delivery receipt marks the notification delivered")
def delivery_receipt(s: Scenario) -> str:
    note = s.notes["notification"]
    answer = s.post("/api/status", {"id": note["provider_id"], "status": "delivered"}, base=s.sandbox)
    assert answer.status_code == 200, f"{answer.status_code} {answer.text}"
    view = s.wait_for(lambda: (v := s.message(note["id"])).get("status") == "delivered" and v,
                      what="status delivered")
    return "history: " + " → ".join(h["status"] for h in view["history"])


# ---------------------------------------------------------------- consent

SHORTCODE = "+33757000000"
SUBSCRIBER = "+33698765432"


def _text_from_phone(s: Scenario, text: str) -> None:
    """The sandbox sends an SMS from the subscriber to the bridge's /inbound/sandbox, signed."""
    answer = s.post("/api/inbound", {"from": SUBSCRIBER, "to": SHORTCODE, "text": text}, base=s.sandbox)
    assert answer.status_code == 200 and answer.json().get("bridge_status") == 200, answer.text


def _consent_state(s: Scenario) -> str | None:
    return s.get(f"/consent/sandbox/{SUBSCRIBER}").json().get("state")


def _queue(s: Scenario, kind: str) -> str:
    answer = s.post("/messages", {"to": SUBSCRIBER, "text": f"{kind} {uuid.uuid4().hex[:6]}", "type": kind,
                                  "sender": "ACME"})
    assert answer.status_code == 202, f"{answer.status_code} {answer.text}"
    return answer.json()["id"]


@step("'Stop.' texted from a phone opts it out, with a confirmation SMS")
def stop_opts_out(s: Scenario) -> str:
    _text_from_phone(s, "Stop.")
    s.wait_for(lambda: _consent_state(s) == "opted_out", what="opted_out consent")
    [reply] = s.wait_for(lambda: [m for m in s.inbox(to=SUBSCRIBER) if "unsubscribed" in m["text"]],
                         what="opt-out confirmation in the inbox")
    return f"consent opted_out; reply {reply['text'][:50]!r}"


@step("MARKETING to the opted-out phone is blocked, NOTIFICATION is sent")
def marketing_blocked(s: Scenario) -> str:
    marketing, notification = _queue(s, "MARKETING"), _queue(s, "NOTIFICATION")
    s.wait_for(lambda: s.message(marketing).get("status") == "blocked", what="MARKETING blocked")
    s.wait_for(lambda: s.message(notification).get("status") == "sent", what="NOTIFICATION sent")
    return "marketing blocked, notification sent"


@step("'START' opts it back in, and marketing goes out again")
def start_opts_in(s: Scenario) -> str:
    _text_from_phone(s, "START")
    s.wait_for(lambda: _consent_state(s) == "opted_in", what="opted_in consent")
    marketing = _queue(s, "MARKETING")
    s.wait_for(lambda: s.message(marketing).get("status") == "sent", what="MARKETING sent")
    return "consent opted_in; marketing sent"


@step("'HELP' gets the help reply")
def help_reply(s: Scenario) -> str:
    before = len(s.inbox(to=SUBSCRIBER))
    _text_from_phone(s, "HELP")
    replies = s.wait_for(lambda: s.inbox(to=SUBSCRIBER)[before:], what="help reply in the inbox")
    return f"reply {replies[0]['text'][:50]!r}"


# ---------------------------------------------------------------- balance

def _balance_emails(s: Scenario) -> list[dict[str, Any]]:
    return [e for e in s.get("/_local/emails").json() if "balance" in (e.get("subject") or "").lower()]


def _set_balance_and_check(s: Scenario, balance: float) -> None:
    answer = requests.put(s.sandbox + "/api/balance", json={"balance": balance}, timeout=10)
    assert answer.status_code == 200, answer.text
    # `force`: check now, though the last check is recent.
    answer = s.post("/_local/run/balance", {"force": True})
    assert answer.status_code == 200, answer.text


@step("A sandbox balance under its minimum sends one alert email")
def low_balance_alert(s: Scenario) -> str:
    before = len(_balance_emails(s))
    _set_balance_and_check(s, 42)
    _set_balance_and_check(s, 42)  # the same day again: no second email
    emails = _balance_emails(s)[before:]
    assert len(emails) == 1, f"{len(emails)} emails"
    assert "sandbox" in emails[0]["subject"] and "42" in emails[0]["subject"], emails[0]["subject"]
    s.notes["balance_emails"] = before + 1
    return f"to {', '.join(emails[0]['destinations']['ToAddresses'])}: {emails[0]['subject']!r}"


@step("Topping the balance up sends one 'recovered' email")
def balance_recovered(s: Scenario) -> str:
    _set_balance_and_check(s, 1000)
    emails = _balance_emails(s)[s.notes["balance_emails"]:]
    assert len(emails) == 1 and "recovered" in emails[0]["subject"].lower(), [e["subject"] for e in emails]
    return repr(emails[0]["subject"])


# ---------------------------------------------------------------- the console

# What the console's ES modules say of themselves: the modules they import (static, dynamic, and
# the router's `module: './screens/x.js'` table) and the admin routes they GET with a literal path.
_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bmodule:\s*)['"](\.{1,2}/[^'"]+\.js)['"]""")
_SCREEN = re.compile(r"""\bscreen:\s*['"]([\w-]+)['"][^}]*?\bmodule:\s*['"](\.{1,2}/[^'"]+\.js)['"]""")
_GET_ROUTE = re.compile(r"""\bapi\(\s*['"]GET['"]\s*,\s*(?:withQuery\(\s*)?(['"`])(/[^'"`?]*)\1""")
_TEMPLATE_PART = re.compile(r"\$\{[^}]*\}")
_OPENAPI_PART = re.compile(r"\{[^}]*\}")
LIST_ROUTES = ("/messages", "/inbound-messages", "/dead-letters")  # read with limit=1


def _route_path(s: Scenario, route: str, openapi_paths: list[str]) -> str | None:
    """A literal route as it is; a template literal (`/consent/${p}/${phone}`) as the documented
    GET route of that shape with the demo's values for its parameters (None when it has none)."""
    if "${" not in route:
        return route
    shape = _TEMPLATE_PART.sub("{}", route)
    documented = next((p for p in openapi_paths if _OPENAPI_PART.sub("{}", p) == shape), None)
    assert documented, f"GET {route} is not a documented route"
    # Values for the parameters the OpenAPI document names, where the demo has one.
    samples = {"provider": "sandbox", "phone": PHONE, "id": s.notes.get("notification", {}).get("id"),
               "name": next((p["name"] for p in s.get("/presets").json()), None)}
    names = [name.strip("{}") for name in _OPENAPI_PART.findall(documented)]
    if not all(samples.get(name) for name in names):
        return None
    return _OPENAPI_PART.sub(lambda m: quote(str(samples[m.group(0).strip("{}")]), safe=""), documented)


def _javascript(url: str) -> str:
    answer = requests.get(url, timeout=10)
    kind = answer.headers.get("Content-Type", "")
    assert answer.status_code == 200 and "javascript" in kind, f"{url}: {answer.status_code} {kind}"
    return answer.text


def _module_closure(url: str, texts: dict[str, str]) -> set[str]:
    """`url` and every module it imports, transitively (each fetched once into `texts`)."""
    seen, todo = set(), [url]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if current not in texts:
            texts[current] = _javascript(current)
        todo.extend(urljoin(current, path) for path in _IMPORT.findall(texts[current]))
    return seen


@step("The console loads at /console/ (GET / redirects there)")
def console_loads(s: Scenario) -> str:
    redirect = requests.get(s.api + "/", allow_redirects=False, timeout=10)
    assert redirect.status_code in (301, 302, 303, 307, 308), f"GET / answered {redirect.status_code}"
    assert urljoin(s.api + "/", redirect.headers["Location"]) == s.api + "/console/", redirect.headers["Location"]
    page = requests.get(s.api + "/console/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), page.status_code
    assert "script-src 'self'" in page.headers.get("Content-Security-Policy", ""), "a Content-Security-Policy"
    [entry] = re.findall(r"""<script[^>]*type=["']module["'][^>]*src=["']([^"']+)["']""", page.text)
    s.notes["console_entry"] = urljoin(s.api + "/console/", entry)
    for sheet in re.findall(r"""<link[^>]*rel=["']stylesheet["'][^>]*href=["']([^"']+)["']""", page.text):
        answer = requests.get(urljoin(s.api + "/console/", sheet), timeout=10)
        assert answer.status_code == 200 and "text/css" in answer.headers.get("Content-Type", ""), sheet
    return f"{page.status_code}, entry module {entry}"


@step("Each console screen's modules and the API routes they read answer")
def console_screens_answer(s: Scenario) -> str:
    entry = s.notes["console_entry"]
    texts: dict[str, str] = {}
    # The route table (`{screen: 'x', module: './screens/x.js'}`) is in one of the shell's modules.
    screens = [(screen, urljoin(url, module)) for url in _module_closure(entry, texts)
               for screen, module in _SCREEN.findall(texts[url])]
    assert screens, f"no route table in the modules {entry} imports"
    openapi_paths = [path for path, item in s.get("/openapi.json").json()["paths"].items() if "get" in item]
    checked: dict[str, int] = {}
    summary = []
    for screen, module in dict.fromkeys(screens):
        modules = _module_closure(module, texts)
        routes = sorted({route for url in modules for _, route in _GET_ROUTE.findall(texts[url])})
        paths = [path for route in routes if (path := _route_path(s, route, openapi_paths)) is not None]
        for path in paths:
            if path not in checked:
                answer = s.get(path, limit=1) if path in LIST_ROUTES else s.get(path)
                assert answer.status_code == 200, f"{screen}: GET {path} answered {answer.status_code} {answer.text[:200]}"
                answer.json()
                checked[path] = answer.status_code
        summary.append(f"{screen} ({', '.join(paths) or 'no GET'})")
    return f"{len({name for name, _ in screens})} screens, {len(texts)} modules, {len(checked)} routes: " + "; ".join(summary)


# ---------------------------------------------------------------- running the scenario

@dataclass
class Result:
    number: int
    title: str
    ok: bool
    seconds: float
    detail: str


def run_steps(scenario: Scenario, steps: list[Step], *, out: Any = sys.stdout) -> list[Result]:
    results = []
    for number, current in enumerate(steps, 1):
        started = time.perf_counter()
        try:
            detail, ok = current.run(scenario) or "", True
        except Exception as exc:  # noqa: BLE001 - a failed step is reported, and the next one runs
            detail, ok = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, False
            logging.getLogger("local.demo").debug("step %d failed\n%s", number, traceback.format_exc())
        result = Result(number, current.title, ok, time.perf_counter() - started, detail)
        results.append(result)
        print(f"  {'ok  ' if ok else 'FAIL'} {number:>2}. {current.title} ({result.seconds:.1f} s)", file=out, flush=True)
    return results


def table(results: list[Result]) -> str:
    width = max(len(r.title) for r in results)
    lines = [f"{'#':>3}  {'step':<{width}}  result  time    detail", "-" * (width + 60)]
    for r in results:
        lines.append(f"{r.number:>3}  {r.title:<{width}}  {'ok' if r.ok else 'FAILED':<6}  {r.seconds:>4.1f} s  "
                     f"{r.detail[:160]}")
    failed = sum(1 for r in results if not r.ok)
    lines.append("")
    lines.append(f"{len(results) - failed}/{len(results)} steps passed" + (f", {failed} failed" if failed else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="show the runtime's and the functions' logs")
    args = parser.parse_args(argv)
    configure_logging()
    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
    settings = LocalSettings.free_ports(pollers=True, schedules=False)
    if "LogLevel" in (load_document(settings.template).get("Parameters") or {}) and not args.verbose:
        settings.parameter_overrides["LogLevel"] = "ERROR"  # the functions' own logs
    print("Starting a fresh local stack (moto, API, poller, sandbox provider) on free ports...", flush=True)
    runtime = LocalRuntime(settings)
    try:
        runtime.start()
    except Exception as exc:  # noqa: BLE001 - the demo's answer to anything is a clear failure
        print(f"error: the local stack did not start: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"Stack ready in {runtime.started_in_s:.1f} s: API {runtime.api_url}, sandbox {runtime.sandbox_url}\n",
              flush=True)
        results = run_steps(Scenario(runtime), STEPS)
    finally:
        runtime.stop()
    print("\n" + table(results))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
