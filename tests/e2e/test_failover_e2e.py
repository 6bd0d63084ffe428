"""Failover in the local runtime (issue 11, Must show 5): the sandbox answers 503 to every message, the
`sandbox` provider has `failover: ["backup"]` (a loopback server): every message sent meanwhile is `sent`
through the backup within 10 s, each exactly once across both; once the outage ends, the circuit closes
and traffic returns to the sandbox.

The sandbox's `outage` fault (the connection dropped after the request was read) is not used: a request
that went out and got no answer may have been taken, which is never failed over (SPEC 3)."""
from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.e2e.local_stack import LocalStack, wait_for
from tests.support.loopback import LoopbackProvider

CACHE_S = 2.5  # the send function's provider cache in the local runtime (2 s), and a margin
COOLDOWN_S = 3.0  # the local runtime's circuit cool-down (wiring.traffic_policy)


@dataclass
class Scenario:
    sent_during: dict[str, str] = field(default_factory=dict)  # message id → text
    backup_texts: Counter[str] = field(default_factory=Counter)
    sandbox_texts_during: list[str] = field(default_factory=list)
    seconds_to_backup: float = 0.0
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    circuit_during: str = ""
    after_texts: list[str] = field(default_factory=list)
    sandbox_texts_after: Counter[str] = field(default_factory=Counter)
    backup_texts_after: list[str] = field(default_factory=list)
    circuit_after: str = ""


def post_message(stack: LocalStack, text: str) -> str:
    answer = requests.post(f"{stack.api}/messages", json={"to": "+33612345678", "text": text}, timeout=10)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def circuit_of(stack: LocalStack, provider_id: str) -> str:
    shown = requests.get(f"{stack.api}/traffic", timeout=10).json()["providers"]
    return next(item["circuit"] for item in shown if item["provider"] == provider_id)


@pytest.fixture(scope="module")
def scenario(stack: LocalStack) -> Iterator[Scenario]:
    run = uuid.uuid4().hex[:8]
    result = Scenario()
    original = requests.get(f"{stack.api}/providers/sandbox", timeout=10).json()
    with LoopbackProvider() as backup:
        backup.answer_with(201, {"id": f"backup-{run}"})
        created = requests.post(f"{stack.api}/providers", timeout=10, json={
            "id": "backup", "default_sender": "ACME", "request": {"url": backup.url_for("/sms"), "body": {
                "to": "{{to}}", "text": "{{text}}"}}, "response": {"message_id_jmespath": "id"}})
        assert created.status_code == 201, created.text
        try:
            put = requests.put(f"{stack.api}/providers/sandbox", json={**original, "failover": ["backup"]}, timeout=10)
            assert put.status_code == 200, put.text
            time.sleep(CACHE_S)

            # The outage: every message queued meanwhile
            stack.set_faults(status=503)
            started = time.monotonic()
            for n in range(6):
                text = f"failover {run} #{n}"
                result.sent_during[post_message(stack, text)] = text

            def at_backup() -> Counter[str]:
                return Counter(r.json()["text"] for r in backup.requests if r.json()["text"] in
                               result.sent_during.values())

            wait_for(lambda: set(at_backup()) == set(result.sent_during.values()), timeout_s=30, every_s=0.2,
                     what="every message at the backup")
            result.seconds_to_backup = time.monotonic() - started
            time.sleep(2)  # room for a duplicate to show up, if there were one
            result.backup_texts = at_backup()
            result.sandbox_texts_during = [m["text"] for m in stack.inbox() if m["text"] in result.sent_during.values()]
            result.views = {message_id: wait_for(
                lambda message_id=message_id: (v := requests.get(f"{stack.api}/messages/{message_id}",
                                                                 timeout=10).json()).get("status") == "sent" and v,
                timeout_s=10, what="status sent") for message_id in result.sent_during}
            result.circuit_during = circuit_of(stack, "sandbox")

            # The outage ends: after the cool-down one probe closes the circuit
            stack.set_faults()
            time.sleep(COOLDOWN_S + 0.5)
            backup_before = len(backup.requests)
            for n in range(4):
                text = f"after {run} #{n}"
                result.after_texts.append(text)
                post_message(stack, text)
                wait_for(lambda text=text: stack.inbox(text=text) or
                         any(r.json()["text"] == text for r in backup.requests[backup_before:]),
                         timeout_s=20, every_s=0.2, what=f"{text!r} delivered")
            result.sandbox_texts_after = Counter(m["text"] for m in stack.inbox() if m["text"] in result.after_texts)
            result.backup_texts_after = [r.json()["text"] for r in backup.requests[backup_before:]]
            result.circuit_after = circuit_of(stack, "sandbox")
            yield result
        finally:
            stack.set_faults()
            requests.put(f"{stack.api}/providers/sandbox", json=original, timeout=10)
            requests.delete(f"{stack.api}/providers/backup", timeout=10)
            time.sleep(CACHE_S)


def test_given_the_sandbox_down_when_messages_are_sent_then_each_reaches_the_backup_once_within_10_s(
        scenario: Scenario) -> None:
    assert scenario.seconds_to_backup <= 10
    assert scenario.backup_texts == Counter({text: 1 for text in scenario.sent_during.values()})
    assert scenario.sandbox_texts_during == []
    assert {view["status"] for view in scenario.views.values()} == {"sent"}
    assert scenario.circuit_during in ("open", "half_open")


def test_given_the_outage_over_when_the_circuit_has_cooled_down_then_traffic_returns_to_the_sandbox(
        scenario: Scenario) -> None:
    assert scenario.sandbox_texts_after == Counter({text: 1 for text in scenario.after_texts})
    assert scenario.backup_texts_after == []
    assert scenario.circuit_after == "closed"


def test_given_messages_sent_through_the_backup_when_looked_up_then_their_history_names_the_backup(
        scenario: Scenario) -> None:
    for view in scenario.views.values():
        sent = [entry for entry in view["history"] if entry["status"] == "sent"]
        assert view["provider"] == "backup" and sent[-1]["provider"] == "backup"
        failed_over = [entry for entry in view["history"] if "failing over to backup" in (entry.get("reason") or "")]
        assert failed_over and failed_over[0]["provider"] == "sandbox"
