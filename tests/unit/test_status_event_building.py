"""Status events built from two images of a message's item, the callbacks' signature and their retry schedule (SPEC 10)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from smsbridge.core.status_events import (
    EVENT_FIELDS,
    callback_headers,
    callback_retry,
    callback_signature,
    event_body,
    status_events,
)

QUEUED = {"status": "queued", "at": "2026-01-01T10:00:00.000000Z", "attempt": 0, "reason": "default provider"}
SENT = {"status": "sent", "at": "2026-01-01T10:00:01.000000Z", "attempt": 1, "reason": "accepted (201)",
        "provider": "sandbox"}


def item(status: str, history: list[dict], **fields) -> dict:
    return {"id": "m-1", "status": status, "history": history, "to": "+33612345678", "provider": "sandbox",
            "type": "NOTIFICATION", "segments": Decimal(1), "campaign_id": "spring",
            "metadata": {"order": Decimal("42"), "ratio": Decimal("0.5"), "tags": ["a"]}, **fields}


def test_given_a_new_item_when_its_events_are_built_then_queued_is_published_with_no_previous_status():
    events = status_events(None, item("queued", [QUEUED]))

    assert events == [{"id": "m-1", "status": "queued", "previous_status": None, "provider": "sandbox",
                       "provider_message_id": None, "to": "+33612345678", "type": "NOTIFICATION", "segments": 1,
                       "attempt": 0, "reason": "default provider", "at": "2026-01-01T10:00:00.000000Z",
                       "campaign_id": "spring", "metadata": {"order": 42, "ratio": 0.5, "tags": ["a"]}}]
    assert tuple(events[0]) == EVENT_FIELDS


def test_given_a_send_when_its_events_are_built_then_attempt_reason_and_time_come_from_the_newest_entry():
    before = item("queued", [QUEUED], attempts=Decimal(1), claimed_by="token")
    after = item("sent", [QUEUED, SENT], provider_message_id="sbx_1", attempts=Decimal(1))

    [event] = status_events(before, after)

    assert (event["status"], event["previous_status"], event["attempt"], event["reason"], event["at"],
            event["provider_message_id"]) == ("sent", "queued", 1, "accepted (201)", SENT["at"], "sbx_1")


def test_given_a_claim_or_a_retry_that_stays_queued_then_no_event_is_built():
    claimed = item("queued", [QUEUED], claimed_by="token", attempts=Decimal(1))
    retry = {"status": "queued", "at": "2026-01-01T10:00:02Z", "attempt": 1, "reason": "HTTP 503; next try in 10 s"}

    assert status_events(item("queued", [QUEUED]), claimed) == []
    assert status_events(claimed, item("queued", [QUEUED, retry])) == []


def test_given_a_history_entry_the_guard_kept_from_the_status_then_no_event_is_built():
    late = {"status": "delivered", "at": "2026-01-01T11:00:00Z", "reason": "receipt after expiry"}

    assert status_events(item("expired", [QUEUED]), item("expired", [QUEUED, late])) == []


def test_given_a_message_claimed_and_found_expired_in_one_write_then_queued_and_expired_are_both_published():
    expired = {"status": "expired", "at": "2026-01-01T10:00:00.5Z", "reason": "expired before it was sent"}

    events = status_events(None, item("expired", [QUEUED, expired]))

    assert [(e["previous_status"], e["status"], e["reason"]) for e in events] == [
        (None, "queued", "default provider"), ("queued", "expired", "expired before it was sent")]


def test_given_a_failover_then_a_send_in_one_write_then_only_the_send_is_an_event():
    failover = {"status": "queued", "at": SENT["at"], "attempt": 1, "reason": "provider a did not take it"}

    events = status_events(item("queued", [QUEUED]), item("sent", [QUEUED, failover, {**SENT, "attempt": 2}]))

    assert [(e["previous_status"], e["status"], e["attempt"]) for e in events] == [("queued", "sent", 2)]


def test_given_a_removed_item_ttl_then_no_event_is_built():
    assert status_events(item("delivered", [QUEUED]), None) == []
    assert status_events(item("delivered", [QUEUED]), {}) == []


def test_given_a_status_written_without_a_history_entry_then_the_event_still_says_the_new_status():
    events = status_events(item("scheduled", [{"status": "scheduled", "at": "2026-01-01T09:00:00Z"}]),
                           item("canceled", [{"status": "scheduled", "at": "2026-01-01T09:00:00Z"}]))

    assert [(e["previous_status"], e["status"]) for e in events] == [("scheduled", "canceled")]


def test_given_a_secret_timestamp_and_body_then_the_signature_is_openssls_hmac_sha256():
    # printf '%s' '1700000000.{"id":"m-1","status":"sent"}' | openssl dgst -sha256 -hmac 'test-callback-secret'
    assert callback_signature("test-callback-secret", 1700000000, '{"id":"m-1","status":"sent"}') == \
        "704132574bfb4d387cf89059f46d2fbf74e669394711acce634805d37883f5d8"


def test_given_an_event_when_its_headers_are_made_then_they_carry_unix_seconds_and_the_signature_of_the_body():
    body = event_body({"id": "m-1", "status": "sent", "metadata": {"name": "Zoë"}})

    headers = callback_headers("test-callback-secret", body, datetime(2023, 11, 14, 22, 13, 20, 900_000, tzinfo=UTC))

    assert body == '{"id":"m-1","status":"sent","metadata":{"name":"Zoë"}}'
    assert headers["X-SmsBridge-Timestamp"] == "1700000000"
    assert headers["X-SmsBridge-Signature"] == callback_signature("test-callback-secret", 1700000000, body)


def test_given_failed_tries_then_the_next_waits_5_s_doubling_up_to_900_s():
    first = datetime(2026, 1, 1, tzinfo=UTC)

    delays = [callback_retry(first, attempts, first + timedelta(minutes=1)).delay_s for attempts in range(1, 11)]

    assert delays == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]


def test_given_24_hours_of_failures_then_the_callback_is_given_up_and_the_last_try_lands_on_the_deadline():
    first = datetime(2026, 1, 1, tzinfo=UTC)

    near_end = callback_retry(first, 50, first + timedelta(hours=24) - timedelta(seconds=60))
    at_end = callback_retry(first, 51, first + timedelta(hours=24))

    assert (near_end.give_up, near_end.delay_s) == (False, 60)
    assert at_end.give_up
