"""SQS: putting messages on the outbound queue, delaying a retry, and dead-lettering a bad body."""
from __future__ import annotations

import boto3

from smsbridge.models.message import OutboundMessage

# SQS caps a message's invisibility at 12 hours.
MAX_VISIBILITY_S = 12 * 3600


class OutboundQueue:
    def __init__(self, queue_url: str, dead_letter_url: str, *, sqs=None):
        self._sqs = sqs or boto3.client("sqs")
        self.url = queue_url
        self.dead_letter_url = dead_letter_url

    def enqueue(self, message: OutboundMessage) -> None:
        self._sqs.send_message(QueueUrl=self.url, MessageBody=message.model_dump_json(exclude_none=True))

    def delay(self, receipt_handle: str, seconds: float) -> None:
        """Keep a received message invisible for `seconds` before it is tried again."""
        timeout = max(0, min(int(seconds + 0.999), MAX_VISIBILITY_S))
        self._sqs.change_message_visibility(QueueUrl=self.url, ReceiptHandle=receipt_handle,
                                            VisibilityTimeout=timeout)

    def dead_letter(self, body: str, reason: str, *, message_id: str | None = None) -> None:
        """Move a body that can never be sent to the dead-letter queue: the body as it came (as
        SQS's own redrive leaves it), the reason in the `reason` message attribute."""
        attributes = {"reason": {"DataType": "String", "StringValue": reason[:2000]}}
        if message_id:
            attributes["message_id"] = {"DataType": "String", "StringValue": message_id}
        self._sqs.send_message(QueueUrl=self.dead_letter_url, MessageBody=body or "(empty body)",
                               MessageAttributes=attributes)
