"""Spend limits without I/O: the month arithmetic (core/spend.py), the guard's counting and emails
(services/spend.py) and the send path's waits, on in-memory adapters."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge.core.spend import fitting, levels_reached, month_of, next_month, spend_email, spend_wait_s
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.queue import QueuedRecord
from smsbridge.models.wire import HttpResponse
from smsbridge.services.send import SendService
from smsbridge.services.spend import SpendGuard
from tests.support.fakes import (MemoryConsent, MemoryMailer, MemoryMessages, MemoryProviders, MemoryQueue,
                                 MemorySpend)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
BASE = {"id": "acme", "default_sender": "ACME",
        "request": {"url": "https://sms.example.com/send", "body": {"to": "{{to}}", "text": "{{text}}"}}}
LIMITED = ProviderConfig.model_validate({**BASE, "spend_limit": {"segments_per_month": 10, "email": ["ops@example.com"]}})
UNLIMITED = ProviderConfig.model_validate(BASE)


# ---------------------------------------------------------------- arithmetic

@pytest.fixture
def local_zone(monkeypatch):
    """Sets the process's local time zone (TZ) for the test, and puts it back after."""
    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()
    yield set_zone
    monkeypatch.undo()
    time.tzset()


def test_given_moments_when_their_month_is_asked_then_it_is_the_utc_calendar_month() -> None:
    assert month_of(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == "2026-11"
    assert month_of(datetime(2026, 12, 1, 0, 30, tzinfo=UTC).astimezone()) == "2026-12"
    assert next_month(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)


def test_given_a_wait_near_the_end_of_the_month_then_the_message_comes_back_when_the_month_changes() -> None:
    assert spend_wait_s(datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC), 900) == 30
    assert spend_wait_s(NOW, 900) == 900


def test_given_the_alert_levels_then_80_and_100_percent_are_reached_at_8_and_10_of_10() -> None:
    assert [levels_reached(used, 10) for used in (7, 8, 9, 10, 11)] == [(), (80,), (80,), (80, 100), (80, 100)]


def test_given_a_host_in_another_time_zone_when_the_month_is_asked_then_it_is_still_the_utc_month(local_zone) -> None:
    local_zone("America/Los_Angeles")  # 2026-12-01 00:30 UTC is still November there
    assert month_of(datetime(2026, 12, 1, 0, 30, tzinfo=UTC)) == "2026-12"
    assert next_month(datetime(2026, 12, 1, 0, 30, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)


def test_given_less_than_two_seconds_left_in_the_month_then_the_message_waits_just_that_long() -> None:
    assert spend_wait_s(datetime(2026, 11, 30, 23, 59, 58, 500000, tzinfo=UTC), 900) == 1.5
    assert spend_wait_s(datetime(2026, 11, 30, 23, 59, 59, 900000, tzinfo=UTC), 900) == 1.0


def test_given_a_count_just_under_80_percent_of_a_large_limit_then_no_level_is_reached() -> None:
    assert levels_reached(799, 1000) == ()
    assert levels_reached(800, 1000) == (80,)
    assert levels_reached(999, 1000) == (80,)


def test_given_80_percent_of_the_limit_when_the_email_is_written_then_it_names_the_limit_and_the_kinds_that_will_wait() -> None:
    email = spend_email(80, provider_id="acme", month="2026-11", used=8, limit=10, types=["marketing", "transactional"])
    assert email.subject == "SMS Bridge: provider acme used 80 % of its spend limit for 2026-11"
    assert email.text == ("Provider acme has counted 8 of its 10 segments for 2026-11 (UTC).\n"
                          "At 10 segments, marketing and transactional messages to this provider will wait until the "
                          "next month or until spend_limit.segments_per_month is raised.")


def test_given_the_limit_reached_when_the_email_is_written_then_it_says_whether_a_message_waits_already() -> None:
    first = spend_email(100, provider_id="acme", month="2026-11", used=10, limit=10, types=["marketing"])
    waiting = spend_email(100, provider_id="acme", month="2026-11", used=10, limit=10, types=["marketing"], waiting=True)
    assert first.subject == "SMS Bridge: provider acme reached its spend limit for 2026-11"
    assert first.text == ("Provider acme has counted 10 of its 10 segments for 2026-11 (UTC).\n"
                          "marketing messages to this provider now wait on their queue, neither lost nor failed, until "
                          "the next month or until spend_limit.segments_per_month is raised; they expire as usual.")
    assert waiting.text == first.text + "\nA message is waiting already."


@given(segments=st.lists(st.integers(1, 20), max_size=30), used=st.integers(0, 100), limit=st.integers(1, 100))
def test_property_what_fits_is_the_longest_prefix_within_the_limit(segments, used, limit) -> None:
    fit = fitting(segments, used, limit)
    assert used + sum(segments[:fit]) <= limit or fit == 0
    if fit < len(segments):
        assert used + sum(segments[:fit + 1]) > limit


# ---------------------------------------------------------------- the guard

def test_given_a_limit_of_10_when_ten_single_segments_then_eleven_are_asked_then_two_emails_and_the_eleventh_waits() -> None:
    counter, mailer = MemorySpend(), MemoryMailer()
    guard = SpendGuard(counter, mailer)

    granted = [guard.reserve(LIMITED, [1], NOW) for _ in range(11)]

    assert granted == [1] * 10 + [0]
    assert [subject.split(": ", 1)[1] for _, subject, _ in mailer.sent] == [
        "provider acme used 80 % of its spend limit for 2026-11", "provider acme reached its spend limit for 2026-11"]
    guard.reserve(LIMITED, [1], NOW)
    assert len(mailer.sent) == 2  # once each a month


def test_given_ses_refuses_the_alert_then_the_next_batch_sends_it() -> None:
    counter, mailer = MemorySpend(), MemoryMailer(failing=1)
    guard = SpendGuard(counter, mailer)

    guard.reserve(LIMITED, [8], NOW)
    assert mailer.sent == []
    guard.reserve(LIMITED, [1], NOW)

    assert len(mailer.sent) == 1 and "80 %" in mailer.sent[0][1]


def test_given_a_new_month_then_the_count_starts_again() -> None:
    counter = MemorySpend()
    guard = SpendGuard(counter, MemoryMailer())

    assert guard.reserve(LIMITED, [10, 1], NOW) == 1
    assert guard.reserve(LIMITED, [1], NOW + timedelta(days=10)) == 1  # December


# ---------------------------------------------------------------- the send path

def record(message_id: str, kind: str = "MARKETING") -> QueuedRecord:
    return QueuedRecord.model_validate({
        "messageId": f"sqs-{message_id}", "receiptHandle": f"rh-{message_id}",
        "body": json.dumps({"id": message_id, "to": "+33612345678", "text": "hello", "type": kind}),
        "attributes": {"SentTimestamp": str(int(NOW.timestamp() * 1000))}})


class Accepting:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, provider, request, now):
        self.sent += 1
        return HttpResponse(200, {}, b"{}")


def send_path(provider: ProviderConfig, counter: MemorySpend, messages: MemoryMessages, queue: MemoryQueue,
              client: Accepting) -> SendService:
    return SendService(providers=MemoryProviders(provider), messages=messages, consent=MemoryConsent(), queue=queue,
                       client=client, clock=lambda: NOW, spend=SpendGuard(counter, MemoryMailer()), spend_recheck_s=900)


def test_given_no_spend_limit_when_a_batch_is_sent_then_the_counter_is_never_called() -> None:
    counter, client = MemorySpend(), Accepting()

    send_path(UNLIMITED, counter, MemoryMessages(), MemoryQueue(), client).send_batch([record("a"), record("b")])

    assert client.sent == 2 and counter.calls == 0


def test_given_a_batch_when_it_is_counted_then_one_add_is_made_for_the_whole_batch() -> None:
    counter, client = MemorySpend(), Accepting()

    send_path(LIMITED, counter, MemoryMessages(), MemoryQueue(), client).send_batch(
        [record(f"m{i}") for i in range(5)])

    assert client.sent == 5 and counter.calls == 1


def test_given_a_message_counted_once_when_it_is_tried_again_then_its_segments_are_not_counted_again() -> None:
    counter, messages, queue = MemorySpend(), MemoryMessages(), MemoryQueue()

    class Busy(Accepting):
        def send(self, provider, request, now):
            self.sent += 1
            return HttpResponse(503, {}, b"busy") if self.sent == 1 else HttpResponse(200, {}, b"{}")

    path = send_path(LIMITED, counter, messages, queue, Busy())
    path.send_batch([record("m")])
    path.send_batch([record("m")])

    assert messages.items["m"]["status"] == "sent"
    assert counter.months[("acme", "2026-11")]["segments"] == 1


def test_given_notifications_when_only_marketing_is_limited_then_notifications_never_wait() -> None:
    counter, queue, client = MemorySpend(), MemoryQueue(), Accepting()
    full = ProviderConfig.model_validate({**BASE, "spend_limit": {"segments_per_month": 1}})

    results = send_path(full, counter, MemoryMessages(), queue, client).send_batch(
        [record("m1"), record("m2"), record("n1", "NOTIFICATION"), record("n2", "NOTIFICATION")])

    assert client.sent == 3
    assert [message_id for message_id, result in results.items() if result.retry] == ["sqs-m2"]
    assert queue.delays == {"rh-m2": 900}
