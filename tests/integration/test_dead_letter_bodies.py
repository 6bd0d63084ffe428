"""Any body the send function cannot take reaches the dead-letter queue with its reason on its first
receive, whatever it holds: 50,000 levels of nesting, a huge string, text that is not clean JSON, a
reason longer than an SQS attribute takes (moto, the send handler in-process)."""
from __future__ import annotations

import json

import pytest

from smsbridge.adapters.queue import ATTRIBUTES_BUDGET_BYTES, REASON_MAX_BYTES, SQS_MAX_MESSAGE_BYTES
from tests.support.loopback import LoopbackProvider

DEPTH = 50_000
TO = "+33612345678"


@pytest.fixture
def provider(stack):
    from smsbridge.models.provider import ProviderConfig
    from smsbridge.wiring import provider_store

    with LoopbackProvider() as server:
        provider_store().put(ProviderConfig.model_validate({
            "id": "acme", "default": True, "default_sender": "ACME",
            "request": {"url": server.url_for("/sms"), "body": {"to": "{{to}}", "text": "{{text}}"}}}))
        yield server


def receive_once(stack) -> tuple[dict, list[dict]]:
    """One receive of everything queued, through the send handler as Lambda's poller would call it;
    returns the handler's answer and what the dead-letter queue then holds."""
    from send_handler import lambda_handler

    records = stack.receive()
    assert records and all(r["attributes"]["ApproximateReceiveCount"] == "1" for r in records)
    answer = stack.deliver(records, lambda_handler)
    return answer, stack.dead_letters()


def assert_settled(stack) -> None:
    """Nothing left on the outbound queue, visible or in flight: no redelivery will happen."""
    attributes = stack.session.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def reason_of(dead: dict) -> str:
    return dead["MessageAttributes"]["reason"]["StringValue"]


@pytest.mark.parametrize("body", [
    "[" * DEPTH + "]" * DEPTH,
    '{"a":' * DEPTH + "1" + "}" * DEPTH,
    '{"id": "deep-1", "to": "%s", "text": "hi", "vars": %s}' % (TO, '{"a":' * DEPTH + "1" + "}" * DEPTH),
], ids=["lists", "objects", "deep vars"])
def test_given_a_body_nested_50000_levels_deep_then_it_is_dead_lettered_with_its_reason_on_the_first_receive(
        stack, provider, body):
    stack.enqueue(body)

    answer, dead = receive_once(stack)

    assert answer == {"batchItemFailures": []}
    [letter] = dead
    assert letter["Body"] == body
    assert "invalid message" in reason_of(letter) and "recursion limit" in reason_of(letter)
    assert_settled(stack)
    assert provider.requests == []


def test_given_a_huge_text_then_the_whole_body_is_dead_lettered_with_a_short_reason(stack, provider):
    body = json.dumps({"id": "huge-1", "to": TO, "text": "é" * 500_000}, ensure_ascii=False)  # 1,000,053 bytes

    stack.enqueue(body)
    answer, [letter] = receive_once(stack)

    assert answer == {"batchItemFailures": []}
    assert letter["Body"] == body
    assert reason_of(letter) == "invalid message: text: String should have at most 10000 characters"
    assert letter["MessageAttributes"]["message_id"]["StringValue"] == "huge-1"
    from smsbridge.wiring import message_store
    assert message_store().get("huge-1")["status"] == "rejected"
    assert_settled(stack)


@pytest.mark.parametrize(("body", "message_id"), [
    ('{"id": "lone-1", "to": "%s", "text": "half a pair \\ud800"}' % TO, "lone-1"),  # an escaped lone surrogate
    ('{"id": "lone-2", "to": "%s", "text": "raw control \x01 in a string"}' % TO, "lone-2"),
    ('{"id": "lone-3", "to": "%s", "text": "escaped NUL \\u0000"}' % TO, "lone-3"),
    ('{"id": "lone-4", "to": "%s", "text": "ok"} trailing words' % TO, None),
    ("\ufeff{}", None),
], ids=["lone surrogate", "raw control", "escaped NUL", "trailing text", "byte order mark"])
def test_given_a_body_that_is_not_clean_json_text_then_it_is_dead_lettered_and_its_id_rejected(
        stack, provider, body, message_id):
    from smsbridge.wiring import message_store

    stack.enqueue(body)
    answer, [letter] = receive_once(stack)

    assert answer == {"batchItemFailures": []}
    assert letter["Body"] == body
    assert reason_of(letter).startswith("invalid message: ")
    if message_id:
        assert message_store().get(message_id)["status"] == "rejected"
        assert letter["MessageAttributes"]["message_id"]["StringValue"] == message_id
    else:
        assert "message_id" not in letter["MessageAttributes"]
    assert_settled(stack)


def test_given_a_body_whose_reason_would_exceed_an_sqs_attribute_then_the_reason_is_cut_and_clean(stack, provider):
    # Thousands of unknown keys, each long and holding control characters: every one is a
    # validation error, named in the reason.
    document = {"id": "many-1", "to": TO, "text": "hi"}
    document.update({f"key\u0001\u0007{n:05d}" + "k" * 5_000: n for n in range(150)})
    body = json.dumps(document)

    stack.enqueue(body)
    answer, [letter] = receive_once(stack)

    assert answer == {"batchItemFailures": []}
    reason = reason_of(letter)
    assert len(reason.encode()) <= REASON_MAX_BYTES
    assert "\u0001" not in reason and "\u0007" not in reason
    assert reason.startswith("invalid message: ") and "Extra inputs are not permitted" in reason
    assert letter["Body"] == body
    assert_settled(stack)


def test_given_the_largest_body_the_outbound_queue_takes_then_it_still_fits_the_dead_letter_queue_with_its_reason(
        stack, provider):
    largest = int(stack.template.properties("OutboundQueue")["MaximumMessageSize"])
    dead_letter_max = int(stack.template.properties("DeadLetterQueue")["MaximumMessageSize"])
    assert largest + ATTRIBUTES_BUDGET_BYTES <= dead_letter_max == SQS_MAX_MESSAGE_BYTES
    head = '{"id": "big-1", "to": "%s", "text": "' % TO
    body = head + "x" * (largest - len(head) - 2) + '"}'
    assert len(body.encode()) == largest

    stack.enqueue(body)
    answer, [letter] = receive_once(stack)

    assert answer == {"batchItemFailures": []}
    size = len(letter["Body"].encode()) + sum(len(name) + len(value["DataType"]) + len(value["StringValue"].encode())
                                              for name, value in letter["MessageAttributes"].items())
    assert letter["Body"] == body and size <= SQS_MAX_MESSAGE_BYTES
    assert_settled(stack)
