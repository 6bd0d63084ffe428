"""The `callbacks` use case: POST one status event to its message's `callback_url`, signed; retried with backoff
for 24 hours, then dead-lettered with the reason (SPEC 10)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import ValidationError

from smsbridge.adapters.http import RequestNotSendable, TransportError
from smsbridge.clock import iso_utc, utc_now
from smsbridge.core.status_events import callback_headers, callback_retry
from smsbridge.models.callback import CallbackJob
from smsbridge.models.wire import HttpResponse
from smsbridge.observability import logger, metrics


class CallbackOutcome(StrEnum):
    DELIVERED = "delivered"  # the receiver answered 2xx
    RETRYING = "retrying"  # queued again with a delay
    DEAD_LETTERED = "dead-lettered"  # refused URL, unreadable job, or 24 h of failures


class CallbackQueuePort(Protocol):
    def later(self, job: CallbackJob, delay_s: float) -> None: ...
    def dead_letter(self, job: CallbackJob | str, reason: str) -> None: ...


class SecretSource(Protocol):
    def value(self) -> str: ...


class CallbackSender(Protocol):
    """`adapters.callbacks.CallbackPoster`: raises UrlNotAllowed / RequestNotSendable or TransportError."""

    def post(self, url: str, body: str, headers: dict[str, str]) -> HttpResponse: ...


class CallbackDelivery:
    def __init__(self, *, jobs: CallbackQueuePort, secret: SecretSource, poster: CallbackSender,
                 clock: Callable[[], datetime] = utc_now):
        self._jobs = jobs
        self._secret = secret
        self._poster = poster
        self._clock = clock

    def deliver_body(self, body: str) -> CallbackOutcome:
        """One CallbackQueue message: a job is tried; anything else is dead-lettered with why."""
        try:
            job = CallbackJob.model_validate_json(body)
        except ValidationError as exc:
            self._jobs.dead_letter(body, f"not a callback job: {exc.errors(include_url=False)[0]['msg']}")
            return CallbackOutcome.DEAD_LETTERED
        return self.deliver(job)

    def deliver(self, job: CallbackJob) -> CallbackOutcome:
        now = self._clock()
        try:
            answer = self._poster.post(job.url, job.body, callback_headers(self._secret.value(), job.body, now))
        except RequestNotSendable as exc:  # UrlNotAllowed among them: never worth a retry
            logger.warning("callback URL refused", message_id=job.message_id, reason=str(exc))
            self._jobs.dead_letter(job, f"callback_url refused: {exc}")
            metrics.add_metric(name="CallbacksDeadLettered", unit="Count", value=1)
            return CallbackOutcome.DEAD_LETTERED
        except TransportError as exc:
            failure = exc.reason
        else:
            if 200 <= answer.status_code < 300:
                metrics.add_metric(name="CallbacksDelivered", unit="Count", value=1)
                return CallbackOutcome.DELIVERED
            failure = f"the receiver answered HTTP {answer.status_code}"
        first = job.first_attempt_at or now
        attempts = job.attempts + 1
        tried = job.model_copy(update={"first_attempt_at": first, "attempts": attempts})
        retry = callback_retry(first, attempts, now)
        if retry.give_up:
            reason = (f"not delivered after {attempts} tries from {iso_utc(first)} to {iso_utc(now)} "
                      f"(24 h); last: {failure}")
            logger.warning("callback given up", message_id=job.message_id, status=job.status, reason=reason)
            self._jobs.dead_letter(tried, reason)
            metrics.add_metric(name="CallbacksDeadLettered", unit="Count", value=1)
            return CallbackOutcome.DEAD_LETTERED
        logger.info("callback not delivered; tried again later", message_id=job.message_id, status=job.status,
                    attempt=attempts, reason=failure, next_try_in_s=round(retry.delay_s))
        self._jobs.later(tried, retry.delay_s)
        return CallbackOutcome.RETRYING
