"""Lambda's SQS event source mapping, locally: long-poll the queue, gather a batch within the
batching window, invoke the function, delete what succeeded, and leave the rest to come back
after its visibility timeout (the queue's RedrivePolicy, which moto honours, moves a message to
the dead-letter queue once it has been received `maxReceiveCount` times). As many invocations run
at once as the event's `ScalingConfig.MaximumConcurrency` allows: a batch goes to a free
invocation while the others run, and nothing is received while every invocation is busy (it would
only wait, invisible, in the poller)."""
from __future__ import annotations

import base64
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local.functions import FunctionHost, Invocation
from local.template import REGION, FunctionSpec, SqsTrigger

log = logging.getLogger("local.poller")

_IDLE_WAIT_S = 1  # long-poll wait when the queue is empty: also how soon `stop()` is noticed
# Lambda's synchronous invocation payload limit: a batch stops growing before its records pass it.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
_RECORD_OVERHEAD_BYTES = 1024  # ids, receipt handle, attributes and JSON punctuation of one record


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
    """One `Type: SQS` event of one function: a receiving thread that hands each batch to one of
    `trigger.concurrency` invocation threads."""

    def __init__(self, host: FunctionHost, function: FunctionSpec, trigger: SqsTrigger, sqs: Any, queue_url: str,
                 *, region: str = REGION):
        self.host = host
        self.function = function
        self.trigger = trigger
        self.queue_url = queue_url
        self.concurrency = trigger.concurrency
        self._sqs = sqs
        self._region = region
        self._stopping = threading.Event()
        self._free = threading.BoundedSemaphore(self.concurrency)
        self._invocations = ThreadPoolExecutor(max_workers=self.concurrency,
                                               thread_name_prefix=f"invoke-{function.name}-{trigger.name}")
        self._thread = threading.Thread(target=self._run, name=f"poller-{function.name}-{trigger.name}", daemon=True)
        self._count_lock = threading.Lock()
        self.batches = 0  # invocations made, for tests and the banner
        self.running = 0  # invocations under way now
        self.most_running = 0  # the most invocations seen at once

    def start(self) -> SqsEventSourceMapping:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Receive no more, and wait for the invocations under way (their records are settled)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=_IDLE_WAIT_S + 5)
        self._invocations.shutdown(wait=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._free.acquire(timeout=_IDLE_WAIT_S):
                continue  # every invocation is busy: receive nothing until one ends
            handed_over = False
            try:
                messages = self.receive_batch()
                if messages and not self._stopping.is_set():
                    self._invocations.submit(self._invoke, messages)
                    handed_over = True
                elif messages:
                    self._let_go(messages)  # stopping: back on the queue at once, as if never received
            except Exception:  # noqa: BLE001 - the poller must outlive a hiccup of the AWS stand-in
                if self._stopping.is_set():
                    return
                log.exception("%s: polling %s failed; trying again in 1 s", self.function.name, self.queue_url)
                self._stopping.wait(1)
            finally:
                if not handed_over:
                    self._free.release()

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        with self._count_lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            self.process(messages)
        except Exception:  # noqa: BLE001 - a failed delete leaves the records to come back, as in Lambda
            log.exception("%s: settling a batch from %s failed", self.function.name, self.trigger.queue_name)
        finally:
            with self._count_lock:
                self.running -= 1
            self._free.release()

    def receive_batch(self) -> list[dict[str, Any]]:
        """Up to BatchSize messages: the first long poll waits for anything, then the batching
        window is spent filling the batch (never past Lambda's 6 MB payload)."""
        messages: list[dict[str, Any]] = []
        payload = 0
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
            overflow = []
            for message in received:
                # A message whose visibility ran out within the window comes again: keep its newest
                # receipt handle, once.
                messages = [m for m in messages if m["MessageId"] != message["MessageId"]]
                size = _record_bytes(message)
                if messages and payload + size > MAX_PAYLOAD_BYTES:
                    overflow.append(message)
                    continue
                payload += size
                messages.append(message)
            if overflow:
                self._let_go(overflow)
                break
            if messages and not received:
                if self.trigger.batching_window_s <= 0:
                    break
                self._stopping.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        return messages

    def _let_go(self, messages: list[dict[str, Any]]) -> None:
        """Messages received but not invoked: visible again now, for the next batch."""
        for start in range(0, len(messages), 10):
            self._sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(messages[start:start + 10])])

    def process(self, messages: list[dict[str, Any]]) -> Invocation:
        records = [lambda_record(m, queue_arn=self.trigger.queue_arn, region=self._region) for m in messages]
        invocation = self.host.invoke(self.function.name, {"Records": records})
        with self._count_lock:
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


def _record_bytes(message: dict[str, Any]) -> int:
    attributes = message.get("MessageAttributes") or {}
    return (len(message.get("Body", "").encode("utf-8", "surrogatepass")) + _RECORD_OVERHEAD_BYTES
            + sum(len(name) + len(str(value.get("StringValue") or value.get("BinaryValue") or ""))
                  for name, value in attributes.items()))


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
