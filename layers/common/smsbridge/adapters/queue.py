"""SQS: putting messages on their lane (OutboundQueue or BulkQueue), delaying a retry on the queue a
record came from, and dead-lettering a bad body."""
from __future__ import annotations

import re
from collections.abc import Sequence

import boto3

from smsbridge.models.message import MessageType, OutboundMessage
from smsbridge.models.queue import QueuedRecord
from smsbridge.observability import logger

# SQS caps a message's invisibility at 12 hours, and a new message's delay at 15 minutes.
MAX_VISIBILITY_S = 12 * 3600
MAX_DELAY_S = 900
SQS_BATCH_MAX = 10  # entries of one ChangeMessageVisibilityBatch (or any SQS batch call)
# SQS's largest message, body and attributes together. template.yaml keeps the outbound queue's
# MaximumMessageSize ATTRIBUTES_BUDGET_BYTES under it, so any body it delivered fits in the
# dead-letter queue with its reason.
SQS_MAX_MESSAGE_BYTES = 1_048_576
ATTRIBUTES_BUDGET_BYTES = 4096
REASON_MAX_BYTES = 2048
# What SQS accepts in a body or a string attribute (anything else is refused with InvalidMessageContents).
_NOT_SQS_TEXT = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class OutboundQueue:
    """The two lanes (SPEC 12): `url` for NOTIFICATION, `bulk_url` for MARKETING (the outbound
    queue's too when the stack has no bulk queue)."""

    def __init__(self, queue_url: str, dead_letter_url: str, *, bulk_url: str = "", sqs=None):
        self._sqs = sqs or boto3.client("sqs")
        self.url = queue_url
        self.bulk_url = bulk_url or queue_url
        self.dead_letter_url = dead_letter_url

    def enqueue(self, message: OutboundMessage, lane: MessageType, *, delay_s: int = 0) -> None:
        """Put the message on the lane of `lane`, its effective type (the caller knows the provider's
        default sender); with `delay_s` (at most 900), received no sooner than that."""
        extra = {"DelaySeconds": delay_s} if delay_s > 0 else {}
        self._sqs.send_message(QueueUrl=self.lane_url(lane), MessageBody=message.model_dump_json(exclude_none=True),
                               **extra)

    def lane_url(self, lane: MessageType) -> str:
        return self.bulk_url if lane is MessageType.MARKETING else self.url

    def delay_all(self, waits: Sequence[tuple[QueuedRecord, float]]) -> set[str]:
        """Keep each received message invisible for its seconds before it is tried again, on the queue it
        came from: one ChangeMessageVisibilityBatch per ten. Returns the SQS message ids whose visibility
        could not be changed (SQS brings those back after the queue's visibility timeout)."""
        by_queue: dict[str, list[tuple[QueuedRecord, float]]] = {}
        for record, seconds in waits:
            by_queue.setdefault(self.url_of(record.eventSourceARN), []).append((record, seconds))
        failed: set[str] = set()
        for url, items in by_queue.items():
            for start in range(0, len(items), SQS_BATCH_MAX):
                chunk = items[start:start + SQS_BATCH_MAX]
                entries = [{"Id": str(i), "ReceiptHandle": record.receiptHandle,
                            "VisibilityTimeout": max(0, min(int(seconds + 0.999), MAX_VISIBILITY_S))}
                           for i, (record, seconds) in enumerate(chunk)]
                try:
                    answer = self._sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
                except Exception:
                    logger.exception("could not delay records; SQS will redeliver them", queue_url=url,
                                     sqs_message_ids=[record.messageId for record, _ in chunk])
                    failed.update(record.messageId for record, _ in chunk)
                    continue
                for entry in answer.get("Failed", []):
                    logger.warning("could not delay a record; SQS will redeliver it", code=entry.get("Code"),
                                   sqs_message_id=chunk[int(entry["Id"])][0].messageId)
                    failed.add(chunk[int(entry["Id"])][0].messageId)
        return failed

    def requeue(self, record: QueuedRecord, body: str, seconds: float) -> None:
        """Put `body` back on the record's queue as a new message, visible in `seconds` (at most 900,
        SQS's delay): a fresh receive count and retention period for a message that waits long. The
        caller then deletes the record (it reports it done)."""
        self._sqs.send_message(QueueUrl=self.url_of(record.eventSourceARN), MessageBody=body,
                               DelaySeconds=max(0, min(int(seconds + 0.999), MAX_DELAY_S)))

    def url_of(self, queue_arn: str) -> str:
        """The URL of the queue a record came from (its name is the ARN's last part); the outbound queue's by default."""
        name = queue_arn.rsplit(":", 1)[-1]
        for url in self.urls:
            if name and url.rstrip("/").rsplit("/", 1)[-1] == name:
                return url
        return self.url

    @property
    def urls(self) -> tuple[str, ...]:
        """The queues the send function receives from."""
        return tuple(dict.fromkeys((self.url, self.bulk_url)))

    def dead_letter(self, body: str, reason: str, *, message_id: str | None = None) -> None:
        """Move a body that can never be sent to the dead-letter queue: the body as it came (as
        SQS's own redrive leaves it), the reason in the `reason` message attribute."""
        body = body or "(empty body)"
        room = SQS_MAX_MESSAGE_BYTES - len(body.encode("utf-8", "surrogatepass")) - 64  # names and types
        attributes = {"reason": {"DataType": "String",
                                 "StringValue": sqs_text(reason, max(16, min(REASON_MAX_BYTES, room)))}}
        if message_id:
            attributes["message_id"] = {"DataType": "String", "StringValue": sqs_text(message_id, 256)}
        self._sqs.send_message(QueueUrl=self.dead_letter_url, MessageBody=body, MessageAttributes=attributes)


def sqs_text(text: str, max_bytes: int) -> str:
    """`text` as SQS takes it in a string attribute: characters SQS refuses replaced by U+FFFD,
    cut on a character boundary to at most `max_bytes` of UTF-8 (with "…" when cut)."""
    clean = _NOT_SQS_TEXT.sub("\ufffd", text) or "(none)"
    encoded = clean.encode("utf-8")
    if len(encoded) <= max_bytes:
        return clean
    return encoded[:max_bytes - 3].decode("utf-8", "ignore") + "…"
