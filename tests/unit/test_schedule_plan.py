"""Where a message with `send_at` waits (core.schedule): now, on its queue (up to 15 minutes), or in
the due index; the due keys and the sweep's horizon; what the claim counts as sendable."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from smsbridge.core import schedule
from smsbridge.models.claim import MessageState

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


def test_given_no_send_at_or_one_in_the_past_or_within_a_second_then_it_is_sent_now() -> None:
    for send_at in (None, NOW - timedelta(days=3), NOW, NOW + timedelta(milliseconds=999)):
        assert schedule.plan_send_at(send_at, NOW) == schedule.SendAtPlan("now")


def test_given_send_at_20_s_ahead_then_it_waits_20_s_on_its_queue() -> None:
    assert schedule.plan_send_at(NOW + timedelta(seconds=20), NOW) == schedule.SendAtPlan("queue", 20)


def test_given_a_fraction_of_a_second_left_then_the_delay_rounds_up_never_sending_early() -> None:
    assert schedule.plan_send_at(NOW + timedelta(seconds=20, milliseconds=1), NOW).delay_s == 21


def test_given_exactly_15_minutes_ahead_then_the_queue_holds_it_and_a_second_more_goes_to_the_table() -> None:
    assert schedule.plan_send_at(NOW + timedelta(seconds=900), NOW) == schedule.SendAtPlan("queue", 900)
    assert schedule.plan_send_at(NOW + timedelta(seconds=901), NOW) == schedule.SendAtPlan("table")


@given(st.floats(min_value=1.001, max_value=86400 * 365))
def test_given_any_send_at_ahead_then_a_queue_delay_never_passes_900_s_nor_comes_back_before_send_at(
        seconds: float) -> None:
    send_at = NOW + timedelta(seconds=seconds)

    plan = schedule.plan_send_at(send_at, NOW)

    assert plan.kind in ("queue", "table")
    if plan.kind == "queue":
        assert 0 < plan.delay_s <= schedule.QUEUE_DELAY_MAX_S
        assert NOW + timedelta(seconds=plan.delay_s) >= send_at
    else:
        assert seconds > schedule.QUEUE_DELAY_MAX_S


def test_given_send_at_a_year_ahead_then_it_is_taken_and_a_day_more_is_refused_saying_the_limit() -> None:
    assert schedule.send_at_problem(NOW + timedelta(days=365), NOW) is None
    problem = schedule.send_at_problem(NOW + timedelta(days=366), NOW)
    assert problem is not None and "365 days" in problem and "2027-11-30T12:00:00" in problem


def test_given_a_body_over_256_kb_then_it_cannot_wait_in_the_table() -> None:
    assert schedule.scheduled_body_problem(256 * 1024) is None
    assert "262145" in schedule.scheduled_body_problem(256 * 1024 + 1)


def test_given_due_keys_then_they_sort_as_the_times_do_then_by_id() -> None:
    keys = [schedule.due_key(NOW + timedelta(seconds=s), i) for s, i in ((10, "b"), (9.5, "z"), (10, "a"), (3600, "c"))]

    assert sorted(keys) == [keys[1], keys[2], keys[0], keys[3]]
    assert keys[2] == "2026-11-30T12:00:10.000000Z#a"


def test_given_the_sweep_at_noon_then_its_horizon_takes_every_message_due_by_12_15_and_none_after() -> None:
    horizon = schedule.sweep_horizon(NOW)

    assert schedule.due_key(NOW - timedelta(days=2), "missed") <= horizon
    assert schedule.due_key(NOW + timedelta(seconds=900), "z" * 128) <= horizon
    assert schedule.due_key(NOW + timedelta(seconds=900, microseconds=1), "a") > horizon


def test_given_many_ids_then_they_spread_over_every_shard_and_each_id_keeps_its_shard() -> None:
    shards = {schedule.due_shard(f"campaign-{i}") for i in range(200)}

    assert shards == {str(s) for s in range(schedule.DUE_SHARDS)}
    assert schedule.due_shard("campaign-7") == schedule.due_shard("campaign-7")


def test_given_a_scheduled_message_then_the_claim_counts_it_sendable_and_a_canceled_one_settled() -> None:
    assert not MessageState(exists=True, status="scheduled").settled
    assert not MessageState(exists=True, status="queued").settled
    assert MessageState(exists=True, status="canceled").settled
    assert MessageState(exists=True, status="sent").settled


def test_given_send_at_exactly_one_second_ahead_then_it_is_on_time_and_sent_now() -> None:
    assert schedule.plan_send_at(NOW + timedelta(seconds=1), NOW) == schedule.SendAtPlan("now")


def test_given_a_due_time_that_passed_when_the_sweep_queues_it_then_it_waits_no_delay() -> None:
    assert schedule.delay_seconds(NOW - timedelta(seconds=30), NOW) == 0
    assert schedule.delay_seconds(NOW, NOW) == 0


def test_given_a_host_in_another_time_zone_when_a_due_key_is_written_then_its_time_is_utc(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        key = schedule.due_key(datetime(2026, 11, 30, 12, 0, tzinfo=UTC), "m-1")
    finally:
        monkeypatch.undo()
        time.tzset()

    assert key == "2026-11-30T12:00:00.000000Z#m-1"
