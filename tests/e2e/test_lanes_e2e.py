"""SPEC 12 in the local runtime: a NOTIFICATION never waits behind MARKETING traffic, whatever its
volume (issue 11, Must-show 3)."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.local_stack import LocalStack, running_runtime, wait_for
from tests.support.loopback import LoopbackProvider

CAMPAIGN = 2000
NOTIFICATION_WITHIN_S = 2.0


def queue_campaign(stack: LocalStack, provider: str, count: int) -> None:
    """`count` MARKETING messages on BulkQueue, as an application sending a campaign would."""
    sqs, run = stack.client("sqs"), uuid.uuid4().hex[:8]
    for start in range(0, count, 10):
        sqs.send_message_batch(QueueUrl=stack.bulk_queue_url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"id": f"promo-{run}-{start + i}", "provider": provider,
                                                      "to": "+33612345678", "text": f"Sale! {start + i}",
                                                      "type": "MARKETING"})}
            for i in range(min(10, count - start))])


def notification_delay_s(stack: LocalStack) -> float:
    """Queue one NOTIFICATION for the sandbox; seconds until the sandbox received it."""
    text = f"Your code is {uuid.uuid4().hex[:6]}"
    sent = time.time()
    stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(
        {"to": "+33612345678", "text": text, "type": "NOTIFICATION"}))
    [arrived] = wait_for(lambda: stack.inbox(text=text), timeout_s=30, every_s=0.05, what="the notification")
    return _epoch(arrived["received_at"]) - sent


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_given_a_campaign_under_way_on_a_slow_provider_when_a_notification_is_queued_then_it_arrives_within_2_s(
        tmp_path: Path) -> None:
    # Given a provider answering after 2 s, busy with a campaign of 2,000 MARKETING messages
    folder = tmp_path / "providers"
    folder.mkdir()
    with LoopbackProvider(latency_s=2.0) as slow:
        (folder / "slow.json").write_text(json.dumps({
            "id": "slow", "default_sender": "ACME", "timeout_s": 10,
            "request": {"url": f"{slow.url}/sms", "body": {"to": "{{to}}", "text": "{{text}}"}}}))
        with running_runtime(tmp_path, {"SMSBRIDGE_PROVIDERS_DIR": str(folder)}) as stack:
            queue_campaign(stack, "slow", CAMPAIGN)
            wait_for(lambda: slow.requests, timeout_s=30, every_s=0.1, what="the campaign under way")

            # When a NOTIFICATION for the sandbox is queued
            delay_s = notification_delay_s(stack)

            # Then it reached the sandbox within 2 s, while the campaign was still far from done
            under_way = len(slow.requests)
    assert delay_s <= NOTIFICATION_WITHIN_S, f"the notification took {delay_s:.2f} s"
    assert under_way < CAMPAIGN / 2, under_way


def test_given_2000_marketing_queued_for_a_provider_limited_to_50_per_s_then_a_notification_arrives_within_2_s(
        tmp_path: Path) -> None:
    with running_runtime(tmp_path) as stack:
        # Given the sandbox limited to 50 messages per second, 2,000 MARKETING messages queued for it
        limited = _with(requests.get(f"{stack.api}/providers/sandbox", timeout=10).json(),
                        throughput={"per_second": 50, "burst": 50})
        answer = requests.put(f"{stack.api}/providers/sandbox", json=limited, timeout=10)
        assert answer.status_code == 200, answer.text
        time.sleep(3)  # the send function's provider cache (2 s locally)
        queue_campaign(stack, "sandbox", CAMPAIGN)
        wait_for(lambda: stack.inbox(), timeout_s=30, every_s=0.1, what="the campaign under way")

        # When a NOTIFICATION is queued after them
        delay_s = notification_delay_s(stack)

        # Then it reached the sandbox within 2 s: served first from the provider's throughput
        delivered = len(stack.inbox())
    assert delay_s <= NOTIFICATION_WITHIN_S, f"the notification took {delay_s:.2f} s"
    assert delivered < CAMPAIGN, "the limit held the campaign back"


def _with(document: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**document, **fields}
