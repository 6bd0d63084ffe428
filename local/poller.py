"""Lambda's SQS event source mapping, locally: long-poll the queue, gather a batch within the
batching window, invoke the function, delete what succeeded, and leave the rest to come back
after its visibility timeout (the queue's RedrivePolicy, which moto honours, moves a message to
the dead-letter queue once it has been received `maxReceiveCount` times)."""
from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any

from local.functions import FunctionHost, Invocation
from local.template import REGION, FunctionSpec, SqsTrigger

log = logging.getLogger("local.poller")

_IDLE_WAIT_S = 1  # long-poll wait when the queue is empty: also how soon `stop()` is noticed


def lambda_record(message: dict[str, Any], *, queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """One SQS message (as ReceiveMessage returns it) as Lambda puts it in an event."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {name: _attribute(value)
                              for name, value in (message.get("MessageAttributes") or {}).items()},
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def failed_message_ids(trigger: SqsTrigger, records: list[dict[str, Any]], invocation: Invocation) -> set[str]:
    """The records Lambda would leave on the queue after this invocation."""
    every_id = {r["messageId"] for r in records}
    if invocation.error is not None:
        return every_id
    if not trigger.report_batch_item_failures:
        return set()
    result = invocation.result
    if result is None:
        return set()
    if not isinstance(result, dict):
        log.error("%s: a partial batch response must be an object, got %r: the whole batch is retried",
                  invocation.function, type(result).__name__)
        return every_id
    failures = result.get("batchItemFailures") or []
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in every_id:
            # Lambda treats an unknown, empty or null itemIdentifier as a failure of the whole batch.
            log.error("%s: batchItemFailures names %r, not a message of the batch: the whole batch is retried",
                      invocation.function, identifier)
            return every_id
        failed.add(identifier)
    return failed


class SqsEventSourceMapping:
    """One `Type: SQS` event of one function, polled on its own thread."""

    def __init__(self, host: FunctionHost, function: FunctionSpec, trigger: SqsTrigger, sqs: Any, queue_url: str,
                 *, region: str = REGION):
        self.host = host
        self.function = function
        self.trigger = trigger
        self.queue_url = queue_url
        self._sqs = sqs
        self._region = region
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poller-{function.name}-{trigger.name}", daemon=True)
        self.batches = 0  # invocations made, for tests and the banner

    def start(self) -> SqsEventSourceMapping:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.function.timeout_s + _IDLE_WAIT_S + 5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                messages = self.receive_batch()
                if messages:
                    self.process(messages)
            except Exception:  # noqa: BLE001 - the poller must outlive a hiccup of the AWS stand-in
                if self._stopping.is_set():
                    return
                log.exception("%s: polling %s failed; trying again in 1 s", self.function.name, self.queue_url)
                self._stopping.wait(1)

    def receive_batch(self) -> list[dict[str, Any]]:
        """Up to BatchSize messages: the first long poll waits for anything, then the batching
        window is spent filling the batch."""
        messages: list[dict[str, Any]] = []
        deadline = 0.0
        while len(messages) < self.trigger.batch_size and not self._stopping.is_set():
            if messages:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                wait_s = int(remaining) if remaining >= 1 else 0
            else:
                wait_s = _IDLE_WAIT_S
            answer = self._sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=min(10, self.trigger.batch_size - len(messages)),
                WaitTimeSeconds=wait_s, AttributeNames=["All"], MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["All"])
            received = answer.get("Messages") or []
            if received and not messages:
                deadline = time.monotonic() + self.trigger.batching_window_s
            for message in received:
                # A message whose visibility ran out within the window comes again: keep its newest
                # receipt handle, once.
                messages = [m for m in messages if m["MessageId"] != message["MessageId"]]
                messages.append(message)
            if messages and not received:
                if self.trigger.batching_window_s <= 0:
                    break
                self._stopping.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        return messages

    def process(self, messages: list[dict[str, Any]]) -> Invocation:
        records = [lambda_record(m, queue_arn=self.trigger.queue_arn, region=self._region) for m in messages]
        invocation = self.host.invoke(self.function.name, {"Records": records})
        self.batches += 1
        failed = failed_message_ids(self.trigger, records, invocation)
        done = [r for r in records if r["messageId"] not in failed]
        self._delete(done)
        log.info("%s: batch of %d from %s → %d done, %d left to retry (%.0f ms)", self.function.name, len(records),
                 self.trigger.queue_name, len(done), len(failed), invocation.duration_ms)
        return invocation

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start:start + 10]
            answer = self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)])
            for failure in answer.get("Failed") or []:
                # The function may have deleted the message itself already.
                log.debug("%s: could not delete a message: %s", self.function.name, failure.get("Message"))


def mappings_for(host: FunctionHost, sqs: Any, queue_urls_by_arn: dict[str, str], *, region: str = REGION
                 ) -> list[SqsEventSourceMapping]:
    """An event source mapping for every enabled `Type: SQS` event of the template."""
    mappings = []
    for function in host.functions.values():
        for trigger in function.triggers_of(SqsTrigger):
            if not trigger.enabled:
                log.info("%s: event %s is disabled in the template", function.name, trigger.name)
                continue
            url = queue_urls_by_arn.get(trigger.queue_arn)
            if url is None:
                url = sqs.get_queue_url(QueueName=trigger.queue_name)["QueueUrl"]
            mappings.append(SqsEventSourceMapping(host, function, trigger, sqs, url, region=region))
    return mappings
