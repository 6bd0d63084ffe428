"""Each provider's shared traffic state on moto (adapters/provider_state.py): concurrent senders, each with its
own copy of the item as separate invocations have, keep the limit at the provider's receive times, share a
429's pause, see one circuit and let exactly one of them probe it."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from smsbridge.adapters.provider_state import ProviderState
from smsbridge.clock import utc_now
from smsbridge.core.circuit import CircuitPolicy
from smsbridge.core.throughput import limits_of
from smsbridge.models.message import MessageType
from smsbridge.models.provider import Throughput
from tests.support.arrivals import most_in_any_second
from tests.support.loopback import LoopbackProvider
from tests.support.stack import Stack, moto_stack

POLICY = CircuitPolicy(failures=3, cooldown_s=0.5, probe_lease_s=5)


@pytest.fixture
def stack() -> Iterator[Stack]:
    with moto_stack("SendFunction") as stack:
        yield stack


class AtomicItemWrites:
    """A DynamoDB client whose calls do not interleave. DynamoDB evaluates a condition and writes the
    item as one atomic step; moto's in-process backend does not under threads (measured here: four
    threads racing on one version condition were granted 40 where 20 fit). The lock gives moto the
    guarantee DynamoDB documents, so that what is tested is the limiter, not moto's races."""

    _lock = threading.Lock()

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name: str):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            with self._lock:
                return method(*args, **kwargs)
        return call


def sender(stack: Stack) -> ProviderState:
    """One invocation's view of the table: its own copy, as another execution environment has."""
    return ProviderState(stack.env["TRAFFIC_TABLE"], cache_s=0.0,
                         client=AtomicItemWrites(stack.session.client("dynamodb")))


def test_given_four_concurrent_senders_limited_to_20_per_second_when_they_send_then_no_second_at_the_provider_holds_more(
        stack: Stack) -> None:
    # The senders, moto and the provider share this one Python process, as in the local runtime: the
    # same wider guard (wiring.traffic_policy) for the time a granted request takes to arrive.
    limits = limits_of(Throughput(per_second=20), guard_s=0.5)
    total, sent, late, lock = 100, [0], [0], threading.Lock()

    def invocation(state: ProviderState) -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    wanted = min(10, total - sent[0])
                if wanted <= 0:
                    return
                asked = time.monotonic()  # the grant is dated no earlier than this
                decision = state.reserve("acme", limits, wanted, MessageType.NOTIFICATION, utc_now())
                with lock:
                    granted = min(decision.granted, total - sent[0])
                    sent[0] += granted
                for done in range(granted):
                    # The bound is promised for requests that go out within the guard of their grant.
                    # Here a stall of the whole process (a full garbage collection of a long test
                    # session's heap, a loaded machine) can hold a grant's requests past it; those
                    # are given back and asked for again, as a late grant must be.
                    if time.monotonic() - asked > limits.guard_ms / 1000:
                        with lock:
                            sent[0] -= granted - done
                            late[0] += granted - done
                        break
                    session.post(provider.url_for("/sms"), json={"text": "hi"})
                if decision.granted < wanted:
                    time.sleep(min(decision.retry_in_s, 0.2))

    with LoopbackProvider() as provider:
        threads = [threading.Thread(target=invocation, args=(sender(stack),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        received = [request.received_at for request in provider.requests]

    assert len(received) == total
    assert most_in_any_second(received) <= 20, f"{late[0]} granted requests were given back late"
    assert max(received) - min(received) >= 4.0  # 100 at 20 a second: the senders were held back


def test_given_a_429_paused_by_one_sender_when_another_asks_then_it_is_refused_until_the_pause_ends(
        stack: Stack) -> None:
    limits = limits_of(Throughput(per_second=20))
    first, second = sender(stack), sender(stack)
    assert second.reserve("acme", limits, 1, MessageType.NOTIFICATION, utc_now()).granted == 1  # its copy, now stale

    first.pause("acme", 2.0, utc_now(), slow_for_s=10)
    refused = second.reserve("acme", limits, 5, MessageType.NOTIFICATION, utc_now())

    assert refused.granted == 0 and 1.5 < refused.retry_in_s <= 2.0
    after = second.reserve("acme", limits, 20, MessageType.NOTIFICATION, utc_now() + timedelta(seconds=2.1))
    assert after.granted == 10  # half the rate while slowed


def test_given_repeated_failures_at_one_sender_when_another_looks_then_the_circuit_is_open_for_both(
        stack: Stack) -> None:
    first, second = sender(stack), sender(stack)
    now = utc_now()

    for _ in range(3):
        first.failed("acme", POLICY, now)

    assert second.circuit("acme").admission(now) == "wait"
    assert second.circuit("acme").failures == 3


def test_given_a_half_open_circuit_when_four_senders_race_for_the_probe_then_exactly_one_wins_and_its_success_closes_it(
        stack: Stack) -> None:
    states = [sender(stack) for _ in range(4)]
    for _ in range(3):
        states[0].failed("acme", POLICY, utc_now())
    time.sleep(POLICY.cooldown_s)
    start, wins = threading.Barrier(4), []

    def race(state: ProviderState) -> None:
        start.wait()
        if state.try_probe("acme", POLICY, utc_now()):
            wins.append(state)

    threads = [threading.Thread(target=race, args=(state,)) for state in states]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(wins) == 1
    wins[0].succeeded("acme")
    assert all(state.circuit("acme").admission(utc_now()) == "send" for state in states)


def test_given_three_senders_draining_a_campaign_at_50_per_second_when_a_notification_asks_then_it_is_granted_at_once(
        stack: Stack) -> None:
    limits = limits_of(Throughput(per_second=50))
    stop, campaign = threading.Event(), [0]

    def marketing(state: ProviderState) -> None:
        while not stop.is_set():
            decision = state.reserve("acme", limits, 10, MessageType.MARKETING, utc_now())
            campaign[0] += decision.granted
            if decision.granted == 0:
                time.sleep(0.01)

    threads = [threading.Thread(target=marketing, args=(sender(stack),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)  # the window is full of campaign grants
        asked = time.monotonic()
        notification = sender(stack).reserve("acme", limits, 1, MessageType.NOTIFICATION, utc_now())
        waited = time.monotonic() - asked
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert campaign[0] >= 40
    assert notification.granted == 1 and waited < 0.5

