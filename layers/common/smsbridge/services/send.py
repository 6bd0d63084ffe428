"""The `send` use case: one SQS batch of outbound messages, through their providers, at most once each."""
from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from smsbridge.adapters.store import DUE_KEY, DUE_SHARD, SCHEDULED_BODY, ProviderNotFound, provider_ref
from smsbridge.core.classify import Outcome
from smsbridge.core.consent import consent_block_reason
from smsbridge.core.encoding import encoding_of
from smsbridge.core.quiet_hours import quiet_until
from smsbridge.core.spend import month_of, spend_wait_s
from smsbridge.core.render import RenderError, render_request
from smsbridge.core.schedule import (SendAtPlan, due_key, due_shard, plan_send_at, scheduled_body_problem,
                                     send_at_problem)
from smsbridge.core.smart_encoding import text_to_send, with_substitutions
from smsbridge.models.claim import (PINNED_PROVIDER, SPEND_MONTH, ClaimRequest, FinalRecord, FirstRecord, InFlight,
                                   MessageState)
from smsbridge.models.message import MessageType, OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.queue import QueuedRecord
from smsbridge.models.status import MessageStatus, ProviderAnswer, StatusChange
from smsbridge.models.wire import HttpRequest
from smsbridge.clock import iso_utc, utc_now
from smsbridge.observability import logger, metrics
from smsbridge.observability import invocation_context_for_workers
from smsbridge.services.dispatch import Dispatcher
from smsbridge.services.traffic import Delivery, Reservation, Traffic
from smsbridge.services.ports import ConsentReader, ProviderCaller, ProviderSource, Queue, RoutingSource, SendLog
from smsbridge.services.routing import routed
from smsbridge.services.spend import SpendGuard, limits




# The longest a waiting message stays away from the send path at once (quiet hours, spend limits),
# so that a changed configuration reaches it within a quarter of an hour.
MAX_WAIT_HOP_S = 900.0
# Receives after which a waiting message goes back as a new SQS message: half the queues'
# maxReceiveCount (template.yaml, 200), past which SQS would dead-letter it without a reason.
REQUEUE_AFTER_RECEIVES = 100

@dataclass(frozen=True)
class RecordResult:
    """How a record ends this invocation: settled (delete it) or to be received again later."""

    retry: bool = False
    reason: str = ""
    delay_s: float | None = None  # back on its queue for this long (None: the queue's visibility timeout)


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
    type: MessageType
    expires_at: datetime
    first: FirstRecord  # its first record, written by the claim where the API did not write it
    request: HttpRequest | None  # rendered for this message alone; None when it cannot be
    render_error: str | None = None
    state: MessageState = MessageState()  # as the claim found it
    grant: Any = None  # the throughput reservation (services.traffic.Reservation) that let it go
    started: bool = False  # whether its request was started: else its grant is given back
    # The abandoned attempt whose outcome is unknown (SPEC 11), for a NOTIFICATION sent again.
    resumed: InFlight | None = None


@dataclass(frozen=True)
class _Hold:
    """A message that waits on its queue for `seconds`; `reason` goes in its history once per `key`."""

    job: _Job
    seconds: float
    reason: str
    key: str


@dataclass
class _Request:
    """One provider request: one message, or several when the provider batches."""

    provider: ProviderConfig
    jobs: list[_Job]
    deliveries: list[Delivery] = field(default_factory=list)


class SendService:
    """The storage of a batch costs a few calls, not a few per message: one read of the messages
    (and one of consent when the batch holds marketing), one transaction that claims them (their
    first record and attempt counter in the same write), one that writes their results."""

    def __init__(self, *, providers: ProviderSource, messages: SendLog, consent: ConsentReader,
                 queue: Queue, client: ProviderCaller | None = None,
                 traffic: Traffic | None = None, clock: Callable[[], datetime] = utc_now,
                 concurrency: int = 10, backoff: Backoff = Backoff(), busy_retry_s: float = 30.0,
                 routing: RoutingSource | None = None, spend: SpendGuard | None = None,
                 spend_recheck_s: float = MAX_WAIT_HOP_S, wave: int = 100):
        """`traffic` calls the providers; given `client` instead, Traffic over a Dispatcher over it is made.
        Without `routing`, every message without a provider goes to the default provider. Without
        `spend`, spend limits are not applied; past one, a message is looked at again every
        `spend_recheck_s` (a raised limit releases it). `wave`: messages claimed at once (at most one
        claim transaction's 100), the most a killed invocation leaves in doubt."""
        self._providers = providers
        self._routing = routing
        self._messages = messages
        self._consent = consent
        self._queue = queue
        self._traffic = traffic if traffic is not None else Traffic(Dispatcher(client, clock=clock), clock=clock)
        self._clock = clock
        self._concurrency = concurrency
        self._backoff = backoff
        self._busy_retry_s = busy_retry_s
        self._spend = spend
        self._spend_recheck_s = spend_recheck_s
        self._wave = max(1, min(wave, 100))

    def send_batch(self, records: Iterable[QueuedRecord], remaining_ms: int = 30_000) -> dict[str, RecordResult]:
        """Send what can be sent; returns each record's result by SQS message id."""
        results: dict[str, RecordResult] = {}
        jobs: dict[str, _Job] = {}
        by_id = {record.messageId: record for record in records}
        for record in by_id.values():
            admitted = self._admit_safely(record)
            if not isinstance(admitted, _Job):
                results[record.messageId] = admitted
            elif admitted.message.id in jobs:
                # The same message twice in one batch: the first copy decides, this one comes back.
                results[record.messageId] = self._wait(record, self._busy_retry_s, "being sent elsewhere")
            else:
                jobs[admitted.message.id] = admitted
        if jobs:
            # The batch's own threads: invocations running at once in one process (the local runtime)
            # must not queue behind each other's requests, a notification behind a campaign.
            with ThreadPoolExecutor(max_workers=max(1, min(self._concurrency, len(jobs))),
                                    thread_name_prefix="send",
                                    **invocation_context_for_workers()) as pool:
                results.update(self._send(list(jobs.values()), remaining_ms, pool))
            self._give_back_unused(jobs.values())
        return self._delay_waits(by_id, results)

    def _give_back_unused(self, jobs: Iterable[_Job]) -> None:
        """Throughput granted to messages whose request was never started (the batch ended before it,
        the invocation's time ran short) goes back to the provider's window for the next batch."""
        unused: dict[int, tuple[_Job, int]] = {}
        for job in jobs:
            if job.grant is not None and job.grant.at_ms and not job.started:
                first, count = unused.get(id(job.grant), (job, 0))
                unused[id(job.grant)] = (first, count + 1)
        for job, count in unused.values():
            self._traffic.give_back(job.provider, job.grant, count)

    # One record's unexpected failure (a DynamoDB error, a bug) must not fail its neighbours: it
    # is left on the queue, to come back after the queue's visibility timeout.

    def _admit_safely(self, record: QueuedRecord) -> _Job | RecordResult:
        try:
            return self._admit(record)
        except Exception:
            logger.exception("could not admit a record; SQS will redeliver it", sqs_message_id=record.messageId)
            return UNSETTLED

    # ------------------------------------------------------------ admission (no storage call)

    def _admit(self, record: QueuedRecord) -> _Job | RecordResult:
        """Validate, find the provider (cached), render."""
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
            return self._wait(record, self._busy_retry_s, "provider is disabled")
        queued_at = record.attributes.SentTimestamp
        if message.send_at is not None and (held := self._hold_until_send_at(record, message, provider, chosen.reason)):
            return held
        # A scheduled message's default expiry counts from its send_at.
        expires_at = message.expires_at or max(queued_at, message.send_at or queued_at) + timedelta(days=provider.expiry_days)
        request, render_error = None, None
        try:
            # Rendered now, so that a message the provider's templates cannot take (a missing
            # `vars` entry) is rejected like any invalid body, not failed at the provider.
            request = render_request(provider, [message], self._clock())
        except RenderError as exc:
            render_error = str(exc)
        return _Job(record=record, message=message, provider=provider,
                    type=message.effective_type(provider.default_sender), expires_at=expires_at,
                    first=first_record(message, provider, queued_at, reason=chosen.reason),
                    request=request, render_error=render_error)

    def _hold_until_send_at(self, record: QueuedRecord, message: OutboundMessage, provider: ProviderConfig,
                            reason: str | None) -> RecordResult | None:
        """A message whose `send_at` is ahead is recorded `scheduled` and waits: on its queue up to
        15 minutes, else in the messages table's due index (consumed here; the sweep queues it).
        None when its time has come."""
        now = self._clock()
        problem = send_at_problem(message.send_at, now)
        plan = plan_send_at(message.send_at, now)
        if problem is None and plan.kind == "table":
            problem = scheduled_body_problem(len(record.body.encode("utf-8", "surrogatepass")))
        if problem is not None:
            return self._reject(record, f"invalid message: {problem}", message.id)
        if plan.kind == "now":
            return None
        first = scheduled_record(message, provider, now, plan, reason=reason)
        if not self._messages.create(message.id, first.change, **first.fields) and plan.kind == "table":
            self._messages.keep_due(message.id, due_fields(message))  # only while it is still scheduled
        if plan.kind == "queue":
            return self._wait(record, plan.delay_s, f"scheduled for {iso_utc(message.send_at)}")
        return SETTLED

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

    # ------------------------------------------------------------ the batch

    def _send(self, jobs: list[_Job], remaining_ms: int, pool: ThreadPoolExecutor) -> dict[str, RecordResult]:
        results: dict[str, RecordResult] = {}
        try:
            states, consent = self._read(jobs, pool)
        except Exception:
            logger.exception("could not read the batch's messages; SQS will redeliver them")
            return {job.record.messageId: UNSETTLED for job in jobs}
        now = self._clock()
        now_s = now.timestamp()
        settle_now: list[tuple[_Job, StatusChange]] = []
        to_send: list[_Job] = []
        holds: list[_Hold] = []
        for job in jobs:
            job.state = states.get(job.message.id, MessageState())
            unknown = job.state.outcome_unknown(now_s)
            if unknown is not None and job.type is MessageType.NOTIFICATION:
                job.resumed = unknown
            # An attempt that may have reached its provider pins the message there (never a second provider).
            pin = job.state.pinned_provider or (unknown.provider if unknown is not None else None)
            if pin and pin != job.provider.id:
                self._pin(job, pin)
            if job.state.settled:
                results[job.record.messageId] = self._duplicate(job)
            elif job.state.busy(now_s):
                results[job.record.messageId] = self._wait(job.record, self._busy_retry_s, "being sent elsewhere")
            elif unknown is not None and job.type is MessageType.MARKETING:
                # The provider may have it: a campaign message is never sent twice (SPEC 11).
                metrics.add_metric(name="MessagesUnknown", unit="Count", value=1)
                settle_now.append((job, StatusChange(
                    status=MessageStatus.UNKNOWN, at=iso_utc(now), attempt=unknown.attempt, provider=unknown.provider,
                    reason=f"the function stopped while {unknown.describe()}, before its result was written: "
                           f"the outcome is unknown, and a MARKETING message is not sent again")))
            elif job.render_error is not None:
                results[job.record.messageId] = self._safely(
                    job, lambda j: self._reject(j.record, f"invalid message for provider {j.provider.id!r}: "
                                                          f"{j.render_error}", j.message.id))
            elif now >= job.expires_at:
                settle_now.append((job, StatusChange(status=MessageStatus.EXPIRED, at=iso_utc(now),
                                                     reason=f"expired at {iso_utc(job.expires_at)} before it was sent")))
            elif block := consent_block_reason(job.type, consent.get((job.provider.id, job.message.to)),
                                               job.provider.marketing_requires_opt_in):
                settle_now.append((job, StatusChange(status=MessageStatus.BLOCKED, at=iso_utc(now), reason=block)))
            elif (quiet := self._quiet(job, now)) is not None:
                holds.append(quiet)
            else:
                to_send.append(job)
        granted = self._reserve(to_send, results)
        granted = self._within_spend(granted, now, holds, results)

        token = uuid.uuid4().hex
        until = now_s + remaining_ms / 1000
        claims = [(job, ClaimRequest(job.message.id, job.first, job.state, until, token, (change,)))
                  for job, change in settle_now]
        claims += [(job, self._claim_to_send(job, now, until, token)) for job in granted]
        deadline = now + timedelta(milliseconds=remaining_ms)
        # Claimed and sent in waves of one claim transaction (100 messages; a provider's whole request when it
        # batches more): the same calls as one claim of the whole batch, but a kill leaves at most one wave
        # in doubt (SPEC 11), not a 1,000-message BulkQueue batch.
        wave = max([self._wave] + [job.provider.request.batch.max_size for job, _ in claims if job.provider.request.batch])
        for start in range(0, len(claims), wave):
            results.update(self._claim_and_deliver(claims[start:start + wave], token, pool, deadline))
        # The holds' history notes are written after the sends, not between the grant and them (a grant is
        # to be used at once); every wait's visibility change is made at the batch's end (`_delay_waits`).
        self._hold_all(holds, results, pool)
        return results

    def _claim_and_deliver(self, claims: list[tuple[_Job, ClaimRequest]], token: str, pool: ThreadPoolExecutor,
                           deadline: datetime) -> dict[str, RecordResult]:
        results: dict[str, RecordResult] = {}
        try:
            answers = self._messages.claim([request for _, request in claims])
        except Exception:
            logger.exception("could not claim the batch's messages; SQS will redeliver them")
            return {job.record.messageId: UNSETTLED for job, _ in claims}
        claimed: list[_Job] = []
        for job, request in claims:
            answer = answers[job.message.id]
            if answer.outcome == "done":
                results[job.record.messageId] = self._duplicate(job)
            elif answer.outcome == "busy":
                results[job.record.messageId] = self._wait(job.record, self._busy_retry_s, "being sent elsewhere")
            elif request.settle_with:
                results[job.record.messageId] = SETTLED
            else:
                job.state = answer.state
                claimed.append(job)
        if claimed:
            results.update(self._deliver_all(claimed, token, pool, deadline))
        return results

    @staticmethod
    def _claim_to_send(job: _Job, now: datetime, until: float, token: str) -> ClaimRequest:
        """The claim of a message about to be sent: it records the attempt in flight (SPEC 11), and for a
        notification whose previous attempt's outcome is unknown, says so in its history and pins it."""
        notes: tuple[StatusChange, ...] = ()
        pin = None
        if job.resumed is not None:
            notes = (StatusChange(status=MessageStatus.QUEUED, at=iso_utc(now), attempt=job.resumed.attempt,
                                  provider=job.resumed.provider,
                                  reason=f"the previous attempt's outcome is unknown: sent again (the function "
                                         f"stopped while {job.resumed.describe()})"),)
            pin = None if job.state.pinned_provider else job.resumed.provider
        return ClaimRequest(job.message.id, job.first, job.state, until, token, due=_due(job, now),
                            in_flight=InFlight(job.state.attempts + 1, job.provider.id, iso_utc(now)),
                            notes=notes, pin=pin)

    def _pin(self, job: _Job, provider_id: str) -> None:
        """Send to the provider an earlier attempt may have reached, whatever routing says today
        (never a second provider after a timeout or a crash); routing's choice when that provider is gone."""
        try:
            provider = self._providers.get(provider_id)
        except ProviderNotFound:
            logger.warning("the provider an earlier attempt may have reached is gone; routing decides",
                           message_id=job.message.id, provider=provider_id)
            return
        job.provider = provider
        try:
            job.request, job.render_error = render_request(provider, [job.message], self._clock()), None
        except RenderError as exc:
            job.request, job.render_error = None, str(exc)

    def _read(self, jobs: list[_Job], pool: ThreadPoolExecutor) -> tuple[dict[str, MessageState], dict[tuple[str, str], Any]]:
        """The messages' states and, for marketing alone (a notification is sent whatever the
        consent), the numbers' consent: two reads side by side."""
        subjects = [(job.provider.id, job.message.to) for job in jobs if job.type is MessageType.MARKETING]
        consent = pool.submit(self._consent.states, subjects) if subjects else None
        states = self._messages.states([job.message.id for job in jobs])
        return states, (consent.result() if consent is not None else {})

    def _reserve(self, jobs: list[_Job], results: dict[str, RecordResult]) -> list[_Job]:
        """Ask each provider's throughput for its messages, lane by lane, notifications first; the
        messages it cannot take now wait on the queue (not claimed, not an attempt)."""
        lanes: dict[tuple[str, MessageType], list[_Job]] = {}
        for job in jobs:
            lanes.setdefault((job.provider.id, job.type), []).append(job)
        granted: list[_Job] = []
        for (provider_id, lane), group in sorted(lanes.items(), key=lambda kv: kv[0][1] is not MessageType.NOTIFICATION):
            reservation = self._traffic.reserve(group[0].provider, len(group), lane)
            count = max(0, min(len(group), reservation.granted))
            granted += group[:count]
            for job in group[:count]:
                job.grant = reservation
            for job in group[count:]:
                results[job.record.messageId] = self._wait(
                    job.record, reservation.retry_in_s,
                    f"provider {provider_id} is at its throughput; next try in {reservation.retry_in_s:.0f} s")
        return granted

    # ------------------------------------------------------------ waits: quiet hours, spend limits

    def _quiet(self, job: _Job, now: datetime) -> _Hold | None:
        """A MARKETING message inside its recipient's quiet hours waits for their end (never past its expiry)."""
        window = job.provider.quiet_hours
        if window is None or job.type is not MessageType.MARKETING:
            return None
        wait = quiet_until(job.message.to, window, now)
        if wait is None:
            return None
        seconds = min((wait.until - now).total_seconds(), MAX_WAIT_HOP_S)
        return _Hold(job, self._until_expiry(job, now, seconds), wait.describe(), f"quiet:{iso_utc(wait.until)}")

    def _within_spend(self, jobs: list[_Job], now: datetime, holds: list[_Hold],
                      results: dict[str, RecordResult]) -> list[_Job]:
        """The messages the providers' spend limits let go now (their segments counted, once each);
        the others wait. No call for a provider without a limit."""
        if self._spend is None:
            return jobs
        counted: dict[str, list[_Job]] = {}
        going: list[_Job] = []
        for job in jobs:
            if limits(job.provider, job.type) and job.state.spend_month is None:
                counted.setdefault(job.provider.id, []).append(job)
            else:
                going.append(job)
        month = month_of(now)
        for group in counted.values():
            provider = group[0].provider
            try:
                fit = self._spend.reserve(provider, [job.first.fields.get("segments") or 1 for job in group], now)
            except Exception:
                logger.exception("could not count a batch's segments; SQS will redeliver them", provider=provider.id)
                results.update({job.record.messageId: UNSETTLED for job in group})
                continue
            for job in group[:fit]:
                job.first = replace(job.first, fields={**job.first.fields, SPEND_MONTH: month})  # written by the claim
                going.append(job)
            seconds = spend_wait_s(now, self._spend_recheck_s)
            reason = (f"spend limit of provider {provider.id} reached for {month} "
                      f"({provider.spend_limit.segments_per_month} segments): waiting for the next month or a "
                      f"higher limit")
            holds.extend(_Hold(job, self._until_expiry(job, now, seconds), reason, f"spend:{month}")
                         for job in group[fit:])
        return going

    def _hold_all(self, holds: list[_Hold], results: dict[str, RecordResult], pool: ThreadPoolExecutor) -> None:
        """Each waiting message back on its queue; its history says why once, when it starts waiting
        (not at every hop: one write per message and wait, not one per quarter of an hour)."""
        if not holds:
            return
        at = iso_utc(self._clock())
        new = [hold for hold in holds if hold.job.state.waiting != hold.key]
        list(pool.map(lambda hold: self._note_safely(hold, at), new))
        for hold in holds:
            if hold.job.record.attributes.ApproximateReceiveCount >= REQUEUE_AFTER_RECEIVES:
                results[hold.job.record.messageId] = self._requeue(hold)
            else:
                results[hold.job.record.messageId] = self._wait(hold.job.record, hold.seconds, hold.reason)

    def _requeue(self, hold: _Hold) -> RecordResult:
        """A message that has waited many hops goes back as a new SQS message before the queue's
        redrive policy (maxReceiveCount) would move it to the dead-letter queue, or its retention
        period end; its expiry is written in the body, since the new message's queued time is later."""
        body = json.loads(hold.job.record.body)
        body.setdefault("expires_at", iso_utc(hold.job.expires_at))
        try:
            self._queue.requeue(hold.job.record, json.dumps(body), hold.seconds)
        except Exception:
            logger.exception("could not requeue a waiting message; it waits as it is",
                             message_id=hold.job.message.id)
            return self._wait(hold.job.record, hold.seconds, hold.reason)
        return SETTLED

    def _note_safely(self, hold: _Hold, at: str) -> None:
        change = StatusChange(status=MessageStatus.QUEUED, at=at, reason=hold.reason, provider=hold.job.provider.id)
        try:
            self._messages.note_wait(hold.job.message.id, hold.job.first, change, hold.key)
        except Exception:  # the wait holds all the same; its next hop writes the reason
            logger.exception("could not record why a message waits", message_id=hold.job.message.id)

    @staticmethod
    def _until_expiry(job: _Job, now: datetime, seconds: float) -> float:
        """A wait never runs past the message's expiry: it comes back just after it, to be marked expired."""
        return max(1.0, min(seconds, (job.expires_at - now).total_seconds() + 1))

    # ------------------------------------------------------------ sending

    def _deliver_all(self, jobs: list[_Job], token: str, pool: ThreadPoolExecutor,
                     deadline: datetime) -> dict[str, RecordResult]:
        """Send the claimed messages, then write every result in one go, then set the retries' delays."""
        results: dict[str, RecordResult] = {}
        finals: list[FinalRecord] = []
        retries: list[tuple[_Job, float, str]] = []
        for request in pool.map(lambda planned: self._deliver_safely(planned, deadline), self._plan(jobs)):
            if not request.deliveries:
                results.update({job.record.messageId: UNSETTLED for job in request.jobs})
                continue
            for job, delivery in zip(request.jobs, request.deliveries):
                final, wait = self._final(job, delivery, token)
                finals.append(final)
                if wait is None:
                    results[job.record.messageId] = SETTLED
                else:
                    retries.append((job, wait, final.changes[-1].reason or ""))
        if finals:
            try:
                self._messages.settle(finals)
            except Exception:
                logger.exception("could not record the batch's results; SQS will redeliver them",
                                 message_ids=[f.message_id for f in finals])
                return {**results, **{job.record.messageId: UNSETTLED for job in jobs}}
        for job, wait, reason in retries:
            results[job.record.messageId] = self._wait(job.record, wait, reason)
        return results

    def _plan(self, jobs: list[_Job]) -> list[_Request]:
        """Group the claimed messages into provider requests: one each, or as few as the
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

    def _deliver_safely(self, request: _Request, deadline: datetime) -> _Request:
        jobs = request.jobs
        # A request that might still be waiting for its answer when the invocation is stopped is not
        # started (a big BulkQueue batch, a slow provider): its messages go back to the queue at once,
        # unsent, rather than be left in doubt by a timeout.
        if self._clock() + timedelta(seconds=request.provider.timeout_s + _SETTLE_MARGIN_S) > deadline:
            outcome = Outcome("retry", "not sent: the invocation's time was running out", retry_after_s=0.0)
            request.deliveries = [Delivery(outcome, request.provider, requested=False) for _ in jobs]
            return request
        # Nor one on a throughput grant too old to start on (more requests granted than threads, a slow
        # provider): late, it could reach the provider in a second that a newer grant already fills.
        if (refused := self._renew_late_grants(jobs)) is not None:
            outcome = Outcome("retry", f"not sent: its throughput grant was too old to start on, and provider "
                                       f"{request.provider.id} has no room for it now",
                              retry_after_s=refused.retry_in_s)
            request.deliveries = [Delivery(outcome, request.provider, requested=False) for _ in jobs]
            return request
        for job in jobs:
            job.started = True
        try:
            # A lone message goes out as rendered at admission; a batch is rendered as one request.
            request.deliveries = self._traffic.send(
                request.provider, [job.message for job in jobs], request=jobs[0].request if len(jobs) == 1 else None,
                failover=not any(job.state.pinned_provider or job.resumed for job in jobs))
        except Exception:
            logger.exception("could not send a request; SQS will redeliver it",
                             message_ids=[job.message.id for job in jobs])
        return request

    def _renew_late_grants(self, jobs: list[_Job]) -> Reservation | None:
        """Each grant of `jobs` too old to start on, renewed for them (`Traffic.renew`, all or none); the
        refusal (a Reservation with its `retry_in_s`) if one has no room now, else None. A refused or
        renewed grant not started is given back by `_give_back_unused`."""
        late: dict[int, list[_Job]] = {}
        for job in jobs:
            if job.grant is not None and job.grant.at_ms and self._traffic.late(job.grant):
                late.setdefault(id(job.grant), []).append(job)
        for group in late.values():
            renewed = self._traffic.renew(group[0].provider, group[0].grant, len(group), group[0].type)
            if renewed.granted < len(group):
                return renewed
            for job in group:
                job.grant = renewed
        return None

    def _final(self, job: _Job, delivery: Delivery, token: str) -> tuple[FinalRecord, float | None]:
        """The message's final record (a retry's too) and, for a retry, how long it waits."""
        now = self._clock()
        at = iso_utc(now)
        attempts = job.state.attempts
        changes: list[StatusChange] = []
        # Each provider that did not take the message before the one that answered: one attempt
        # each, in the history of the same write.
        after = [t.provider_id for t in delivery.tried[1:]] + [delivery.provider.id]
        for tried, next_id in zip(delivery.tried, after):
            attempts += 1
            outcome = tried.outcome
            detail = outcome.status_code if outcome.status_code is not None else outcome.reason
            changes.append(StatusChange(
                status=MessageStatus.QUEUED, at=at, attempt=attempts, provider=tried.provider_id,
                reason=f"provider {tried.provider_id} did not take it ({detail}): failing over to {next_id}",
                answer=_answer(outcome)))
        if delivery.requested:
            attempts += 1
        attempt = attempts if delivery.requested else 0
        outcome = delivery.outcome
        provider_id = delivery.provider.id
        fields: dict[str, Any] = {}
        wait: float | None = None
        if provider_id != job.provider.id:
            fields["provider"] = provider_id  # the one that sent it: its receipts must find the message
        if outcome.verdict == "sent":
            metrics.add_metric(name="MessagesSent", unit="Count", value=1)
            changes.append(StatusChange(status=MessageStatus.SENT, at=at, attempt=attempt,
                                        reason=with_substitutions(outcome.reason, job.message.text,
                                                                  delivery.provider.smart_encoding),
                                        answer=_answer(outcome, with_id=True), provider=provider_id))
            if outcome.provider_message_id:
                fields["provider_message_id"] = outcome.provider_message_id
                fields["provider_ref"] = provider_ref(provider_id, outcome.provider_message_id)
        elif outcome.verdict == "failed":
            metrics.add_metric(name="MessagesFailed", unit="Count", value=1)
            changes.append(StatusChange(status=MessageStatus.FAILED, at=at, attempt=attempt, reason=outcome.reason,
                                        answer=_answer(outcome, with_id=True), provider=provider_id))
        else:
            wait = outcome.retry_after_s if outcome.retry_after_s is not None else self._backoff.delay_s(attempt)
            # Past the expiry there is nothing left to try: come back just after it to mark it expired.
            until_expiry = (job.expires_at - now).total_seconds() + 1
            wait = max(0.0, min(wait, until_expiry))
            metrics.add_metric(name="SendRetries", unit="Count", value=1)
            if delivery.requested and not outcome.not_taken and not job.state.pinned_provider:
                fields[PINNED_PROVIDER] = provider_id  # it may have the message: later attempts go there alone
            changes.append(StatusChange(status=MessageStatus.QUEUED, at=at, attempt=attempt,
                                        reason=f"{outcome.reason}; next try in {wait:.0f} s", answer=_answer(outcome)))
        return FinalRecord(job.message.id, tuple(changes), token, attempts, fields), wait

    # ------------------------------------------------------------ records that wait or were done

    def _duplicate(self, job: _Job) -> RecordResult:
        logger.info("duplicate delivery of a message already handled", message_id=job.message.id,
                    status=job.state.status)
        metrics.add_metric(name="DuplicatesSkipped", unit="Count", value=1)
        return SETTLED

    @staticmethod
    def _wait(record: QueuedRecord, seconds: float, reason: str) -> RecordResult:
        """Back on the queue for `seconds`: the visibility change is made with the batch's others (`_delay_waits`)."""
        return RecordResult(retry=True, reason=reason, delay_s=seconds)

    def _delay_waits(self, records: dict[str, QueuedRecord], results: dict[str, RecordResult]) -> dict[str, RecordResult]:
        """Every record that waits, back on its queue for its time: ten a call. One whose visibility could not
        be changed comes back after the queue's visibility timeout instead."""
        waits = [(records[sqs_id], result.delay_s) for sqs_id, result in results.items() if result.delay_s is not None]
        if not waits:
            return results
        try:
            failed = self._queue.delay_all(waits)
        except Exception:
            logger.exception("could not delay the batch's records; SQS will redeliver them")
            failed = {record.messageId for record, _ in waits}
        return {**results, **{sqs_id: UNSETTLED for sqs_id in failed}}

    def _safely(self, job: _Job, step: Callable[[_Job], RecordResult]) -> RecordResult:
        try:
            return step(job)
        except Exception:
            logger.exception("could not settle a record; SQS will redeliver it", message_id=job.message.id)
            return UNSETTLED


def _due(job: _Job, now: datetime) -> StatusChange | None:
    """The change that makes a `scheduled` message `queued` as it is claimed: its time came."""
    if job.state.status != MessageStatus.SCHEDULED.value:
        return None
    when = f" ({iso_utc(job.message.send_at)})" if job.message.send_at else ""
    return StatusChange(status=MessageStatus.QUEUED, at=iso_utc(now), reason=f"send_at reached{when}")


def _answer(outcome: Outcome, *, with_id: bool = False) -> ProviderAnswer | None:
    if outcome.status_code is None:
        return None
    return ProviderAnswer(status_code=outcome.status_code, body=outcome.body_excerpt,
                          message_id=outcome.provider_message_id if with_id else None)


def first_record(message: OutboundMessage, provider: ProviderConfig, at: datetime, *,
                 reason: str | None = None) -> FirstRecord:
    """The message's first record: status `queued`, with the fields the API shows (segments as sent,
    after the provider's smart encoding)."""
    encoding = encoding_of(text_to_send(message.text, provider.smart_encoding).text)
    return FirstRecord(StatusChange(status=MessageStatus.QUEUED, at=iso_utc(at), reason=reason),
                       {"to": message.to, "provider": provider.id,
                        "type": message.effective_type(provider.default_sender).value,
                        "segments": encoding.segments, "is_unicode": encoding.is_unicode,
                        "campaign_id": message.campaign_id,
                        # Kept in the item for the status events (SPEC 10), which are built from it.
                        "metadata": message.metadata, "callback_url": message.callback_url})


def record_queued(messages, message: OutboundMessage, provider: ProviderConfig, at: datetime, *,
                  reason: str | None = None) -> bool:
    """Create the message's record, status `queued`, with the fields the API shows; whoever comes
    first (the API, the send function's claim) writes it. Returns whether this call created it."""
    first = first_record(message, provider, at, reason=reason)
    return messages.create(message.id, first.change, **first.fields)


def scheduled_record(message: OutboundMessage, provider: ProviderConfig, at: datetime, plan: SendAtPlan, *,
                     reason: str | None = None) -> FirstRecord:
    """The first record of a message whose `send_at` is ahead: status `scheduled`, the reason saying
    until when and where it waits, and, when it waits in the table, its due index keys and body."""
    first = first_record(message, provider, at, reason=reason)
    where = "on its queue" if plan.kind == "queue" else "in the schedule"
    why = f"scheduled for {iso_utc(message.send_at)} (waits {where})" + (f"; {reason}" if reason else "")
    fields = {**first.fields, "send_at": iso_utc(message.send_at)}
    if plan.kind == "table":
        fields.update(due_fields(message))
    return FirstRecord(first.change.model_copy(update={"status": MessageStatus.SCHEDULED, "reason": why}), fields)


def due_fields(message: OutboundMessage) -> dict[str, Any]:
    """What puts a scheduled message in the messages table's due index: its keys and its body."""
    return {DUE_SHARD: due_shard(message.id), DUE_KEY: due_key(message.send_at, message.id),
            SCHEDULED_BODY: message.model_dump_json(exclude_none=True)}


# Time kept after a provider's timeout to write the batch's results before the invocation is stopped.
_SETTLE_MARGIN_S = 2.0

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
