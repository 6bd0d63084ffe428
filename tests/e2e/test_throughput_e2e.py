"""SPEC 3 `throughput` in the local runtime: a provider limited to 20 requests per second gets no more
than 20 in any second, from four send invocations at once (issue 11, Must-show 2).

The sandbox enforces the same limit as the provider would (`rate_limit` fault: a 429 past 20 requests
in the last second), so "no 429" is checked against the provider's own count, not assumed."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from pathlib import Path

import requests

from tests.e2e.local_stack import LocalStack, running_runtime, wait_for
from tests.support.arrivals import most_in_any_second

MESSAGES = 600
PER_SECOND = 20


def queue_notifications(stack: LocalStack, run: str, count: int) -> None:
    sqs = stack.client("sqs")
    for start in range(0, count, 10):
        sqs.send_message_batch(QueueUrl=stack.queue_url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"id": f"{run}-{start + i}", "to": "+33612345678",
                                                      "text": f"{run} code {start + i}", "type": "NOTIFICATION"})}
            for i in range(min(10, count - start))])


def test_given_a_provider_limited_to_20_per_second_and_four_invocations_then_600_messages_arrive_never_more_than_20_in_a_second(
        tmp_path: Path) -> None:
    with running_runtime(tmp_path, {"SMSBRIDGE_PARAMETER_OVERRIDES": "NotificationConcurrency=4"}) as stack:
        # Given the sandbox limited to 20 per second, on its side (429 past it) and in the bridge
        stack.set_faults(rate_limit=PER_SECOND)
        sandbox = requests.get(f"{stack.api}/providers/sandbox", timeout=10).json()
        answer = requests.put(f"{stack.api}/providers/sandbox", json={**sandbox, "throughput": {"per_second": PER_SECOND}},
                              timeout=10)
        assert answer.status_code == 200, answer.text
        time.sleep(3)  # the send function's provider cache (2 s locally)
        run = uuid.uuid4().hex[:8]

        # When 600 notifications are queued at once, for four invocations at a time
        started = time.monotonic()
        queue_notifications(stack, run, MESSAGES)
        def all_arrived() -> list[dict] | None:
            got = [m for m in stack.inbox() if m["text"].startswith(run)]
            return got if len(got) >= MESSAGES else None

        arrived = wait_for(all_arrived, timeout_s=180, every_s=1.0, what=f"{MESSAGES} messages at the sandbox")
        took_s = time.monotonic() - started
        faults = requests.get(f"{stack.sandbox}/api/faults", timeout=10).json()
        limited = requests.get(f"{stack.api}/traffic", timeout=10).json()

    # Then each arrived once, never more than 20 in any second, and the provider never answered 429
    assert len(arrived) == MESSAGES and len({m["text"] for m in arrived}) == MESSAGES
    received = [datetime.fromisoformat(m["received_at"].replace("Z", "+00:00")).timestamp() for m in arrived]
    assert most_in_any_second(received) <= PER_SECOND
    assert faults["rate_limited"] == 0
    assert took_s >= MESSAGES / PER_SECOND - 2  # held back, not sent at once: ~30 s at 20 per second
    assert [p["per_second"] for p in limited["providers"] if p["provider"] == "sandbox"] == [PER_SECOND]
    print(f"{MESSAGES} messages in {took_s:.1f} s ({MESSAGES / took_s:.1f}/s), "
          f"busiest second {most_in_any_second(received)}")
