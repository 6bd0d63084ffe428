"""The two lanes (SPEC 12) on moto: POST /messages puts a message on its effective type's queue
(OutboundQueue for NOTIFICATION, BulkQueue for MARKETING), a dead-letter redrive puts a body back on
its type's queue, and the send path delays a record on the queue it came from."""
from __future__ import annotations

import json
from typing import Any

from smsbridge.models.queue import QueuedRecord
from tests.support.apigw_events import AdminApi as Api
from tests.support.stack import lambda_sqs_record

PHONE = "+33612345678"


def provider(api: Api, provider_id: str, default_sender: str | None) -> None:
    document: dict[str, Any] = {"id": provider_id, "request": {"url": "https://sms.example.com/send",
                                                               "body": {"to": "{{to}}", "text": "{{text}}"}}}
    if default_sender:
        document["default_sender"] = default_sender
    answer = api.call("POST", "/providers", document)
    assert answer.status == 201, answer.text


def ids(api: Api, lane: str) -> list[str]:
    return sorted(body["id"] for body in api.stack.queued(lane))


def test_given_messages_of_each_type_when_posted_then_each_waits_on_its_lane(api: Api) -> None:
    # Given a provider with a default sender and one without
    provider(api, "acme", "ACME")
    provider(api, "bare", None)

    # When messages of each type are posted
    for message_id, fields in {
        "otp": {"type": "NOTIFICATION"},
        "promo": {"type": "MARKETING"},
        "untyped": {},  # NOTIFICATION: the provider's default sender is its sender
        "no-sender": {"provider": "bare"},  # SPEC 2: no sender at all makes it MARKETING
        "typed-no-sender": {"provider": "bare", "type": "NOTIFICATION"},  # MARKETING too, for the same reason
    }.items():
        answer = api.call("POST", "/messages", {"id": message_id, "provider": "acme", "to": PHONE, "text": "hi",
                                                **fields})
        assert answer.status == 202, answer.text

    # Then the notifications wait on OutboundQueue and the marketing messages on BulkQueue
    assert ids(api, "OutboundQueue") == ["otp", "untyped"]
    assert ids(api, "BulkQueue") == ["no-sender", "promo", "typed-no-sender"]


def test_given_dead_letters_of_both_types_when_redriven_then_each_body_goes_back_to_its_lane(api: Api) -> None:
    from smsbridge.wiring import outbound_queue

    # Given dead letters: a MARKETING body, a NOTIFICATION body, one without type and one not JSON
    bodies = {
        "promo": json.dumps({"id": "promo", "to": PHONE, "text": "sale", "type": "MARKETING"}),
        "otp": json.dumps({"id": "otp", "to": PHONE, "text": "1234", "type": "NOTIFICATION"}),
        "untyped": json.dumps({"id": "untyped", "to": PHONE, "text": "hi"}),
        "broken": '{"id": "broken", "type": "MARKETING"',
    }
    for body in bodies.values():
        outbound_queue().dead_letter(body, "invalid message")

    # When all are redriven
    answer = api.call("POST", "/dead-letters/redrive", {"all": True})

    # Then the MARKETING body is on BulkQueue, the others on OutboundQueue (the send path reads
    # the unreadable one and dead-letters it again with its reason)
    assert answer.json() == {"redriven": 4}
    sqs = api.stack.session.client("sqs")

    def raw(url: str) -> list[str]:
        found = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            found += [m["Body"] for m in messages]
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        return sorted(found)

    assert raw(api.stack.bulk_queue_url) == [bodies["promo"]]
    assert raw(api.stack.queue_url) == sorted([bodies["otp"], bodies["untyped"], bodies["broken"]])


def test_given_a_record_from_the_bulk_queue_when_delayed_then_its_visibility_changes_on_the_bulk_queue(api: Api) -> None:
    from smsbridge.wiring import outbound_queue

    # Given a MARKETING message received from BulkQueue, as the send function gets it
    sqs = api.stack.session.client("sqs")
    sqs.send_message(QueueUrl=api.stack.bulk_queue_url, MessageBody=json.dumps(
        {"id": "later", "to": PHONE, "text": "sale", "type": "MARKETING"}))
    [message] = sqs.receive_message(QueueUrl=api.stack.bulk_queue_url, AttributeNames=["All"])["Messages"]
    record = QueuedRecord.model_validate(lambda_sqs_record(message, api.stack.template.arn("BulkQueue")))

    # When the send path delays it by no time at all
    assert outbound_queue().delay_all([(record, 0)]) == set()

    # Then it is visible again at once on BulkQueue (received afresh), not lost on the other lane
    assert set(outbound_queue().urls) == {api.stack.queue_url, api.stack.bulk_queue_url}
    [again] = sqs.receive_message(QueueUrl=api.stack.bulk_queue_url, AttributeNames=["All"])["Messages"]
    assert (again["MessageId"], again["Attributes"]["ApproximateReceiveCount"]) == (message["MessageId"], "2")
