"""A provider outage delays messages but loses and duplicates none."""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter

from tests.e2e.local_stack import LocalStack, wait_for

OUTAGE_S = 10


def test_messages_sent_during_an_outage_are_each_delivered_once_after_it(stack: LocalStack) -> None:
    # Given the provider answers 503 to every message
    stack.set_faults(status=503)
    started = time.monotonic()
    batch = uuid.uuid4().hex[:8]
    texts = [f"outage {batch} #{i}" for i in range(5)]

    # When messages are queued during a 10 s outage
    sqs = stack.client("sqs")
    for text in texts:
        sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps({"to": "+33612345678", "text": text}))
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - started)))
    assert not [m for m in stack.inbox() if m["text"] in texts], "nothing gets through during the outage"
    stack.set_faults()

    # Then after it every message arrives, each exactly once
    def delivered() -> Counter[str]:
        return Counter(m["text"] for m in stack.inbox() if m["text"] in texts)

    wait_for(lambda: set(delivered()) == set(texts), timeout_s=60, every_s=0.5,
             what="every message delivered after the outage")
    time.sleep(3)  # room for a duplicate to show up, if there were one
    assert delivered() == Counter({text: 1 for text in texts})
