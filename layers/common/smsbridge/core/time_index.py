"""The keys of the month-sharded time indexes (messages, inbound messages) and their opaque page cursor.

A constant partition key per month would take every write of the month on one index partition
(about 1,000 writes/s, and a throttled index throttles the table's writes too); each item goes to
one of `SHARDS` partitions of its month, chosen by its id, and a reader queries the shards of each
month and merges them by the sort key, which is the ISO time then the id: unique, time-ordered.
"""
from __future__ import annotations

import base64
import binascii
import json
import zlib
from datetime import UTC, datetime, timedelta

SHARDS = 4
# Sorts after every character of an id, so that `until` takes the items of its very microsecond.
_AFTER_ANY_ID = "\U0010ffff"


def shard_of(item_id: str) -> int:
    return zlib.crc32(item_id.encode("utf-8")) % SHARDS


def month_of(iso_time: str) -> str:
    """`2026-11` of `2026-11-30T12:00:00.000000Z`."""
    return iso_time[:7]


def partition_key(item_id: str, iso_time: str) -> str:
    return f"{month_of(iso_time)}#{shard_of(item_id)}"


def sort_key(item_id: str, iso_time: str) -> str:
    return f"{iso_time}#{item_id}"


def time_of(key: str) -> datetime:
    """The time of a sort key (or of a bound)."""
    return datetime.fromisoformat(key.split("#", 1)[0])


def lower_bound(iso_time: str) -> str:
    return iso_time


def upper_bound(iso_time: str) -> str:
    return f"{iso_time}#{_AFTER_ANY_ID}"


def month_windows(since: str, before: str) -> list[tuple[list[str], str]]:
    """The month windows a reader goes through for keys in [since, before), newest first: each
    month's shard partitions and the key its items all sort below (the next month's start)."""
    end = time_of(before)
    if "#" not in before:  # a bare time excludes that very instant, which may open a month
        end -= timedelta(microseconds=1)
    windows = []
    for month in months_newest_first(time_of(since), end):
        year, number = int(month[:4]), int(month[5:7])
        following = f"{year + number // 12:04d}-{number % 12 + 1:02d}-01T00:00:00.000000Z"
        windows.append((month_partitions(month), following))
    return windows


def months_newest_first(since: datetime, until: datetime) -> list[str]:
    """The months (`YYYY-MM`) from `until`'s back to `since`'s."""
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    year, month = until.year, until.month
    months = []
    while (year, month) >= (since.year, since.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def month_partitions(month: str) -> list[str]:
    return [f"{month}#{shard}" for shard in range(SHARDS)]


class BadCursor(ValueError):
    """A cursor this API did not give (or gave for another query)."""


def encode_cursor(before_key: str, scope: str) -> str:
    """An opaque cursor: where the next page starts (strictly before `before_key`), for `scope`
    (the query's filters, so that a cursor is not carried over to another search)."""
    raw = json.dumps({"b": before_key, "s": scope}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, scope: str) -> str:
    """The key before which the next page starts; BadCursor when the cursor is not one of ours for `scope`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor("cursor: not a cursor this API gave (pass back the `cursor` of the previous page)") from None
    if not isinstance(value, dict) or not isinstance(value.get("b"), str) or value.get("s") != scope:
        raise BadCursor("cursor: it belongs to another search (filters changed): start again without a cursor")
    return value["b"]
