"""`make chaos`: a bounded fault run against the local runtime that counts, at the end, what was lost or sent twice.

The AWS stand-in (moto) runs in a process of its own and the send function in another (the worker),
which the harness SIGKILLs at random moments while the sandbox provider holds its requests, then
starts again: moto's queues and tables outlive it, as AWS outlives a Lambda execution environment.
Meanwhile the harness sends thousands of messages of both types (on the queues as applications do,
and through `POST /messages`), turns provider outages, 429 storms, provider timeouts and OAuth2
token-endpoint failures on and off, redelivers SQS messages (duplicate bodies, visibility set to 0),
injects poison bodies straight onto the queues and forged webhooks at `/inbound/...` and `/status/...`.

At the end it counts, from the sandbox's own record of what it received and from the tables and the
dead-letter queue, one figure a line (`lost=0`), and exits 1 when a figure that must be 0 is not:

    lost                      messages neither in a final status nor dead-lettered with a reason (must be 0)
    marketing_sent_twice      MARKETING messages the provider received more than once (must be 0)
    notification_sent_twice   NOTIFICATION messages the provider received more than once (SPEC 11: allowed
                              only for a message in flight at a kill; must be <= notification_resent_unknown)
    poison_without_reason     poison bodies not in the dead-letter queue with a reason (must be 0)
    forged_accepted           forged webhooks answered 2xx, or inbound records made by them (must be 0)
    http_5xx                  5xx answers of the API to the harness (must be 0)

Usage: python -m bench.chaos [--messages 5000] [--kills 20] [--seed 1]   (make chaos; make chaos-short)
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

log = logging.getLogger("chaos")

TEXT_PREFIX = "chaos "  # every message's text: "chaos <id>", so the sandbox's record names the message
FINAL = {"sent", "delivered", "failed", "expired", "blocked", "rejected", "canceled", "unknown"}
RESENT_NOTE = "the previous attempt's outcome is unknown: sent again"
# The queues' visibility timeout during the run (template: 180 s): past the send function's 30 s
# timeout, so that a killed invocation's messages come back within the run, as they would after 180 s.
VISIBILITY_S = 35
OAUTH_PROVIDER = "sandbox-oauth"
CALM = {"latency_ms": 100}


# ------------------------------------------------------------------ the counting (pure)

@dataclass
class Figures:
    """What the run counted; `failures()` names every must-be-zero that is not."""

    messages: int = 0
    lost: int = 0
    lost_ids: list[str] = field(default_factory=list)
    marketing_sent_twice: int = 0
    notification_sent_twice: int = 0
    notification_resent_unknown: int = 0  # notifications whose history says they were sent again (SPEC 11)
    marketing_unknown: int = 0
    poison_bodies: int = 0
    poison_without_reason: int = 0
    forged_webhooks: int = 0
    forged_accepted: int = 0
    http_5xx: int = 0
    statuses: Counter = field(default_factory=Counter)

    def failures(self) -> list[str]:
        problems = [name for name in ("lost", "marketing_sent_twice", "poison_without_reason", "forged_accepted",
                                      "http_5xx") if getattr(self, name)]
        if self.notification_sent_twice > self.notification_resent_unknown:
            problems.append("notification_sent_twice")
        return problems


def count_figures(sent: dict[str, str], items: dict[str, dict[str, Any]], received: Counter,
                  dead_letters: list[tuple[str, str]], poison_markers: list[str]) -> Figures:
    """The run's figures from its records: `sent` (message id -> type, every valid message the harness
    sent), `items` (the messages table by id: status, history), `received` (the sandbox's count of
    requests by message id), `dead_letters` ((body, reason) of each dead-lettered body), and the
    markers each poison body carries."""
    figures = Figures(messages=len(sent), poison_bodies=len(poison_markers))
    dead_with_reason = [body for body, reason in dead_letters if reason and reason.strip()]
    for message_id, kind in sent.items():
        item = items.get(message_id) or {}
        status = item.get("status")
        figures.statuses[status or "absent"] += 1
        dead = any(f'"{message_id}"' in body for body in dead_with_reason)
        if status not in FINAL and not dead:
            figures.lost += 1
            figures.lost_ids.append(message_id)
        times = received.get(message_id, 0)
        if kind == "MARKETING":
            figures.marketing_sent_twice += times > 1
            figures.marketing_unknown += status == "unknown"
        else:
            figures.notification_sent_twice += times > 1
            figures.notification_resent_unknown += any(
                RESENT_NOTE in (change.get("reason") or "") for change in item.get("history", []))
    figures.poison_without_reason = sum(1 for marker in poison_markers
                                        if not any(marker in body for body in dead_with_reason))
    return figures


def report(figures: Figures, extra: dict[str, Any]) -> str:
    lines = [f"messages={figures.messages}",
             f"lost={figures.lost}" + (f"  ({', '.join(figures.lost_ids[:10])})" if figures.lost_ids else ""),
             f"marketing_sent_twice={figures.marketing_sent_twice}",
             f"marketing_unknown={figures.marketing_unknown}",
             f"notification_sent_twice={figures.notification_sent_twice}",
             f"notification_resent_unknown={figures.notification_resent_unknown}",
             f"poison_bodies={figures.poison_bodies}",
             f"poison_without_reason={figures.poison_without_reason}",
             f"forged_webhooks={figures.forged_webhooks}",
             f"forged_accepted={figures.forged_accepted}",
             f"http_5xx={figures.http_5xx}"]
    lines += [f"{name}={value}" for name, value in extra.items()]
    lines.append("statuses=" + json.dumps(dict(sorted(figures.statuses.items()))))
    return "\n".join(lines)


# ------------------------------------------------------------------ the worker: the send function, killable

def worker_main(state_file: str) -> None:
    """The send function's process: its SQS event source mappings on the moto server the harness runs."""
    from local.functions import FunctionHost
    from local.poller import mappings_for
    from local.aws import EndpointSession

    state = json.loads(Path(state_file).read_text())
    template = _template(state["aws_url"])
    host = FunctionHost([f for f in template.functions if f.logical_id == "SendFunction"])
    host.add_import_paths()
    host.warm_up()
    sqs = EndpointSession(state["aws_url"]).client("sqs")
    by_arn = {template.arn(lid): url for lid, url in state["queues"].items()}
    pollers = [m.start() for m in mappings_for(host, sqs, by_arn)]
    print("ready", flush=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nobody reads the pipe any more: the log file does
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for poller in pollers:
        poller.stop()


def _template(aws_url: str):
    from local.template import Template

    return Template.load(PROJECT_ROOT / "template.yaml", endpoint_url=aws_url, stack_name="smsbridge")


class Worker:
    """The worker process, started again after each kill."""

    def __init__(self, state_file: str, log_file: Path):
        self._state_file = state_file
        self._log = open(log_file, "a")  # noqa: SIM115 - kept open for the worker's whole life
        self.process: subprocess.Popen[str] | None = None
        self.starts = 0

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.chaos", "--worker", self._state_file],
                                        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True)
        line = self.process.stdout.readline().strip() if self.process.stdout else ""
        if line != "ready":
            raise RuntimeError(f"the worker did not start ({line!r}); see {self._log.name}")
        self.starts += 1

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)  # no handler, no finally: as Lambda stops a timed-out invocation
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


# ------------------------------------------------------------------ the sandbox, watched

class WatchedSandbox:
    """The sandbox provider's WSGI app behind a counter of the send requests it holds right now."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self._app = sandbox.__call__
        self._lock = threading.Lock()
        self.holding = 0

    def __call__(self, environ, start_response):
        sending = environ.get("PATH_INFO") == "/v1/messages" and environ.get("REQUEST_METHOD") == "POST"
        if not sending:
            return self._app(environ, start_response)
        with self._lock:
            self.holding += 1
        try:
            return list(self._app(environ, start_response))
        finally:
            with self._lock:
                self.holding -= 1


class TokenEndpoint:
    """An OAuth2 token endpoint for the `sandbox-oauth` provider, which can be made to fail."""

    def __init__(self, token: str):
        self.token = token
        self.failing = False
        self.asked = 0

    def __call__(self, environ, start_response):
        self.asked += 1
        if self.failing:
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"error": "temporarily_unavailable"}']
        body = json.dumps({"access_token": self.token, "token_type": "Bearer", "expires_in": 3600}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


# ------------------------------------------------------------------ the run

@dataclass
class Plan:
    messages: int
    kills: int
    seed: int
    rate: float  # messages per second offered
    drain_s: float  # the longest wait, after the faults, for every message to settle


class ChaosRun:
    def __init__(self, plan: Plan, workdir: Path):
        self.plan = plan
        self.random = random.Random(plan.seed)
        self.workdir = workdir
        self.sent: dict[str, str] = {}
        self.poison_markers: list[str] = []
        self.forged = 0
        self.forged_accepted = 0
        self.http_5xx = 0
        self.kills_in_window = 0
        self.kill_log: list[str] = []
        self.redelivered = 0
        self.duplicates = 0
        self.fault_log: Counter = Counter()
        self.dead_letters = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # -------------------------------------------------------------- set up

    def start(self) -> None:
        from local.apigw import LocalApiGateway
        from local.aws import DUMMY_CREDENTIALS, EndpointSession, MotoProcess
        from local.functions import FunctionHost, apply_environment, environment_of
        from local.http import LoopbackServer
        from local.sandbox import provider_document
        from local.sandbox.server import SandboxProvider
        from local.resources import create_resources
        from local.template import REGION

        self.moto = MotoProcess(0).start()
        template = _template(self.moto.url)
        self.session = EndpointSession(self.moto.url)
        resources = create_resources(template, self.session)
        self.queues = resources.queues
        self.tables = resources.tables
        sqs = self.session.client("sqs")
        for logical_id in ("OutboundQueue", "BulkQueue"):
            sqs.set_queue_attributes(QueueUrl=self.queues[logical_id],
                                     Attributes={"VisibilityTimeout": str(VISIBILITY_S)})
        environment = {**environment_of(template.functions), "SMSBRIDGE_LOCAL": "true", "AWS_ENDPOINT_URL": self.moto.url,
                       "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                       "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
                       "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
                       "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                       "POWERTOOLS_LOG_LEVEL": "ERROR"}
        apply_environment(environment)
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_") or n in ("AWS_SESSION_TOKEN", "AWS_PROFILE")]:
            os.environ.pop(name)

        # The API (webhooks, POST /messages) runs here, not in the worker: its answers are counted.
        api_functions = [f for f in template.functions if f.logical_id in ("ApiFunction", "InboundFunction")]
        self.host = FunctionHost(api_functions)
        self.host.add_import_paths()
        self.api = LoopbackServer(LocalApiGateway(self.host), 0, name="API")
        self.sandbox = SandboxProvider(bridge_url=self.api.url)
        self.watched = WatchedSandbox(self.sandbox)
        # The sandbox served behind its watcher: its own server, as `serve()` would make it, on another app.
        sandbox_server = LoopbackServer(self.watched, 0, name="sandbox")
        self.sandbox._server = sandbox_server  # noqa: SLF001
        self.sandbox.config = provider_document(sandbox_server.url)
        self.token = TokenEndpoint(self.sandbox.config["auth"]["token"])
        self.token_server = LoopbackServer(self.token, 0, name="token")
        self._configure_providers()
        self.host.warm_up()
        sandbox_server.start()
        self.token_server.start()
        self.api.start()

        state_file = self.workdir / "state.json"
        state_file.write_text(json.dumps({"aws_url": self.moto.url, "queues": self.queues}))
        self.worker = Worker(str(state_file), self.workdir / "worker.log")
        self.worker.start()

    def _configure_providers(self) -> None:
        from local.runtime import _with_preset
        from smsbridge.adapters.store import ProviderStore
        from smsbridge.models.provider import ProviderConfig
        from smsbridge.settings import get_settings

        get_settings.cache_clear()
        settings = get_settings()
        store = ProviderStore(settings.providers_table, settings.secret_prefix,
                              dynamodb=self.session.resource("dynamodb"),
                              secretsmanager=self.session.client("secretsmanager"))
        sandbox = self.sandbox.config
        store.put(ProviderConfig.model_validate(_with_preset(sandbox)))
        oauth = {**{k: v for k, v in sandbox.items() if k not in ("inbound", "status", "balance")},
                 "id": OAUTH_PROVIDER, "default": False, "name": "Sandbox behind an OAuth2 token endpoint",
                 "auth": {"type": "oauth2", "token_url": self.token_server.url + "/token", "client_id": "chaos",
                          "client_secret": "chaos-client-secret"}}
        store.put(ProviderConfig.model_validate(oauth))

    def stop(self) -> None:
        for part in ("worker",):
            if hasattr(self, part):
                getattr(self, part).stop()
        for server in ("api", "token_server"):
            if hasattr(self, server):
                getattr(self, server).stop()
        if hasattr(self, "sandbox"):
            self.sandbox.stop()
        if hasattr(self, "moto"):
            self.moto.stop()

    # -------------------------------------------------------------- load

    def _body(self, message_id: str, kind: str) -> dict[str, Any]:
        body = {"id": message_id, "to": f"+336{self.random.randrange(10_000_000, 99_999_999)}",
                "text": TEXT_PREFIX + message_id, "type": kind}
        if self.random.random() < 0.1:
            body["provider"] = OAUTH_PROVIDER
        return body

    def send_load(self, duration_s: float) -> None:
        """The messages, at the plan's rate: nine in ten on the queues (SendMessageBatch), one in ten
        through `POST /messages`; some bodies sent twice; poison bodies among them."""
        sqs = self.session.client("sqs")
        api = requests.Session()
        lanes = {"NOTIFICATION": self.queues["OutboundQueue"], "MARKETING": self.queues["BulkQueue"]}
        started = time.monotonic()
        batch: dict[str, list[dict[str, Any]]] = {"NOTIFICATION": [], "MARKETING": []}
        for n in range(self.plan.messages):
            if self._stop.is_set():
                break
            kind = "MARKETING" if self.random.random() < 0.5 else "NOTIFICATION"
            message_id = f"c{self.plan.seed}-{n}-{kind[0]}"
            body = self._body(message_id, kind)
            with self._lock:
                self.sent[message_id] = kind
            if self.random.random() < 0.1:
                self._post_message(api, body)
            else:
                batch[kind].append(body)
                if self.random.random() < 0.03:  # an application sending the same body twice
                    batch[kind].append(body)
                    self.duplicates += 1
            for lane, bodies in batch.items():
                if len(bodies) >= 10:
                    self._send_batch(sqs, lanes[lane], bodies[:10])
                    batch[lane] = bodies[10:]
            if self.random.random() < 0.02:
                self._poison(sqs, lanes[kind])
            # Paced: the run lasts `duration_s` whatever the machine.
            if (n + 1) % 500 == 0:
                log.info("load: %d of %d messages sent; %d kill(s) so far", n + 1, self.plan.messages,
                         len(self.kill_log))
            ahead = (n + 1) / self.plan.messages * duration_s - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        for lane, bodies in batch.items():
            for start in range(0, len(bodies), 10):
                self._send_batch(sqs, lanes[lane], bodies[start:start + 10])

    def _send_batch(self, sqs, url: str, bodies: list[dict[str, Any]]) -> None:
        entries = [{"Id": str(i), "MessageBody": json.dumps(b)} for i, b in enumerate(bodies)]
        answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused bodies: {answer['Failed']}")

    def _post_message(self, api: requests.Session, body: dict[str, Any]) -> None:
        answer = self._call(api, "POST", "/messages", json=body)
        if answer is not None and answer.status_code != 202 and answer.status_code != 200:
            raise RuntimeError(f"POST /messages answered {answer.status_code}: {answer.text[:200]}")

    def _call(self, api: requests.Session, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        answer = api.request(method, self.api.url + path, timeout=30, **kwargs)
        if answer.status_code >= 500:
            with self._lock:
                self.http_5xx += 1
            log.error("%s %s answered %s: %s", method, path, answer.status_code, answer.text[:300])
        return answer

    def _poison(self, sqs, url: str) -> None:
        marker = f"poison-{uuid.uuid4().hex[:12]}"
        bodies = [
            f"not json {marker}",
            json.dumps({"id": marker, "to": "not a number", "text": "x"}),
            json.dumps({"id": marker, "to": "+33612345678", "text": "nul \u0000 inside"}),
            json.dumps({"id": marker, "to": "+33612345678", "text": "   "}),
            json.dumps({"id": marker, "to": "+33612345678", "text": "x", "provider": "no-such-provider"}),
            json.dumps({"marker": marker, "to": "+33612345678", "text": "x", "unknown_key": "y" * 2000}),
            "[" * 5000 + json.dumps(marker) + "]" * 5000,
            json.dumps({"id": marker, "to": "+33612345678", "text": "x", "send_at": "yesterday"}),
        ]
        sqs.send_message(QueueUrl=url, MessageBody=bodies[len(self.poison_markers) % len(bodies)])  # each kind in turn
        with self._lock:
            self.poison_markers.append(marker)

    # -------------------------------------------------------------- faults

    def faults(self, duration_s: float) -> None:
        """Provider faults on and off, a few seconds each, with calm in between. Calm is a provider
        that answers in `CALM` (200 ms): requests are held by it when a kill comes, as a real one holds them."""
        modes = [
            ("outage", {"outage": True}),
            ("429_storm", {"status": 429, "retry_after": 1}),
            ("rate_limit", {"rate_limit": 20}),
            ("timeouts", {"timeout": 7}),
            ("slow", {"latency_ms": 800}),
            ("token_endpoint_down", None),
        ]
        end = time.monotonic() + duration_s
        while time.monotonic() < end and not self._stop.is_set():
            self._stop.wait(self.random.uniform(2, 5))
            name, faults = self.random.choice(modes)
            self.fault_log[name] += 1
            if faults is None:
                self.token.failing = True
            else:
                self.sandbox.set_faults(faults)
            self._stop.wait(self.random.uniform(1.5, 4))
            self.token.failing = False
            self.sandbox.set_faults(CALM)

    def kills(self, duration_s: float) -> None:
        """SIGKILL the worker at random moments, most of them while the provider holds a request."""
        if not self.plan.kills:
            return
        gap = duration_s / self.plan.kills
        for k in range(self.plan.kills):
            if self._stop.wait(self.random.uniform(0.5, 1.0) * gap):
                return
            deadline = time.monotonic() + 3.0
            # Most kills wait for a request held by the provider (the crash window); some land anywhere.
            aim = self.random.random() < 0.8
            while aim and self.watched.holding == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(self.random.uniform(0, 0.05))
            holding = self.watched.holding
            self.worker.kill()
            self.kills_in_window += holding > 0
            self.kill_log.append(f"kill {k + 1}: {holding} request(s) held by the provider")
            self.worker.start()

    def redeliveries(self, duration_s: float) -> None:
        """A second consumer takes messages off the queues and makes them visible again at once
        (visibility 0): the send function receives them again, maybe while another copy is sent."""
        sqs = self.session.client("sqs")
        end = time.monotonic() + duration_s
        while time.monotonic() < end and not self._stop.is_set():
            self._stop.wait(self.random.uniform(1, 3))
            for url in (self.queues["OutboundQueue"], self.queues["BulkQueue"]):
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                for message in got:
                    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                                  VisibilityTimeout=0)
                self.redelivered += len(got)

    def forgeries(self, duration_s: float) -> None:
        """Webhooks that claim to come from the sandbox provider and do not: no signature, a wrong one,
        a stale timestamp, a signed body altered, a signature of another secret, a provider that
        does not exist."""
        from local.sandbox.signing import signature_headers

        api = requests.Session()
        auth = self.sandbox.config["inbound"]["auth"]
        end = time.monotonic() + duration_s
        while time.monotonic() < end and not self._stop.is_set():
            self._stop.wait(self.random.uniform(0.2, 0.6))
            route = self.random.choice(["inbound", "status"])
            payload = ({"from": "+33611111111", "to": "+33699999999", "text": "STOP", "id": uuid.uuid4().hex,
                        "timestamp": "2026-01-01T00:00:00Z"} if route == "inbound"
                       else {"id": "sbx_forged", "status": "delivered"})
            body = json.dumps(payload).encode()
            now = int(time.time())
            kind = self.random.randrange(6)
            headers = {"Content-Type": "application/json"}
            provider = "sandbox"
            if kind == 1:
                headers.update({auth["timestamp_header"]: str(now), auth["header"]: "sha256=" + "0" * 64})
            elif kind == 2:
                headers.update(signature_headers(auth, body, now - 3600))
            elif kind == 3:
                headers.update(signature_headers(auth, body, now))
                body = body.replace(b"STOP", b"START").replace(b"delivered", b"failed")
                if b"START" not in body and b"failed" not in body:
                    body += b" "
            elif kind == 4:
                headers.update(signature_headers({**auth, "secret": "not-the-secret"}, body, now))
            elif kind == 5:
                provider = "no-such-provider"
                headers.update(signature_headers(auth, body, now))
            answer = self._call(api, "POST", f"/{route}/{provider}", data=body, headers=headers)
            with self._lock:
                self.forged += 1
                if answer is not None and 200 <= answer.status_code < 300:
                    self.forged_accepted += 1
                    log.error("a forged webhook was accepted: %s %s", route, answer.text[:200])

    # -------------------------------------------------------------- the end

    def drain(self) -> float:
        """Wait until every message is in a final status or dead-lettered, or the plan's drain time passed."""
        started = time.monotonic()
        table = self.session.resource("dynamodb").Table(self.tables["MessagesTable"])
        while time.monotonic() - started < self.plan.drain_s:
            items = _scan(table)
            waiting = [i for i in self.sent if (items.get(i) or {}).get("status") not in FINAL]
            if not waiting:
                break
            log.info("drain: %d message(s) not settled yet (e.g. %s)", len(waiting), waiting[:3])
            time.sleep(5)
        return time.monotonic() - started

    def figures(self) -> Figures:
        table = self.session.resource("dynamodb").Table(self.tables["MessagesTable"])
        items = _scan(table)
        received = Counter(m["text"][len(TEXT_PREFIX):] for m in self.sandbox.inbox()
                           if m["text"].startswith(TEXT_PREFIX))
        dead = _drain_queue(self.session.client("sqs"), self.queues["DeadLetterQueue"])
        self.dead_letters = len(dead)
        figures = count_figures(self.sent, items, received, dead, self.poison_markers)
        figures.forged_webhooks = self.forged
        inbound = _scan(self.session.resource("dynamodb").Table(self.tables["InboundTable"]))
        figures.forged_accepted = self.forged_accepted + len(inbound)
        figures.http_5xx = self.http_5xx
        return figures

    def run(self) -> tuple[Figures, dict[str, Any]]:
        duration_s = max(20.0, self.plan.messages / self.plan.rate)
        threads = [threading.Thread(target=target, args=(duration_s,), name=target.__name__, daemon=True)
                   for target in (self.faults, self.kills, self.redeliveries, self.forgeries)]
        started = time.monotonic()
        self.sandbox.set_faults(CALM)
        for thread in threads:
            thread.start()
        self.send_load(duration_s)
        for thread in threads:
            thread.join()
        self.sandbox.set_faults({})
        self.token.failing = False
        drained_s = self.drain()
        figures = self.figures()
        # A poison body may be dead-lettered twice (a kill between the dead-lettering and SQS's delete):
        # `dead_letters` counts copies, `poison_bodies` distinct bodies.
        extra = {"kills": len(self.kill_log), "kills_in_window": self.kills_in_window,
                 "worker_starts": self.worker.starts, "redelivered_visibility_0": self.redelivered,
                 "duplicate_bodies": self.duplicates, "dead_letters": self.dead_letters, "provider_received": sum(1 for _ in self.sandbox.inbox()),
                 "faults": json.dumps(dict(sorted(self.fault_log.items()))),
                 "load_s": round(duration_s, 1), "drain_s": round(drained_s, 1),
                 "run_s": round(time.monotonic() - started, 1)}
        return figures, extra


def _scan(table) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"ProjectionExpression": "#i, #s, #h", "ExpressionAttributeNames":
                              {"#i": "id", "#s": "status", "#h": "history"}}
    while True:
        page = table.scan(**kwargs)
        for item in page.get("Items", []):
            items[item["id"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _drain_queue(sqs, url: str) -> list[tuple[str, str]]:
    """Every body on the queue with its `reason` attribute (received once, kept invisible)."""
    found: list[tuple[str, str]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                          MessageAttributeNames=["All"]).get("Messages", []):
        for message in messages:
            reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue", "")
            found.append((message["Body"], reason))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=int(os.environ.get("CHAOS_MESSAGES", 5000)))
    parser.add_argument("--kills", type=int, default=int(os.environ.get("CHAOS_KILLS", 20)))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", 1)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("CHAOS_RATE", 40)),
                        help="messages offered per second")
    parser.add_argument("--drain", type=float, default=float(os.environ.get("CHAOS_DRAIN_S", 900)),
                        help="the longest wait for every message to settle after the faults")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        logging.basicConfig(level=logging.WARNING)
        worker_main(args.worker)
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("local", "botocore", "urllib3", "smsbridge"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # keep-alive connections timing out at the end
    plan = Plan(messages=args.messages, kills=args.kills, seed=args.seed, rate=args.rate, drain_s=args.drain)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chaos-") as workdir:
        run = ChaosRun(plan, Path(workdir))
        try:
            run.start()
            figures, extra = run.run()
        finally:
            run.stop()
    print(report(figures, {**extra, "total_s": round(time.monotonic() - started, 1)}))
    for line in run.kill_log:
        log.info(line)
    failures = figures.failures()
    if failures:
        print("FAILED: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
