"""The `send` use case: one SQS batch of outbound messages, through their providers, at most once each."""
from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError
from pydantic_core import from_json

from smsbridge.adapters.store import ProviderNotFound, provider_ref
from smsbridge.core.classify import Outcome
from smsbridge.core.consent import consent_block_reason
from smsbridge.core.encoding import encoding_of
from smsbridge.core.render import RenderError, render_request
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.queue import QueuedRecord
from smsbridge.models.status import MessageStatus, ProviderAnswer, StatusChange
from smsbridge.models.wire import HttpRequest
from smsbridge.clock import iso_utc, utc_now
from smsbridge.observability import logger, metrics
from smsbridge.services.dispatch import Dispatcher
from smsbridge.services.traffic import Traffic
from smsbridge.services.ports import ConsentReader, MessageLog, ProviderCaller, ProviderSource, Queue, SendClaims
from smsbridge.services.ports import RoutingSource
from smsbridge.services.routing import routed




@dataclass(frozen=True)
class RecordResult:
    """How a record ends this invocation: settled (delete it) or to be received again later."""

    retry: bool = False
    reason: str = ""


SETTLED = RecordResult()
UNSETTLED = RecordResult(retry=True, reason="internal error: redelivered after the visibility timeout")


@dataclass(frozen=True)
class Backoff:
    """Delay before the next try when the provider gave no Retry-After: exponential, jittered."""

    first_s: float = 10.0
    factor: float = 2.0
    cap_s: float = 900.0
    jitter: float = 0.2

    def delay_s(self, attempt: int) -> float:
        base = min(self.cap_s, self.first_s * self.factor ** max(0, attempt - 1))
        return base * (1 + random.uniform(-self.jitter, self.jitter))


@dataclass
class _Job:
    """A message admitted for sending in this invocation."""

    record: QueuedRecord
    message: OutboundMessage
    provider: ProviderConfig
    expires_at: datetime
    request: HttpRequest  # rendered for this message alone
    attempt: int = 0


@dataclass
class _Request:
    """One provider request: one message, or several when the provider batches."""

    provider: ProviderConfig
    jobs: list[_Job]
    outcomes: list[Outcome] = field(default_factory=list)


class SendService:
    def __init__(self, *, providers: ProviderSource, messages: MessageLog, consent: ConsentReader,
                 claims: SendClaims, queue: Queue, client: ProviderCaller | None = None,
                 traffic: Traffic | None = None, clock: Callable[[], datetime] = utc_now,
                 concurrency: int = 10, backoff: Backoff = Backoff(), busy_retry_s: float = 30.0,
                 routing: RoutingSource | None = None):
        """`traffic` calls the providers; given `client` instead, Traffic over a Dispatcher over it is made.
        Without `routing`, every message without a provider goes to the default provider."""
        self._providers = providers
        self._routing = routing
        self._messages = messages
        self._consent = consent
        self._claims = claims
        self._queue = queue
        self._traffic = traffic if traffic is not None else Traffic(Dispatcher(client, clock=clock), clock=clock)
        self._clock = clock
        self._concurrency = concurrency
        self._backoff = backoff
        self._busy_retry_s = busy_retry_s

    def send_batch(self, records: Iterable[QueuedRecord], remaining_ms: int = 30_000) -> dict[str, RecordResult]:
        """Send what can be sent; returns each record's result by SQS message id."""
        records = list(records)
        results: dict[str, RecordResult] = {}
        jobs: list[_Job] = []
        # The batch's own threads: invocations running at once in one process (the local runtime)
        # must not queue behind each other's requests, a notification behind a campaign.
        with ThreadPoolExecutor(max_workers=max(1, min(self._concurrency, len(records))),
                                thread_name_prefix="send") as pool:
            for record, admitted in zip(records, pool.map(lambda r: self._admit_safely(r, remaining_ms), records)):
                if isinstance(admitted, _Job):
                    jobs.append(admitted)
                else:
                    results[record.messageId] = admitted
            for settled in pool.map(self._send_safely, self._plan(jobs)):
                results.update(settled)
        return results

    # One record's unexpected failure (a DynamoDB error, a bug) must not fail its neighbours: it
    # is left on the queue, to come back after the queue's visibility timeout.

    def _admit_safely(self, record: QueuedRecord, remaining_ms: int) -> _Job | RecordResult:
        try:
            return self._admit(record, remaining_ms)
        except Exception:
            logger.exception("could not admit a record; SQS will redeliver it", sqs_message_id=record.messageId)
            return UNSETTLED

    def _send_safely(self, request: _Request) -> dict[str, RecordResult]:
        try:
            self._deliver(request)
            return {job.record.messageId: self._settle(job, outcome)
                    for job, outcome in zip(request.jobs, request.outcomes)}
        except Exception:
            logger.exception("could not send or record a request; SQS will redeliver it",
                             message_ids=[job.message.id for job in request.jobs])
            return {job.record.messageId: UNSETTLED for job in request.jobs}

    # ------------------------------------------------------------ admission

    def _admit(self, record: QueuedRecord, remaining_ms: int) -> _Job | RecordResult:
        """Validate, find the provider, claim, and apply expiry and consent."""
        try:
            message = OutboundMessage.model_validate_json(record.body)
        except ValidationError as exc:
            return self._reject(record, _describe(exc), _readable_id(record.body))
        try:
            chosen = routed(message, self._providers, self._routing)
        except ProviderNotFound as exc:
            return self._reject(record, str(exc), message.id)
        message, provider = chosen.message, chosen.provider
        if not provider.enabled:
            return RecordResult(retry=self._delay(record, self._busy_retry_s), reason="provider is disabled")

        claim = self._claims.claim(message.id, remaining_ms)
        if claim.state == "done":
            logger.info("duplicate delivery of a message already handled", message_id=message.id,
                        result=claim.result)
            metrics.add_metric(name="DuplicatesSkipped", unit="Count", value=1)
            return SETTLED
        if claim.state == "busy":
            return RecordResult(retry=self._delay(record, self._busy_retry_s), reason="being sent elsewhere")

        now = self._clock()
        message_type = message.effective_type(provider.default_sender)
        if record.attributes.ApproximateReceiveCount <= 1 or self._messages.get(message.id) is None:
            record_queued(self._messages, message, provider, record.attributes.SentTimestamp, reason=chosen.reason)
        expires_at = message.expires_at or record.attributes.SentTimestamp + timedelta(days=provider.expiry_days)
        if now >= expires_at:
            return self._finish(message.id, MessageStatus.EXPIRED, f"expired at {iso_utc(expires_at)} before it was sent")
        block = consent_block_reason(message_type, self._consent.state(provider.id, message.to),
                                     provider.marketing_requires_opt_in)
        if block:
            return self._finish(message.id, MessageStatus.BLOCKED, block)
        try:
            # Rendered now, so that a message the provider's templates cannot take (a missing
            # `vars` entry) is rejected like any invalid body, not failed at the provider.
            request = render_request(provider, [message], now)
        except RenderError as exc:
            result = self._reject(record, f"invalid message for provider {provider.id!r}: {exc}", message.id)
            self._claims.complete(message.id, {"status": MessageStatus.REJECTED.value, "reason": str(exc)})
            return result
        return _Job(record=record, message=message, provider=provider, expires_at=expires_at, request=request)

    def _reject(self, record: QueuedRecord, reason: str, message_id: str | None) -> RecordResult:
        """An invalid body is never retried and never lost: dead-letter it with the reason."""
        logger.warning("message rejected", reason=reason, message_id=message_id, sqs_message_id=record.messageId)
        self._queue.dead_letter(record.body, reason, message_id=message_id)
        if message_id:
            change = StatusChange(status=MessageStatus.REJECTED, at=iso_utc(self._clock()), reason=reason)
            if not self._messages.create(message_id, change):
                self._messages.record(message_id, change, apply_if_status_in={"queued", "rejected"})
        metrics.add_metric(name="MessagesRejected", unit="Count", value=1)
        return SETTLED

    def _finish(self, message_id: str, status: MessageStatus, reason: str, *, attempt: int = 0,
                outcome: Outcome | None = None) -> RecordResult:
        """A final status: recorded, and the claim completed so a redelivery does nothing."""
        answer = None
        if outcome is not None and outcome.status_code is not None:
            answer = ProviderAnswer(status_code=outcome.status_code, body=outcome.body_excerpt,
                                    message_id=outcome.provider_message_id)
        self._messages.record(message_id, StatusChange(status=status, at=iso_utc(self._clock()), attempt=attempt,
                                                       reason=reason, answer=answer))
        self._claims.complete(message_id, {"status": status.value, "reason": reason})
        return SETTLED

    # ------------------------------------------------------------ sending

    def _plan(self, jobs: list[_Job]) -> list[_Request]:
        """Group the admitted messages into provider requests: one each, or as few as the
        provider's batch size allows."""
        plans: list[_Request] = []
        by_provider: dict[str, list[_Job]] = {}
        for job in jobs:
            if job.provider.request.batch is None:
                plans.append(_Request(job.provider, [job]))
            else:
                by_provider.setdefault(job.provider.id, []).append(job)
        for group in by_provider.values():
            size = group[0].provider.request.batch.max_size
            plans.extend(_Request(group[0].provider, group[i:i + size]) for i in range(0, len(group), size))
        return plans

    def _deliver(self, request: _Request) -> None:
        jobs = request.jobs
        # A lone message goes out as rendered at admission; a batch is rendered as one request.
        deliveries = self._traffic.send(request.provider, [job.message for job in jobs],
                                        request=jobs[0].request if len(jobs) == 1 else None)
        request.outcomes = [delivery.outcome for delivery in deliveries]
        for job, delivery in zip(jobs, deliveries):
            if delivery.requested:
                job.attempt = self._messages.next_attempt(job.message.id)

    def _settle(self, job: _Job, outcome: Outcome) -> RecordResult:
        message_id = job.message.id
        if outcome.verdict == "sent":
            metrics.add_metric(name="MessagesSent", unit="Count", value=1)
            answer = ProviderAnswer(status_code=outcome.status_code, body=outcome.body_excerpt,
                                    message_id=outcome.provider_message_id)
            self._messages.record(message_id, StatusChange(status=MessageStatus.SENT, at=iso_utc(self._clock()),
                                                           attempt=job.attempt, reason=outcome.reason, answer=answer),
                                  provider_message_id=outcome.provider_message_id,
                                  provider_ref=(provider_ref(job.provider.id, outcome.provider_message_id)
                                                if outcome.provider_message_id else None))
            self._claims.complete(message_id, {"status": "sent", "provider_message_id": outcome.provider_message_id})
            return SETTLED
        if outcome.verdict == "failed":
            metrics.add_metric(name="MessagesFailed", unit="Count", value=1)
            return self._finish(message_id, MessageStatus.FAILED, outcome.reason, attempt=job.attempt, outcome=outcome)
        return self._retry(job, outcome)

    def _retry(self, job: _Job, outcome: Outcome) -> RecordResult:
        now = self._clock()
        wait = outcome.retry_after_s if outcome.retry_after_s is not None else self._backoff.delay_s(job.attempt)
        # Past the expiry there is nothing left to try: come back just after it to mark it expired.
        until_expiry = (job.expires_at - now).total_seconds() + 1
        wait = max(0.0, min(wait, until_expiry))
        reason = f"{outcome.reason}; next try in {wait:.0f} s"
        answer = None
        if outcome.status_code is not None:
            answer = ProviderAnswer(status_code=outcome.status_code, body=outcome.body_excerpt)
        self._messages.record(job.message.id, StatusChange(status=MessageStatus.QUEUED, at=iso_utc(now),
                                                           attempt=job.attempt, reason=reason, answer=answer))
        self._claims.release(job.message.id)
        metrics.add_metric(name="SendRetries", unit="Count", value=1)
        return RecordResult(retry=self._delay(job.record, wait), reason=reason)

    def _delay(self, record: QueuedRecord, seconds: float) -> bool:
        self._queue.delay(record, seconds)
        return True




def record_queued(messages, message: OutboundMessage, provider: ProviderConfig, at: datetime, *,
                  reason: str | None = None) -> bool:
    """Create the message's record, status `queued`, with the fields the API shows; whoever comes
    first (the API, the send function) writes it. Returns whether this call created it."""
    encoding = encoding_of(message.text)
    return messages.create(message.id, StatusChange(status=MessageStatus.QUEUED, at=iso_utc(at), reason=reason),
                           to=message.to, provider=provider.id,
                           type=message.effective_type(provider.default_sender).value,
                           segments=encoding.segments, is_unicode=encoding.is_unicode, campaign_id=message.campaign_id)


# A reason is stored in the message's history and carried as an SQS message attribute: kept short
# whatever the body held (an unknown key of 100 KB is named by its first characters).
_REASON_MAX_CHARS = 1000
_LOCATION_PART_MAX_CHARS = 64
_MESSAGE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def _describe(error: ValidationError) -> str:
    """A validation error as one line a caller can act on."""
    parts = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(_shorten(str(p), _LOCATION_PART_MAX_CHARS) for p in item["loc"]) or "body"
        parts.append(f"{where}: {_shorten(item['msg'], 300)}")
    return _shorten("invalid message: " + "; ".join(parts), _REASON_MAX_CHARS)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _readable_id(body: str) -> str | None:
    """The caller's id, when an invalid body still has one, so its status can say `rejected`.

    Read with pydantic's JSON parser, which refuses deep nesting with a ValueError (the standard
    library's raises RecursionError on a 50,000-deep body); then with the standard library's,
    which takes what pydantic's refuses, such as an escaped lone surrogate in another field."""
    try:
        data = from_json(body)
    except ValueError:
        try:
            data = json.loads(body, strict=False)  # control characters inside strings too
        except (ValueError, RecursionError):
            return None
    candidate = data.get("id") if isinstance(data, dict) else None
    if isinstance(candidate, str) and _MESSAGE_ID.fullmatch(candidate):
        return candidate
    return None
