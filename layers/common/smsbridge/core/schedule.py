"""When a message with `send_at` goes out (SPEC 2): now, after a delay on its queue, or from the messages table's due index."""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

# SQS holds a message back for at most 15 minutes (DelaySeconds, or a received message's visibility
# as the send path uses it): anything further waits in the messages table for the sweep.
QUEUE_DELAY_MAX_S = 900
# How far ahead a message may be scheduled.
SEND_AT_MAX_AHEAD = timedelta(days=365)
# The largest body kept in the messages table for the sweep (an item holds 400 KB, history included).
SCHEDULED_BODY_MAX_BYTES = 256 * 1024
# A `send_at` this close is on time already: not worth a round trip through the queue.
ON_TIME_S = 1.0
# The due index's partitions: a campaign scheduled for one minute spreads its index writes over
# these (DynamoDB serves about 1,000 writes a second per partition key), and the sweep reads each
# with one Query.
DUE_SHARDS = 4


@dataclass(frozen=True)
class SendAtPlan:
    """`now`: send as usual; `queue`: wait `delay_s` on the lane's queue; `table`: wait in the
    messages table's due index until the sweep puts it on the queue."""

    kind: Literal["now", "queue", "table"]
    delay_s: int = 0


def send_at_problem(send_at: datetime | None, now: datetime) -> str | None:
    """Why `send_at` cannot be taken (further than a year ahead), or None."""
    if send_at is not None and send_at - now > SEND_AT_MAX_AHEAD:
        return (f"send_at: {iso_utc(send_at)} is more than {SEND_AT_MAX_AHEAD.days} days ahead "
                f"(at most {iso_utc(now + SEND_AT_MAX_AHEAD)})")
    return None


def scheduled_body_problem(body_bytes: int) -> str | None:
    """Why a body cannot wait in the messages table (an item holds 400 KB, its history included), or None."""
    if body_bytes > SCHEDULED_BODY_MAX_BYTES:
        return (f"send_at: a message scheduled more than 15 minutes ahead waits in the messages table, where "
                f"its body may take {SCHEDULED_BODY_MAX_BYTES} bytes; this one takes {body_bytes}")
    return None


def plan_send_at(send_at: datetime | None, now: datetime) -> SendAtPlan:
    """Where a message waits for its `send_at` (in the past or within a second: it does not wait)."""
    if send_at is None:
        return SendAtPlan("now")
    left = (send_at - now).total_seconds()
    if left <= ON_TIME_S:
        return SendAtPlan("now")
    if left <= QUEUE_DELAY_MAX_S:
        return SendAtPlan("queue", delay_seconds(send_at, now))
    return SendAtPlan("table")


def delay_seconds(send_at: datetime, now: datetime) -> int:
    """The queue delay that brings the message back at `send_at`, never before it (SQS counts
    whole seconds), within SQS's 0 to 900 s."""
    return max(0, min(QUEUE_DELAY_MAX_S, math.ceil((send_at - now).total_seconds())))


def iso_utc(moment: datetime) -> str:
    """The records' time format (`smsbridge.clock.iso_utc`: fixed width, so keys sort as times do)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def due_shard(message_id: str) -> str:
    """The due index partition of a message (stable, spread by its id)."""
    return str(zlib.crc32(message_id.encode()) % DUE_SHARDS)


def due_key(send_at: datetime, message_id: str) -> str:
    """The due index sort key: the time (fixed-width ISO, sorting as the times do), then the id."""
    return f"{iso_utc(send_at)}#{message_id}"


def sweep_horizon(now: datetime) -> str:
    """The largest due key the sweep takes at `now`: every message due within a queue delay (15
    minutes), those whose time passed included (a sweep that failed or ran late leaves them there)."""
    return f"{iso_utc(now + timedelta(seconds=QUEUE_DELAY_MAX_S))}#\uffff"
