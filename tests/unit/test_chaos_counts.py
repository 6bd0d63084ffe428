"""bench/chaos.py's counting: lost messages, duplicates and poison bodies told apart on a small fabricated record."""
from __future__ import annotations

import json
from collections import Counter

from bench.chaos import RESENT_NOTE, count_figures

SENT = {"n1": "NOTIFICATION", "n2": "NOTIFICATION", "m1": "MARKETING", "m2": "MARKETING", "m3": "MARKETING"}


def items(**statuses: str) -> dict:
    return {i: {"id": i, "status": s, "history": [{"status": s}]} for i, s in statuses.items()}


def test_given_every_message_final_and_received_once_then_nothing_is_lost_or_duplicated():
    figures = count_figures(SENT, items(n1="sent", n2="delivered", m1="sent", m2="unknown", m3="blocked"),
                            Counter({"n1": 1, "n2": 1, "m1": 1, "m2": 1}), [], [])

    assert (figures.lost, figures.marketing_sent_twice, figures.notification_sent_twice) == (0, 0, 0)
    assert figures.marketing_unknown == 1
    assert figures.failures() == []


def test_given_a_message_still_queued_or_never_recorded_then_it_is_lost():
    figures = count_figures(SENT, items(n1="sent", n2="queued", m1="sent", m2="sent"), Counter(), [], [])

    assert figures.lost == 2 and sorted(figures.lost_ids) == ["m3", "n2"]
    assert "lost" in figures.failures()


def test_given_a_queued_message_dead_lettered_with_a_reason_then_it_is_not_lost_but_without_a_reason_it_is():
    record = items(n1="sent", n2="queued", m1="sent", m2="sent", m3="sent")
    with_reason = count_figures(SENT, record, Counter(), [(json.dumps({"id": "n2"}), "invalid message: to")], [])
    without = count_figures(SENT, record, Counter(), [(json.dumps({"id": "n2"}), " ")], [])

    assert with_reason.lost == 0
    assert without.lost == 1


def test_given_a_marketing_message_received_twice_then_it_is_a_must_be_zero_failure():
    figures = count_figures(SENT, items(n1="sent", n2="sent", m1="sent", m2="sent", m3="sent"),
                            Counter({"m1": 2, "n1": 1}), [], [])

    assert figures.marketing_sent_twice == 1
    assert "marketing_sent_twice" in figures.failures()


def test_given_a_notification_received_twice_then_it_passes_only_when_its_history_says_it_was_sent_again():
    record = items(n1="sent", n2="sent", m1="sent", m2="sent", m3="sent")
    unexplained = count_figures(SENT, record, Counter({"n1": 2}), [], [])
    record["n1"]["history"].insert(0, {"status": "queued", "reason": RESENT_NOTE + " (the function stopped ...)"})
    explained = count_figures(SENT, record, Counter({"n1": 2}), [], [])

    assert unexplained.notification_sent_twice == 1 and "notification_sent_twice" in unexplained.failures()
    assert explained.notification_resent_unknown == 1 and explained.failures() == []


def test_given_poison_bodies_then_only_those_dead_lettered_with_a_reason_count_as_handled():
    dead = [("not json poison-a", "invalid message: body: Invalid JSON"), ("[[\"poison-b\"]]", "")]
    figures = count_figures({}, {}, Counter(), dead, ["poison-a", "poison-b", "poison-c"])

    assert figures.poison_without_reason == 2
    assert "poison_without_reason" in figures.failures()
