"""A provider's circuit (core/circuit.py): opened by repeated failures, half-open for one probe, closed by a success."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from smsbridge.core.circuit import Circuit, CircuitPolicy, after_failure, after_success, probe_won

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
POLICY = CircuitPolicy(failures=3, cooldown_s=10, probe_lease_s=5)


def test_given_fewer_failures_than_the_threshold_when_asked_then_requests_still_go() -> None:
    circuit = after_failure(after_failure(Circuit(), POLICY, T0), POLICY, T0)

    assert circuit.state(T0) == "closed" and circuit.admission(T0) == "send"


def test_given_the_threshold_reached_when_asked_then_nothing_goes_until_the_cooldown_ends() -> None:
    circuit = Circuit()
    for _ in range(3):
        circuit = after_failure(circuit, POLICY, T0)

    assert circuit.admission(T0 + timedelta(seconds=9)) == "wait"
    assert circuit.wait_s(T0 + timedelta(seconds=9)) == 1.0
    assert circuit.state(T0 + timedelta(seconds=10)) == "half_open"
    assert circuit.admission(T0 + timedelta(seconds=10)) == "probe"


def test_given_a_probe_under_way_when_another_sender_asks_then_it_waits_until_the_lease_ends() -> None:
    opened = after_failure(Circuit(failures=2), POLICY, T0)
    probing = probe_won(opened, POLICY, T0 + timedelta(seconds=10))

    assert probing.admission(T0 + timedelta(seconds=12)) == "wait"
    assert probing.admission(T0 + timedelta(seconds=15)) == "probe"


def test_given_a_failed_probe_when_counted_then_the_circuit_opens_for_another_cooldown() -> None:
    opened = after_failure(Circuit(failures=2), POLICY, T0)
    reopened = after_failure(opened, POLICY, T0 + timedelta(seconds=10), probing=True)

    assert reopened.admission(T0 + timedelta(seconds=19)) == "wait"
    assert reopened.admission(T0 + timedelta(seconds=20)) == "probe"


@given(st.lists(st.booleans(), max_size=40))
def test_given_any_results_when_the_last_is_a_success_then_the_circuit_is_closed_and_clear(results) -> None:
    circuit = Circuit()
    for ok in [*results, True]:
        circuit = after_success() if ok else after_failure(circuit, POLICY, T0)

    assert circuit.healthy and circuit.admission(T0) == "send"


@given(st.integers(0, 30))
def test_given_consecutive_failures_when_counted_then_it_is_open_exactly_from_the_threshold(failures: int) -> None:
    circuit = Circuit()
    for _ in range(failures):
        circuit = after_failure(circuit, POLICY, T0)

    assert (circuit.state(T0) == "open") == (failures >= POLICY.failures)


def test_given_another_senders_probe_under_way_then_a_held_back_sender_looks_again_within_a_second_not_after_the_lease():
    policy = CircuitPolicy(failures=1, cooldown_s=2.0, probe_lease_s=15.0)
    circuit = after_failure(Circuit(), policy, T0)
    probing = probe_won(circuit, policy, T0 + timedelta(seconds=2))

    assert probing.admission(T0 + timedelta(seconds=3)) == "wait"
    assert probing.wait_s(T0 + timedelta(seconds=3)) == 1.0


def test_given_a_closed_circuit_when_asked_how_long_to_wait_then_it_is_no_time():
    assert Circuit().wait_s(T0) == 0.0
    assert Circuit(failures=2).wait_s(T0) == 0.0


def test_given_another_senders_probe_ending_in_400_ms_when_asked_then_the_wait_is_those_400_ms():
    policy = CircuitPolicy(failures=1, cooldown_s=10, probe_lease_s=15)
    probing = probe_won(after_failure(Circuit(), policy, T0), policy, T0 + timedelta(seconds=10))

    assert probing.wait_s(T0 + timedelta(seconds=24, milliseconds=600)) == 0.4
    assert probing.wait_s(T0 + timedelta(seconds=25)) == 0.0


def test_given_the_threshold_reached_when_the_circuit_opens_then_the_traffic_view_still_counts_the_failures() -> None:
    # GET /traffic shows `failures` beside `circuit: open`: the count that opened it, not zero.
    circuit = Circuit()
    for _ in range(3):
        circuit = after_failure(circuit, POLICY, T0)

    assert (circuit.state(T0), circuit.failures) == ("open", 3)
    assert after_failure(circuit, POLICY, T0 + timedelta(seconds=10), probing=True).failures == 4
