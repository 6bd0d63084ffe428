"""The consent ledger keeps the newest event by the provider's time, whatever order events arrive in
(moto in-process, the template's consent tables)."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsbridge.adapters.consent import ConsentEvent, ConsentLedger
from smsbridge.core.consent import ConsentState
from tests.support.stack import moto_stack

T0 = datetime(2026, 11, 1, tzinfo=UTC)
_numbers = itertools.count(100000)


@pytest.fixture(scope="module")
def ledger():
    # Module-scoped: one stack for all of Hypothesis's examples (each uses its own phone number).
    with moto_stack("InboundFunction") as stack:
        yield ConsentLedger(stack.env["CONSENT_TABLE"], stack.env["CONSENT_HISTORY_TABLE"],
                            dynamodb=stack.session.resource("dynamodb"))


def _fresh_phone() -> str:
    return f"+3361{next(_numbers):07d}"  # one number per example, so that examples never meet


def _event(phone: str, state: ConsentState, seconds: int, n: int) -> ConsentEvent:
    return ConsentEvent(provider="sandbox", phone=phone, state=state, event_at=T0 + timedelta(seconds=seconds),
                        keyword="STOP" if state is ConsentState.OPTED_OUT else "START",
                        text="stop" if state is ConsentState.OPTED_OUT else "start", event_id=f"ev{n}")


events_in_time_order = st.lists(st.tuples(st.sampled_from(list(ConsentState)), st.integers(1, 5)), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=events_in_time_order, data=st.data())
def test_given_stop_and_start_in_any_arrival_order_then_the_newest_event_decides(ledger, steps, data):
    phone = _fresh_phone()
    seconds, events = 0, []
    for n, (state, gap) in enumerate(steps):
        seconds += gap  # strictly increasing provider times
        events.append(_event(phone, state, seconds, n))
    arrival = data.draw(st.permutations(events))
    for event in arrival:
        ledger.apply(event)
    newest = events[-1]
    record = ledger.get("sandbox", phone)
    assert record["state"] == newest.state.value
    assert record["event_id"] == newest.event_id
    assert [h["event"].split("#")[1] for h in ledger.history("sandbox", phone)] == [e.event_id for e in events]


def test_given_a_stop_and_a_start_at_the_same_time_in_either_order_then_the_opt_out_wins(ledger):
    for first, second in [(ConsentState.OPTED_OUT, ConsentState.OPTED_IN), (ConsentState.OPTED_IN, ConsentState.OPTED_OUT)]:
        phone = _fresh_phone()
        ledger.apply(_event(phone, first, 10, 1))
        ledger.apply(_event(phone, second, 10, 2))
        assert ledger.state("sandbox", phone) is ConsentState.OPTED_OUT


def test_given_a_late_older_stop_when_applied_then_it_is_in_the_history_but_not_applied(ledger):
    phone = _fresh_phone()
    assert ledger.apply(_event(phone, ConsentState.OPTED_IN, 20, 2)).current
    late = ledger.apply(_event(phone, ConsentState.OPTED_OUT, 10, 1))
    assert (late.current, late.duplicate) == (False, False)
    assert ledger.state("sandbox", phone) is ConsentState.OPTED_IN
    history = ledger.history("sandbox", phone)
    assert [(h["state"], h["applied"], h["keyword"], h["text"], h["source"]) for h in history] == [
        ("opted_out", False, "STOP", "stop", "sms"), ("opted_in", True, "START", "start", "sms")]


def test_given_the_same_event_delivered_twice_when_applied_then_it_is_recorded_once(ledger):
    phone = _fresh_phone()
    assert not ledger.apply(_event(phone, ConsentState.OPTED_OUT, 5, 1)).duplicate
    again = ledger.apply(_event(phone, ConsentState.OPTED_OUT, 5, 1))
    assert again.duplicate
    assert len(ledger.history("sandbox", phone)) == 1


def test_given_an_operator_sets_consent_when_set_then_it_wins_and_is_in_the_history(ledger):
    phone = _fresh_phone()
    ledger.apply(_event(phone, ConsentState.OPTED_OUT, 5, 1))
    record = ledger.set("sandbox", phone, "opted_in", now=T0 + timedelta(days=1))
    assert record["state"] == "opted_in" and record["source"] == "api"
    assert [h["source"] for h in ledger.history("sandbox", phone)] == ["sms", "api"]
