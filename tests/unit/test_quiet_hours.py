"""Quiet hours' pure rule (core/quiet_hours.py): the recipient's zones, windows over midnight or not, DST days, several zones."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsbridge.core.quiet_hours import quiet_until, wait_for_zones, zones_of
from smsbridge.models.provider import QuietHours

PARIS_MOBILE = "+33612345678"
NEW_YORK = "+12125551234"
NIGHT = QuietHours(start="21:00", end="08:00")
LUNCH = QuietHours(start="12:00", end="14:00")
PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def test_given_a_paris_number_at_23h_local_when_asked_then_it_waits_until_8h_local() -> None:
    wait = quiet_until(PARIS_MOBILE, NIGHT, paris(2026, 11, 20, 23, 0))

    assert wait is not None
    assert wait.until == paris(2026, 11, 21, 8, 0)
    assert wait.zone == "Europe/Paris"
    assert wait.describe() == "quiet hours in Europe/Paris until 08:00 local (2026-11-21 07:00 UTC)"


def test_given_a_paris_number_after_midnight_when_asked_then_it_waits_until_8h_the_same_morning() -> None:
    wait = quiet_until(PARIS_MOBILE, NIGHT, paris(2026, 11, 21, 3, 30))

    assert wait is not None and wait.until == paris(2026, 11, 21, 8, 0)


def test_given_the_window_edges_when_asked_then_start_is_inside_and_end_is_outside() -> None:
    at_start = quiet_until(PARIS_MOBILE, NIGHT, paris(2026, 11, 20, 21, 0))
    assert at_start is not None and at_start.until == paris(2026, 11, 21, 8, 0)
    assert quiet_until(PARIS_MOBILE, NIGHT, paris(2026, 11, 20, 20, 59)) is None
    assert quiet_until(PARIS_MOBILE, NIGHT, paris(2026, 11, 21, 8, 0)) is None


def test_given_a_window_within_the_day_when_asked_then_only_that_window_waits() -> None:
    assert quiet_until(PARIS_MOBILE, LUNCH, paris(2026, 11, 20, 11, 59)) is None
    at_start = quiet_until(PARIS_MOBILE, LUNCH, paris(2026, 11, 20, 12, 0))
    assert at_start is not None and at_start.until == paris(2026, 11, 20, 14, 0)
    wait = quiet_until(PARIS_MOBILE, LUNCH, paris(2026, 11, 20, 12, 30))
    assert wait is not None and wait.until == paris(2026, 11, 20, 14, 0)
    assert quiet_until(PARIS_MOBILE, LUNCH, paris(2026, 11, 20, 23, 0)) is None


def test_given_the_night_the_clocks_go_forward_when_the_window_ends_in_the_gap_then_it_ends_at_the_jump() -> None:
    # 2026-03-29 in Paris: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 never shows.
    window = QuietHours(start="22:00", end="02:30")
    wait = quiet_until(PARIS_MOBILE, window, paris(2026, 3, 28, 23, 0))

    assert wait is not None
    assert wait.until == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "day", "jump"), [
    ("Europe/Paris", datetime(2026, 3, 29), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # 02:00 CET -> 03:00 CEST
    ("America/New_York", datetime(2026, 3, 8), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),  # 02:00 EST -> 03:00 EDT
    ("Australia/Lord_Howe", datetime(2026, 10, 4), datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),  # 02:00 -> 02:30
])
def test_given_a_window_ending_anywhere_in_the_gap_when_asked_then_it_ends_at_the_jump_to_the_second(
        zone, day, jump) -> None:
    # 02:05 is not the middle of the gap, so no halving lands on the jump itself: the answer is found to the second.
    now = datetime.combine(day.date() - timedelta(days=1), datetime.min.time().replace(hour=23), tzinfo=ZoneInfo(zone))

    wait = wait_for_zones((zone,), QuietHours(start="22:00", end="02:05"), now)

    assert wait is not None and wait.until == jump


def test_given_the_night_the_clocks_go_back_when_asked_then_the_window_ends_at_8h_summer_or_winter_alike() -> None:
    # 2026-10-25 in Paris: 03:00 CEST becomes 02:00 CET. The night is an hour longer, the window too.
    wait = quiet_until(PARIS_MOBILE, NIGHT, paris(2026, 10, 24, 22, 0))

    assert wait is not None
    assert wait.until == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 08:00 CET
    assert wait.local_until.hour == 8


def test_given_a_new_york_number_when_it_is_night_in_new_york_then_paris_daytime_does_not_matter() -> None:
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 04:00 in Paris, 22:00 in New York

    wait = quiet_until(NEW_YORK, NIGHT, now)

    assert zones_of(NEW_YORK) == ("America/New_York",)
    assert wait is not None and wait.zone == "America/New_York"
    assert wait.until == datetime(2026, 11, 20, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_given_a_number_spanning_zones_when_asked_then_it_waits_until_the_window_ended_in_every_zone() -> None:
    zones = ("Europe/Moscow", "Asia/Vladivostok")  # UTC+3 and UTC+10
    now = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 23:00 Moscow, 06:00 Vladivostok

    wait = wait_for_zones(zones, LUNCH, now)
    assert wait is None  # neither at lunch
    wait = wait_for_zones(zones, NIGHT, now)

    assert wait is not None
    assert wait.until == datetime(2026, 11, 21, 5, 0, tzinfo=UTC)  # 08:00 Moscow (15:00 Vladivostok)
    assert wait.zone == "Europe/Moscow"


@pytest.fixture
def host_in_auckland(monkeypatch):
    """The process's local zone set to Pacific/Auckland (UTC+13 in November): no result may depend on it."""
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_given_a_host_whose_local_zone_is_not_utc_when_asked_then_the_waits_and_their_reasons_are_the_same(
        host_in_auckland) -> None:
    wait = quiet_until(PARIS_MOBILE, NIGHT, paris(2026, 11, 20, 23, 0))
    assert wait is not None and wait.until == paris(2026, 11, 21, 8, 0)
    assert wait.describe() == "quiet hours in Europe/Paris until 08:00 local (2026-11-21 07:00 UTC)"

    forward = quiet_until(PARIS_MOBILE, QuietHours(start="22:00", end="02:30"), paris(2026, 3, 28, 23, 0))
    assert forward is not None and forward.until == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)

    back = quiet_until(PARIS_MOBILE, NIGHT, paris(2026, 10, 24, 22, 0))
    assert back is not None and back.until == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)

    new_york = quiet_until(NEW_YORK, NIGHT, datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    assert new_york is not None and new_york.until == datetime(2026, 11, 20, 13, 0, tzinfo=UTC)


def test_given_a_window_ending_in_the_hour_the_clocks_go_back_when_asked_then_it_ends_at_its_first_pass() -> None:
    # 2026-10-25 in Paris: 02:30 happens twice (CEST, 00:30 UTC, then CET, 01:30 UTC); the window ends at the first.
    wait = quiet_until(PARIS_MOBILE, QuietHours(start="22:00", end="02:30"), paris(2026, 10, 24, 23, 0))

    assert wait is not None and wait.until == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_given_a_moment_in_the_second_pass_of_the_hour_the_clocks_go_back_when_asked_then_the_window_ends_at_its_second_pass() -> None:
    # 01:00 UTC is 02:00 CET, the second 02:00 of that night: the window to 02:30 ends at 02:30 CET (01:30 UTC).
    wait = quiet_until(PARIS_MOBILE, QuietHours(start="22:00", end="02:30"), datetime(2026, 10, 25, 1, 0, tzinfo=UTC))

    assert wait is not None and wait.until == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_given_a_spanish_mobile_when_it_is_8h30_in_madrid_then_it_waits_for_8h_in_the_canaries() -> None:
    # A mobile number has its country's zones, not only those of its prefix: the Canaries are an hour behind Madrid.
    spanish_mobile = "+34612345678"
    madrid = ZoneInfo("Europe/Madrid")

    wait = quiet_until(spanish_mobile, NIGHT, datetime(2026, 11, 20, 8, 30, tzinfo=madrid))

    assert zones_of(spanish_mobile) == ("Atlantic/Canary", "Europe/Madrid")
    assert wait is not None and wait.zone == "Atlantic/Canary"
    assert wait.until == datetime(2026, 11, 20, 9, 0, tzinfo=madrid)


def test_given_a_number_phonenumbers_does_not_hold_valid_then_its_longest_known_prefix_gives_the_zones() -> None:
    assert zones_of("+447700900123") == ("Europe/Guernsey", "Europe/Isle_of_Man", "Europe/London")  # a test range
    assert zones_of("+15551234567") == zones_of("+18005551234")  # no area code: every +1 zone
    assert len(zones_of("+15551234567")) > 40


def test_given_a_number_outside_any_country_then_it_is_read_in_utc() -> None:
    assert zones_of("+80012345678") == ("UTC",)
    wait = quiet_until("+80012345678", NIGHT, datetime(2026, 11, 20, 22, 0, tzinfo=UTC))
    assert wait is not None and wait.until == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def test_given_zones_whose_windows_cover_the_whole_day_then_it_goes_when_the_fewest_are_inside_and_then_stays_free() -> None:
    zones = ("Pacific/Guam", "America/New_York", "Pacific/Honolulu")  # UTC+10, UTC-5, UTC-10
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 22:00 Guam, 07:00 New York, 02:00 Honolulu

    wait = wait_for_zones(zones, NIGHT, now)

    assert wait is not None and wait.until > now
    assert wait_for_zones(zones, NIGHT, wait.until) is None  # not sent round and round for ever


clock = st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda hm: f"{hm[0]:02d}:{hm[1]:02d}")
windows = st.tuples(clock, clock).filter(lambda w: w[0] != w[1]).map(lambda w: QuietHours(start=w[0], end=w[1]))
moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                       timezones=st.just(UTC))
zone_names = st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
                              "America/St_Johns", "Pacific/Chatham", "UTC", "America/Sao_Paulo"])


@settings(max_examples=400, deadline=None)
@given(window=windows, now=moments, zone=zone_names)
def test_property_the_wait_ends_outside_the_window_after_now_and_within_a_day(window, now, zone) -> None:
    wait = wait_for_zones((zone,), window, now)
    if wait is None:
        return
    assert now < wait.until <= now + timedelta(hours=25)  # 24 h plus a clock set back
    assert wait_for_zones((zone,), window, wait.until) is None
    # and the minute before it ends is still quiet: it waits no longer than the window
    assert wait_for_zones((zone,), window, max(now, wait.until - timedelta(minutes=1))) is not None


def _inside_any(zones, window, moment) -> bool:
    return any(wait_for_zones((zone,), window, moment) is not None for zone in zones)


@settings(max_examples=200, deadline=None)
@given(window=windows, now=moments, zones=st.lists(zone_names, min_size=2, max_size=4, unique=True))
def test_property_several_zones_go_at_the_first_moment_no_zone_is_quiet(window, now, zones) -> None:
    zones = tuple(zones)
    wait = wait_for_zones(zones, window, now)
    if not _inside_any(zones, window, now):
        assert wait is None
        return
    if wait is None or _inside_any(zones, window, wait.until):
        return  # the windows cover the whole day together: the fewest-zones rule (tested above)
    assert now < wait.until <= now + timedelta(hours=49)
    assert _inside_any(zones, window, max(now, wait.until - timedelta(seconds=1)))


def _quiet_by_the_minute(zones: tuple[str, ...], window: QuietHours, moment: datetime) -> frozenset[str]:
    """The zones inside the window at `moment`, from the wall clock alone: the oracle of the test below."""
    start, end = (int(t[:2]) * 60 + int(t[3:]) for t in (window.start, window.end))
    quiet = set()
    for zone in zones:
        local = moment.astimezone(ZoneInfo(zone))
        minute = local.hour * 60 + local.minute
        if (start <= minute < end) if start < end else (minute >= start or minute < end):
            quiet.add(zone)
    return frozenset(quiet)


def _expected_wait(zones: tuple[str, ...], window: QuietHours, now: datetime) -> tuple[datetime, str] | None:
    """Minute by minute over two days: the first minute no zone is quiet, else the first with the fewest quiet
    (if fewer than now), with the zone whose window ended then (the first by name when several did)."""
    quiet_now = _quiet_by_the_minute(zones, window, now)
    if not quiet_now:
        return None
    best = None
    moment = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while moment <= now + timedelta(days=2):
        quiet = _quiet_by_the_minute(zones, window, moment)
        if best is None or len(quiet) < best[0]:
            left = _quiet_by_the_minute(zones, window, moment - timedelta(minutes=1)) - quiet
            best = (len(quiet), moment, min(left) if left else "")
            if not quiet:
                break
        moment += timedelta(minutes=1)
    return (best[1], best[2]) if best[0] < len(quiet_now) else None


FAR_APART = [
    ("Pacific/Pago_Pago", "Pacific/Honolulu"),  # UTC-11 and UTC-10: their dates trail UTC's most of the day
    ("Pacific/Kiritimati", "Pacific/Chatham"),  # UTC+14 and UTC+13:45 (+12:45 in the southern winter)
    ("America/New_York", "Europe/Paris", "Australia/Lord_Howe"),  # three DST rules, one of them half an hour
    ("Atlantic/Canary", "Europe/Madrid"),
    ("Pacific/Guam", "America/New_York", "Pacific/Honolulu"),  # windows covering the whole day together
]
WINDOWS = [NIGHT, LUNCH, QuietHours(start="14:00", end="23:00"), QuietHours(start="22:00", end="02:30"),
           QuietHours(start="23:30", end="00:30")]
NOWS = [datetime(2026, 3, 7, 0, 0, tzinfo=UTC) + timedelta(hours=7 * i, minutes=13 * i) for i in range(14)] + [
    datetime(2026, 10, 24, 23, 59, 30, tzinfo=UTC), datetime(2026, 6, 10, 7, 0, tzinfo=UTC)]


@pytest.mark.parametrize("zones", FAR_APART, ids="+".join)
@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: f"{w.start}-{w.end}")
def test_given_zones_far_from_utc_and_dst_days_then_the_wait_is_what_a_minute_by_minute_look_finds(zones, window) -> None:
    for now in NOWS:
        wait = wait_for_zones(zones, window, now)

        got = None if wait is None else (wait.until, wait.zone)
        assert got == _expected_wait(zones, window, now), f"at {now:%Y-%m-%d %H:%M:%S} UTC"
