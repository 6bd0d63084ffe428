"""The crash window (SPEC 11): a send invocation killed while its provider held the request, then
the message delivered again. A NOTIFICATION is sent again, a MARKETING message becomes `unknown`."""
from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from smsbridge.models.provider import ProviderConfig
from smsbridge.models.queue import QueuedRecord
from tests.support.loopback import LoopbackProvider


class InvocationKilled(BaseException):
    """The process running the invocation dies (SIGKILL, Lambda's timeout): no `except Exception` runs."""


class KilledAfterTheProviderAnswers:
    """The send function's provider caller, which dies once the provider has received and answered
    the request, before anything of that answer can be written."""

    def __init__(self, client):
        self._client = client

    def send(self, provider, request, now):
        self._client.send(provider, request, now)
        raise InvocationKilled


@pytest.fixture
def provider(provider):
    """The provider stand-in, answering each message with an id made of its text."""
    provider.handler = lambda request: (200, {}, {"id": "pm-" + request.json()["body"]})
    return provider


def configure(server: LoopbackProvider) -> ProviderConfig:
    from smsbridge.wiring import provider_store

    config = ProviderConfig.model_validate({
        "id": "acme", "default": True, "default_sender": "ACME", "timeout_s": 0.4,
        "request": {"url": server.url_for("/sms"), "body": {"to": "{{to}}", "body": "{{text}}"}},
        "response": {"message_id_jmespath": "id"}})
    provider_store().put(config)
    return config


def killed_invocation(records: list[dict], remaining_ms: int) -> None:
    """Run the send path as the handler does, with a provider caller that kills it mid-request."""
    from smsbridge.services.send import SendService
    from smsbridge.wiring import consent_ledger, message_store, outbound_queue, provider_client, provider_store

    service = SendService(providers=provider_store(), messages=message_store(), consent=consent_ledger(),
                          queue=outbound_queue(), client=KilledAfterTheProviderAnswers(provider_client()))
    with pytest.raises(InvocationKilled):
        service.send_batch([QueuedRecord.model_validate(r) for r in records], remaining_ms=remaining_ms)


def redeliver_after_the_claim(stack, records: list[dict], message_id: str) -> dict:
    from send_handler import lambda_handler
    from smsbridge.wiring import message_store

    until = message_store().states([message_id])[message_id].claimed_until
    time.sleep(max(0.0, until - time.time()) + 0.1)  # the visibility timeout passed: SQS delivers it again
    return stack.deliver(records, lambda_handler)


def message(message_id: str) -> dict:
    from smsbridge.wiring import message_store

    return message_store().get(message_id)


def test_given_a_notification_whose_invocation_was_killed_while_the_provider_held_it_when_delivered_again_then_it_is_sent_again(
        stack, provider):
    configure(provider)
    stack.enqueue({"id": "otp-1", "to": "+33612345678", "text": "Your code is 1234", "type": "NOTIFICATION"})
    records = stack.receive()

    killed_invocation(records, remaining_ms=4000)
    in_flight = message("otp-1")
    answer = redeliver_after_the_claim(stack, records, "otp-1")

    assert in_flight["status"] == "queued" and in_flight["in_flight"]["provider"] == "acme"
    assert in_flight["in_flight"]["attempt"] == 1
    assert answer == {"batchItemFailures": []}
    assert len(provider.requests) == 2  # the one-time code reaches the provider twice
    item = message("otp-1")
    assert item["status"] == "sent" and "in_flight" not in item
    notes = [c for c in item["history"] if "outcome is unknown: sent again" in (c.get("reason") or "")]
    assert len(notes) == 1 and "provider acme held attempt 1" in notes[0]["reason"]
    assert item["history"][-1]["attempt"] == 2
    assert item["pinned_provider"] == "acme"  # never a second provider after an unknown outcome


def test_given_a_marketing_message_whose_invocation_was_killed_while_the_provider_held_it_when_delivered_again_then_it_is_unknown_and_not_sent_again(
        stack, provider):
    configure(provider)
    stack.enqueue({"id": "promo-1", "to": "+33612345678", "text": "Sale today", "type": "MARKETING"})
    records = stack.receive()

    killed_invocation(records, remaining_ms=4000)
    answer = redeliver_after_the_claim(stack, records, "promo-1")

    assert answer == {"batchItemFailures": []}  # settled: nothing comes back
    assert len(provider.requests) == 1
    item = message("promo-1")
    assert item["status"] == "unknown" and "in_flight" not in item and "claimed_by" not in item
    last = item["history"][-1]
    assert last["status"] == "unknown" and last["attempt"] == 1 and last["provider"] == "acme"
    assert "provider acme held attempt 1" in last["reason"] and "not sent again" in last["reason"]
    assert stack.queued() == []  # no copy left to send it later


def test_given_an_unknown_marketing_message_when_read_through_the_api_then_its_status_and_reason_show(stack, provider):
    from smsbridge.wiring import message_desk

    configure(provider)
    stack.enqueue({"id": "promo-4", "to": "+33612345678", "text": "Sale today", "type": "MARKETING"})
    records = stack.receive()
    killed_invocation(records, remaining_ms=4000)
    during = message_desk().get("promo-4")
    redeliver_after_the_claim(stack, records, "promo-4")

    view = message_desk().get("promo-4").model_dump(mode="json")
    assert during.in_flight == {"attempt": 1, "provider": "acme", "since": during.in_flight["since"]}
    assert view["status"] == "unknown" and view["in_flight"] is None
    assert "provider acme held attempt 1" in view["history"][-1]["reason"]


def test_given_an_unknown_marketing_message_when_a_copy_arrives_later_then_nothing_is_sent(stack, provider):
    from send_handler import lambda_handler

    configure(provider)
    stack.enqueue({"id": "promo-2", "to": "+33612345678", "text": "Sale today", "type": "MARKETING"})
    records = stack.receive()
    killed_invocation(records, remaining_ms=4000)
    redeliver_after_the_claim(stack, records, "promo-2")

    stack.enqueue({"id": "promo-2", "to": "+33612345678", "text": "Sale today", "type": "MARKETING"})
    stack.deliver(stack.receive(), lambda_handler)

    assert len(provider.requests) == 1
    assert message("promo-2")["status"] == "unknown"


def test_given_a_marketing_message_sent_normally_then_its_claim_leaves_no_attempt_in_flight(stack, provider):
    from send_handler import lambda_handler

    configure(provider)
    stack.enqueue({"id": "promo-3", "to": "+33612345678", "text": "Sale today", "type": "MARKETING"})
    stack.deliver(stack.receive(), lambda_handler)

    item = message("promo-3")
    assert item["status"] == "sent" and "in_flight" not in item


class KilledAtRequest:
    """A provider caller that lets `n - 1` requests through, then dies on the n-th, once it has reached the provider."""

    def __init__(self, client, n: int):
        self._client, self._left, self._lock = client, n, __import__("threading").Lock()

    def send(self, provider, request, now):
        with self._lock:
            self._left -= 1
            dies = self._left <= 0
        if self._left < 0:
            raise InvocationKilled  # dead already: the pool's queued tasks send nothing more
        answer = self._client.send(provider, request, now)
        if dies:
            raise InvocationKilled
        return answer


def test_given_a_bulk_batch_killed_in_its_second_wave_then_only_the_messages_of_that_wave_become_unknown(stack, provider):
    from smsbridge.services.send import SendService
    from smsbridge.wiring import consent_ledger, message_store, outbound_queue, provider_client, provider_store

    configure(provider)
    sqs = stack.session.client("sqs")
    for start in range(0, 25, 5):
        sqs.send_message_batch(QueueUrl=stack.bulk_queue_url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"id": f"bulk-{i}", "to": "+33612345678", "text": "Sale",
                                                      "type": "MARKETING"})} for i in range(start, start + 5)])
    records = []
    for _ in range(50):  # moto answers a receive with up to 10 messages, sometimes fewer
        records += stack.receive()
        if len(records) >= 25:
            break
    # Waves of 10 (100 deployed): the first is settled, the kill comes in the second, the third is never claimed.
    service = SendService(providers=provider_store(), messages=message_store(), consent=consent_ledger(),
                          queue=outbound_queue(), client=KilledAtRequest(provider_client(), 11), concurrency=1,
                          wave=10)
    assert len(records) == 25

    with pytest.raises(InvocationKilled):
        service.send_batch([QueuedRecord.model_validate(r) for r in records], remaining_ms=20_000)
    states = message_store().states([f"bulk-{i}" for i in range(25)])
    in_doubt = next(i for i, state in states.items() if state.in_flight is not None)
    redeliver_after_the_claim(stack, records, in_doubt)

    statuses = Counter(message(f"bulk-{i}")["status"] for i in range(25))
    assert statuses == Counter({"sent": 15, "unknown": 10})  # the third wave is sent at the redelivery
    assert len(provider.requests) == 16
