"""The bridge's clock, and the one way its records write a moment."""
from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """A fixed-width UTC ISO-8601 time (microseconds, `Z`): such strings sort as the times do,
    which the consent ledger's conditional write relies on, and every history reads alike."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
