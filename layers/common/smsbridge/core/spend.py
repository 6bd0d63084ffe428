"""Spend limits' arithmetic (SPEC 3 `spend_limit`): calendar months (UTC), what fits under a limit, the alert levels, the alert email."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ALERT_LEVELS = (80, 100)  # per cent of the month's limit


def month_of(now: datetime) -> str:
    """The calendar month (UTC) `now` counts in: `YYYY-MM`."""
    return now.astimezone(UTC).strftime("%Y-%m")


def next_month(now: datetime) -> datetime:
    """The first instant of the month after `now`'s (UTC)."""
    at = now.astimezone(UTC)
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def fitting(segments: Sequence[int], used: int, limit: int) -> int:
    """How many of the messages, in order, fit under `limit` after `used`: the longest prefix (a
    message that does not fit is not overtaken by a shorter one behind it: they keep their order)."""
    room, count = limit - used, 0
    for size in segments:
        if size > room:
            break
        room -= size
        count += 1
    return count


def levels_reached(used: int, limit: int) -> tuple[int, ...]:
    """The alert levels the month's count has reached (`used * 100 >= level * limit`)."""
    return tuple(level for level in ALERT_LEVELS if used * 100 >= level * limit)


def spend_wait_s(now: datetime, recheck_s: float) -> float:
    """How long a message past the limit waits before it is looked at again: until the month
    changes, or `recheck_s` at most, so that a raised limit releases it."""
    return max(1.0, min(recheck_s, (next_month(now) - now).total_seconds()))


@dataclass(frozen=True)
class SpendEmail:
    subject: str
    text: str


def spend_email(level: int, *, provider_id: str, month: str, used: int, limit: int, types: Sequence[str],
                waiting: bool = False) -> SpendEmail:
    """The email at 80 % or 100 % of a provider's monthly limit."""
    kinds = " and ".join(types)
    if level >= 100:
        subject = f"SMS Bridge: provider {provider_id} reached its spend limit for {month}"
        text = (f"Provider {provider_id} has counted {used} of its {limit} segments for {month} (UTC).\n"
                f"{kinds} messages to this provider now wait on their queue, neither lost nor failed, until "
                f"the next month or until spend_limit.segments_per_month is raised; they expire as usual.")
        if waiting:
            text += "\nA message is waiting already."
    else:
        subject = f"SMS Bridge: provider {provider_id} used {level} % of its spend limit for {month}"
        text = (f"Provider {provider_id} has counted {used} of its {limit} segments for {month} (UTC).\n"
                f"At {limit} segments, {kinds} messages to this provider will wait until the next month or "
                f"until spend_limit.segments_per_month is raised.")
    return SpendEmail(subject, text)


@dataclass(frozen=True)
class MonthCount:
    """A provider's month as the shared item holds it: `used` segments, the alert levels sent,
    the limit last applied; `added` whether the write that returned it counted the segments asked."""

    used: int = 0
    alerts: frozenset[int] = frozenset()
    limit: int | None = None
    added: bool = False
