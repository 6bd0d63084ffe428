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


def window_grants(stack: Stack, provider_id: str) -> list[tuple[int, int]]:
    item = stack.session.resource("dynamodb").Table(stack.env["TRAFFIC_TABLE"]).get_item(
        Key={"provider": provider_id}).get("Item") or {}
    return [(int(at), int(count)) for at, count in item.get("grants") or []]


def test_given_more_granted_requests_than_threads_on_a_slow_provider_then_each_starts_on_a_fresh_grant(
        stack: Stack, provider: LoopbackProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a provider limited to 10 a second that takes 0.4 s to answer, one sending thread (in-process
    # moto's conditional writes are not atomic across threads; DynamoDB's are), and the local guard of
    # 0.5 s: a granted request must start within 0.25 s of its grant
    monkeypatch.setenv("SEND_CONCURRENCY", "1")
    monkeypatch.setenv("THROUGHPUT_GUARD_S", "0.5")
    reset_cached_clients()
    configure(provider, throughput={"per_second": 10})
    provider.latency_s = 0.4
    records = queue(stack, 4, "slow")

    # When one batch is granted its 4 requests, of which its thread can start only the first in time
    answer = handler()({"Records": records}, LambdaContext())

    # Then every message is sent, once
    assert answer == {"batchItemFailures": []}
    assert sorted(r.json()["body"] for r in provider.requests) == sorted(f"code {i}" for i in range(4))
    assert {message(f"slow-{i}")["status"] for i in range(4)} == {"sent"}
    # And each late one was moved to a grant of its own time: the first grant keeps the request started at
    # once, the 3 others were granted again 0.4 s apart, 4 in all
    grants = window_grants(stack, "acme")
    assert [count for _, count in grants] == [1, 1, 1, 1], grants
    assert all(later - earlier >= 350 for (earlier, _), (later, _) in zip(grants, grants[1:])), grants
