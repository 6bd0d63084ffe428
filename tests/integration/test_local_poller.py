"""The local SQS event source mapping against a moto server on loopback, with small functions
defined here: the event Lambda builds, partial batch responses, visibility and redrive."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local.aws import EndpointSession, MotoServer
from local.functions import FunctionHost
from local.poller import SqsEventSourceMapping
from local.template import FunctionSpec, SqsTrigger

VISIBILITY_S = 1
MAX_RECEIVES = 2


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer(port=0).start()
    yield server
    server.stop()


class Queues:
    def __init__(self, session: EndpointSession):
        self.sqs = session.client("sqs")
        suffix = uuid.uuid4().hex[:8]
        self.dead_url = self.sqs.create_queue(QueueName=f"dead-{suffix}")["QueueUrl"]
        dead_arn = self.sqs.get_queue_attributes(QueueUrl=self.dead_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        self.url = self.sqs.create_queue(QueueName=f"work-{suffix}", Attributes={
            "VisibilityTimeout": str(VISIBILITY_S),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": MAX_RECEIVES})})["QueueUrl"]
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]

    def send(self, *bodies: str, **kwargs: Any) -> list[str]:
        return [self.sqs.send_message(QueueUrl=self.url, MessageBody=b, **kwargs)["MessageId"] for b in bodies]

    def count(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def queues(moto: MotoServer) -> Queues:
    return Queues(EndpointSession(moto.url))


def mapping(queues: Queues, handler: Callable[[dict, Any], Any], *, batch_size: int = 10, window_s: float = 0,
            partial: bool = True) -> SqsEventSourceMapping:
    function = FunctionSpec(logical_id="ProbeFunction", physical_name="probe", code_uri=Path("."),
                            handler="probe_handler.handle", timeout_s=5)
    trigger = SqsTrigger(name="Feed", queue_arn=queues.arn, batch_size=batch_size, batching_window_s=window_s,
                         report_batch_item_failures=partial)
    host = FunctionHost([function], handlers={"probe": handler})
    return SqsEventSourceMapping(host, function, trigger, queues.sqs, queues.url)


def test_a_batch_is_invoked_as_the_lambda_sqs_event(queues: Queues) -> None:
    # Given a message with an attribute on the queue
    [message_id] = queues.send("hello", MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "greeting"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
    events: list[dict] = []
    poller = mapping(queues, lambda event, context: events.append(event) or {"batchItemFailures": []})

    # When the poller receives and processes it
    poller.process(poller.receive_batch())

    # Then the function got the record Lambda would have built
    [record] = events[0]["Records"]
    assert record["messageId"] == message_id
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queues.arn
    assert record["awsRegion"] == "us-east-1"
    assert record["md5OfBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["SentTimestamp"].isdigit()
    assert record["messageAttributes"]["kind"] == {"stringValue": "greeting", "stringListValues": [],
                                                   "binaryListValues": [], "dataType": "String"}
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    assert record["receiptHandle"]


def test_records_not_reported_as_failed_are_deleted_and_the_failed_one_comes_back_later(queues: Queues) -> None:
    # Given a function that reports the record "bad" as failed
    queues.send("good-1", "bad", "good-2")

    def handler(event: dict, context: Any) -> dict:
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if r["body"] == "bad"]}

    poller = mapping(queues, handler)

    # When a batch is processed
    poller.process(_receive_all(poller, 3))

    # Then only "bad" is left, invisible until its visibility timeout, then received again
    assert queues.count(queues.url) == 1
    time.sleep(VISIBILITY_S + 0.2)
    again = _receive_all(poller, 1)
    assert [m["Body"] for m in again] == ["bad"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_when_the_function_raises_no_record_is_deleted(queues: Queues) -> None:
    queues.send("a", "b")

    def handler(event: dict, context: Any) -> dict:
        raise RuntimeError("boom")

    poller = mapping(queues, handler)

    invocation = poller.process(_receive_all(poller, 2))

    assert invocation.error == "RuntimeError: boom"
    assert queues.count(queues.url) == 2


def test_an_unknown_item_identifier_fails_the_whole_batch(queues: Queues) -> None:
    queues.send("a", "b")
    poller = mapping(queues, lambda event, context: {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]})

    poller.process(_receive_all(poller, 2))

    assert queues.count(queues.url) == 2


def test_without_partial_batch_responses_a_successful_invocation_deletes_every_record(queues: Queues) -> None:
    queues.send("a", "b")
    poller = mapping(queues, lambda event, context: {"batchItemFailures": [
        {"itemIdentifier": event["Records"][0]["messageId"]}]}, partial=False)

    poller.process(_receive_all(poller, 2))

    assert queues.count(queues.url) == 0


def test_the_batching_window_gathers_messages_sent_one_after_the_other(queues: Queues) -> None:
    # Given a 1 s batching window and messages arriving 100 ms apart
    poller = mapping(queues, lambda event, context: None, window_s=1.0)

    def send_slowly() -> None:
        for i in range(4):
            queues.send(f"m{i}")
            time.sleep(0.1)

    sender = threading.Thread(target=send_slowly)
    sender.start()

    # When the poller gathers a batch
    batch = poller.receive_batch()
    sender.join()

    # Then the four are in one batch
    assert sorted(m["Body"] for m in batch) == ["m0", "m1", "m2", "m3"]


def test_a_message_that_keeps_failing_moves_to_the_dead_letter_queue_after_max_receive_count(queues: Queues) -> None:
    # Given a function that always fails, and the poller running
    queues.send("poison")
    receives: list[str] = []

    def handler(event: dict, context: Any) -> dict:
        receives.extend(r["attributes"]["ApproximateReceiveCount"] for r in event["Records"])
        raise RuntimeError("always fails")

    poller = mapping(queues, handler).start()
    try:
        # Then after maxReceiveCount tries the queue's redrive policy moves it to the dead-letter queue
        deadline = time.monotonic() + 15
        while queues.count(queues.dead_url) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        poller.stop()
    assert receives == ["1", "2"]
    assert queues.count(queues.dead_url) == 1
    assert queues.count(queues.url) == 0


def _receive_all(poller: SqsEventSourceMapping, expected: int) -> list[dict]:
    """Receive until `expected` messages are in hand (a receive may return fewer)."""
    messages: list[dict] = []
    deadline = time.monotonic() + 5
    while len(messages) < expected and time.monotonic() < deadline:
        messages.extend(poller.receive_batch())
    return messages


# ---------------------------------------------------------------- concurrency (SPEC 8)

class Concurrency:
    """A slow function that counts the invocations under way, and the most seen at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.bodies: list[str] = []

    def __call__(self, event: dict, context: Any) -> dict:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
            self.bodies.extend(r["body"] for r in event["Records"])
        return {"batchItemFailures": []}


def concurrent_mapping(queues: Queues, handler: Callable[[dict, Any], Any], *, concurrency: int,
                       batch_size: int = 2) -> SqsEventSourceMapping:
    trigger = SqsTrigger(name="Feed", queue_arn=queues.arn, batch_size=batch_size, report_batch_item_failures=True,
                         maximum_concurrency=concurrency)
    # Fed by SQS only, as the send function is: the host lets its invocations overlap.
    function = FunctionSpec(logical_id="ProbeFunction", physical_name="probe", code_uri=Path("."),
                            handler="probe_handler.handle", timeout_s=5, triggers=(trigger,))
    return SqsEventSourceMapping(FunctionHost([function], handlers={"probe": handler}), function, trigger,
                                 queues.sqs, queues.url)


def _wait(condition: Callable[[], bool], timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


def test_given_maximum_concurrency_3_when_many_batches_wait_then_three_invocations_run_at_once_never_more(
        queues: Queues) -> None:
    # Given 20 messages (10 batches of 2) and a function taking 300 ms per batch
    function = Concurrency(0.3)
    queues.sqs.send_message_batch(QueueUrl=queues.url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"}
                                                                for i in range(10)])
    queues.sqs.send_message_batch(QueueUrl=queues.url, Entries=[{"Id": str(i), "MessageBody": f"m{i + 10}"}
                                                                for i in range(10)])
    poller = concurrent_mapping(queues, function, concurrency=3)

    # When the mapping, allowed three invocations at once, works through them
    started = time.monotonic()
    poller.start()
    try:
        _wait(lambda: len(function.bodies) == 20)
        elapsed = time.monotonic() - started
    finally:
        poller.stop()

    # Then three ran at once and never more, each message once, in about a third of the serial time
    assert function.most == 3 == poller.most_running
    assert sorted(function.bodies) == sorted(f"m{i}" for i in range(20))
    assert elapsed < 10 * 0.3 * 0.6, elapsed
    assert queues.count(queues.url) == 0


def test_given_two_queues_with_their_own_concurrency_then_each_mapping_keeps_to_its_own(moto: MotoServer) -> None:
    # Given two queues feeding one function, one allowing 2 invocations at once and the other 4
    session = EndpointSession(moto.url)
    first, second = Queues(session), Queues(session)
    function = Concurrency(0.3)
    for queues, prefix in ((first, "a"), (second, "b")):
        for start in (0, 10):
            queues.sqs.send_message_batch(QueueUrl=queues.url, Entries=[
                {"Id": str(i), "MessageBody": f"{prefix}{start + i}"} for i in range(10)])
    pollers = [concurrent_mapping(first, function, concurrency=2), concurrent_mapping(second, function, concurrency=4)]

    # When both run
    for poller in pollers:
        poller.start()
    try:
        _wait(lambda: len(function.bodies) == 40)
    finally:
        for poller in pollers:
            poller.stop()

    # Then each queue's batches ran at most as many at once as its own event allows, all of them
    assert [p.most_running for p in pollers] == [2, 4]
    assert [p.batches for p in pollers] == [10, 10]
    assert function.most == 6


def test_given_invocations_under_way_when_stopped_then_they_finish_and_nothing_more_is_received(
        queues: Queues) -> None:
    # Given a mapping running two slow invocations, and more messages waiting
    function = Concurrency(0.5)
    queues.sqs.send_message_batch(QueueUrl=queues.url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"}
                                                                for i in range(10)])
    poller = concurrent_mapping(queues, function, concurrency=2).start()
    _wait(lambda: function.running == 2)

    # When it is stopped
    poller.stop()

    # Then the two invocations ended and were settled, no thread of the mapping is left, and the
    # other messages are still on the queue, visible to whoever polls next
    assert function.running == 0 and len(function.bodies) == 4
    assert poller.running == 0
    assert not [t for t in threading.enumerate() if t.name.startswith(("poller-probe", "invoke-probe"))]
    attributes = queues.sqs.get_queue_attributes(QueueUrl=queues.url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("6", "0")
