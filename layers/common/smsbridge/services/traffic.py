"""Traffic to the providers: throughput limits and failover around the one call (`services.dispatch`).

The send path asks `Traffic` two things:

- `reserve(provider, count, lane)`: how many of `count` messages may go to the provider now
  (SPEC 3 `throughput`, shared by every invocation); the others wait on the queue until
  `retry_in_s`.
- `send(provider, messages, request=None)`: one `Delivery` per message: the outcome, the provider
  that gave it (another one than asked when the first did not take the message and it has a
  `failover` list), whether a request went out, and the providers tried before it.

The rules are pure (`core/throughput.py`, `core/circuit.py`); the state they act on is shared by
every invocation (`SharedTrafficState`, DynamoDB). Without a state (tests, tools), nothing is
limited and every circuit stays closed; failover still applies when `providers` is given.

Failover (SPEC 3): an outcome with `not_taken` (connection refused, DNS or TLS failure, 5xx, 429,
or the circuit open) goes at once to the next provider of `failover` that exists, is enabled and
can render the message; there its circuit and its throughput apply (a message the backup has no
capacity for waits on the queue, not an attempt there). A timeout after the request went out is
not `not_taken`: no other provider is tried. The send path passes `failover=False` for a message
whose last attempt may have reached its provider (a retry after such a timeout), so that it never
reaches a second provider.

What the circuit counts: requests whose failure proves the provider is down (not a 429: the
provider asks to slow down, and the limiter pauses every sender for its Retry-After, default 1 s,
then halves the rate for 10 s). One count per request, not per message, and none while the circuit
is known open already: a dead provider costs a few writes, not one per message.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from smsbridge.adapters.store import ProviderNotFound
from smsbridge.clock import iso_utc, utc_now
from smsbridge.core.circuit import CircuitPolicy
from smsbridge.core.classify import Outcome
from smsbridge.core.render import RenderError, render_request
from smsbridge.core.throughput import (DEFAULT_GUARD_S, DEFAULT_PAUSE_S, DEFAULT_RESERVE_SHARE, SLOW_FOR_S, Limits,
                                       epoch_ms, granted_within, limits_of, starts_in_time)
from smsbridge.models.message import MessageType, OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.wire import HttpRequest
from smsbridge.observability import logger, metrics
from smsbridge.services.dispatch import Dispatcher
from smsbridge.services.ports import ProviderSource, SharedTrafficState


@dataclass(frozen=True)
class Reservation:
    """`granted` of the messages asked for may be sent now; the rest may be tried in `retry_in_s`."""

    granted: int
    retry_in_s: float = 0.0
    at_ms: int = 0  # when the shared limiter granted them (0: no limiter was asked)


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


@dataclass(frozen=True)
class TrafficPolicy:
    """The limiter's and the circuits' settings (`settings.py`; short in the local runtime, so tests are fast)."""

    guard_s: float = DEFAULT_GUARD_S
    reserve_share: float = DEFAULT_RESERVE_SHARE
    pause_s: float = DEFAULT_PAUSE_S
    slow_for_s: float = SLOW_FOR_S
    circuit: CircuitPolicy = field(default_factory=CircuitPolicy)


class Traffic:
    def __init__(self, dispatch: Dispatcher, *, clock: Callable[[], datetime] = utc_now,
                 state: SharedTrafficState | None = None, providers: ProviderSource | None = None,
                 policy: TrafficPolicy = TrafficPolicy()) -> None:
        self._dispatch = dispatch
        self._clock = clock
        self._state = state
        self._providers = providers
        self._policy = policy

    def reserve(self, provider: ProviderConfig, count: int, lane: MessageType) -> Reservation:
        """How many of `count` messages of `lane` may go to `provider` now."""
        if provider.throughput is None or self._state is None or count <= 0:
            return Reservation(granted=max(0, count))
        decision = self._state.reserve(provider.id, self._limits(provider), count, lane, self._clock())
        if decision.granted < count:
            metrics.add_metric(name="ThroughputWaits", unit="Count", value=count - decision.granted)
        return Reservation(granted=decision.granted, retry_in_s=decision.retry_in_s,
                           at_ms=decision.at_ms if decision.granted else 0)

    def _limits(self, provider: ProviderConfig) -> Limits:
        return limits_of(provider.throughput, guard_s=self._policy.guard_s, reserve_share=self._policy.reserve_share)

    def late(self, reservation: Reservation) -> bool:
        """Whether `reservation` is too old for its requests to start (`core.throughput.starts_in_time`);
        never for one no limiter granted."""
        if reservation.at_ms == 0 or self._state is None:
            return False
        return not starts_in_time(reservation.at_ms, epoch_ms(self._clock()), round(self._policy.guard_s * 1000))

    def renew(self, provider: ProviderConfig, reservation: Reservation, count: int, lane: MessageType) -> Reservation:
        """`count` unstarted requests of a late `reservation` granted again now, all or none (`regrant`):
        granted, they may start; refused, the old reservation stands, for the caller to give back."""
        if self._state is None or provider.throughput is None:
            return Reservation(granted=count)
        decision = self._state.regrant(provider.id, self._limits(provider), reservation.at_ms, count, lane, self._clock())
        if decision.granted:
            metrics.add_metric(name="ThroughputRenewals", unit="Count", value=count)
            return Reservation(granted=decision.granted, at_ms=decision.at_ms)
        metrics.add_metric(name="ThroughputWaits", unit="Count", value=count)
        return Reservation(granted=0, retry_in_s=decision.retry_in_s)

    def give_back(self, provider: ProviderConfig, reservation: Reservation, count: int) -> None:
        """Return `count` of a reservation's requests that were never sent, for the next batch to use.
        A failure costs only throughput (the grant then expires by time), never a message."""
        if self._state is None or reservation.at_ms == 0 or count <= 0:
            return
        try:
            self._state.give_back(provider.id, reservation.at_ms, min(count, reservation.granted))
        except Exception:  # noqa: BLE001 - the unsent messages are on their queue whatever happens here
            logger.exception("could not give back unused throughput", provider=provider.id, count=count)

    def send(self, provider: ProviderConfig, messages: Sequence[OutboundMessage], *,
             request: HttpRequest | None = None, failover: bool = True) -> list[Delivery]:
        """Send `messages` (one, or a batch the provider takes in one request) through `provider`, and
        through its `failover` providers in order for those it did not take; `request`, when given, is
        them already rendered for `provider`. `failover=False`: `provider` only (a retry after an
        attempt that may have reached it)."""
        messages = list(messages)
        deliveries: list[Delivery | None] = [None] * len(messages)
        backups = iter(provider.failover if failover else ())
        current, pending, rendered, is_backup = provider, list(range(len(messages))), request, False
        while pending:
            results = self._attempt(current, [messages[i] for i in pending], rendered, is_backup)
            not_taken = []
            for index, result in zip(pending, results):
                if result is None:  # the backup cannot take it at all: the earlier delivery stands
                    not_taken.append(index)
                    continue
                outcome, requested = result
                earlier = deliveries[index]
                tried = () if earlier is None else (*earlier.tried, Tried(earlier.provider.id, earlier.outcome))
                deliveries[index] = Delivery(outcome, current, requested, tried)
                if outcome.not_taken:
                    not_taken.append(index)
            backup = self._next_backup(backups) if not_taken else None
            if backup is None:
                break
            pending, current, rendered, is_backup = not_taken, backup, None, True
        return [delivery for delivery in deliveries if delivery is not None]

    # ------------------------------------------------------------ one provider

    def _attempt(self, provider: ProviderConfig, messages: list[OutboundMessage], request: HttpRequest | None,
                 is_backup: bool) -> list[tuple[Outcome, bool] | None]:
        """Each message's (outcome, requested) at `provider`; None where a backup cannot render it."""
        results: list[tuple[Outcome, bool] | None] = [None] * len(messages)
        indexes = list(range(len(messages)))
        now = self._clock()
        if is_backup:
            indexes = [i for i in indexes if self._renders(provider, messages[i], now)]
        if not indexes:
            return results
        probing = False
        if self._state is not None:
            circuit = self._state.circuit(provider.id)
            admission = circuit.admission(now)
            if admission == "probe":
                probing = self._state.try_probe(provider.id, self._policy.circuit, now)
                admission = "probe" if probing else "wait"
            if admission == "wait":
                circuit = self._state.circuit(provider.id)
                wait = max(circuit.wait_s(now), 0.5)
                outcome = Outcome("retry", f"circuit of provider {provider.id!r} open after repeated failures: "
                                           f"no request sent (a probe in {wait:.1f} s)",
                                  retry_after_s=wait, not_taken=True)
                metrics.add_metric(name="CircuitOpenSkips", unit="Count", value=len(indexes))
                for i in indexes:
                    results[i] = (outcome, False)
                return results
        if is_backup and provider.throughput is not None and self._state is not None:
            lane = (MessageType.NOTIFICATION if any(messages[i].effective_type(provider.default_sender)
                                                    == MessageType.NOTIFICATION for i in indexes)
                    else MessageType.MARKETING)
            reservation = self.reserve(provider, len(indexes), lane)
            for i in indexes[reservation.granted:]:
                results[i] = (Outcome("retry", f"throughput of failover provider {provider.id!r} reached: waiting",
                                      retry_after_s=reservation.retry_in_s), False)
            indexes = indexes[:reservation.granted]
        for group in self._requests(provider, indexes, request):
            dispatch = self._dispatch.send(provider, [messages[i] for i in group],
                                           request=request if group == indexes else None)
            self._learn(provider, dispatch.outcomes, dispatch.requested, probing)
            probing = False
            for i, outcome in zip(group, dispatch.outcomes):
                results[i] = (outcome, dispatch.requested)
        return results

    @staticmethod
    def _requests(provider: ProviderConfig, indexes: list[int], request: HttpRequest | None) -> list[list[int]]:
        """The provider requests the messages make: all together when rendered already, else one each or
        batches of the provider's size."""
        if request is not None:
            return [indexes]
        size = provider.request.batch.max_size if provider.request.batch is not None else 1
        return [indexes[i:i + size] for i in range(0, len(indexes), size)]

    def _learn(self, provider: ProviderConfig, outcomes: list[Outcome], requested: bool, probing: bool) -> None:
        """What one request's answer tells the shared state: a 429 pauses, a failure proving the
        provider down counts towards its circuit, an answer of any other kind proves it up."""
        if self._state is None or not outcomes or not requested:
            return
        outcome, now = outcomes[0], self._clock()
        if outcome.status_code == 429:
            seconds = outcome.retry_after_s if outcome.retry_after_s is not None else self._policy.pause_s
            self._state.pause(provider.id, seconds, now, slow_for_s=self._policy.slow_for_s)
            metrics.add_metric(name="ProviderRateLimited", unit="Count", value=1)
            logger.warning("provider answered 429: every sender pauses", provider=provider.id, pause_s=seconds)
            return
        circuit = self._state.circuit(provider.id)
        if outcome.not_taken:
            if probing or circuit.opened_at is None:
                after = self._state.failed(provider.id, self._policy.circuit, now, probing=probing)
                if after.opened_at is not None and (probing or circuit.opened_at is None):
                    logger.warning("circuit opened", provider=provider.id, failures=after.failures,
                                   half_open_at=iso_utc(_at(after.half_open_at)))
            return
        if outcome.status_code is not None and (probing or not circuit.healthy):
            self._state.succeeded(provider.id)
            if circuit.opened_at is not None:
                logger.info("circuit closed", provider=provider.id)

    def _renders(self, provider: ProviderConfig, message: OutboundMessage, now: datetime) -> bool:
        try:
            render_request(provider, [message], now)
        except RenderError as error:
            logger.warning("failover provider cannot render the message: skipped", provider=provider.id,
                           message_id=message.id, reason=str(error)[:200])
            return False
        return True

    def _next_backup(self, backups) -> ProviderConfig | None:
        if self._providers is None:
            return None
        for provider_id in backups:
            try:
                backup = self._providers.get(provider_id)
            except ProviderNotFound:
                logger.warning("failover provider does not exist: skipped", provider=provider_id)
                continue
            if backup.enabled:
                return backup
        return None


def _at(epoch_milliseconds: int | None) -> datetime | None:
    return None if epoch_milliseconds is None else datetime.fromtimestamp(epoch_milliseconds / 1000, UTC)


class TrafficBoard:
    """`GET /traffic`: every provider's limit, recent grants, pause and circuit, read now."""

    def __init__(self, *, providers: ProviderSource, state: SharedTrafficState,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._providers = providers
        self._state = state
        self._clock = clock

    def report(self):
        from smsbridge.models.api import ProviderTrafficView, TrafficView

        now = self._clock()
        now_ms = epoch_ms(now)
        providers = self._providers.list()
        states = self._state.states(provider.id for provider in providers)
        views = []
        for provider in providers:
            window, circuit = states[provider.id].window, states[provider.id].circuit
            throughput = provider.throughput
            views.append(ProviderTrafficView(
                provider=provider.id,
                per_second=throughput.per_second if throughput else None,
                burst=limits_of(throughput).burst if throughput else None,
                granted_last_second=granted_within(window, now_ms),
                paused_until=_shown(window.paused_until, now_ms),
                slowed_until=_shown(window.slow_until, now_ms),
                circuit=circuit.state(now), failures=circuit.failures,
                opened_at=_iso(circuit.opened_at), half_open_at=_iso(circuit.half_open_at),
                failover=list(provider.failover)))
        return TrafficView(at=iso_utc(now), providers=views)


def _iso(epoch_milliseconds: int | None) -> str | None:
    at = _at(epoch_milliseconds)
    return None if at is None else iso_utc(at)


def _shown(until_ms: int, now_ms: int) -> str | None:
    """A pause or slow-down still running, else nothing."""
    return _iso(until_ms) if until_ms > now_ms else None
