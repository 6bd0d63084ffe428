"""A throughput grant the send path did not use goes back to the provider's shared window (services/send.py
`_give_back_unused`, adapters/provider_state.py `give_back`): a batch whose requests were not all started
does not cost the next batch its room (SPEC 3 `throughput`)."""
from __future__ import annotations


import pytest

from tests.integration.test_send_claims import configure, handler, message
from tests.support.loopback import LoopbackProvider
from tests.support.stack import LambdaContext, Stack, reset_cached_clients


@pytest.fixture
def provider(provider: LoopbackProvider) -> LoopbackProvider:
    """The provider stand-in, answering each message with an id made of its text."""
    provider.handler = lambda request: (200, {}, {"id": "pm-" + request.json()["body"]})
    return provider


def granted_in_window(stack: Stack, provider_id: str) -> int:
    """The requests the shared window holds as granted (the stored grants, whatever their age)."""
    item = stack.session.resource("dynamodb").Table(stack.env["TRAFFIC_TABLE"]).get_item(
        Key={"provider": provider_id}).get("Item") or {}
    return sum(int(count) for _, count in item.get("grants") or [])


def queue(stack: Stack, count: int, prefix: str) -> list[dict]:
    for i in range(count):
        stack.enqueue({"id": f"{prefix}-{i}", "to": "+33612345678", "text": f"code {i}", "type": "NOTIFICATION"})
    records = stack.receive()
    assert len(records) == count
    return records


def test_given_a_provider_at_5_per_second_and_a_batch_not_started_for_lack_of_time_then_the_next_batch_sends_at_once(
        stack: Stack, provider: LoopbackProvider) -> None:
    # Given a provider limited to 5 requests a second, whose requests may take 5 s
    configure(provider, throughput={"per_second": 5}, timeout_s=5)
    records = queue(stack, 5, "late")

    # When an invocation with 3 s left is granted the 5 requests but cannot start them (5 s + margin)
    first = handler()({"Records": records}, LambdaContext(remaining_ms=3000))

    # Then nothing reached the provider, every message waits on its queue, and the grant is given back
    assert provider.requests == []
    assert len(first["batchItemFailures"]) == 5
    assert granted_in_window(stack, "acme") == 0

    # And the next invocation at once is granted the whole second's room and sends all 5
    second = handler()({"Records": records}, LambdaContext())
    assert second == {"batchItemFailures": []}
    assert len(provider.requests) == 5
    assert {message(f"late-{i}")["status"] for i in range(5)} == {"sent"}
    assert granted_in_window(stack, "acme") == 5


def test_given_a_batch_partly_held_after_its_grant_then_only_the_requests_sent_stay_granted(
        stack: Stack, provider: LoopbackProvider) -> None:
    # Given a provider limited to 3 requests a second and to 2 segments a month for notifications
    configure(provider, throughput={"per_second": 3},
              spend_limit={"segments_per_month": 2, "types": ["NOTIFICATION"]})
    records = queue(stack, 3, "held")

    # When a batch of 3 is granted 3 requests, and the spend limit then holds one message back
    answer = handler()({"Records": records}, LambdaContext())

    # Then 2 are sent, 1 waits, and the window holds only the 2 requests sent: the third grant is back
    assert len(provider.requests) == 2
    assert len(answer["batchItemFailures"]) == 1
    assert granted_in_window(stack, "acme") == 2


def test_given_more_granted_requests_than_threads_on_a_slow_provider_then_none_starts_late_on_its_grant(
        stack: Stack, provider: LoopbackProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a provider limited to 10 a second that takes 0.4 s to answer, two sending threads, and the
    # local guard of 0.5 s: a granted request must start within 0.25 s of its grant
    monkeypatch.setenv("SEND_CONCURRENCY", "2")
    monkeypatch.setenv("THROUGHPUT_GUARD_S", "0.5")
    reset_cached_clients()
    configure(provider, throughput={"per_second": 10})
    provider.latency_s = 0.4
    records = queue(stack, 6, "slow")

    # When one batch is granted its 6 requests but its 2 threads can start only 2 of them in time
    first = handler()({"Records": records}, LambdaContext())

    # Then 2 reach the provider; the 4 others go back to the queue unsent, not counted as attempts,
    # with the reason in their history, and their grant is given back
    assert len(provider.requests) == 2
    assert len(first["batchItemFailures"]) == 4
    assert granted_in_window(stack, "acme") == 2
    waiting = [message(f"slow-{i}") for i in range(6) if message(f"slow-{i}")["status"] == "queued"]
    assert len(waiting) == 4
    for item in waiting:
        assert int(item.get("attempts", 0)) == 0
        assert "throughput grant was" in item["history"][-1]["reason"]
        assert "past half the guard" in item["history"][-1]["reason"]

    # And later invocations send them under grants of their own, each message exactly once
    for _ in range(5):
        if not handler()({"Records": records}, LambdaContext())["batchItemFailures"]:
            break
    assert sorted(request.json()["body"] for request in provider.requests) == sorted(f"code {i}" for i in range(6))
    assert {message(f"slow-{i}")["status"] for i in range(6)} == {"sent"}
