"""The dead-letter queue seen from the admin API: list without consuming, redrive onto the lane of each
body's type (OutboundQueue, or BulkQueue for MARKETING), delete."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
from pydantic_core import from_json

from smsbridge.clock import iso_utc

# While a listing or a search holds messages they are invisible to anyone else; they are let go
# (visibility 0) as soon as the call ends, this is only the worst case when the function stops.
HOLD_S = 30
# The most messages one call goes through (100 receives of 10): a queue deeper than that is
# redriven or searched in several calls.
MAX_SCANNED = 1000


@dataclass(frozen=True)
class DeadLetter:
    id: str  # SQS's message id: what DELETE and redrive take
    body: str
    reason: str | None
    message_id: str | None
    sent_at: str | None
    receipt: str


class DeadLetterBox:
    def __init__(self, dead_letter_url: str, outbound_url: str, *, bulk_url: str = "", sqs=None):
        self._sqs = sqs or boto3.client("sqs")
        self._url = dead_letter_url
        self._outbound = outbound_url
        self._bulk = bulk_url or outbound_url

    def peek(self, limit: int) -> list[DeadLetter]:
        """Up to `limit` dead letters, left in the queue (newest first)."""
        held: list[DeadLetter] = []
        try:
            for letter in self._receive(limit):
                held.append(letter)
        finally:
            self._release(held)
        return sorted(held, key=lambda letter: letter.sent_at or "", reverse=True)

    def redrive(self, wanted: set[str] | None) -> int:
        """Put the dead letters named in `wanted` (all when None) back on their lane, body as it
        was, then delete them here: sent before deleted, so a failure in between leaves a copy
        here rather than nothing (the send path sends an id once)."""
        redriven = 0
        others: list[DeadLetter] = []
        try:
            for batch in _batches(self._receive(MAX_SCANNED, stop=lambda: wanted is not None and not wanted), 10):
                chosen = [letter for letter in batch if wanted is None or letter.id in wanted]
                others.extend(letter for letter in batch if letter not in chosen)
                if not chosen:
                    continue
                done = []
                for lane in (self._outbound, self._bulk):
                    going = [letter for letter in chosen if self._lane_of(letter.body) == lane]
                    if not going:
                        continue
                    sent = self._sqs.send_message_batch(QueueUrl=lane, Entries=[
                        {"Id": str(i), "MessageBody": letter.body} for i, letter in enumerate(going)])
                    ok = {int(entry["Id"]) for entry in sent.get("Successful", [])}
                    done.extend(letter for i, letter in enumerate(going) if i in ok)
                    others.extend(letter for i, letter in enumerate(going) if i not in ok)
                self._delete(done)
                redriven += len(done)
                if wanted is not None:
                    wanted.difference_update(letter.id for letter in done)
        finally:
            self._release(others)
        return redriven

    def _lane_of(self, body: str) -> str:
        """BulkQueue for a body whose `type` is MARKETING; OutboundQueue for any other, unreadable
        ones included (the send path dead-letters those again, with their reason)."""
        return self._bulk if _body_type(body) == "MARKETING" else self._outbound

    def delete(self, letter_id: str) -> bool:
        found: list[DeadLetter] = []
        others: list[DeadLetter] = []
        try:
            for letter in self._receive(MAX_SCANNED, stop=lambda: bool(found)):
                (found if letter.id == letter_id else others).append(letter)
            self._delete(found)
        finally:
            self._release(others)
        return bool(found)

    def _receive(self, limit: int, stop: Callable[[], bool] = lambda: False) -> Iterator[DeadLetter]:
        """Receive (and hold) up to `limit` messages, each once. SQS's short polling may answer
        nothing while some are there: one long poll of a second confirms an empty answer while
        the queue's count says more are waiting."""
        seen: set[str] = set()
        waiting = int(self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["ApproximateNumberOfMessages"])
                      ["Attributes"].get("ApproximateNumberOfMessages", "0"))
        while len(seen) < limit and not stop():
            answer = self._sqs.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=min(10, limit - len(seen)), VisibilityTimeout=HOLD_S,
                WaitTimeSeconds=0, AttributeNames=["SentTimestamp"], MessageAttributeNames=["All"])
            messages = answer.get("Messages", [])
            if not messages and len(seen) < waiting:
                answer = self._sqs.receive_message(
                    QueueUrl=self._url, MaxNumberOfMessages=min(10, limit - len(seen)), VisibilityTimeout=HOLD_S,
                    WaitTimeSeconds=1, AttributeNames=["SentTimestamp"], MessageAttributeNames=["All"])
                messages = answer.get("Messages", [])
            if not messages:
                return
            for message in messages:
                if message["MessageId"] in seen:
                    continue
                seen.add(message["MessageId"])
                yield _letter(message)

    def _delete(self, letters: list[DeadLetter]) -> None:
        for batch in _batches(iter(letters), 10):
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(i), "ReceiptHandle": letter.receipt} for i, letter in enumerate(batch)])

    def _release(self, letters: list[DeadLetter]) -> None:
        for batch in _batches(iter(letters), 10):
            self._sqs.change_message_visibility_batch(QueueUrl=self._url, Entries=[
                {"Id": str(i), "ReceiptHandle": letter.receipt, "VisibilityTimeout": 0}
                for i, letter in enumerate(batch)])


def _body_type(body: str) -> object:
    # pydantic's parser refuses deep nesting with a ValueError where the standard library's would
    # raise RecursionError; the standard library's takes what pydantic's refuses (a lone surrogate).
    try:
        data = from_json(body)
    except ValueError:
        try:
            data = json.loads(body, strict=False)
        except (ValueError, RecursionError):
            return None
    return data.get("type") if isinstance(data, dict) else None


def _letter(message: dict) -> DeadLetter:
    attributes = message.get("MessageAttributes") or {}
    sent = (message.get("Attributes") or {}).get("SentTimestamp")
    return DeadLetter(
        id=message["MessageId"], body=message.get("Body", ""), receipt=message["ReceiptHandle"],
        reason=(attributes.get("reason") or {}).get("StringValue"),
        message_id=(attributes.get("message_id") or {}).get("StringValue"),
        sent_at=iso_utc(datetime.fromtimestamp(int(sent) / 1000, UTC)) if sent else None)


def _batches(items: Iterator[DeadLetter], size: int) -> Iterator[list[DeadLetter]]:
    batch: list[DeadLetter] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
