"""`Traffic.send` (services/traffic.py) against real loopback providers, its shared state on moto: failover
when the provider proves it did not take a message, never after a timeout, circuits that spare a dead
provider and close after one probe, and a 429 that slows every sender (SPEC 3 `failover`, `throughput`)."""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from smsbridge.adapters.http import ProviderTransport
from smsbridge.adapters.provider_client import ProviderClient
from smsbridge.adapters.provider_state import ProviderState
from smsbridge.core.circuit import CircuitPolicy
from smsbridge.models.message import MessageType, OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.services.dispatch import Dispatcher
from smsbridge.services.traffic import Traffic, TrafficPolicy
from tests.integration.test_provider_state import AtomicItemWrites
from tests.support.fakes import MemoryProviders
from tests.support.loopback import LoopbackProvider
from tests.support.stack import Stack, moto_stack

COOLDOWN_S = 0.6


@pytest.fixture
def stack() -> Iterator[Stack]:
    with moto_stack("SendFunction") as stack:
        yield stack


@pytest.fixture
def primary() -> Iterator[LoopbackProvider]:
    with LoopbackProvider() as server:
        yield server


@pytest.fixture
def backup() -> Iterator[LoopbackProvider]:
    with LoopbackProvider() as server:
        yield server


def config(provider_id: str, url: str, **fields) -> ProviderConfig:
    return ProviderConfig.model_validate({
        "id": provider_id, "default_sender": "ACME", "timeout_s": 0.5,
        "request": {"url": url, "body": {"to": "{{to}}", "text": "{{text}}"}},
        "response": {"message_id_jmespath": "id"}, **fields})


def traffic(stack: Stack, *providers: ProviderConfig) -> Traffic:
    """One invocation's Traffic: its own transport and copy of the shared state, over the same table."""
    state = ProviderState(stack.env["TRAFFIC_TABLE"], cache_s=0.0,
                          client=AtomicItemWrites(stack.session.client("dynamodb")))
    client = ProviderClient(ProviderTransport(local_runtime=True))
    return Traffic(Dispatcher(client), state=state, providers=MemoryProviders(*providers),
                   policy=TrafficPolicy(circuit=CircuitPolicy(failures=2, cooldown_s=COOLDOWN_S)))


def message(text: str = "Your code is 1234") -> OutboundMessage:
    return OutboundMessage(to="+33612345678", text=text, sender="ACME")


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/sms"  # nothing listens there any more: connections are refused


def test_given_a_primary_refusing_connections_when_sent_then_the_backup_sends_it_once(
        stack: Stack, backup: LoopbackProvider) -> None:
    first = config("acme", closed_port_url(), failover=["spare"])
    spare = config("spare", backup.url_for("/sms"))

    [delivery] = traffic(stack, first, spare).send(first, [message()])

    assert delivery.outcome.verdict == "sent" and delivery.provider.id == "spare" and delivery.requested
    assert [(tried.provider_id, tried.outcome.not_taken) for tried in delivery.tried] == [("acme", True)]
    assert "connection refused" in delivery.tried[0].outcome.reason
    assert len(backup.requests) == 1


def test_given_a_primary_answering_503_when_sent_then_each_provider_gets_exactly_one_request(
        stack: Stack, primary: LoopbackProvider, backup: LoopbackProvider) -> None:
    primary.answer_with(503, {"error": "down"})
    first = config("acme", primary.url_for("/sms"), failover=["spare"])
    spare = config("spare", backup.url_for("/sms"))

    [delivery] = traffic(stack, first, spare).send(first, [message()])

    assert delivery.provider.id == "spare" and delivery.outcome.verdict == "sent"
    assert delivery.tried[0].outcome.status_code == 503
    assert (len(primary.requests), len(backup.requests)) == (1, 1)
    assert backup.last.json() == {"to": "+33612345678", "text": "Your code is 1234"}


def test_given_a_read_timeout_when_sent_then_no_other_provider_is_tried(
        stack: Stack, backup: LoopbackProvider) -> None:
    with LoopbackProvider(latency_s=1.5) as slow:
        first = config("acme", slow.url_for("/sms"), failover=["spare"])
        spare = config("spare", backup.url_for("/sms"))

        [delivery] = traffic(stack, first, spare).send(first, [message()])

        assert delivery.provider.id == "acme" and delivery.requested and delivery.tried == ()
        assert delivery.outcome.verdict == "retry" and not delivery.outcome.not_taken
        assert "timeout" in delivery.outcome.reason
        assert len(slow.wait_for(1)) == 1 and backup.requests == []


def test_given_a_retry_after_an_attempt_that_may_have_arrived_when_sent_without_failover_then_the_backup_is_not_used(
        stack: Stack, primary: LoopbackProvider, backup: LoopbackProvider) -> None:
    primary.answer_with(503)
    first = config("acme", primary.url_for("/sms"), failover=["spare"])

    [delivery] = traffic(stack, first, config("spare", backup.url_for("/sms"))).send(first, [message()], failover=False)

    assert delivery.provider.id == "acme" and delivery.outcome.verdict == "retry"
    assert backup.requests == []


def test_given_an_open_circuit_when_more_messages_come_then_they_go_to_the_backup_without_a_request_to_the_primary(
        stack: Stack, primary: LoopbackProvider, backup: LoopbackProvider) -> None:
    primary.answer_with(503)
    first = config("acme", primary.url_for("/sms"), failover=["spare"])
    sender = traffic(stack, first, config("spare", backup.url_for("/sms")))
    for _ in range(2):  # the threshold: two failures proving the provider down
        sender.send(first, [message()])

    later = [sender.send(first, [message(f"message {n}")])[0] for n in range(5)]

    assert len(primary.requests) == 2
    assert len(backup.requests) == 7
    assert all(d.provider.id == "spare" and d.outcome.verdict == "sent" for d in later)
    assert all(not d.tried[0].outcome.status_code and "circuit" in d.tried[0].outcome.reason for d in later)


def test_given_an_open_circuit_after_the_cooldown_when_the_probe_succeeds_then_traffic_returns_to_the_primary(
        stack: Stack, primary: LoopbackProvider, backup: LoopbackProvider) -> None:
    primary.answer_with(503)
    first = config("acme", primary.url_for("/sms"), failover=["spare"])
    spare = config("spare", backup.url_for("/sms"))
    sender, other = traffic(stack, first, spare), traffic(stack, first, spare)
    for _ in range(2):
        sender.send(first, [message()])
    primary.answer_with(201, {"id": "p-1"})  # the provider is back

    time.sleep(COOLDOWN_S)
    probe = sender.send(first, [message("probe")])[0]
    after = [other.send(first, [message(f"after {n}")])[0] for n in range(3)]

    assert probe.provider.id == "acme" and probe.outcome.verdict == "sent" and probe.tried == ()
    assert all(d.provider.id == "acme" and d.tried == () for d in after)
    assert len(primary.requests) == 2 + 1 + 3 and len(backup.requests) == 2


def test_given_an_open_circuit_and_no_failover_when_sent_then_the_message_waits_for_the_probe_without_a_request(
        stack: Stack, primary: LoopbackProvider) -> None:
    primary.answer_with(503)
    alone = config("acme", primary.url_for("/sms"))
    sender = traffic(stack, alone)
    for _ in range(2):
        sender.send(alone, [message()])

    [delivery] = sender.send(alone, [message()])

    assert delivery.provider.id == "acme" and not delivery.requested
    assert delivery.outcome.verdict == "retry" and 0 < delivery.outcome.retry_after_s <= COOLDOWN_S
    assert len(primary.requests) == 2


def test_given_a_429_at_one_sender_when_another_sender_reserves_then_it_waits_for_the_retry_after(
        stack: Stack, primary: LoopbackProvider) -> None:
    primary.answer_with(429, {"error": "slow down"}, headers={"Retry-After": "2"})
    limited = config("acme", primary.url_for("/sms"), throughput={"per_second": 20})
    first, second = traffic(stack, limited), traffic(stack, limited)
    assert second.reserve(limited, 5, MessageType.NOTIFICATION).granted == 5

    [delivery] = first.send(limited, [message()])
    waiting = second.reserve(limited, 5, MessageType.NOTIFICATION)

    assert delivery.outcome.verdict == "retry" and delivery.outcome.retry_after_s == 2.0
    assert waiting.granted == 0 and 1.5 < waiting.retry_in_s <= 2.0
