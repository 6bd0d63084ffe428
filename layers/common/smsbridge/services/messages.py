"""Messages through the admin API: queue one, read one with its history, search them newest first."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from smsbridge.adapters.callbacks import check_callback_url
from smsbridge.adapters.http import UrlNotAllowed
from smsbridge.adapters.store import ProviderNotFound
from smsbridge.clock import iso_utc, utc_now
from smsbridge.core import time_index
from smsbridge.core.schedule import SendAtPlan, plan_send_at, scheduled_body_problem, send_at_problem
from smsbridge.errors import BadRequest, Conflict, Invalid, NotFound
from smsbridge.models.api import MessageAccepted, MessagePage, MessageSummary, MessageView
from smsbridge.models.message import OutboundMessage, to_e164
from smsbridge.models.status import MessageStatus, StatusChange
from smsbridge.observability import logger
from smsbridge.models.provider import ProviderConfig
from smsbridge.services.ports import MessageLog, MessageSearch, ProviderSource, Queue, RoutingSource, ScheduledMessages
from smsbridge.services.routing import Routed, routed
from smsbridge.services.send import record_queued, scheduled_record


class NotCancelable(Conflict):
    """A message that is no longer `scheduled` (409, with its status)."""

    def __init__(self, message_id: str, status: str):
        super().__init__(f"message {message_id!r} is {status}: only a scheduled message can be canceled")
        self.status = status


class MessageDesk:
    def __init__(self, *, providers: ProviderSource, messages: MessageLog, search: MessageSearch, queue: Queue,
                 retention_days: int = 90, clock: Callable[[], datetime] = utc_now,
                 routing: RoutingSource | None = None, local_runtime: bool = False,
                 schedule: ScheduledMessages | None = None):
        """`schedule` cancels scheduled messages (`messages` when it can)."""
        self._providers = providers
        self._local_runtime = local_runtime
        self._schedule_book = schedule if schedule is not None else messages
        self._routing = routing
        self._messages = messages
        self._search = search
        self._queue = queue
        self._retention = timedelta(days=retention_days)
        self._clock = clock

    def enqueue(self, message: OutboundMessage) -> MessageAccepted:
        """Record the message as `queued` and put it on its type's lane; the caller's id makes it idempotent."""
        self._check_callback_url(message)
        chosen = self._route(message)
        provider = chosen.provider
        # Queued with its provider (and sender) chosen: the send function does not route it again.
        message = chosen.message.model_copy(update={"provider": provider.id})
        if message.send_at is not None:
            plan = self._plan(message)
            if plan.kind != "now":
                return self._schedule(message, provider, plan, chosen.reason)
        if not record_queued(self._messages, message, provider, self._clock(), reason=chosen.reason):
            existing = self._messages.get(message.id) or {}
            if existing.get("status") != MessageStatus.QUEUED.value or existing.get("attempts"):
                # A repeat of a message already under way or done: the id is the idempotency key.
                logger.info("message id already known, not queued again", message_id=message.id)
                return MessageAccepted(id=message.id)
        # Queued twice at worst (a retried POST): the send function's claim sends it once. The lane
        # is the type the send path will give it (SPEC 2: no sender at all makes it MARKETING).
        self._queue.enqueue(message, message.effective_type(provider.default_sender))
        return MessageAccepted(id=message.id)

    def _plan(self, message: OutboundMessage) -> SendAtPlan:
        """Where the message waits for its `send_at`; 422 beyond a year, or for a body too large to wait in the table."""
        now = self._clock()
        plan = plan_send_at(message.send_at, now)
        problem = send_at_problem(message.send_at, now)
        if problem is None and plan.kind == "table":
            problem = scheduled_body_problem(len(message.model_dump_json(exclude_none=True).encode()))
        if problem is not None:
            raise Invalid(f"invalid request: body.{problem}", [{"loc": "body.send_at", "msg": problem}])
        return plan

    def _schedule(self, message: OutboundMessage, provider: ProviderConfig, plan: SendAtPlan,
                  reason: str | None) -> MessageAccepted:
        """Record the message `scheduled`; within 15 minutes put it on its lane delayed to its
        `send_at`, further ahead leave it in the table's due index for the schedule function."""
        first = scheduled_record(message, provider, self._clock(), plan, reason=reason)
        if not self._messages.create(message.id, first.change, **first.fields):
            existing = self._messages.get(message.id) or {}
            if existing.get("status") != MessageStatus.SCHEDULED.value or plan.kind == "table":
                logger.info("message id already known, not scheduled again", message_id=message.id)
                return MessageAccepted(id=message.id)
        if plan.kind == "queue":
            # Queued twice at worst (a retried POST): the send function's claim sends it once.
            self._queue.enqueue(message, message.effective_type(provider.default_sender), delay_s=plan.delay_s)
        return MessageAccepted(id=message.id)

    def cancel(self, message_id: str) -> MessageView:
        """A `scheduled` message becomes `canceled` and is never sent; 409 once it is queued, sent
        or final, 404 when unknown."""
        change = StatusChange(status=MessageStatus.CANCELED, at=iso_utc(self._clock()), reason="canceled through the API")
        if not self._schedule_book.cancel(message_id, change):
            item = self._messages.get(message_id)
            if item is None:
                raise NotFound(f"no message {message_id!r}")
            raise NotCancelable(message_id, str(item.get("status")))
        return self.get(message_id)

    def get(self, message_id: str) -> MessageView:
        item = self._messages.get(message_id)
        if item is None:
            raise NotFound(f"no message {message_id!r}")
        fields = {name: item.get(name) for name in MessageView.model_fields if name != "history"}
        return MessageView(**fields, history=[StatusChange.model_validate(h) for h in item.get("history", [])])

    def search(self, *, phone: str | None = None, status: MessageStatus | None = None, provider: str | None = None,
               since: datetime | None = None, until: datetime | None = None, limit: int = 50,
               cursor: str | None = None) -> MessagePage:
        """Messages created in [since, until] matching every filter given, newest first; `cursor`
        continues a previous page. Without `since`, as far back as messages are kept."""
        number = e164(phone) if phone else None
        scope = "|".join([number or "", status.value if status else "", provider or "",
                          iso_utc(since) if since else "", iso_utc(until) if until else ""])
        if since and until and since > until:
            raise BadRequest("since: it is after until")
        now = self._clock()
        # Nothing is kept longer than the retention, nor created later than now: no month outside is read.
        floor = now - self._retention - timedelta(days=1)
        start, end = max(since or floor, floor), min(until or now, now)
        if start > end:
            return MessagePage(items=[], cursor=None)
        try:
            before = (time_index.decode_cursor(cursor, scope) if cursor
                      else time_index.upper_bound(iso_utc(end)))
        except time_index.BadCursor as exc:
            raise BadRequest(str(exc)) from None
        page = self._search.newest(since=time_index.lower_bound(iso_utc(start)), before=before, limit=limit,
                                   phone=number, statuses=[status.value] if status else None, provider=provider)
        items = [MessageSummary.model_validate({name: item.get(name) for name in MessageSummary.model_fields})
                 for item in page.items]
        return MessagePage(items=items,
                           cursor=time_index.encode_cursor(page.before, scope) if page.before else None)

    def _check_callback_url(self, message: OutboundMessage) -> None:
        """A callback URL obeys the provider URLs' address rules (SPEC 10): refused now, not at each callback."""
        if message.callback_url is None:
            return
        try:
            check_callback_url(message.callback_url, local_runtime=self._local_runtime)
        except UrlNotAllowed as exc:
            raise Invalid(f"invalid: callback_url: {exc}", [{"loc": "body.callback_url", "msg": str(exc)}]) from None

    def _route(self, message: OutboundMessage) -> Routed:
        try:
            return routed(message, self._providers, self._routing)
        except ProviderNotFound as exc:
            raise BadRequest(f"provider: {exc}") from None


def e164(phone: str) -> str:
    """The number in E.164, or BadRequest naming the parameter."""
    try:
        return to_e164(phone)
    except ValueError as exc:
        raise BadRequest(f"phone: {exc}") from None
