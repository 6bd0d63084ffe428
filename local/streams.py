"""Lambda's DynamoDB stream event source mapping, locally: read a table's stream through the AWS stand-in's
`dynamodbstreams` API, invoke the function with batches of records, retry from the first failed record
(ReportBatchItemFailures), halve a failing batch (BisectBatchOnFunctionError), give up after
`MaximumRetryAttempts` with a description of the batch on the on-failure queue, and move on.

Also what moto's streams need to read as DynamoDB's do (`keep_streams_consistent`, applied in the moto
process): a cancelled transaction leaves no record, a reader never sees half a transaction, and the
shard's old records and used iterators do not pile up in memory."""
from __future__ import annotations

import json
import logging
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any

from local.functions import FunctionHost, Invocation
from local.template import REGION, DynamoDbTrigger, FunctionSpec

log = logging.getLogger("local.streams")

# Lambda polls a shard four times a second.
_IDLE_WAIT_S = 0.25
_RETRY_PAUSES_S = (0.5, 1.0, 2.0, 5.0)


# ---------------------------------------------------------------- moto's streams, as DynamoDB's

_stream_lock = threading.RLock()
# Records a shard keeps once read (the rest are dropped, as DynamoDB trims after 24 hours).
KEEP_READ_RECORDS = 5000


def keep_streams_consistent() -> None:
    """Patch moto (in the process that serves it) so that its streams hold what DynamoDB's would.

    A transaction that is cancelled is rolled back by writing its items back (local/aws.py), and
    each write adds a stream record: here the shard is cut back to where it was, and readers wait
    for the transaction to end, so no record of a write that never happened is ever read. Each
    iterator is read once (GetRecords answers with the next), so it is forgotten once read, and
    records read long ago are dropped."""
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodbstreams import models as streams_models

    backend_class = dynamodb_models.DynamoDBBackend
    if getattr(backend_class.transact_write_items, "streams_kept", False):
        return
    transact = backend_class.transact_write_items

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        with _stream_lock:
            lengths: dict[str, int] = {}
            for entry in transact_items:
                for operation in entry.values():
                    name = operation.get("TableName") if isinstance(operation, dict) else None
                    table = backend.tables.get(name) if name else None
                    if table is not None and table.stream_shard is not None:
                        lengths[name] = len(table.stream_shard.items)
            try:
                return transact(backend, transact_items)
            except Exception:
                for name, length in lengths.items():
                    table = backend.tables.get(name)
                    if table is not None and table.stream_shard is not None:
                        del table.stream_shard.items[length:]
                raise

    transact_write_items.streams_kept = True  # type: ignore[attr-defined]
    backend_class.transact_write_items = transact_write_items

    def get_records(backend: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
        with _stream_lock:
            iterator = backend.shard_iterators.pop(iterator_arn)
            _drop_read_records(iterator.stream_shard, iterator.sequence_number)
            return iterator.get(limit)

    streams_models.DynamoDBStreamsBackend.get_records = get_records


def _drop_read_records(shard: Any, reading_from: int) -> None:
    read = reading_from - shard.starting_sequence_number
    if len(shard.items) > 2 * KEEP_READ_RECORDS and read > KEEP_READ_RECORDS:
        drop = read - KEEP_READ_RECORDS
        del shard.items[:drop]
        shard.starting_sequence_number += drop


# ---------------------------------------------------------------- the event source mapping

def lambda_record(record: dict[str, Any], *, stream_arn: str, region: str = REGION) -> dict[str, Any]:
    """One record as GetRecords returns it (boto3's client) as Lambda puts it in an event."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {"eventID": record.get("eventID"), "eventName": record.get("eventName"), "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": region, "dynamodb": change, "eventSourceARN": stream_arn}


def first_failure(trigger: DynamoDbTrigger, records: list[dict[str, Any]], invocation: Invocation) -> int | None:
    """The index of the record Lambda would start again from after this invocation, or None when all are done."""
    if invocation.error is not None:
        return 0
    result = invocation.result
    if not trigger.report_batch_item_failures or not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures") or []
    if not failures:
        return None
    positions = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(records)}
    found = [positions.get(f.get("itemIdentifier") if isinstance(f, dict) else None) for f in failures]
    if any(i is None for i in found):
        # Lambda retries the whole batch when an identifier is not one of its records.
        log.error("%s: batchItemFailures names a record not in the batch: the whole batch is retried", trigger.name)
        return 0
    return min(found)  # type: ignore[type-var]


class DynamoDbStreamMapping:
    """One `Type: DynamoDB` event of one function: a thread reading the table's stream (one shard in moto)."""

    def __init__(self, host: FunctionHost, function: FunctionSpec, trigger: DynamoDbTrigger, session: Any,
                 *, on_failure_url: str | None = None, region: str = REGION):
        self.host = host
        self.function = function
        self.trigger = trigger
        self._streams = session.client("dynamodbstreams")
        self._dynamodb = session.client("dynamodb")
        self._sqs = session.client("sqs")
        self._on_failure_url = on_failure_url
        self._region = region
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-{function.name}-{trigger.name}", daemon=True)
        self.batches = 0  # invocations made
        self.given_up = 0  # records sent to the on-failure destination
        self.stream_arn = ""

    def start(self) -> DynamoDbStreamMapping:
        self.stream_arn = self._dynamodb.describe_table(TableName=self.trigger.table_name)["Table"]["LatestStreamArn"]
        self._shard = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        # The iterator is taken now, not in the thread: a write made once start() returns is read.
        self._iterator = self._iterator_at(self.trigger.starting_position)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _iterator_at(self, kind: str, sequence_number: str | None = None) -> str:
        extra = {"SequenceNumber": sequence_number} if sequence_number else {}
        return self._streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=self._shard,
                                                ShardIteratorType=kind, **extra)["ShardIterator"]

    def _run(self) -> None:
        iterator: str | None = self._iterator
        last: str | None = None  # the sequence number of the last record handled
        while not self._stopping.is_set():
            try:
                if iterator is None:
                    iterator = (self._iterator_at("AFTER_SEQUENCE_NUMBER", last) if last
                                else self._iterator_at(self.trigger.starting_position))
                answer = self._streams.get_records(ShardIterator=iterator, Limit=min(self.trigger.batch_size, 1000))
                records = answer.get("Records") or []
                iterator = answer["NextShardIterator"]
                if not records:
                    self._stopping.wait(_IDLE_WAIT_S)
                    continue
                if self.process(records) is not None:  # stopping half-way
                    return
                last = records[-1]["dynamodb"]["SequenceNumber"]
            except Exception:  # noqa: BLE001 - the mapping must outlive a hiccup of the AWS stand-in
                if self._stopping.is_set():
                    return
                log.exception("%s: reading the stream of %s failed; trying again in 1 s", self.function.name,
                              self.trigger.table_name)
                self._stopping.wait(1)
                iterator = None  # an iterator is read once: a new one, after the last record handled

    def process(self, records: list[dict[str, Any]]) -> str | None:
        """Invoke the function on `records` until each is done or given up; returns the sequence number
        to resume from when stopped half-way, else None."""
        batches = deque([records])
        while batches:
            batch = batches.popleft()
            tries = 0
            while batch:
                event = {"Records": [lambda_record(r, stream_arn=self.stream_arn, region=self._region) for r in batch]}
                invocation = self.host.invoke(self.function.name, event)
                self.batches += 1
                failed = first_failure(self.trigger, event["Records"], invocation)
                if failed is None:
                    log.debug("%s: %d stream records done (%.0f ms)", self.function.name, len(batch),
                              invocation.duration_ms)
                    break
                if self._stopping.is_set():
                    return batch[failed]["dynamodb"]["SequenceNumber"]
                tries += 1
                if 0 <= self.trigger.maximum_retry_attempts < tries:
                    self._give_up(batch[failed:], invocation)
                    break
                if invocation.error is not None and self.trigger.bisect_on_error and len(batch) > 1:
                    half = len(batch) // 2
                    batches.appendleft(batch[half:])
                    batch = batch[:half]
                else:
                    batch = batch[failed:]
                log.warning("%s: %d stream record(s) failed (try %d); trying again", self.function.name,
                            len(batch), tries)
                self._stopping.wait(_RETRY_PAUSES_S[min(tries, len(_RETRY_PAUSES_S)) - 1])
        return None

    def _give_up(self, records: list[dict[str, Any]], invocation: Invocation) -> None:
        """What Lambda sends its on-failure destination: the batch's place in the stream, not its records."""
        self.given_up += len(records)
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        description = {
            "requestContext": {"requestId": invocation.request_id, "condition": "RetryAttemptsExhausted",
                               "approximateInvokeCount": self.trigger.maximum_retry_attempts + 1,
                               "functionArn": f"local:{self.function.physical_name}"},
            "responseContext": {"functionError": invocation.error},
            "version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {"shardId": self._shard, "streamArn": self.stream_arn, "batchSize": len(records),
                                   "startSequenceNumber": first["SequenceNumber"],
                                   "endSequenceNumber": last["SequenceNumber"]}}
        log.error("%s: %d stream record(s) given up after %d retries: described on the on-failure queue",
                  self.function.name, len(records), self.trigger.maximum_retry_attempts)
        if self._on_failure_url:
            self._sqs.send_message(QueueUrl=self._on_failure_url, MessageBody=json.dumps(description))


def stream_mappings_for(host: FunctionHost, session: Any, queue_urls_by_arn: dict[str, str], *,
                        region: str = REGION) -> list[DynamoDbStreamMapping]:
    """A stream event source mapping for every enabled `Type: DynamoDB` event of the template."""
    mappings = []
    for function in host.functions.values():
        for trigger in function.triggers_of(DynamoDbTrigger):
            if not trigger.enabled:
                continue
            mappings.append(DynamoDbStreamMapping(host, function, trigger, session, region=region,
                                                  on_failure_url=queue_urls_by_arn.get(trigger.on_failure_arn or "")))
    return mappings

