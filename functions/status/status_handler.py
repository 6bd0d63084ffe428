"""Lambda handler of `status`: the messages table's stream in, `sms.status` events and callback jobs out
(ReportBatchItemFailures: a record whose events could not all be put comes back, with those after it)."""
from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response  # isort: skip
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBStreamEvent

from smsbridge.observability import logger, metrics
from smsbridge.services.status_events import ItemChange
from smsbridge.wiring import status_publisher


class NotPublished(Exception):
    """The record's events (or callback jobs) were not all put: the stream gives it again."""


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    # The whole batch is published first, ten events per PutEvents call; the processor then reports
    # the records to give again.
    changes = {record.dynamodb.sequence_number: ItemChange(record.dynamodb.old_image, record.dynamodb.new_image)
               for record in DynamoDBStreamEvent(event).records if record.dynamodb is not None}
    failed = status_publisher().publish(changes)

    def settle(record: DynamoDBRecord) -> None:
        if record.dynamodb is not None and record.dynamodb.sequence_number in failed:
            raise NotPublished(failed[record.dynamodb.sequence_number])

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=settle, processor=processor, context=context)
