"""The throughput limiter's pure rule (core/throughput.py): the bound read at the provider, lanes, bursts, 429 pauses."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsbridge.core.throughput import (Limits, Window, given_back, grant, granted_within, limits_of, paused, regrant,
                                       starts_in_time)
from smsbridge.models.message import MessageType
from smsbridge.models.provider import Throughput

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NOTIFICATION, MARKETING = MessageType.NOTIFICATION, MessageType.MARKETING


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def most_in_any_window(times_ms: list[float], window_ms: float = 1000.0) -> int:
    """The most receive times in any half-open window [a, a + window_ms)."""
    times = sorted(times_ms)
    best, start = 0, 0
    for end, time in enumerate(times):
        while times[start] <= time - window_ms:
            start += 1
        best = max(best, end - start + 1)
    return best


# Senders asking at random moments for random batches of either lane; each granted request reaches
# the provider anywhere between its grant and `guard` later (thread pool, network, TLS).
asks = st.lists(st.tuples(st.floats(0, 400), st.integers(1, 60), st.sampled_from([NOTIFICATION, MARKETING]),
                          st.floats(0, 1)), min_size=1, max_size=200)


@settings(max_examples=300, deadline=None)
@given(per_second=st.integers(1, 100), burst=st.none() | st.integers(1, 100), asks=asks,
       pause_at=st.none() | st.integers(0, 199))
def test_given_any_asks_when_granted_requests_arrive_late_within_the_guard_then_no_second_holds_more_than_the_limit(
        per_second: int, burst: int | None, asks, pause_at: int | None) -> None:
    limits = limits_of(Throughput(per_second=per_second, burst=burst))
    window, now_ms, received = Window(), 0.0, []
    for index, (gap_ms, count, lane, lateness) in enumerate(asks):
        now_ms += gap_ms
        if index == pause_at:
            window = paused(window, 0.5, at(now_ms))
        decision = grant(window, limits, count, lane, at(now_ms))
        window = decision.window
        assert 0 <= decision.granted <= min(count, limits.burst)
        assert decision.granted == count or decision.retry_in_s > 0 or decision.granted == limits.burst
        received += [int(now_ms) + lateness * limits.guard_ms] * decision.granted

    assert most_in_any_window(received) <= per_second


def test_given_a_full_window_when_asked_again_then_nothing_is_granted_until_the_oldest_grant_leaves() -> None:
    limits = limits_of(Throughput(per_second=20))
    first = grant(Window(), limits, 20, NOTIFICATION, at(0))

    refused = grant(first.window, limits, 5, NOTIFICATION, at(400))
    later = grant(first.window, limits, 5, NOTIFICATION, at(1000 + limits.guard_ms + 1))

    assert first.granted == 20
    assert refused.granted == 0 and refused.retry_in_s == pytest.approx((1000 + limits.guard_ms - 400 + 1) / 1000)
    assert later.granted == 5


def test_given_marketing_filling_a_window_when_a_notification_asks_then_the_reserve_is_left_for_it() -> None:
    limits = limits_of(Throughput(per_second=50))
    window = Window()
    for ms in range(0, 1000, 10):  # 2,000 campaign messages asking as fast as they can
        window = grant(window, limits, 10, MARKETING, at(ms)).window
    marketing_granted = granted_within(window, 1000 + int(T0.timestamp() * 1000), 1250)

    notification = grant(window, limits, 1, NOTIFICATION, at(1000))

    assert marketing_granted == 40
    assert notification.granted == 1


def test_given_a_burst_when_a_batch_asks_for_more_then_only_the_burst_is_granted_at_once() -> None:
    limits = limits_of(Throughput(per_second=100, burst=10))

    decision = grant(Window(), limits, 50, MARKETING, at(0))

    assert decision.granted == 10 and decision.retry_in_s == 0


def test_given_a_429_pause_when_asked_then_nothing_is_granted_before_it_ends_and_half_the_rate_after() -> None:
    limits = limits_of(Throughput(per_second=20))
    window = paused(Window(), 2.0, at(0))

    during = grant(window, limits, 5, NOTIFICATION, at(1500))
    after = grant(window, limits, 20, NOTIFICATION, at(2000))

    assert during.granted == 0 and during.retry_in_s == pytest.approx(0.5)
    assert after.granted == 10


def test_given_a_fractional_rate_when_limits_are_made_then_the_window_widens_to_one_whole_request() -> None:
    limits = limits_of(Throughput(per_second=0.5))
    first = grant(Window(), limits, 3, NOTIFICATION, at(0))

    assert (limits.capacity, limits.window_ms) == (1, 2000)
    assert first.granted == 1
    assert grant(first.window, limits, 1, NOTIFICATION, at(1999)).granted == 0


def test_given_a_grant_partly_unused_when_given_back_then_the_window_holds_only_what_was_sent() -> None:
    # Given a window holding a grant of 2 and a later one of 5, of which 3 were never sent
    window = Window(grants=((1_000, 2), (1_200, 5)))

    # When the 3 are given back, then the later grant holds 2 and the earlier one is untouched
    assert given_back(window, 1_200, 3).grants == ((1_000, 2), (1_200, 2))
    # And a grant given back whole leaves the window; one that has left it already changes nothing
    assert given_back(window, 1_200, 9).grants == ((1_000, 2),)
    assert given_back(window, 900, 1) == window


def test_given_a_full_window_when_its_last_grant_is_given_back_then_a_new_grant_gets_that_room() -> None:
    limits = Limits(capacity=5, window_ms=1000, burst=5, guard_ms=250)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    first = grant(Window(), limits, 5, MessageType.NOTIFICATION, now)
    assert grant(first.window, limits, 5, MessageType.NOTIFICATION, now).granted == 0

    back = given_back(first.window, first.at_ms, 5)

    assert grant(back, limits, 5, MessageType.NOTIFICATION, now).granted == 5


# ---------------------------------------------------------------- edges (issue 16)

T0_MS = int(T0.timestamp() * 1000)
TEN = Limits(capacity=10, window_ms=1000, burst=10)  # guard 250 ms: grants count for 1,250 ms


def test_given_a_guard_and_a_reserve_when_the_limits_are_made_then_they_are_kept_in_milliseconds_and_share() -> None:
    limits = limits_of(Throughput(per_second=10), guard_s=0.5, reserve_share=0.5)

    assert (limits.guard_ms, limits.reserve_share, limits.span_ms) == (500, 0.5, 1500)


def test_given_a_slowed_provider_when_granting_then_half_the_capacity_goes_rounded_down_and_none_once_the_slow_down_ends() -> None:
    slowed = Window(slow_until=T0_MS + 100)
    five = Limits(capacity=5, window_ms=1000, burst=5)
    three = Limits(capacity=3, window_ms=1000, burst=3)

    assert grant(slowed, five, 5, NOTIFICATION, T0).granted == 2
    assert grant(slowed, three, 3, NOTIFICATION, T0).granted == 1
    assert grant(slowed, five, 5, NOTIFICATION, at(100)).granted == 5  # slow_until itself is full speed again


def test_given_a_grant_exactly_one_span_old_when_granting_then_it_no_longer_counts() -> None:
    full = Window(grants=((T0_MS, 10),))

    assert grant(full, TEN, 10, NOTIFICATION, at(1249)).granted == 0
    assert grant(full, TEN, 10, NOTIFICATION, at(1250)).granted == 10


def test_given_two_grants_in_the_same_millisecond_then_the_state_holds_one_entry_with_both() -> None:
    first = grant(Window(), TEN, 2, NOTIFICATION, T0)
    second = grant(first.window, TEN, 3, NOTIFICATION, T0)

    assert second.window.grants == ((T0_MS, 5),)
    assert grant(second.window, TEN, 1, NOTIFICATION, at(1)).window.grants == ((T0_MS, 5), (T0_MS + 1, 1))


def test_given_every_request_granted_when_granting_then_there_is_no_wait_and_the_state_changed() -> None:
    granted = grant(Window(), TEN, 10, NOTIFICATION, T0)

    assert (granted.granted, granted.retry_in_s, granted.changed) == (10, 0.0, True)
    single = grant(Window(), TEN, 1, NOTIFICATION, T0)
    assert (single.retry_in_s, single.changed) == (0.0, True)


def test_given_nothing_granted_when_nothing_left_the_window_then_the_state_need_not_be_written() -> None:
    full = Window(grants=((T0_MS, 10),))

    refused = grant(full, TEN, 1, NOTIFICATION, at(500))

    assert (refused.granted, refused.changed) == (0, False)
    assert refused.retry_in_s == 0.751  # the grant leaves the 1,250 ms span a millisecond after 1,250


def test_given_nothing_granted_when_an_old_grant_left_the_window_then_the_state_is_written_without_it() -> None:
    window = Window(grants=((T0_MS, 3), (T0_MS + 1000, 7)))
    marketing = Limits(capacity=10, window_ms=1000, burst=10, reserve_share=0.3)  # marketing fills 7

    refused = grant(window, marketing, 1, MARKETING, at(1300))

    assert (refused.granted, refused.changed, refused.window.grants) == (0, True, ((T0_MS + 1000, 7),))


def test_given_a_lane_whose_whole_capacity_is_reserved_when_refused_then_it_looks_again_after_a_whole_span() -> None:
    reserved = Limits(capacity=1, window_ms=1000, burst=1, reserve_share=1.0)

    assert grant(Window(), reserved, 1, MARKETING, T0).retry_in_s == 1.25


def test_given_part_of_a_grant_given_back_then_the_rest_stays_and_later_grants_are_kept() -> None:
    window = Window(grants=((T0_MS, 3), (T0_MS + 5, 2)))

    assert given_back(window, T0_MS, 1).grants == ((T0_MS, 2), (T0_MS + 5, 2))
    assert given_back(window, T0_MS, 2).grants == ((T0_MS, 1), (T0_MS + 5, 2))
    assert given_back(window, T0_MS, 3).grants == ((T0_MS + 5, 2),)


def test_given_a_429_without_wait_when_paused_then_nothing_is_paused_and_the_slow_down_lasts_exactly_its_time() -> None:
    window = paused(Window(), 0, T0)

    assert (window.paused_until, window.slow_until) == (T0_MS, T0_MS + 10_000)
    assert paused(Window(), 2.5, T0, slow_for_s=1.5).slow_until == T0_MS + 4000


def test_given_grants_around_the_last_second_when_counted_for_the_admin_api_then_only_the_last_1000_ms_count() -> None:
    window = Window(grants=((T0_MS, 1), (T0_MS + 1, 2), (T0_MS + 1000, 4)))

    assert granted_within(window, T0_MS + 1000) == 6


@pytest.mark.parametrize(("age_ms", "guard_ms", "may_start"), [
    (0, 250, True), (125, 250, True), (126, 250, False), (1_000, 250, False),
    (250, 500, True), (251, 500, False), (0, 0, True), (1, 0, False), (62, 125, True), (63, 125, False),
])
def test_given_a_grant_of_some_age_when_a_request_would_start_then_it_may_only_within_half_the_guard(
        age_ms: int, guard_ms: int, may_start: bool) -> None:
    # The other half of the guard is the request's way to the provider: the bound's assumption.
    assert starts_in_time(10_000, 10_000 + age_ms, guard_ms) is may_start


def test_given_late_requests_of_a_grant_when_regranted_with_room_then_they_move_to_now_and_the_total_stays() -> None:
    limits = limits_of(Throughput(per_second=10))
    first = grant(Window(), limits, 6, MessageType.NOTIFICATION, at(0))
    moved = regrant(first.window, limits, first.at_ms, 4, MessageType.NOTIFICATION, at(400))
    assert (moved.granted, moved.at_ms - first.at_ms) == (4, 400)
    assert moved.window.grants == ((first.at_ms, 2), (first.at_ms + 400, 4))


def test_given_a_429_since_the_grant_when_its_late_requests_are_regranted_then_nothing_changes_and_a_wait_is_given() -> None:
    # Given 6 granted at 0, and a 429 at 100 ms pausing the provider for 1 s
    limits = limits_of(Throughput(per_second=10))
    first = grant(Window(), limits, 6, MessageType.NOTIFICATION, at(0))
    window = paused(first.window, 1.0, at(100))
    # When the 4 not started ask to move to 400 ms
    moved = regrant(window, limits, first.at_ms, 4, MessageType.NOTIFICATION, at(400))
    # Then none is granted, the state is as it was (the old grant stands), and they may look again at the pause's end
    assert moved.granted == 0 and moved.window == window
    assert moved.retry_in_s == pytest.approx(0.7)


def test_given_a_slowed_provider_when_the_late_requests_no_longer_fit_then_none_moves() -> None:
    # Given 8 of 10 granted, then a 429 without wait halving the capacity to 5 for a while
    limits = limits_of(Throughput(per_second=10))
    first = grant(Window(), limits, 8, MessageType.NOTIFICATION, at(0))
    window = paused(first.window, 0.0, at(100))
    # When the 6 not started ask to move: 2 started + 6 > 5, all or none
    moved = regrant(window, limits, first.at_ms, 6, MessageType.NOTIFICATION, at(400))
    assert moved.granted == 0 and moved.window == window and moved.retry_in_s > 0
    # And had 4 been granted, 3 late ones would move: 1 + 3 <= 5
    fewer = paused(grant(Window(), limits, 4, MessageType.NOTIFICATION, at(0)).window, 0.0, at(100))
    assert regrant(fewer, limits, first.at_ms, 3, MessageType.NOTIFICATION, at(400)).granted == 3
