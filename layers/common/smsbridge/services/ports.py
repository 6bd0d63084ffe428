"""The small interfaces the use cases (dispatch, send, admin, balance) need of the adapters; tests use in-memory fakes of them."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from smsbridge.core.balance import BalanceRecord
from smsbridge.core.circuit import Circuit, CircuitPolicy
from smsbridge.core.throughput import Grant, Limits
from smsbridge.core.consent import ConsentState
from smsbridge.models.claim import ClaimAnswer, ClaimRequest, FinalRecord, MessageState
from smsbridge.models.message import MessageType, OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.queue import QueuedRecord
from smsbridge.models.routing import RoutingRules
from smsbridge.models.status import StatusChange
from smsbridge.models.wire import HttpRequest, HttpResponse


class ProviderCaller(Protocol):
    """Sends a rendered request with the provider's credentials (`adapters.provider_client.ProviderClient`).

    Raises TokenUnavailable, RequestNotSendable (UrlNotAllowed), AuthError or TransportError;
    `services.dispatch` turns each into an outcome."""

    def send(self, provider: ProviderConfig, request: HttpRequest, now: datetime) -> HttpResponse: ...


class ProviderSource(Protocol):
    """Where the use cases read providers from (`adapters.store.ProviderStore`)."""

    def get(self, provider_id: str) -> ProviderConfig: ...
    def default(self) -> ProviderConfig: ...
    def list(self) -> list[ProviderConfig]: ...


class ProviderCatalog(ProviderSource, Protocol):
    """ProviderSource plus the admin API's writes."""

    def put(self, config: ProviderConfig) -> None: ...
    def delete(self, provider_id: str) -> bool: ...


class MessageLog(Protocol):
    """Messages' status and history (`adapters.store.MessageStore`)."""

    def create(self, message_id: str, change: StatusChange, **fields: Any) -> bool: ...
    def record(self, message_id: str, change: StatusChange, *, apply_if_status_in: set[str] | None = None,
               **fields: Any) -> bool: ...
    def get(self, message_id: str) -> dict[str, Any] | None: ...
    def next_attempt(self, message_id: str) -> int: ...


class ScheduledMessages(Protocol):
    """The messages table's due index and cancel (`adapters.store.MessageStore`, core/schedule.py)."""

    def keep_due(self, message_id: str, fields: dict[str, Any]) -> bool: ...
    def due(self, shard: str, horizon: str) -> Any: ...
    def leave_due(self, message_id: str) -> None: ...
    def cancel(self, message_id: str, change: StatusChange) -> bool: ...


class SendLog(MessageLog, Protocol):
    """MessageLog plus the send path's claims, each call for a whole batch (models/claim.py)."""

    def states(self, message_ids: list[str]) -> dict[str, MessageState]: ...
    def claim(self, requests: list[ClaimRequest]) -> dict[str, ClaimAnswer]: ...
    def settle(self, finals: list[FinalRecord]) -> None: ...


class ConsentReader(Protocol):
    """The consent state the send rules read (`adapters.consent.ConsentLedger`)."""

    def state(self, provider_id: str, phone: str) -> ConsentState | None: ...
    def states(self, subjects: list[tuple[str, str]]) -> dict[tuple[str, str], ConsentState | None]: ...


class ConsentBook(ConsentReader, Protocol):
    """ConsentReader plus what the admin API reads and sets."""

    def get(self, provider_id: str, phone: str) -> dict[str, Any] | None: ...
    def set(self, provider_id: str, phone: str, state: ConsentState | str, source: str = "api", *,
            reason: str | None = None) -> Any: ...
    def history(self, provider_id: str, phone: str) -> list[dict[str, Any]]: ...


class Queue(Protocol):
    """The lanes (OutboundQueue, BulkQueue) and their dead-letter queue (`adapters.queue.OutboundQueue`)."""

    def enqueue(self, message: OutboundMessage, lane: MessageType, *, delay_s: int = 0) -> None: ...
    def delay(self, record: QueuedRecord, seconds: float) -> None: ...
    def dead_letter(self, body: str, reason: str, *, message_id: str | None = None) -> None: ...


class BalanceRecords(Protocol):
    def get(self, provider_id: str) -> BalanceRecord | None: ...
    def put(self, record: BalanceRecord) -> None: ...


class Mailer(Protocol):
    def send(self, recipients: list[str], subject: str, text: str) -> str: ...


class IndexPage(Protocol):
    items: list[dict[str, Any]]
    before: str | None  # the key the next page starts strictly before; None at the end


class MessageSearch(Protocol):
    """Messages newest first and in bulk, by Query on the messages table's indexes (`adapters.store.MessageStore`)."""

    def newest(self, *, since: str, before: str, limit: int, phone: str | None = None,
               statuses: list[str] | None = None, provider: str | None = None) -> IndexPage: ...
    def created_between(self, since: str, before: str, *, provider: str | None = None,
                        max_items: int) -> list[dict[str, Any]]: ...


class InboundList(Protocol):
    """Inbound messages newest first (`adapters.inbound_messages.InboundMessageStore`)."""

    def newest(self, *, since: str, before: str, limit: int) -> IndexPage: ...


class DeadLetterStore(Protocol):
    """The dead-letter queue (`adapters.dead_letters.DeadLetterBox`)."""

    def peek(self, limit: int) -> list[Any]: ...
    def redrive(self, wanted: set[str] | None) -> int: ...
    def delete(self, letter_id: str) -> bool: ...


class RoutingSource(Protocol):
    """The routing rules (`adapters.routing.RoutingStore`)."""

    def rules(self) -> RoutingRules: ...


class SharedTrafficState(Protocol):
    """Each provider's throughput window and circuit, shared by every invocation
    (`adapters.provider_state.ProviderState`)."""

    def reserve(self, provider_id: str, limits: Limits, count: int, lane: MessageType, now: datetime) -> Grant: ...
    def pause(self, provider_id: str, seconds: float, now: datetime, *, slow_for_s: float) -> None: ...
    def circuit(self, provider_id: str) -> Circuit: ...
    def failed(self, provider_id: str, policy: CircuitPolicy, now: datetime, *, probing: bool = False) -> Circuit: ...
    def succeeded(self, provider_id: str) -> None: ...
    def try_probe(self, provider_id: str, policy: CircuitPolicy, now: datetime) -> bool: ...
    def states(self, provider_ids: Any) -> dict[str, Any]: ...
