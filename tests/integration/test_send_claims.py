"""The lean send path on moto: the AWS calls of a batch, and the claims in the messages' own items
(redelivery, concurrent invocations, a first record written by the API, retries, failover)."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from smsbridge.core.classify import Outcome
from smsbridge.models.claim import ClaimRequest
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.services.traffic import Delivery, Reservation, Tried
from tests.support.aws_calls import counting_aws_calls
from tests.support.loopback import LoopbackProvider
from tests.support.stack import LambdaContext, reset_cached_clients


@pytest.fixture
def provider(provider):
    """The provider stand-in, answering each message with an id made of its text."""
    provider.handler = lambda request: (200, {}, {"id": "pm-" + request.json()["body"]})
    return provider


def configure(server: LoopbackProvider, provider_id: str = "acme", **overrides) -> ProviderConfig:
    from smsbridge.wiring import provider_store

    document = {"id": provider_id, "default": provider_id == "acme", "default_sender": "ACME",
                "request": {"url": server.url_for("/sms"), "body": {"to": "{{to}}", "body": "{{text}}"}},
                "response": {"message_id_jmespath": "id"}, **overrides}
    config = ProviderConfig.model_validate(document)
    provider_store().put(config)
    return config


def handler():
    from send_handler import lambda_handler

    return lambda_handler


def message(message_id: str) -> dict:
    from smsbridge.wiring import message_store

    return message_store().get(message_id)


@pytest.mark.parametrize("message_type", ["NOTIFICATION", "MARKETING"])
def test_given_a_10_message_batch_when_sent_then_the_send_function_makes_at_most_10_aws_calls(
        stack, provider, message_type):
    configure(provider)
    for i in range(10):
        stack.enqueue({"id": f"{message_type}-{i}", "to": "+33612345678", "text": f"m{i}", "type": message_type})
    records = stack.receive()
    assert len(records) == 10
    reset_cached_clients()  # the send function starts cold: its clients are created while counting

    with counting_aws_calls() as calls:
        answer = handler()({"Records": records}, LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert len(provider.requests) == 10
    assert sum(calls.values()) <= 10, dict(calls)  # cold caches included; 70 before the claims moved
    assert ("dynamodb", "Scan") not in calls or calls[("dynamodb", "Scan")] == 1
    assert {message(f"{message_type}-{i}")["status"] for i in range(10)} == {"sent"}


def test_given_a_message_claimed_by_a_running_invocation_then_it_is_delayed_not_sent(stack, provider):
    configure(provider)
    provider.handler = lambda request: (time.sleep(0.8), (200, {}, {"id": "pm-1"}))[1]
    stack.enqueue({"id": "shared", "to": "+33612345678", "text": "hello"})
    records = stack.receive()
    answers = {}

    first = threading.Thread(target=lambda: answers.setdefault("first", handler()({"Records": records},
                                                                                 LambdaContext())))
    first.start()
    deadline = time.monotonic() + 5
    while not provider.requests and time.monotonic() < deadline:  # the first invocation holds it
        time.sleep(0.01)
    second = handler()({"Records": records}, LambdaContext())  # SQS gave the same message to another
    first.join()

    assert len(provider.requests) == 1
    assert answers["first"] == {"batchItemFailures": []}
    assert second == {"batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}]}
    item = message("shared")
    assert item["status"] == "sent" and item["attempts"] == 1
    assert "claimed_until" not in item and "claimed_by" not in item


def test_given_two_invocations_claiming_from_the_same_read_then_one_takes_the_message_and_the_other_finds_it_busy(
        stack, provider):
    from smsbridge.services.send import first_record
    from smsbridge.wiring import message_store

    config = configure(provider)
    store = message_store()
    first = first_record(OutboundMessage(id="race", to="+33612345678", text="hi"), config,
                         datetime.now(timezone.utc))
    seen = store.states(["race"])["race"]
    until = time.time() + 30

    mine = store.claim([ClaimRequest("race", first, seen, until, "invocation-a")])
    theirs = store.claim([ClaimRequest("race", first, seen, until, "invocation-b")])

    assert mine["race"].outcome == "taken"
    assert theirs["race"].outcome == "busy"  # the transaction was cancelled on the live claim
    assert message("race")["claimed_by"] == "invocation-a"


def test_given_a_claim_whose_invocation_never_finished_then_the_message_is_sent_once_the_claim_expires(
        stack, provider):
    from smsbridge.services.send import first_record
    from smsbridge.wiring import message_store

    config = configure(provider)
    stack.enqueue({"id": "crashed", "to": "+33612345678", "text": "hello"})
    first = first_record(OutboundMessage(id="crashed", to="+33612345678", text="hello"), config,
                         datetime.now(timezone.utc))
    message_store().claim([ClaimRequest("crashed", first, message_store().states(["crashed"])["crashed"],
                                        time.time() + 3.0, "crashed-invocation")])
    records = stack.receive()

    busy = handler()({"Records": records}, LambdaContext())
    assert busy["batchItemFailures"] and provider.requests == []
    time.sleep(max(0.0, message_store().states(["crashed"])["crashed"].claimed_until - time.time()) + 0.1)
    # The crashed invocation's claim ran out: today's rule sends it again.
    again = handler()({"Records": records}, LambdaContext())

    assert again == {"batchItemFailures": []}
    assert len(provider.requests) == 1
    assert message("crashed")["history"][-1]["attempt"] == 2  # the crashed claim counted one


def test_given_a_message_the_api_created_then_its_first_record_is_kept(stack, provider):
    from smsbridge.services.send import record_queued
    from smsbridge.wiring import message_store

    config = configure(provider)
    api_at = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    api_message = OutboundMessage(id="from-api", to="+33612345678", text="hello", campaign_id="black-friday")
    assert record_queued(message_store(), api_message, config, api_at,
                         reason="routing: no rule matched; default provider acme")
    stack.enqueue({"id": "from-api", "to": "+33612345678", "text": "hello", "campaign_id": "black-friday"})

    stack.deliver(stack.receive(), handler())

    item = message("from-api")
    assert item["status"] == "sent"
    assert item["created_at"] == "2026-11-30T09:00:00.000000Z"  # the API's time, not the queue's
    assert [h["status"] for h in item["history"]] == ["queued", "sent"]
    assert item["history"][0]["reason"] == "routing: no rule matched; default provider acme"
    assert item["campaign_id"] == "black-friday" and item["segments"] == 1


def test_given_a_provider_error_then_the_retry_releases_the_claim_and_the_next_delivery_sends_it(stack, provider):
    configure(provider)
    provider.enqueue((503, {"Retry-After": "1"}, {"error": "busy"}))
    stack.enqueue({"id": "again", "to": "+33612345678", "text": "hello"})

    stack.deliver(stack.receive(), handler())
    after_retry = message("again")
    deadline = time.monotonic() + 10
    while len(provider.requests) < 2 and time.monotonic() < deadline:
        stack.deliver(stack.receive(), handler())
        time.sleep(0.2)

    assert after_retry["status"] == "queued" and after_retry["attempts"] == 1
    assert "claimed_until" not in after_retry and "claimed_by" not in after_retry
    item = message("again")
    assert item["status"] == "sent"
    assert [(h["status"], h["attempt"]) for h in item["history"]] == [("queued", 0), ("queued", 1), ("sent", 2)]


class FailingOverTraffic:
    """What `services.traffic.Traffic` answers when the first provider did not take the message
    (503) and its `failover` provider sent it: the seam's fields, as the traffic branch fills them."""

    def __init__(self, backup: ProviderConfig):
        self.backup = backup

    def reserve(self, provider, count, lane):
        return Reservation(granted=count)

    def send(self, provider, messages, *, request=None, failover=True):
        refused = Outcome(verdict="retry", reason="HTTP 503", status_code=503, body_excerpt='{"error": "down"}')
        return [Delivery(outcome=Outcome(verdict="sent", reason="HTTP 201", status_code=201,
                                         provider_message_id=f"bk-{m.id}", body_excerpt="{}"),
                         provider=self.backup, requested=True, tried=(Tried(provider.id, refused),))
                for m in messages]


def test_given_a_failover_delivery_then_the_message_records_the_provider_that_sent_it(stack, provider):
    from smsbridge.services.send import SendService
    from smsbridge.models.queue import QueuedRecord
    from smsbridge.wiring import consent_ledger, message_store, outbound_queue, provider_store

    configure(provider)
    backup = configure(provider, "backup")
    service = SendService(providers=provider_store(), messages=message_store(), consent=consent_ledger(),
                          queue=outbound_queue(), traffic=FailingOverTraffic(backup))
    stack.enqueue({"id": "fo", "to": "+33612345678", "text": "hello"})

    results = service.send_batch([QueuedRecord.model_validate(r) for r in stack.receive()])

    assert not any(r.retry for r in results.values())
    item = message("fo")
    assert item["status"] == "sent" and item["provider"] == "backup" and item["attempts"] == 2
    failover, sent = item["history"][1], item["history"][2]
    assert (failover["status"], failover["attempt"], failover["provider"]) == ("queued", 1, "acme")
    assert "acme did not take it (503): failing over to backup" in failover["reason"]
    assert (sent["status"], sent["attempt"], sent["provider"]) == ("sent", 2, "backup")
    # A delivery receipt from the backup provider finds the message (services/inbound.py looks it up so).
    assert message_store().find_by_provider_message_id("backup", "bk-fo") == "fo"
    assert message_store().find_by_provider_message_id("acme", "bk-fo") is None


class SilentThenSendingTraffic:
    """The first try sends nothing (an open circuit: no request went out), the next one sends."""

    def __init__(self):
        self.tries = 0

    def reserve(self, provider, count, lane):
        return Reservation(granted=count)

    def send(self, provider, messages, *, request=None, failover=True):
        self.tries += 1
        if self.tries == 1:
            return [Delivery(Outcome("retry", "circuit open: no request sent", retry_after_s=0.0, not_taken=True),
                             provider, requested=False) for _ in messages]
        return [Delivery(Outcome("sent", "HTTP 200", status_code=200, provider_message_id=f"pm-{m.id}"),
                         provider, requested=True) for m in messages]


def test_given_a_try_that_sent_nothing_then_the_message_is_claimed_again_with_its_neighbours(stack, provider):
    """A try without a request leaves the attempt counter at 0: the next claim must still take the
    message, and not hold back the batch claimed in the same transaction (regression)."""
    from smsbridge.models.queue import QueuedRecord
    from smsbridge.services.send import SendService
    from smsbridge.wiring import consent_ledger, message_store, outbound_queue, provider_store

    configure(provider)
    traffic = SilentThenSendingTraffic()
    service = SendService(providers=provider_store(), messages=message_store(), consent=consent_ledger(),
                          queue=outbound_queue(), traffic=traffic)
    stack.enqueue({"id": "silent", "to": "+33612345678", "text": "hello"})
    first = service.send_batch([QueuedRecord.model_validate(r) for r in stack.receive()])
    assert all(r.retry for r in first.values()) and message("silent")["attempts"] == 0
    stack.enqueue({"id": "neighbour", "to": "+33612345678", "text": "hi"})

    time.sleep(1.1)  # the retry's visibility delay
    second = service.send_batch([QueuedRecord.model_validate(r) for r in stack.receive()])

    assert len(second) == 2 and not any(r.retry for r in second.values())
    assert message("silent")["status"] == "sent" and message("neighbour")["status"] == "sent"


def test_given_a_10_message_batch_that_must_all_wait_then_one_call_puts_them_back_each_for_its_time(stack, provider):
    # Given a provider that answers 503 (no failover): every message of the batch is retried later
    configure(provider)
    provider.handler = lambda request: (503, {}, {"error": "busy"})
    for i in range(10):
        stack.enqueue({"id": f"later-{i}", "to": "+33612345678", "text": f"m{i}"})
    records = stack.receive()
    assert len(records) == 10

    with counting_aws_calls() as calls:
        answer = handler()({"Records": records}, LambdaContext())

    # Then all ten wait, put back by one ChangeMessageVisibilityBatch, not ten calls
    assert len(answer["batchItemFailures"]) == 10
    assert calls[("sqs", "ChangeMessageVisibilityBatch")] == 1, dict(calls)
    assert ("sqs", "ChangeMessageVisibility") not in calls
    # And none of them is visible again at once: each waits for its backoff
    assert stack.session.client("sqs").receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10,
                                                       WaitTimeSeconds=0).get("Messages", []) == []
    assert {message(f"later-{i}")["status"] for i in range(10)} == {"queued"}


def test_given_a_receipt_sqs_no_longer_knows_when_records_are_delayed_then_only_it_is_reported_not_delayed(stack):
    # Given 12 received records (two calls' worth), one of whose receipt handles SQS no longer knows
    from smsbridge.models.queue import QueuedRecord
    from smsbridge.wiring import outbound_queue

    for i in range(12):
        stack.enqueue({"id": f"stale-{i}", "to": "+33612345678", "text": f"m{i}"})
    records = [QueuedRecord.model_validate(r) for r in stack.receive()]
    records += [QueuedRecord.model_validate(r) for r in stack.receive()]
    assert len(records) == 12
    stale = records[3].model_copy(update={"receiptHandle": "not-a-receipt-handle"})

    # When each is put back to be received again at once (a delay of 0 s)
    with counting_aws_calls() as calls:
        failed = outbound_queue().delay_all([(record, 0) for record in [*records[:3], stale, *records[4:]]])

    # Then two batch calls were made, only the stale record is reported (SQS brings it back after the queue's
    # visibility timeout), and the 11 others are visible again
    assert calls[("sqs", "ChangeMessageVisibilityBatch")] == 2
    assert failed == {stale.messageId}
    again = stack.receive() + stack.receive()
    assert sorted(r["messageId"] for r in again) == sorted(r.messageId for r in records if r.messageId != stale.messageId)
