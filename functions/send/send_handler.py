"""Lambda handler of `send`: an SQS batch in, the records to try again out (ReportBatchItemFailures)."""
from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

from smsbridge.observability import logger, metrics
from smsbridge.services.send import QueuedRecord
from smsbridge.wiring import send_service

processor = BatchProcessor(event_type=EventType.SQS, model=SqsRecordModel, raise_on_entire_batch_failure=False)


class RetryLater(Exception):
    """The record stays on the queue; its visibility was already set to the retry time."""


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    records = []
    for raw in event.get("Records", []):
        try:
            records.append(SqsRecordModel.model_validate(raw))
        except ValueError:
            pass  # not an SQS record at all: the processor below reports it as failed
    results = send_service().send_batch(
        (QueuedRecord(record_id=r.messageId, body=r.body, receipt_handle=r.receiptHandle,
                      receive_count=int(r.attributes.ApproximateReceiveCount), queued_at=r.attributes.SentTimestamp)
         for r in records),
        remaining_ms=context.get_remaining_time_in_millis())

    def settle(record: SqsRecordModel) -> None:
        result = results[record.messageId]
        if result.retry:
            raise RetryLater(result.reason)

    return process_partial_response(event=event, record_handler=settle, processor=processor, context=context)
