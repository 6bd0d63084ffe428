"""The status function on moto: the messages table's stream in, `sms.status` events on EventBridge and callback
jobs on CallbackQueue out, for every status the API, the send path and receipts write (SPEC 10)."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from local.streams import keep_streams_consistent, lambda_record
from smsbridge.models.claim import ClaimRequest, FinalRecord, MessageState
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.status import MessageStatus, StatusChange
from tests.support.stack import LambdaContext, Stack, moto_stack

PROVIDER = ProviderConfig.model_validate({"id": "acme", "default": True, "default_sender": "ACME",
                                          "request": {"url": "https://sms.example.com/send",
                                                      "body": {"to": "{{to}}", "text": "{{text}}"}}})
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


class StreamReader:
    """The messages table's stream read as Lambda's event source mapping reads it: from where the last read ended."""

    def __init__(self, stack: Stack):
        self._streams = stack.session.client("dynamodbstreams")
        table = stack.session.client("dynamodb").describe_table(TableName=stack.tables["MessagesTable"])["Table"]
        self.arn = table["LatestStreamArn"]
        self._shard = self._streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self._last: str | None = None

    def records(self) -> list[dict[str, Any]]:
        """The records written since the previous call, as Lambda event records."""
        where = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._last} if self._last
                 else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = self._streams.get_shard_iterator(StreamArn=self.arn, ShardId=self._shard, **where)["ShardIterator"]
        records = self._streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        if records:
            self._last = records[-1]["dynamodb"]["SequenceNumber"]
        return [lambda_record(r, stream_arn=self.arn) for r in records]


class Bus:
    """An application's rule on the default bus: every `smsbridge` event to a queue of its own."""

    def __init__(self, stack: Stack):
        self._sqs = stack.session.client("sqs")
        self.url = self._sqs.create_queue(QueueName=f"app-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = stack.session.client("events")
        events.put_rule(Name="app-status", EventPattern=json.dumps({"source": ["smsbridge"],
                                                                    "detail-type": ["sms.status"]}))
        events.put_targets(Rule="app-status", Targets=[{"Id": "app", "Arn": arn}])

    def received(self) -> list[dict[str, Any]]:
        found = []
        while messages := self._sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                found.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return found


@pytest.fixture
def stack():
    keep_streams_consistent()  # as the local runtime's moto: nothing of a cancelled transaction is streamed
    with moto_stack("StatusFunction") as stack:
        yield stack


def callback_jobs(stack: Stack) -> list[dict[str, Any]]:
    sqs = stack.session.client("sqs")
    url = stack.queues["CallbackQueue"]
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def status_handler():
    import status_handler

    return status_handler


def invoke(records: list[dict[str, Any]]) -> dict:
    return status_handler().lambda_handler({"Records": records}, LambdaContext())


def queued_by_api(message: OutboundMessage) -> None:
    from smsbridge.services.send import record_queued
    from smsbridge.wiring import message_store

    assert record_queued(message_store(), message, PROVIDER, NOW, reason="default provider")


def claim_and_send(message: OutboundMessage, *, provider_message_id: str = "pm-1") -> None:
    """What the send path writes: the claim (a transaction), then the result."""
    from smsbridge.services.send import first_record
    from smsbridge.wiring import message_store

    store = message_store()
    first = first_record(message, PROVIDER, NOW)
    until = NOW.timestamp() + 3600 * 24 * 365 * 10
    [answer] = store.claim([ClaimRequest(message.id, first, MessageState(), until, "token-1")]).values()
    assert answer.outcome == "taken"
    sent = StatusChange(status=MessageStatus.SENT, at="2026-03-01T09:30:01.000000Z", attempt=1,
                        reason="accepted by the provider (status 201)", provider="acme")
    store.settle([FinalRecord(message.id, (sent,), "token-1", 1,
                              {"provider_message_id": provider_message_id,
                               "provider_ref": f"acme#{provider_message_id}"})])


def receipt(message_id: str, status: MessageStatus = MessageStatus.DELIVERED) -> None:
    from smsbridge.wiring import message_store

    message_store().record(message_id, StatusChange(status=status, at="2026-03-01T09:30:05.000000Z",
                                                    reason="delivery receipt: DELIVRD"),
                           apply_if_status_in={"sent"})


def with_status(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of writes that left a status. moto streams an UpdateItem that creates an item as two
    INSERTs, the first with the key alone (DynamoDB streams one); events skip an image without a status."""
    return [r for r in records if "status" in r["dynamodb"].get("NewImage", {})]


def test_given_put_update_and_transaction_writes_then_the_stream_holds_a_record_of_each(stack):
    reader = StreamReader(stack)
    message = OutboundMessage(id="m-writes", to="+33612345678", text="hi")

    queued_by_api(message)  # PutItem
    claim_and_send(message)  # TransactWriteItems (the claim), then TransactWriteItems (the result)
    receipt(message.id)  # UpdateItem

    records = with_status(reader.records())
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "MODIFY", "MODIFY"]
    assert [r["dynamodb"]["NewImage"]["status"]["S"] for r in records] == ["queued", "queued", "sent", "delivered"]
    assert [r["dynamodb"].get("OldImage", {}).get("status", {}).get("S") for r in records] == [
        None, "queued", "queued", "sent"]


@pytest.fixture(params=["moto", "local runtime's moto"])
def any_moto(request):
    """Plain moto rolls a cancelled transaction back from a copy of the table; the local runtime's
    (local/aws.py) writes the items back, which streams records that local/streams.py cuts away."""
    if request.param != "moto":
        from local import aws

        aws._transactions_without_table_copies()  # noqa: SLF001 - the patch the local runtime applies
        keep_streams_consistent()
    return request.param


def test_given_a_cancelled_claim_then_nothing_of_it_is_streamed(any_moto, stack):
    from smsbridge.services.send import first_record
    from smsbridge.wiring import message_store

    reader = StreamReader(stack)
    ok = OutboundMessage(id="m-ok", to="+33612345678", text="hi")
    done = OutboundMessage(id="m-done", to="+33612345678", text="hi")
    queued_by_api(done)
    claim_and_send(done)
    reader.records()
    until = NOW.timestamp() + 3600

    # One transaction claims a fresh message and one already sent: cancelled, then the fresh one alone.
    answers = message_store().claim([ClaimRequest(m.id, first_record(m, PROVIDER, NOW), MessageState(), until, "t2")
                                     for m in (ok, done)])

    assert {k: a.outcome for k, a in answers.items()} == {"m-ok": "taken", "m-done": "done"}
    assert [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"], r["dynamodb"]["NewImage"]["status"]["S"])
            for r in with_status(reader.records())] == [("INSERT", "m-ok", "queued")]


def test_given_a_message_queued_sent_and_delivered_then_three_status_events_reach_an_applications_rule(stack):
    bus, reader = Bus(stack), StreamReader(stack)
    message = OutboundMessage(id="m-1", to="+33612345678", text="Your code is 1234", sender="ACME",
                              campaign_id="spring", metadata={"order": 42, "ratio": 0.5, "tags": ["vip"]})

    queued_by_api(message)
    claim_and_send(message, provider_message_id="pm-42")
    receipt(message.id)
    answer = invoke(reader.records())

    assert answer == {"batchItemFailures": []}
    events = bus.received()
    assert {(e["source"], e["detail-type"]) for e in events} == {("smsbridge", "sms.status")}
    details = sorted((e["detail"] for e in events), key=lambda d: d["at"])
    assert [(d["previous_status"], d["status"]) for d in details] == [
        (None, "queued"), ("queued", "sent"), ("sent", "delivered")]
    assert details[1] == {"id": "m-1", "status": "sent", "previous_status": "queued", "provider": "acme",
                          "provider_message_id": "pm-42", "to": "+33612345678", "type": "NOTIFICATION",
                          "segments": 1, "attempt": 1, "reason": "accepted by the provider (status 201)",
                          "at": "2026-03-01T09:30:01.000000Z", "campaign_id": "spring",
                          "metadata": {"order": 42, "ratio": 0.5, "tags": ["vip"]}}
    assert callback_jobs(stack) == []  # no callback_url: events only


def test_given_a_message_with_a_callback_url_then_each_change_is_a_callback_job_with_the_event_as_its_body(stack):
    reader = StreamReader(stack)
    message = OutboundMessage(id="m-cb", to="+33612345678", text="hi", sender="ACME",
                              callback_url="https://app.example.com/sms-status", metadata={"user": "u-7"})

    queued_by_api(message)
    claim_and_send(message)
    invoke(reader.records())

    jobs = sorted(callback_jobs(stack), key=lambda j: json.loads(j["body"])["at"])
    assert [(j["url"], j["message_id"], j["status"], j["attempts"], j["first_attempt_at"]) for j in jobs] == [
        ("https://app.example.com/sms-status", "m-cb", "queued", 0, None),
        ("https://app.example.com/sms-status", "m-cb", "sent", 0, None)]
    assert json.loads(jobs[1]["body"])["metadata"] == {"user": "u-7"}


def test_given_a_message_sent_straight_to_sqs_then_the_send_paths_first_record_keeps_metadata_and_callback_url(stack):
    reader = StreamReader(stack)
    message = OutboundMessage(id="m-sqs", to="+33612345678", text="hi", sender="ACME",
                              callback_url="https://app.example.com/cb", metadata={"k": "v"})

    claim_and_send(message)  # no record by the API: the claim writes the first record
    invoke(reader.records())

    assert [(j["status"], json.loads(j["body"])["metadata"]) for j in callback_jobs(stack)] == [
        ("queued", {"k": "v"}), ("sent", {"k": "v"})]


def test_given_eventbridge_refusing_an_event_then_its_record_is_reported_failed_and_the_others_are_not(
        stack, monkeypatch):
    from smsbridge.adapters.callbacks import CallbackJobs
    from smsbridge.adapters.events import StatusEvents
    from smsbridge.services.status_events import StatusEventPublisher

    reader = StreamReader(stack)
    for message_id in ("m-a", "m-b", "m-c"):
        queued_by_api(OutboundMessage(id=message_id, to="+33612345678", text="hi"))
    records = reader.records()
    client = RefusingEvents(stack.session.client("events"), refuse_id="m-b")
    publisher = StatusEventPublisher(events=StatusEvents(events=client),
                                     callbacks=CallbackJobs(stack.queues["CallbackQueue"]))
    monkeypatch.setattr(status_handler(), "status_publisher", lambda: publisher)

    answer = invoke(records)

    assert answer == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    assert client.tries_of("m-b") == 3  # put again twice before it is reported
    assert client.tries_of("m-a") == client.tries_of("m-c") == 1


def test_given_more_than_ten_changes_then_they_are_put_ten_per_call(stack):
    reader = StreamReader(stack)
    for index in range(23):
        queued_by_api(OutboundMessage(id=f"m-{index}", to="+33612345678", text="hi"))
    client = RefusingEvents(stack.session.client("events"), refuse_id=None)
    from smsbridge.adapters.events import StatusEvents

    assert StatusEvents(events=client).publish([{"id": f"m-{i}"} for i in range(23)]) == {}
    assert client.call_sizes == [10, 10, 3]
    assert len(reader.records()) == 23


class RefusingEvents:
    """moto's EventBridge client, except that entries about one message are refused as throttled."""

    def __init__(self, client: Any, refuse_id: str | None):
        self._client = client
        self._refuse = refuse_id
        self.call_sizes: list[int] = []
        self.entries: list[str] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.call_sizes.append(len(Entries))
        ids = [json.loads(e["Detail"])["id"] for e in Entries]
        self.entries += ids
        kept = [e for e, i in zip(Entries, ids) if i != self._refuse]
        answer = self._client.put_events(Entries=kept) if kept else {"Entries": []}
        results = iter(answer["Entries"])
        return {"FailedEntryCount": ids.count(self._refuse),
                "Entries": [{"ErrorCode": "ThrottlingException"} if i == self._refuse else next(results) for i in ids]}

    def tries_of(self, message_id: str) -> int:
        return self.entries.count(message_id)


def test_given_the_status_sample_event_then_the_handler_publishes_its_change(stack):
    bus = Bus(stack)
    sample = json.loads((stack.template.root / "events" / "status-dynamodb-stream.json").read_text())

    answer = invoke(sample["Records"])

    assert answer == {"batchItemFailures": []}
    assert [(e["detail"]["previous_status"], e["detail"]["status"]) for e in bus.received()] == [("queued", "sent")]

