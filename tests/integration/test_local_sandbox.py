"""The sandbox provider on loopback: its SMS API, inbox, balance and faults, and the signed
inbound messages and receipts it sends to a bridge stand-in."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from local.http import LoopbackServer
from local.sandbox import provider_document
from local.sandbox.server import SandboxProvider
from smsbridge.core.signatures import WebhookRequest, verify_webhook
from smsbridge.models.provider import ProviderConfig

TOKEN = {"Authorization": "Bearer sandbox-token"}
SMS = {"to": "+33612345678", "from": "ACME", "text": "Your code is 1234"}


class BridgeStandIn:
    """Records what the sandbox sends to the bridge, and answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

        def app(environ: dict, start_response: Any) -> Any:
            request = Request(environ)
            self.requests.append((request.path, dict(request.headers), request.get_data()))
            return Response(json.dumps({"ok": True}), content_type="application/json")(environ, start_response)

        self.server = LoopbackServer(app, 0, name="bridge stand-in").start()


@pytest.fixture
def bridge() -> Iterator[BridgeStandIn]:
    stand_in = BridgeStandIn()
    yield stand_in
    stand_in.server.stop()


@pytest.fixture
def sandbox(bridge: BridgeStandIn) -> Iterator[SandboxProvider]:
    provider = SandboxProvider(bridge_url=bridge.server.url)
    provider.serve(0)
    provider.start()
    yield provider
    provider.stop()


def send(sandbox: SandboxProvider, payload: dict | None = None, headers: dict | None = None,
         timeout: float = 10) -> requests.Response:
    return requests.post(f"{sandbox.url}/v1/messages", json=payload or SMS, headers=TOKEN if headers is None else headers,
                         timeout=timeout)


# ---------------------------------------------------------------- the provider API

def test_the_sandbox_provider_configuration_is_a_valid_provider_pointing_at_the_sandbox() -> None:
    config = ProviderConfig.model_validate(provider_document("http://127.0.0.1:5555"))

    assert (config.id, config.default, config.default_sender) == ("sandbox", True, "SMSBridge")
    assert config.request.url == "http://127.0.0.1:5555/v1/messages"
    assert config.balance is not None and config.balance.url == "http://127.0.0.1:5555/v1/balance"


def test_a_message_with_the_bearer_token_is_accepted_and_lands_in_the_inbox(sandbox: SandboxProvider) -> None:
    answer = send(sandbox)

    assert answer.status_code == 201
    message_id = answer.json()["id"]
    inbox = requests.get(f"{sandbox.url}/api/inbox", timeout=10).json()
    assert [(m["id"], m["to"], m["from"], m["text"]) for m in inbox] == [(message_id, *SMS.values())]
    assert datetime.fromisoformat(inbox[0]["received_at"]).tzinfo is not None


def test_the_inbox_lists_messages_oldest_first_and_filters_by_text(sandbox: SandboxProvider) -> None:
    for text in ("one", "two", "one"):
        send(sandbox, {**SMS, "text": text})

    everything = requests.get(f"{sandbox.url}/api/inbox", timeout=10).json()
    ones = requests.get(f"{sandbox.url}/api/inbox", params={"text": "one"}, timeout=10).json()

    assert [m["text"] for m in everything] == ["one", "two", "one"]
    assert len(ones) == 2


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "sandbox-token"}])
def test_a_message_without_the_right_bearer_token_is_refused(sandbox: SandboxProvider, headers: dict) -> None:
    answer = send(sandbox, headers=headers)

    assert answer.status_code == 401
    assert sandbox.inbox() == []


@pytest.mark.parametrize("payload", [{"to": "+33612345678"}, {"text": "hi"}, {**SMS, "from": 3}])
def test_a_message_missing_a_field_is_a_400(sandbox: SandboxProvider, payload: dict) -> None:
    assert send(sandbox, payload).status_code == 400


def test_the_balance_is_read_with_the_token_set_by_the_control_api_and_spent_by_messages(
        sandbox: SandboxProvider) -> None:
    requests.put(f"{sandbox.url}/api/balance", json={"balance": 10}, timeout=10).raise_for_status()
    send(sandbox)

    assert requests.get(f"{sandbox.url}/v1/balance", headers=TOKEN, timeout=10).json() == {"balance": 9}
    assert requests.get(f"{sandbox.url}/v1/balance", timeout=10).status_code == 401


# ---------------------------------------------------------------- faults

def test_a_status_fault_answers_that_status_with_retry_after_and_records_nothing(sandbox: SandboxProvider) -> None:
    requests.put(f"{sandbox.url}/api/faults", json={"status": 503, "retry_after": 7}, timeout=10).raise_for_status()

    answer = send(sandbox)

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "7"
    assert sandbox.inbox() == []


def test_retry_after_alone_means_429(sandbox: SandboxProvider) -> None:
    requests.put(f"{sandbox.url}/api/faults", json={"retry_after": 2}, timeout=10)

    assert send(sandbox).status_code == 429


def test_a_rate_limit_fault_answers_429_past_that_many_sends_in_a_second_and_counts_them(sandbox: SandboxProvider) -> None:
    requests.put(f"{sandbox.url}/api/faults", json={"rate_limit": 3}, timeout=10).raise_for_status()

    answers = [send(sandbox) for _ in range(5)]
    time.sleep(1.05)  # the first sends leave the last second
    later = send(sandbox)

    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    assert answers[3].headers["Retry-After"] == "1"
    assert later.status_code == 201
    assert len(sandbox.inbox()) == 4
    assert requests.get(f"{sandbox.url}/api/faults", timeout=10).json()["rate_limited"] == 2


def test_a_fault_with_a_count_applies_to_that_many_requests_then_clears(sandbox: SandboxProvider) -> None:
    requests.put(f"{sandbox.url}/api/faults", json={"status": 500, "count": 2}, timeout=10)

    assert [send(sandbox).status_code for _ in range(3)] == [500, 500, 201]


def test_a_fault_with_a_duration_clears_by_itself(sandbox: SandboxProvider) -> None:
    requests.put(f"{sandbox.url}/api/faults", json={"status": 503, "duration_s": 0.5}, timeout=10)

    first = send(sandbox).status_code
    time.sleep(0.6)

    assert (first, send(sandbox).status_code) == (503, 201)


def test_latency_delays_the_answer(sandbox: SandboxProvider) -> None:
    requests.put(f"{sandbox.url}/api/faults", json={"latency_ms": 300}, timeout=10)

    started = time.monotonic()
    answer = send(sandbox)

    assert answer.status_code == 201
    assert time.monotonic() - started >= 0.3


def test_a_timeout_fault_outlasts_the_client(sandbox: SandboxProvider) -> None:
    requests.put(f"{sandbox.url}/api/faults", json={"timeout": 2}, timeout=10)

    with pytest.raises(requests.ReadTimeout):
        send(sandbox, timeout=0.3)


def test_an_outage_drops_the_connection(sandbox: SandboxProvider) -> None:
    requests.put(f"{sandbox.url}/api/faults", json={"outage": True}, timeout=10)

    with pytest.raises(requests.ConnectionError):
        send(sandbox)


def test_clearing_faults_restores_the_provider(sandbox: SandboxProvider) -> None:
    requests.put(f"{sandbox.url}/api/faults", json={"status": 503}, timeout=10)
    cleared = requests.put(f"{sandbox.url}/api/faults", json={}, timeout=10).json()

    assert cleared == {"active": False}
    assert send(sandbox).status_code == 201


@pytest.mark.parametrize("faults", [{"status": "x"}, {"latency_ms": -1}, {"nope": 1}, {"status": 700}, []])
def test_invalid_faults_are_a_400(sandbox: SandboxProvider, faults: Any) -> None:
    assert requests.put(f"{sandbox.url}/api/faults", json=faults, timeout=10).status_code == 400


# ---------------------------------------------------------------- back to the bridge, signed

def test_an_inbound_sms_is_posted_to_the_bridge_signed_over_timestamp_dot_body(
        sandbox: SandboxProvider, bridge: BridgeStandIn) -> None:
    # When the sandbox is asked to send an inbound SMS
    answer = requests.post(f"{sandbox.url}/api/inbound", timeout=10,
                           json={"from": "+33612345678", "to": "SMSBridge", "text": "STOP"})

    # Then the bridge's /inbound/sandbox gets the JSON, signed as docs/local-runtime.md says
    assert answer.status_code == 200 and answer.json()["bridge_status"] == 200
    [(path, headers, body)] = bridge.requests
    assert path == "/inbound/sandbox"
    payload = json.loads(body)
    assert {k: payload[k] for k in ("from", "to", "text")} == {"from": "+33612345678", "to": "SMSBridge", "text": "STOP"}
    assert payload["id"] and payload["timestamp"]
    timestamp = headers["X-Sandbox-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(b"sandbox-inbound-secret", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Sandbox-Signature"] == "sha256=" + expected


def test_what_the_sandbox_signs_verifies_with_the_bridge_s_own_check(
        sandbox: SandboxProvider, bridge: BridgeStandIn) -> None:
    requests.post(f"{sandbox.url}/api/status", json={"id": "sbx_1", "status": "delivered"}, timeout=10)

    [(path, headers, body)] = bridge.requests
    config = ProviderConfig.model_validate(sandbox.config)
    assert config.inbound is not None
    request = WebhookRequest(method="POST", path=path, headers={k.lower(): v for k, v in headers.items()}, body=body)
    assert path == "/status/sandbox"
    assert json.loads(body)["status"] == "delivered"
    verify_webhook(config.inbound.auth, request, datetime.now(UTC))  # raises when it does not verify


def test_an_unsigned_request_can_be_sent_to_test_the_bridge_s_refusal(
        sandbox: SandboxProvider, bridge: BridgeStandIn) -> None:
    requests.post(f"{sandbox.url}/api/inbound", json={"from": "+1", "to": "x", "text": "t", "sign": False}, timeout=10)

    [(_, headers, _)] = bridge.requests
    assert "X-Sandbox-Signature" not in headers


def test_the_inbox_page_shows_the_messages_escaped(sandbox: SandboxProvider) -> None:
    send(sandbox, {**SMS, "text": "<b>bold</b> & more"})

    page = requests.get(f"{sandbox.url}/", timeout=10)

    assert page.headers["Content-Type"].startswith("text/html")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page.text
