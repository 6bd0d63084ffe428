"""Messages that wait on their queue (issue 12, Must-show 4 and 5): quiet hours and spend limits,
through the send function on moto in-process, to a real loopback provider, with the clock injected."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from smsbridge.adapters.queue import OutboundQueue
from smsbridge.clock import utc_now
from smsbridge.models.provider import ProviderConfig
from tests.support.loopback import LoopbackProvider
from tests.support.stack import REGION, Stack

PARIS = ZoneInfo("Europe/Paris")
PARIS_MOBILE = "+33612345678"
OPS = "ops@example.com"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class WatchedQueue(OutboundQueue):
    """The stack's queues, remembering each delay asked (by message id) and able to end the delays
    at once: the test's clock moves, SQS's does not."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(stack.queue_url, stack.dead_letter_url, bulk_url=stack.bulk_queue_url,
                         sqs=stack.session.client("sqs"))
        self.delays: list[tuple[str, float]] = []
        self._waiting: list[Any] = []

    def delay_all(self, waits) -> set[str]:
        failed = super().delay_all(waits)
        for record, seconds in waits:
            self.delays.append((json.loads(record.body)["id"], seconds))
            self._waiting.append(record)
        return failed

    def time_passes(self) -> None:
        for record in self._waiting:
            self._sqs.change_message_visibility(QueueUrl=self.url_of(record.eventSourceARN),
                                                ReceiptHandle=record.receiptHandle, VisibilityTimeout=0)
        self._waiting.clear()


def configure(server: LoopbackProvider, **overrides) -> ProviderConfig:
    from smsbridge.wiring import admin_providers

    document = {"id": "acme", "default": True, "default_sender": "ACME",
                "request": {"url": server.url_for("/sms"), "body": {"to": "%TO%", "body": "%MESSAGE%"}},
                "response": {"message_id_jmespath": "id"}, **overrides}
    config = ProviderConfig.model_validate(document)
    admin_providers().put(config)
    return config


def send_with(stack: Stack, clock, queue: WatchedQueue, monkeypatch, *, spend_recheck_s: float = 2.0) -> None:
    """The send function's handler on a send path whose clock is `clock` (providers read uncached, so
    that a changed limit is seen at once)."""
    import send_handler

    from smsbridge.adapters.email import AlertMailer
    from smsbridge.services.send import SendService
    from smsbridge.services.spend import SpendGuard
    from smsbridge.wiring import admin_providers, consent_ledger, message_store, provider_client, spend_ledger

    service = SendService(providers=admin_providers(), messages=message_store(), consent=consent_ledger(),
                          queue=queue, client=provider_client(), clock=clock,
                          spend=SpendGuard(spend_ledger(), AlertMailer(stack.env["ALERT_SENDER_EMAIL"])),
                          spend_recheck_s=spend_recheck_s)
    monkeypatch.setattr(send_handler, "send_service", lambda: service)


def run(stack: Stack, rounds: int = 3) -> None:
    import send_handler

    for _ in range(rounds):
        records = stack.receive()
        if not records:
            return
        stack.deliver(records, send_handler.lambda_handler)


def enqueue(stack: Stack, message_id: str, kind: str, text: str = "hello") -> None:
    stack.enqueue({"id": message_id, "to": PARIS_MOBILE, "text": text, "type": kind})


def stored(message_id: str) -> dict:
    from smsbridge.wiring import message_store

    return message_store().get(message_id)


def texts(server: LoopbackProvider) -> list[str]:
    return [request.json()["body"] for request in server.requests]


def emails() -> list[dict[str, Any]]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [{"to": m.destinations["ToAddresses"], "subject": m.subject, "body": m.body}
            for m in backend.sent_messages]


def tonight_at_23_in_paris() -> datetime:
    """23:00 in Paris within the next day (the messages' expiry counts from SQS's real clock)."""
    local = utc_now().astimezone(PARIS)
    moment = local.replace(hour=23, minute=0, second=0, microsecond=0)
    if moment <= local:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


# ---------------------------------------------------------------- Must-show 4: quiet hours

def test_given_the_recipients_quiet_hours_when_both_types_are_queued_then_notification_goes_and_marketing_waits_until_the_window_ends(
        stack, provider, monkeypatch) -> None:
    configure(provider, quiet_hours={"start": "21:00", "end": "08:00"})
    clock = Clock(tonight_at_23_in_paris())
    queue = WatchedQueue(stack)
    send_with(stack, clock, queue, monkeypatch)
    enqueue(stack, "promo", "MARKETING", "Sale tomorrow")
    enqueue(stack, "otp", "NOTIFICATION", "Your code is 1234")

    run(stack)

    assert texts(provider) == ["Your code is 1234"]
    assert stored("otp")["status"] == "sent"
    waiting = stored("promo")
    assert waiting["status"] == "queued"
    morning = (clock.now.astimezone(PARIS) + timedelta(days=1)).replace(hour=8, minute=0).astimezone(UTC)
    assert waiting["history"][-1]["reason"] == (f"quiet hours in Europe/Paris until 08:00 local "
                                                f"({morning:%Y-%m-%d %H:%M} UTC)")
    assert queue.delays == [("promo", 900.0)]

    # Through the night, a quarter of an hour at a time: still waiting, and the history said it once.
    for now in (clock.now + timedelta(minutes=15), morning - timedelta(minutes=10)):
        clock.now = now
        queue.time_passes()
        run(stack)
    assert queue.delays[-2:] == [("promo", 900.0), ("promo", 600.0)]
    assert texts(provider) == ["Your code is 1234"]
    assert [entry.get("reason", "").startswith("quiet hours") for entry in stored("promo")["history"]] == [False, True]

    clock.now = morning + timedelta(seconds=30)
    queue.time_passes()
    run(stack)

    assert texts(provider) == ["Your code is 1234", "Sale tomorrow"]
    assert [entry["status"] for entry in stored("promo")["history"]] == ["queued", "queued", "sent"]
    assert stack.queued() == [] and stack.dead_letters() == []


def test_given_quiet_hours_longer_than_the_messages_life_when_it_waits_then_it_expires_at_its_expiry_unsent(
        stack, provider, monkeypatch) -> None:
    configure(provider, quiet_hours={"start": "21:00", "end": "08:00"})
    clock = Clock(tonight_at_23_in_paris())
    queue = WatchedQueue(stack)
    send_with(stack, clock, queue, monkeypatch)
    expires = clock.now + timedelta(minutes=5)
    stack.enqueue({"id": "late", "to": PARIS_MOBILE, "text": "too late", "type": "MARKETING",
                   "expires_at": expires.isoformat()})

    run(stack)
    assert queue.delays == [("late", 301.0)]  # back just after its expiry, not at 08:00
    clock.now = expires + timedelta(seconds=1)
    queue.time_passes()
    run(stack)

    assert provider.requests == []
    assert stored("late")["status"] == "expired"


# ---------------------------------------------------------------- Must-show 5: spend limits

def test_given_a_limit_of_10_segments_when_11_marketing_messages_are_queued_then_the_11th_waits_two_emails_go_and_a_higher_limit_releases_it(
        stack, provider, monkeypatch) -> None:
    from smsbridge.wiring import spend_desk

    configure(provider, spend_limit={"segments_per_month": 10, "types": ["MARKETING"], "email": [OPS]})
    queue = WatchedQueue(stack)
    send_with(stack, utc_now, queue, monkeypatch, spend_recheck_s=2.0)
    for n in range(1, 12):
        enqueue(stack, f"m{n:02d}", "MARKETING", f"offer {n}")
    enqueue(stack, "otp", "NOTIFICATION", "Your code is 1234")  # not a limited type: never waits

    run(stack, rounds=4)

    assert sorted(texts(provider)) == sorted([f"offer {n}" for n in range(1, 11)] + ["Your code is 1234"])
    (waiting,) = [f"m{n:02d}" for n in range(1, 12) if stored(f"m{n:02d}")["status"] == "queued"]
    reasons = [entry.get("reason", "") for entry in stored(waiting)["history"]]
    assert reasons[-1].startswith("spend limit of provider acme reached for ") and "(10 segments)" in reasons[-1]
    assert queue.delays == [(waiting, 2.0)]
    sent = emails()
    assert [email["to"] for email in sent] == [[OPS], [OPS]]
    assert "used 80 % of its spend limit" in sent[0]["subject"]
    assert "reached its spend limit" in sent[1]["subject"]
    view = spend_desk().report("acme")
    assert (view.segments, view.limit, view.reached, sorted(view.alerts_sent)) == (10, 10, True, [80, 100])

    # Waiting again does not say it again, nor email again.
    queue.time_passes()
    run(stack)
    assert stored(waiting)["status"] == "queued" and len(stored(waiting)["history"]) == len(reasons)

    configure(provider, spend_limit={"segments_per_month": 20, "types": ["MARKETING"], "email": [OPS]})
    queue.time_passes()
    run(stack)

    assert stored(waiting)["status"] == "sent"
    assert len(provider.requests) == 12 and len(emails()) == 2
    assert all(stored(f"m{n:02d}")["status"] == "sent" for n in range(1, 12))  # nothing lost
    assert stack.queued() == [] and stack.dead_letters() == []
    assert spend_desk().report("acme").segments == 11


def test_given_a_message_of_several_segments_when_it_does_not_fit_then_it_waits_and_a_shorter_one_behind_it_waits_too(
        stack, provider, monkeypatch) -> None:
    configure(provider, spend_limit={"segments_per_month": 3, "email": [OPS]})
    queue = WatchedQueue(stack)
    send_with(stack, utc_now, queue, monkeypatch)
    enqueue(stack, "long", "MARKETING", "x" * 400)  # 3 segments of GSM-7
    enqueue(stack, "longer", "MARKETING", "y" * 200)  # 2 segments: does not fit after the first
    enqueue(stack, "short", "MARKETING", "z")

    run(stack)

    assert [stored(i)["status"] for i in ("long", "longer", "short")] == ["sent", "queued", "queued"]
    assert {message_id for message_id, _ in queue.delays} == {"longer", "short"}


def test_given_no_spend_limit_when_messages_are_sent_then_nothing_is_counted_in_the_traffic_table(
        stack, provider, monkeypatch) -> None:
    configure(provider)
    send_with(stack, utc_now, WatchedQueue(stack), monkeypatch)
    enqueue(stack, "m1", "MARKETING")

    run(stack)

    assert stored("m1")["status"] == "sent"
    assert stack.scan("TrafficTable") == []


def test_given_a_message_that_waited_100_hops_when_it_must_wait_again_then_it_goes_back_as_a_new_message_keeping_its_expiry(
        stack, provider, monkeypatch) -> None:
    import send_handler

    configure(provider, spend_limit={"segments_per_month": 1, "email": [OPS]})
    queue = WatchedQueue(stack)
    send_with(stack, utc_now, queue, monkeypatch)
    enqueue(stack, "first", "MARKETING")
    run(stack)
    enqueue(stack, "patient", "MARKETING")
    (record,) = stack.receive()
    record["attributes"]["ApproximateReceiveCount"] = "100"  # SQS would dead-letter it at 200
    queued_at = datetime.fromtimestamp(int(record["attributes"]["SentTimestamp"]) / 1000, UTC)

    answer = stack.deliver([record], send_handler.lambda_handler)

    assert answer == {"batchItemFailures": []}  # the old message is deleted...
    time.sleep(2.2)  # the new message's delay: the re-check interval (2 s here)
    (body,) = stack.queued()  # ...and a new one waits in its place, its default expiry written down
    assert body["id"] == "patient"
    assert datetime.fromisoformat(body["expires_at"]) == queued_at + timedelta(days=2)
    assert stored("patient")["status"] == "queued" and stack.dead_letters() == []
