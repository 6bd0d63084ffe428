"""Traffic to the providers: throughput limits and failover around the one call (`services.dispatch`).

The send path asks `Traffic` two things:

- `reserve(provider, count, lane)`: how many of `count` messages may go to the provider now
  (SPEC 3 `throughput`, shared by every invocation); the others wait on the queue until
  `retry_in_s`.
- `send(provider, messages, request=None)`: one `Delivery` per message: the outcome, the provider
  that gave it (another one than asked when the first did not take the message and it has a
  `failover` list), whether a request went out, and the providers tried before it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from smsbridge.clock import utc_now
from smsbridge.core.classify import Outcome
from smsbridge.models.message import MessageType, OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.wire import HttpRequest
from smsbridge.services.dispatch import Dispatcher


@dataclass(frozen=True)
class Reservation:
    """`granted` of the messages asked for may be sent now; the rest may be tried in `retry_in_s`."""

    granted: int
    retry_in_s: float = 0.0


@dataclass(frozen=True)
class Tried:
    """A provider that did not take the message before the one that gave its outcome."""

    provider_id: str
    outcome: Outcome


@dataclass(frozen=True)
class Delivery:
    """One message's result: `outcome` from `provider`; `requested` whether a request went out to it;
    `tried` the providers before it that did not take the message (failover), oldest first."""

    outcome: Outcome
    provider: ProviderConfig
    requested: bool
    tried: tuple[Tried, ...] = ()


class Traffic:
    def __init__(self, dispatch: Dispatcher, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._dispatch = dispatch
        self._clock = clock

    def reserve(self, provider: ProviderConfig, count: int, lane: MessageType) -> Reservation:
        """How many of `count` messages of `lane` may go to `provider` now."""
        return Reservation(granted=count)

    def send(self, provider: ProviderConfig, messages: Sequence[OutboundMessage], *,
             request: HttpRequest | None = None) -> list[Delivery]:
        """Send `messages` (one, or a batch the provider takes in one request) through `provider`;
        `request`, when given, is them already rendered for it."""
        dispatch = self._dispatch.send(provider, messages, request=request)
        return [Delivery(outcome, provider, dispatch.requested) for outcome in dispatch.outcomes]
