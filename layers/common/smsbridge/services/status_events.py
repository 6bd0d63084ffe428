"""The `status` use case: a batch of the messages table's stream records in, each status change out as an
`sms.status` event on EventBridge and, for a message with a `callback_url`, a callback job on CallbackQueue."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from smsbridge.core.status_events import event_body, status_events
from smsbridge.models.callback import CallbackJob
from smsbridge.observability import logger, metrics


class StatusEventSink(Protocol):
    """EventBridge (`adapters.events.StatusEvents`)."""

    def publish(self, details: list[dict[str, Any]]) -> dict[int, str]: ...


class CallbackJobQueue(Protocol):
    """CallbackQueue (`adapters.callbacks.CallbackJobs`)."""

    def put(self, jobs: list[CallbackJob]) -> dict[int, str]: ...


@dataclass(frozen=True)
class ItemChange:
    """One stream record: the message's item before and after one write (empty for an insert or a removal)."""

    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None


class StatusEventPublisher:
    """Publishing from the table's stream covers every place a status is written (the API, the send
    path, receipts, expiry, rejection, scheduling and cancellation) without those places calling
    anything, and costs the send path nothing."""

    def __init__(self, *, events: StatusEventSink, callbacks: CallbackJobQueue):
        self._events = events
        self._callbacks = callbacks

    def publish(self, changes: Mapping[str, ItemChange]) -> dict[str, str]:
        """Publish the events of each record (keyed by its sequence number); returns the records whose
        events or callback jobs could not all be put, with why (the stream gives them again)."""
        details: list[dict[str, Any]] = []
        jobs: list[CallbackJob] = []
        event_of: list[str] = []  # the record of each event
        job_of: list[str] = []
        for key, change in changes.items():
            new = dict(change.new or {})
            for detail in status_events(dict(change.old or {}), new):
                details.append(detail)
                event_of.append(key)
                url = new.get("callback_url")
                if url:
                    jobs.append(CallbackJob(url=url, body=event_body(detail), message_id=detail["id"],
                                            status=detail["status"]))
                    job_of.append(key)
        failed: dict[str, str] = {}
        if details:
            for index, reason in self._events.publish(details).items():
                failed.setdefault(event_of[index], reason)
        if jobs:
            for index, reason in self._callbacks.put(jobs).items():
                failed.setdefault(job_of[index], reason)
        for detail in details:
            logger.debug("status event", message_id=detail["id"], previous_status=detail["previous_status"],
                        status=detail["status"])
        if failed:
            logger.warning("status events not all published; the stream gives their records again",
                           failed=len(failed), reasons=sorted(set(failed.values()))[:5])
        metrics.add_metric(name="StatusEvents", unit="Count", value=len(details))
        return failed
