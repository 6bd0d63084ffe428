"""The `schedule` use case: every minute, the scheduled messages due within 15 minutes go from the messages table onto their queue, delayed to their `send_at`."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from pydantic import ValidationError

from smsbridge.clock import iso_utc, utc_now
from smsbridge.core.schedule import DUE_SHARDS, delay_seconds, sweep_horizon
from smsbridge.models.message import MessageType, OutboundMessage
from smsbridge.models.status import MessageStatus, StatusChange
from smsbridge.observability import logger, metrics
from smsbridge.observability import invocation_context_for_workers
from smsbridge.services.ports import MessageLog, Queue, ScheduledMessages


@dataclass(frozen=True)
class SweepRun:
    queued: int = 0
    rejected: int = 0
    errors: int = 0
    stopped_early: bool = False  # the invocation's time ran short: the rest waits for the next minute


class ScheduleSweep:
    """One Query per due index shard and run, whatever the number of scheduled messages; per message
    due, one SendMessage (DelaySeconds = the time left) and one UpdateItem that takes it out of the
    index. A message left in the index (a failed send, a stopped run) is taken by the next run: the
    send path's claim sends it once even if it was queued twice."""

    def __init__(self, *, messages: ScheduledMessages, log: MessageLog, queue: Queue,
                 clock: Callable[[], datetime] = utc_now, concurrency: int = 8, page_size: int = 100):
        self._messages = messages
        self._log = log
        self._queue = queue
        self._clock = clock
        self._concurrency = concurrency
        self._page_size = page_size

    def run(self, remaining_s: Callable[[], float] = lambda: 60.0, *, margin_s: float = 5.0) -> SweepRun:
        horizon = sweep_horizon(self._clock())
        queued = rejected = errors = 0
        with ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="sweep",
                                **invocation_context_for_workers()) as pool:
            for shard in range(DUE_SHARDS):
                items = iter(self._messages.due(str(shard), horizon))
                while chunk := list(islice(items, self._page_size)):
                    if remaining_s() < margin_s:
                        logger.warning("schedule sweep stopped early; the next run takes the rest")
                        return SweepRun(queued, rejected, errors, stopped_early=True)
                    for outcome in pool.map(self._move, chunk):
                        queued += outcome == "queued"
                        rejected += outcome == "rejected"
                        errors += outcome == "error"
        metrics.add_metric(name="ScheduledQueued", unit="Count", value=queued)
        return SweepRun(queued, rejected, errors)

    def _move(self, item: dict[str, Any]) -> str:
        message_id = item["id"]
        try:
            message = OutboundMessage.model_validate_json(item["scheduled_body"])
        except (KeyError, ValidationError) as exc:
            # Valid when it was stored; kept from being lost if a later version reads it otherwise.
            reason = f"invalid scheduled message: {type(exc).__name__}"
            logger.error("scheduled message cannot be read back; rejected", message_id=message_id)
            self._log.record(message_id, StatusChange(status=MessageStatus.REJECTED, at=iso_utc(self._clock()),
                                                      reason=reason),
                             apply_if_status_in={MessageStatus.SCHEDULED.value})
            self._messages.leave_due(message_id)
            return "rejected"
        try:
            lane = MessageType(item.get("type") or message.type or MessageType.NOTIFICATION)
            self._queue.enqueue(message, lane, delay_s=delay_seconds(message.send_at, self._clock()))
            self._messages.leave_due(message_id)
        except Exception:
            logger.exception("could not queue a scheduled message; the next run tries again", message_id=message_id)
            return "error"
        return "queued"
