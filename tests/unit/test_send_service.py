"""The send use case with in-memory adapters: what each record becomes, without any I/O."""
from __future__ import annotations

import pytest

import json
from datetime import datetime, timedelta, timezone

from smsbridge.adapters.oauth_tokens import TokenUnavailable
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.queue import QueuedRecord
from smsbridge.models.wire import HttpResponse
from smsbridge.services.send import SendService
from tests.support.fakes import MemoryConsent, MemoryMessages, MemoryProviders, MemoryQueue

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
PROVIDER = ProviderConfig.model_validate({
    "id": "acme", "default_sender": "ACME",
    "request": {"url": "https://sms.example.com/send", "body": {"to": "{{to}}", "text": "{{text}}"}},
    "response": {"message_id_jmespath": "id"}})


class ScriptedClient:
    """Answers each send with the next scripted answer (an HttpResponse, or an exception to raise)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def send(self, provider, request, now):
        self.sent.append(json.loads(request.body))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class FlakyProviders(MemoryProviders):
    """One provider's configuration cannot be read (DynamoDB having a bad day for that item)."""

    def get(self, provider_id):
        if provider_id == "flaky":
            raise RuntimeError("DynamoDB is having a bad day")
        return super().get(provider_id)


def record(message_id: str, to: str = "+33612345678", queued_at: datetime = NOW, **fields) -> QueuedRecord:
    return QueuedRecord.model_validate({
        "messageId": f"sqs-{message_id}", "receiptHandle": f"rh-{message_id}",
        "body": json.dumps({"id": message_id, "to": to, "text": f"text of {message_id}", **fields}),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(queued_at.timestamp() * 1000))}})


def service(client, *, consent=None, messages=None, queue=None, providers=None):
    return SendService(providers=providers or MemoryProviders(PROVIDER), messages=messages or MemoryMessages(),
                       consent=consent or MemoryConsent(), queue=queue or MemoryQueue(),
                       client=client, clock=lambda: NOW)


def ok():
    return HttpResponse(200, {}, b'{"id": "p-1"}')


def test_given_one_record_failing_unexpectedly_then_its_neighbours_are_still_sent():
    client = ScriptedClient(ok())
    results = service(client, providers=FlakyProviders(PROVIDER)).send_batch(
        [record("a"), record("b", provider="flaky"), record("c")])

    assert not results["sqs-a"].retry and not results["sqs-c"].retry
    assert results["sqs-b"].retry
    assert sorted(m["text"] for m in client.sent) == ["text of a", "text of c"]


def test_given_the_token_endpoint_down_then_the_message_waits_without_counting_an_attempt():
    client = ScriptedClient(TokenUnavailable(retry_after_s=120))
    messages, queue = MemoryMessages(), MemoryQueue()

    results = service(client, messages=messages, queue=queue).send_batch([record("t")])

    assert results["sqs-t"].retry
    assert queue.delays == {"rh-t": 120}
    assert messages.get("t")["attempts"] == 0
    assert messages.get("t")["status"] == "queued"


def test_given_a_retry_after_beyond_the_expiry_then_the_message_comes_back_just_after_it_expires():
    client = ScriptedClient(HttpResponse(429, {"retry-after": "86400"}, b""))
    queue = MemoryQueue()
    queued_at = NOW - timedelta(days=2) + timedelta(minutes=10)  # expires in 10 minutes (expiry_days 2)

    service(client, queue=queue).send_batch([record("x", queued_at=queued_at)])

    assert 600 <= queue.delays["rh-x"] <= 602


def test_given_a_permanent_refusal_then_the_claim_is_completed_and_a_redelivery_sends_nothing():
    client = ScriptedClient(HttpResponse(400, {}, b'{"error": "bad number"}'))
    bridge = service(client)

    bridge.send_batch([record("p")])
    second = bridge.send_batch([record("p")])

    assert len(client.sent) == 1
    assert not second["sqs-p"].retry


def test_given_credentials_that_cannot_be_applied_then_the_message_fails_with_the_reason():
    from smsbridge.core.auth import AuthError

    client = ScriptedClient(AuthError("api_key token contains a line break"))
    messages = MemoryMessages()

    results = service(client, messages=messages).send_batch([record("k")])

    assert not results["sqs-k"].retry
    assert messages.get("k")["status"] == "failed"
    assert "line break" in messages.get("k")["history"][-1].reason


class ThrottledTraffic:
    """A provider's throughput granting `granted` messages now and the rest in `retry_in_s`."""

    def __init__(self, client, granted: int, retry_in_s: float):
        from smsbridge.services.dispatch import Dispatcher
        from smsbridge.services.traffic import Traffic

        self._inner = Traffic(Dispatcher(client, clock=lambda: NOW), clock=lambda: NOW)
        self.granted, self.retry_in_s = granted, retry_in_s
        self.asked = []

    def reserve(self, provider, count, lane):
        from smsbridge.services.traffic import Reservation

        self.asked.append((provider.id, count, lane.value))
        return Reservation(granted=min(count, self.granted), retry_in_s=self.retry_in_s)

    def send(self, provider, messages, *, request=None, failover=True):
        return self._inner.send(provider, messages, request=request)


def test_given_a_throughput_granting_3_of_10_then_7_wait_on_the_queue_unclaimed_and_without_an_attempt():
    client = ScriptedClient(ok())
    messages, queue = MemoryMessages(), MemoryQueue()
    traffic = ThrottledTraffic(client, granted=3, retry_in_s=2.5)
    bridge = SendService(providers=MemoryProviders(PROVIDER), messages=messages, consent=MemoryConsent(),
                         queue=queue, traffic=traffic, clock=lambda: NOW)

    results = bridge.send_batch([record(f"t{i}") for i in range(10)])

    assert traffic.asked == [("acme", 10, "NOTIFICATION")]
    assert len(client.sent) == 3
    waiting = [f"t{i}" for i in range(10) if results[f"sqs-t{i}"].retry]
    assert len(waiting) == 7
    assert all(queue.delays[f"rh-{i}"] == 2.5 for i in waiting)
    assert all(messages.get(i) is None for i in waiting)  # nothing written: not claimed, no attempt


class StaleGrantTraffic(ThrottledTraffic):
    """Grants everything at once, but every grant is already too old to start on when its request is
    about to go (a slow provider, few threads); renewing it is refused or granted as told."""

    def __init__(self, client, *, renew_granted: bool):
        super().__init__(client, granted=100, retry_in_s=0.0)
        self.renew_granted, self.renewed, self.given_back = renew_granted, [], []

    def reserve(self, provider, count, lane):
        from smsbridge.services.traffic import Reservation

        return Reservation(granted=count, at_ms=1)

    def late(self, reservation):
        return reservation.at_ms == 1

    def renew(self, provider, reservation, count, lane):
        from smsbridge.services.traffic import Reservation

        self.renewed.append(count)
        return Reservation(granted=count, at_ms=2) if self.renew_granted else Reservation(granted=0, retry_in_s=1.5)

    def give_back(self, provider, reservation, count):
        self.given_back.append((reservation.at_ms, count))


@pytest.mark.parametrize("renew_granted", [True, False])
def test_given_a_grant_too_old_to_start_on_then_it_is_renewed_before_sending_or_the_message_waits_unsent(renew_granted):
    client = ScriptedClient(ok())
    messages, queue = MemoryMessages(), MemoryQueue()
    traffic = StaleGrantTraffic(client, renew_granted=renew_granted)
    bridge = SendService(providers=MemoryProviders(PROVIDER), messages=messages, consent=MemoryConsent(),
                         queue=queue, traffic=traffic, clock=lambda: NOW)

    results = bridge.send_batch([record("r1"), record("r2")])

    assert traffic.renewed == [1, 1]  # each request renews its own grant, never sends on the stale one
    if renew_granted:
        assert len(client.sent) == 2 and not any(r.retry for r in results.values())
        assert traffic.given_back == []
    else:
        # Nothing reached the provider; each waits for the limiter's time, not as an attempt, and the stale
        # grant goes back to the window
        assert client.sent == [] and all(r.retry for r in results.values())
        assert queue.delays == {"rh-r1": 1.5, "rh-r2": 1.5}
        assert traffic.given_back == [(1, 2)]
        for message_id in ("r1", "r2"):
            item = messages.get(message_id)
            assert item["status"] == "queued" and int(item.get("attempts", 0)) == 0
            assert "too old to start on" in item["history"][-1].reason


class CountingConsent(MemoryConsent):
    def __init__(self):
        super().__init__()
        self.read = []

    def states(self, subjects):
        self.read.append(list(subjects))
        return super().states(subjects)


def test_given_notifications_only_then_consent_is_not_read_and_marketing_is_read_in_one_call():
    from smsbridge.core.consent import ConsentState

    consent = CountingConsent()
    consent.by_subject[("acme", "+33612345678")] = ConsentState.OPTED_OUT
    messages = MemoryMessages()
    bridge = service(ScriptedClient(ok()), consent=consent, messages=messages)

    bridge.send_batch([record("n1"), record("n2")])
    assert consent.read == []
    bridge.send_batch([record("p1", type="MARKETING"), record("p2", type="MARKETING", to="+33699999999")])

    assert len(consent.read) == 1
    assert messages.get("p1")["status"] == "blocked"
    assert messages.get("p2")["status"] == "sent"
    assert messages.get("n1")["status"] == "sent"  # opted out, but a notification goes out


def test_given_the_same_message_twice_in_one_batch_then_it_is_sent_once_and_the_copy_waits():
    client = ScriptedClient(ok())
    queue = MemoryQueue()

    copy = record("twice").model_copy(update={"messageId": "sqs-copy", "receiptHandle": "rh-copy"})

    results = service(client, queue=queue).send_batch([record("twice"), copy])

    assert len(client.sent) == 1
    assert not results["sqs-twice"].retry
    assert results["sqs-copy"].retry and "rh-copy" in queue.delays


class RecordingTraffic:
    """Answers each send with the next scripted outcome from the named provider, and records what was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def reserve(self, provider, count, lane):
        from smsbridge.services.traffic import Reservation

        return Reservation(granted=count)

    def send(self, provider, messages, *, request=None, failover=True):
        from smsbridge.services.traffic import Delivery

        self.calls.append((provider.id, failover))
        by, outcome = self.answers.pop(0)
        return [Delivery(outcome, by, requested=True) for _ in messages]


def test_given_a_timeout_at_the_failover_provider_when_the_message_is_retried_then_it_goes_to_that_provider_alone():
    from smsbridge.core.classify import Outcome

    primary = PROVIDER.model_copy(update={"failover": ["backup"]})
    backup = PROVIDER.model_copy(update={"id": "backup"})
    traffic = RecordingTraffic((backup, Outcome("retry", "timed out after the request was sent")),
                               (backup, Outcome("sent", "accepted", provider_message_id="b-1", status_code=200)))
    messages, queue = MemoryMessages(), MemoryQueue()
    bridge = SendService(providers=MemoryProviders(primary, backup), messages=messages, consent=MemoryConsent(),
                         queue=queue, traffic=traffic, clock=lambda: NOW)

    first = bridge.send_batch([record("m1")])
    second = bridge.send_batch([record("m1")])

    assert first["sqs-m1"].retry and not second["sqs-m1"].retry
    # The first try may have reached the backup: the retry goes there, and nowhere else.
    assert traffic.calls == [("acme", True), ("backup", False)]
    assert messages.get("m1")["status"] == "sent"


def test_given_a_503_then_the_retry_may_fail_over_again():
    from smsbridge.core.classify import Outcome

    traffic = RecordingTraffic((PROVIDER, Outcome("retry", "HTTP 503", status_code=503, not_taken=True)),
                               (PROVIDER, Outcome("sent", "accepted", provider_message_id="p-1", status_code=200)))
    bridge = SendService(providers=MemoryProviders(PROVIDER), messages=MemoryMessages(), consent=MemoryConsent(),
                         queue=MemoryQueue(), traffic=traffic, clock=lambda: NOW)

    bridge.send_batch([record("m2")])
    bridge.send_batch([record("m2")])

    assert traffic.calls == [("acme", True), ("acme", True)]


def test_given_too_little_time_left_for_the_providers_timeout_then_nothing_is_sent_and_the_messages_come_back_at_once():
    client = ScriptedClient(ok())
    messages, queue = MemoryMessages(), MemoryQueue()
    bridge = service(client, messages=messages, queue=queue)

    # 5 s left, a provider that may take 10 s to answer: a request started now could be cut by the timeout.
    results = bridge.send_batch([record("late-1"), record("late-2")], remaining_ms=5_000)

    assert client.sent == []
    assert all(r.retry for r in results.values())
    assert queue.delays == {"rh-late-1": 0.0, "rh-late-2": 0.0}
    item = messages.get("late-1")
    assert item["status"] == "queued" and item["attempts"] == 0 and not item.get("claimed_by")
    assert "time was running out" in item["history"][-1].reason
