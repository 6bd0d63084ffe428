"""Lambda handler of `callbacks`: CallbackQueue jobs in, each POSTed signed to its `callback_url`; a failed
POST is queued again with a delay by the use case, so only an unexpected error leaves a record on the queue."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response  # isort: skip
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from smsbridge.observability import invocation_context_for_workers, logger, metrics
from smsbridge.wiring import callback_delivery

# Receivers answer slowly or not at all (5 s timeout each): a batch's POSTs go out side by side.
_PARALLEL_POSTS = 10


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    records = event.get("Records", [])
    delivery = callback_delivery()
    with ThreadPoolExecutor(max_workers=max(1, min(_PARALLEL_POSTS, len(records))),
                            **invocation_context_for_workers()) as pool:
        outcomes = dict(zip((r.get("messageId") for r in records),
                            pool.map(lambda r: _safely(delivery, r.get("body", "")), records)))

    def settle(record: SQSRecord) -> None:
        error = outcomes.get(record.message_id)
        if isinstance(error, Exception):
            raise error

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=settle, processor=processor, context=context)


def _safely(delivery, body: str):
    try:
        return delivery.deliver_body(body)
    except Exception as exc:  # noqa: BLE001 - this record comes back after the visibility timeout; not its neighbours
        logger.exception("could not handle a callback job; SQS will redeliver it")
        return exc
