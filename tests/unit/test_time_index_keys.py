"""The month-sharded index keys and cursors (core.time_index): order, month windows, cursors that refuse to be reused."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smsbridge.core import time_index


def test_given_two_messages_of_the_same_microsecond_then_their_keys_sort_by_time_then_id_inside_the_until_bound() -> None:
    at = "2026-11-30T12:00:00.000000Z"

    keys = sorted([time_index.sort_key("b", at), time_index.sort_key("a", at), time_index.sort_key("z", "2026-11-30T11:59:59.999999Z")])

    assert keys == ["2026-11-30T11:59:59.999999Z#z", f"{at}#a", f"{at}#b"]
    assert time_index.lower_bound(at) < keys[1] < keys[2] < time_index.upper_bound(at)


def test_given_a_range_over_new_year_then_the_windows_are_each_month_newest_first_with_the_next_months_start() -> None:
    windows = time_index.month_windows("2026-11-15T00:00:00.000000Z", time_index.upper_bound("2027-01-02T00:00:00.000000Z"))

    assert [(partitions[0], top) for partitions, top in windows] == [
        ("2027-01#0", "2027-02-01T00:00:00.000000Z"), ("2026-12#0", "2027-01-01T00:00:00.000000Z"),
        ("2026-11#0", "2026-12-01T00:00:00.000000Z")]
    assert all(len(partitions) == time_index.SHARDS for partitions, _ in windows)


def test_given_a_bare_month_start_as_the_end_then_that_month_is_not_read() -> None:
    windows = time_index.month_windows("2026-10-01T00:00:00.000000Z", "2026-12-01T00:00:00.000000Z")

    assert [partitions[0] for partitions, _ in windows] == ["2026-11#0", "2026-10#0"]


def test_given_an_item_id_then_its_partition_is_its_month_and_a_stable_shard() -> None:
    first = time_index.partition_key("msg-1", "2026-11-30T12:00:00.000000Z")

    assert first == time_index.partition_key("msg-1", "2026-11-01T00:00:00.000000Z")
    assert first.startswith("2026-11#") and 0 <= int(first.split("#")[1]) < time_index.SHARDS


def test_given_a_cursor_when_decoded_for_its_search_then_the_key_and_for_another_search_then_refused() -> None:
    cursor = time_index.encode_cursor("2026-11-30T12:00:00.000000Z#ü-1", "phone=+33612345678")

    assert time_index.decode_cursor(cursor, "phone=+33612345678") == "2026-11-30T12:00:00.000000Z#ü-1"
    with pytest.raises(time_index.BadCursor, match="another search"):
        time_index.decode_cursor(cursor, "")


@pytest.mark.parametrize("cursor", ["", "!!!", "bm90IGpzb24", "WzFd"])
def test_given_a_cursor_we_never_gave_when_decoded_then_refused(cursor: str) -> None:
    with pytest.raises(time_index.BadCursor):
        time_index.decode_cursor(cursor, "")


def test_given_a_range_when_months_are_listed_then_from_the_end_back_to_the_start() -> None:
    assert time_index.months_newest_first(datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)) == [
        "2027-02", "2027-01", "2026-12"]


# ---------------------------------------------------------------- edges (issue 16)

def test_given_keys_of_every_length_when_a_cursor_is_made_then_it_reads_back_to_the_same_key() -> None:
    for length in range(1, 30):
        key = time_index.sort_key("é" * length, "2026-11-30T12:00:00.000000Z")

        assert time_index.decode_cursor(time_index.encode_cursor(key, "scope"), "scope") == key


@pytest.mark.parametrize(("cursor", "reason"), [
    ("!!!", "cursor: not a cursor this API gave (pass back the `cursor` of the previous page)"),
    ("_w", "cursor: not a cursor this API gave (pass back the `cursor` of the previous page)"),
    (time_index.encode_cursor("2026-11-30T12:00:00.000000Z#a", "other"),
     "cursor: it belongs to another search (filters changed): start again without a cursor"),
])
def test_given_a_cursor_not_given_for_this_search_when_read_then_the_400_says_what_to_do(cursor, reason) -> None:
    with pytest.raises(time_index.BadCursor) as refused:
        time_index.decode_cursor(cursor, "scope")

    assert str(refused.value) == reason


def test_given_a_page_that_ended_on_a_key_at_a_months_first_instant_when_windows_are_made_then_that_month_is_read():
    windows = time_index.month_windows("2026-11-15T00:00:00.000000Z", "2026-12-01T00:00:00.000000Z#m-7")

    assert [partitions[0] for partitions, _ in windows] == ["2026-12#0", "2026-11#0"]


def test_given_a_bare_time_one_microsecond_into_a_month_when_windows_are_made_then_that_month_is_read():
    into = time_index.month_windows("2026-11-15T00:00:00.000000Z", "2026-12-01T00:00:00.000001Z")
    at_start = time_index.month_windows("2026-11-15T00:00:00.000000Z", "2026-12-01T00:00:00.000000Z")

    assert [partitions[0] for partitions, _ in into] == ["2026-12#0", "2026-11#0"]
    assert [partitions[0] for partitions, _ in at_start] == ["2026-11#0"]


def test_given_a_machine_whose_local_zone_is_not_utc_when_months_are_listed_then_they_are_utc_months(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        months = time_index.months_newest_first(datetime(2026, 11, 1, 2, 0, tzinfo=UTC),
                                                datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    finally:
        monkeypatch.undo()
        time.tzset()

    assert months == ["2026-12", "2026-11"]
