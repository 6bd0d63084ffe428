"""The send function from SQS to a real loopback provider, on moto: rendering on the wire,
at-most-once delivery, retries, expiry, consent and dead letters."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

from smsbridge.models.provider import ProviderConfig
from tests.support.loopback import LoopbackProvider
from tests.support.stack import reset_cached_clients

TRICKY_TEXT = 'He said "hi"\n& ü 🎉'


def configure(server: LoopbackProvider, **overrides) -> ProviderConfig:
    """Store a provider pointing at the loopback server (as the admin API would)."""
    from smsbridge.wiring import provider_store

    document = {"id": "acme", "default": True, "default_sender": "ACME",
                "request": {"url": server.url_for("/sms"), "body": {"to": "%TO%", "body": "%MESSAGE%"}},
                "response": {"message_id_jmespath": "id"}}
    document.update(overrides)
    config = ProviderConfig.model_validate(document)
    provider_store().put(config)
    return config


def send_handler():
    from send_handler import lambda_handler

    return lambda_handler


def message(stack, message_id: str) -> dict:
    from smsbridge.wiring import message_store

    return message_store().get(message_id)


def drain(stack, *, rounds: int, pause_s: float = 0.0) -> None:
    """Poll the queue like Lambda's event source mapping for a few rounds."""
    for _ in range(rounds):
        stack.deliver(stack.receive(), send_handler())
        time.sleep(pause_s)


def test_given_tricky_text_when_sent_to_json_provider_then_body_is_valid_json_with_text_intact(stack, provider):
    configure(provider)
    stack.enqueue({"id": "m1", "to": "+33 6 12 34 56 78", "text": TRICKY_TEXT})

    drain(stack, rounds=1)

    assert len(provider.requests) == 1
    body = json.loads(provider.last.body.decode("utf-8"))
    assert body == {"to": "+33612345678", "body": TRICKY_TEXT}
    assert provider.last.header("content-type") == "application/json; charset=utf-8"
    assert message(stack, "m1")["status"] == "sent"


def test_given_form_provider_when_sent_then_text_arrives_percent_encoded_once(stack, provider):
    configure(provider, request={"url": provider.url_for("/sms"), "content_type": "form",
                                 "body": {"To": "{{to}}", "Body": "{{text}}", "From": "{{sender}}"}})
    stack.enqueue({"id": "m1", "to": "+33612345678", "text": TRICKY_TEXT + " 100% a+b=c"})

    drain(stack, rounds=1)

    raw = provider.last.body.decode("ascii")
    assert parse_qs(raw)["Body"] == [TRICKY_TEXT + " 100% a+b=c"]
    assert "%25" in raw and "%2525" not in raw  # the percent sign encoded once, not twice


def test_given_the_same_sqs_message_delivered_twice_then_the_provider_gets_one_request(stack, provider):
    configure(provider)
    stack.enqueue({"id": "once", "to": "+33612345678", "text": "hello"})
    records = stack.receive()

    first = send_handler()({"Records": records}, _context())
    second = send_handler()({"Records": records}, _context())  # SQS at-least-once: the same record again

    assert first == second == {"batchItemFailures": []}
    assert len(provider.requests) == 1
    assert [h["status"] for h in message(stack, "once")["history"]] == ["queued", "sent"]


def test_given_two_queue_messages_with_the_same_id_then_the_provider_gets_one_request(stack, provider):
    configure(provider)
    stack.enqueue({"id": "dup", "to": "+33612345678", "text": "hello"})
    stack.enqueue({"id": "dup", "to": "+33612345678", "text": "hello"})

    drain(stack, rounds=3, pause_s=0.2)

    assert len(provider.requests) == 1


def test_given_a_provider_outage_then_every_message_is_delivered_exactly_once_after_recovery(stack, provider,
                                                                                           monkeypatch):
    from smsbridge.services import send

    configure(provider)
    outage = {"on": True}
    accepted: list[str] = []

    def answer(request):
        if outage["on"]:
            return 503, {}, {"error": "down"}
        accepted.append(request.json()["body"])
        return 200, {}, {"id": request.json()["body"]}

    provider.handler = answer
    texts = [f"message {i}" for i in range(12)]
    for i, text in enumerate(texts):
        stack.enqueue({"id": f"o{i}", "to": "+33612345678", "text": text})
    # Keep the test short; the backoff schedule and the circuit's cool-down are unit-tested. The
    # outage opens the provider's circuit: after it, the messages wait for the cool-down's probe.
    monkeypatch.setattr(send.Backoff, "delay_s", lambda self, attempt: 1.0)
    monkeypatch.setenv("CIRCUIT_COOLDOWN_S", "1")
    reset_cached_clients()

    drain(stack, rounds=2)
    assert {message(stack, f"o{i}")["status"] for i in range(12)} == {"queued"}
    outage["on"] = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(accepted) < 12:
        drain(stack, rounds=1, pause_s=0.3)
    drain(stack, rounds=3, pause_s=0.5)  # anything left over would be sent a second time now

    assert sorted(accepted) == sorted(texts)
    assert {message(stack, f"o{i}")["status"] for i in range(12)} == {"sent"}


def test_given_429_with_retry_after_then_the_message_is_not_retried_before_that_time(stack, provider):
    configure(provider)
    provider.enqueue((429, {"Retry-After": "3"}, {"error": "slow down"}))
    stack.enqueue({"id": "r1", "to": "+33612345678", "text": "hello"})

    drain(stack, rounds=1)
    first_at = provider.requests[0].received_at
    for _ in range(4):  # keep polling for two seconds: nothing may come back yet
        drain(stack, rounds=1, pause_s=0.5)
    assert len(provider.requests) == 1
    deadline = time.monotonic() + 10
    while len(provider.requests) < 2 and time.monotonic() < deadline:
        drain(stack, rounds=1, pause_s=0.3)

    assert len(provider.requests) == 2
    assert provider.requests[1].received_at - first_at >= 3.0
    history = message(stack, "r1")["history"]
    assert [h["status"] for h in history] == ["queued", "queued", "sent"]
    assert history[1]["answer"]["status_code"] == 429 and history[1]["attempt"] == 1
    assert history[2]["attempt"] == 2


def test_given_a_message_past_expires_at_then_it_is_never_sent(stack, provider):
    configure(provider)
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    stack.enqueue({"id": "late", "to": "+33612345678", "text": "too late", "expires_at": past})

    drain(stack, rounds=1)

    assert provider.requests == []
    assert message(stack, "late")["status"] == "expired"


def test_given_an_invalid_body_then_it_goes_to_the_dead_letter_queue_with_its_reason(stack, provider):
    configure(provider)
    stack.enqueue({"id": "bad", "to": "not a number", "text": "hello"})
    stack.enqueue("{this is not json")

    response = send_handler()({"Records": stack.receive()}, _context())

    assert response == {"batchItemFailures": []}  # never retried
    assert provider.requests == []
    dead = stack.dead_letters()
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in dead)
    assert len(dead) == 2
    assert any("to" in r and "phone number" in r for r in reasons)
    assert any("invalid" in r.lower() and "json" in r.lower() for r in reasons)
    assert message(stack, "bad")["status"] == "rejected"
    assert stack.receive() == []


def test_given_an_opted_out_number_then_marketing_is_blocked_and_notification_is_sent(stack, provider):
    configure(provider)
    stack.table("ConsentTable").put_item(Item={"provider": "acme", "phone": "+33612345678",
                                                "state": "opted_out", "event_at": "2026-01-01T00:00:00+00:00"})
    stack.enqueue({"id": "promo", "to": "+33612345678", "text": "50% off", "type": "MARKETING"})
    stack.enqueue({"id": "otp", "to": "+33612345678", "text": "code 1234", "type": "NOTIFICATION"})

    drain(stack, rounds=1)

    assert message(stack, "promo")["status"] == "blocked"
    assert message(stack, "otp")["status"] == "sent"
    assert [r.json()["body"] for r in provider.requests] == ["code 1234"]


def test_given_a_permanent_refusal_then_the_message_is_failed_with_the_provider_answer(stack, provider):
    configure(provider)
    provider.answer_with(400, {"error": "invalid destination"})
    stack.enqueue({"id": "f1", "to": "+33612345678", "text": "hello"})

    drain(stack, rounds=2)

    item = message(stack, "f1")
    assert item["status"] == "failed"
    assert item["history"][-1]["answer"]["status_code"] == 400
    assert "invalid destination" in item["history"][-1]["answer"]["body"]
    assert len(provider.requests) == 1


def _context():
    from tests.support.stack import LambdaContext

    return LambdaContext()


def test_given_a_message_without_a_var_the_provider_needs_then_it_is_rejected_to_the_dead_letter_queue(stack, provider):
    configure(provider, request={"url": provider.url_for("/sms"),
                                 "body": {"to": "{{to}}", "text": "{{text}}", "account": "{{vars.account}}"}})
    stack.enqueue({"id": "novar", "to": "+33612345678", "text": "hello"})

    response = send_handler()({"Records": stack.receive()}, _context())

    assert response == {"batchItemFailures": []}
    assert provider.requests == []
    [dead] = stack.dead_letters()
    assert "vars.account" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert message(stack, "novar")["status"] == "rejected"


def test_given_provisioned_concurrency_then_the_init_phase_builds_the_send_path(stack, provider, monkeypatch):
    import importlib

    import send_handler as module
    from smsbridge import wiring

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    importlib.reload(module)
    assert wiring.send_service.cache_info().currsize == 0  # on demand: the first batch builds it

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    importlib.reload(module)
    assert wiring.send_service.cache_info().currsize == 1  # ready before any request

    configure(provider)
    stack.enqueue({"id": "warm", "to": "+33612345678", "text": "hello"})
    drain(stack, rounds=1)
    assert message(stack, "warm")["status"] == "sent"
