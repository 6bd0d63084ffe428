"""A body that can never be sent is not retried and not lost: it lands in the dead-letter queue."""
from __future__ import annotations

import uuid

import pytest

from tests.e2e.local_stack import LocalStack, wait_for


def _dead_letter_with_body(stack: LocalStack, body: str) -> dict | None:
    sqs = stack.client("sqs")
    answer = sqs.receive_message(QueueUrl=stack.dead_letter_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                 MessageAttributeNames=["All"], VisibilityTimeout=0)
    return next((m for m in answer.get("Messages", []) if m["Body"] == body), None)


@pytest.mark.parametrize("body", [
    "not json at all {uuid}",
    '{{"to": "not a phone number", "text": "hello {uuid}"}}',
])
def test_a_malformed_queue_body_ends_in_the_dead_letter_queue_with_its_reason(stack: LocalStack, body: str) -> None:
    # Given a body that is not a valid outbound message
    body = body.format(uuid=uuid.uuid4())

    # When it is put on the outbound queue
    stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=body)

    # Then it shows up, unchanged, in the dead-letter queue with the reason attached, and nothing is sent
    dead = wait_for(lambda: _dead_letter_with_body(stack, body), timeout_s=20, what="the body in the DLQ")
    reason = dead["MessageAttributes"]["reason"]["StringValue"]
    assert reason
    assert not [m for m in stack.inbox() if body in m["text"]]


@pytest.mark.parametrize("shape", ["lists", "objects"])
def test_a_body_nested_50000_levels_deep_is_dead_lettered_on_its_first_receive(stack: LocalStack, shape: str) -> None:
    # Given a body nested 50,000 levels deep (the standard library's JSON parser gives up on it)
    depth, tag = 50_000, uuid.uuid4().hex
    body = ("[" * depth + f'"{tag}"' + "]" * depth) if shape == "lists" else \
        ('{"a":' * depth + f'"{tag}"' + "}" * depth)

    # When it is put on the outbound queue
    stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=body)

    # Then it is in the dead-letter queue with its reason after one receive, not redelivered
    # every visibility timeout (180 s: far longer than this wait)
    dead = wait_for(lambda: _dead_letter_with_body(stack, body), timeout_s=20, what="the deep body in the DLQ")
    assert "recursion limit" in dead["MessageAttributes"]["reason"]["StringValue"]
