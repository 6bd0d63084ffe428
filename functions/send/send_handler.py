"""Lambda handler of `send`: an SQS batch in, the records to try again out (ReportBatchItemFailures).

The init phase imports only what this module uses; the send path (boto3 clients, provider models,
rendering, transport) is built by `wiring.send_service()` when the first batch needs it, and kept
for the life of the execution environment. With provisioned concurrency the init phase runs ahead
of any request, so it builds the send path there instead."""
from __future__ import annotations

import os

# First, before anything imports pydantic: Powertools' batch module then skips importing every
# parser model for its type hints (about 70 ms of cold start); a model still works as usual.
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response  # isort: skip

from smsbridge.models.queue import QueuedRecord
from smsbridge.observability import logger, metrics
from smsbridge.wiring import send_service


if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency":
    send_service()


class RetryLater(Exception):
    """The record stays on the queue; its visibility was already set to the retry time."""


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    # The whole batch is sent first, concurrently and grouped for providers that batch; the
    # processor then reports, record by record, the ones to receive again.
    records = []
    for raw in event.get("Records", []):
        try:
            records.append(QueuedRecord.model_validate(raw))
        except ValueError:
            pass  # not an SQS record at all: the processor reports it as failed
    results = send_service().send_batch(records, remaining_ms=context.get_remaining_time_in_millis())

    def settle(record: QueuedRecord) -> None:
        result = results[record.messageId]
        if result.retry:
            raise RetryLater(result.reason)

    # A processor per invocation: it holds the batch's results, and the local runtime runs several
    # invocations at once in one process (Lambda gives each its own).
    processor = BatchProcessor(event_type=EventType.SQS, model=QueuedRecord, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=settle, processor=processor, context=context)
