"""Quiet hours (SPEC 3 `quiet_hours`): when a MARKETING message may reach a number, from the number's time zones.

The recipient's zones come from `phonenumbers` (the area code where the numbering plan has one; a
mobile number its country's zones). A number phonenumbers does not hold valid (`Etc/Unknown`: a new
or a test range) takes the zones of its longest known prefix, down to its country code; a number
with no country (+800, +882 and the other non-geographic codes) is read in UTC. A number spanning several zones waits until no zone is inside the window. When the
windows of all its zones together cover the whole day (+1 numbers without an area code span Guam to
Hawaii), no such moment exists: it then goes at the next moment when the fewest zones are inside.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_zones

from smsbridge.models.provider import QuietHours

UNKNOWN_ZONE = phone_zones.UNKNOWN_TIMEZONE
FALLBACK_ZONE = "UTC"
_SEARCH = timedelta(days=2)  # any window repeats daily: two days hold every candidate moment


@dataclass(frozen=True)
class QuietWait:
    """The message may go at `until` (UTC), when the window ends in `zone` (the last zone to leave it)."""

    until: datetime
    zone: str

    @property
    def local_until(self) -> datetime:
        return self.until.astimezone(ZoneInfo(self.zone))

    def describe(self) -> str:
        """The reason the history keeps, e.g. `quiet hours in Europe/Paris until 08:00 local (07:00 UTC)`."""
        return (f"quiet hours in {self.zone} until {self.local_until:%H:%M} local "
                f"({self.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC)")


def zones_of(number: str) -> tuple[str, ...]:
    """The time zones of an E.164 number: its own, else its country's, else UTC."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return (FALLBACK_ZONE,)
    zones = phone_zones.time_zones_for_number(parsed)
    if not zones or UNKNOWN_ZONE in zones:
        # Not a valid number in phonenumbers' metadata (a new range, a test range): the zones of its
        # longest known prefix, down to the country code.
        zones = phone_zones.time_zones_for_geographical_number(parsed) or ()
    zones = tuple(z for z in zones if z != UNKNOWN_ZONE)
    return zones or (FALLBACK_ZONE,)


def quiet_until(number: str, window: QuietHours, now: datetime) -> QuietWait | None:
    """When a MARKETING message to `number` may go: None for now, else the end of the quiet hours."""
    return wait_for_zones(zones_of(number), window, now)


def wait_for_zones(zones: tuple[str, ...], window: QuietHours, now: datetime) -> QuietWait | None:
    """`quiet_until` for a number's zones (`now` aware)."""
    return _wait(tuple(sorted(set(zones))), _clock_time(window.start), _clock_time(window.end), now.astimezone(UTC))


@lru_cache(maxsize=1024)  # a batch shares one `now`, and a campaign a few zone lists
def _wait(zones: tuple[str, ...], start: time, end: time, now: datetime) -> QuietWait | None:
    inside = [zone for zone in zones if _inside(now, ZoneInfo(zone), start, end)]
    if not inside:
        return None
    if len(zones) == 1:
        return QuietWait(_window_end(now, ZoneInfo(zones[0]), start, end), zones[0])
    # The moments the count of zones inside can drop are the windows' ends: try each, earliest first.
    ends = sorted({(moment, zone) for zone in zones for moment in _ends(now, ZoneInfo(zone), start, end)})
    best: tuple[int, datetime, str] | None = None
    for moment, zone in ends:
        count = sum(_inside(moment, ZoneInfo(other), start, end) for other in zones)
        if count == 0:
            return QuietWait(moment, zone)
        if best is None or count < best[0]:
            best = (count, moment, zone)
    if best is not None and best[0] < len(inside):
        return QuietWait(best[1], best[2])
    return None  # as good now as at any moment of the day


def _inside(moment: datetime, zone: ZoneInfo, start: time, end: time) -> bool:
    local = moment.astimezone(zone).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window crosses midnight


def _window_end(moment: datetime, zone: ZoneInfo, start: time, end: time) -> datetime:
    """The end of the window `moment` is inside, in `zone`."""
    local = moment.astimezone(zone)
    day = local.date()
    if start > end and local.time().replace(tzinfo=None) >= start:
        day += timedelta(days=1)  # the evening part: the window ends the next morning
    ending = _first_instant_at(day, end, zone)
    if ending <= moment:  # a clock set back: the second pass of that hour
        ending = datetime.combine(day, end, tzinfo=zone).replace(fold=1).astimezone(UTC)
    return max(ending, moment)


def _ends(moment: datetime, zone: ZoneInfo, start: time, end: time) -> list[datetime]:
    """Every end of the window in `zone` from `moment` to `moment + _SEARCH`."""
    first = moment.astimezone(zone).date()
    days = [first + timedelta(days=i) for i in range(_SEARCH.days + 1)]
    return [at for at in (_first_instant_at(day, end, zone) for day in days) if moment < at <= moment + _SEARCH]


def _first_instant_at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The first UTC instant at which the wall clock of `zone` reads `clock` or later on `day`: the
    clock time itself, its first pass when the clock is set back, or the moment the clock jumps over it."""
    wall = datetime.combine(day, clock)
    early = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) == wall:
        return early
    # In a gap (clocks set forward): fold 0 and 1 give two instants around the jump.
    late = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(early, late), max(early, late)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
