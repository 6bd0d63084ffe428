"""Status events (SPEC 10) from two images of a message's item, and the callbacks' signature and retry schedule."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

EVENT_FIELDS = ("id", "status", "previous_status", "provider", "provider_message_id", "to", "type", "segments",
                "attempt", "reason", "at", "campaign_id", "metadata")

TIMESTAMP_HEADER = "X-SmsBridge-Timestamp"
SIGNATURE_HEADER = "X-SmsBridge-Signature"

# How long a callback is tried, and how its tries are spaced: 5 s, then twice as long each time up
# to SQS's longest delay (900 s), so a receiver down for a minute hears within seconds of its return.
CALLBACK_WINDOW = timedelta(hours=24)
CALLBACK_FIRST_DELAY_S = 5.0
CALLBACK_MAX_DELAY_S = 900.0


def status_events(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The status events one write of a message's item makes: none when its status did not change
    (a claim, a retry still `queued`, a history entry a guard kept from the status, a TTL removal).

    `old` and `new` are the item before and after (deserialised; None for an insert or a removal).
    One write can pass through several statuses (a message claimed and found expired in one
    transaction: `queued` then `expired`): each of the write's history entries that changes the
    status is an event, in order, so that no status is skipped; attempt, reason and `at` come from
    that entry."""
    if not new or not new.get("status"):
        return []
    previous = (old or {}).get("status")
    if new["status"] == previous:
        return []
    old_history = (old or {}).get("history") or []
    written = (new.get("history") or [])[len(old_history):]
    events: list[dict[str, Any]] = []
    status = previous
    for entry in written:
        if entry.get("status") and entry["status"] != status:
            events.append(_event(new, entry, entry["status"], status))
            status = entry["status"]
    if status != new["status"]:
        # The history does not tell (it was written elsewhere): the item's own status, with its newest entry.
        newest = (new.get("history") or [{}])[-1]
        events.append(_event(new, newest, new["status"], status))
    return events


def _event(item: dict[str, Any], entry: dict[str, Any], status: str, previous: str | None) -> dict[str, Any]:
    return plain({
        "id": item["id"], "status": status, "previous_status": previous,
        "provider": item.get("provider"), "provider_message_id": item.get("provider_message_id"),
        "to": item.get("to"), "type": item.get("type"), "segments": item.get("segments"),
        "attempt": entry.get("attempt", 0), "reason": entry.get("reason"),
        "at": entry.get("at") or item.get("updated_at"),
        "campaign_id": item.get("campaign_id"), "metadata": item.get("metadata"),
    })


def plain(value: Any) -> Any:
    """DynamoDB's numbers (Decimal) as ints and floats, recursively: JSON as the caller wrote it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def event_body(event: dict[str, Any]) -> str:
    """The JSON a callback POSTs: compact, UTF-8, the same bytes on every try (they are signed)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def callback_signature(secret: str, timestamp: int, body: str | bytes) -> str:
    """Hex HMAC-SHA256 of `timestamp + "." + body` (SPEC 10)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + raw, hashlib.sha256).hexdigest()


def callback_headers(secret: str, body: str, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {"Content-Type": "application/json; charset=utf-8", TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: callback_signature(secret, timestamp, body)}


@dataclass(frozen=True)
class CallbackRetry:
    """What to do with a callback that was not answered with a 2xx: wait `delay_s`, or give up."""

    give_up: bool
    delay_s: float = 0.0


def callback_retry(first_attempt_at: datetime, attempts: int, now: datetime) -> CallbackRetry:
    """After `attempts` failed tries (the first at `first_attempt_at`): the next one waits 5 s · 2^(attempts-1),
    at most 900 s, and none starts past 24 h after the first."""
    deadline = first_attempt_at + CALLBACK_WINDOW
    if now >= deadline:
        return CallbackRetry(give_up=True)
    delay = min(CALLBACK_MAX_DELAY_S, CALLBACK_FIRST_DELAY_S * 2 ** max(0, attempts - 1))
    # The last try lands on the deadline rather than past it.
    return CallbackRetry(give_up=False, delay_s=max(1.0, min(delay, (deadline - now).total_seconds())))
