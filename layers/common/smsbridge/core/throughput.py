"""The throughput limiter's rule (SPEC 3 `throughput`, SPEC 12 lanes): how many requests a provider may be sent now.

Why a sliding window of grants, not a token bucket. The promise is read at the provider: no
more than `per_second` requests in ANY one-second window of its receive times. A token bucket
allows `burst + rate` in a window, and requests granted together reach the provider spread by
the time the sender takes to send them (thread pool, network, a slow TLS handshake): a receive
window can catch the late end of one grant and the early start of a grant one second later.
So the limiter remembers each grant `[time, count]` of the last `window_s + guard_s` and grants
only what keeps every such span at or under the window's capacity. A request granted at g
reaches the provider between g and g + guard_s; the requests received in any receive window
[a, a + window_s) were granted in [a - guard_s, a + window_s), a span of window_s + guard_s,
which holds at most `capacity`: the bound holds as long as a request goes out within `guard_s`
of its grant. So a sender starts a granted request within half the guard (`starts_in_time`),
leaving the other half for its way to the provider: a batch granted more requests than its threads
start at once, on a slow provider, moves the rest to a grant of now before starting them
(`regrant`, all or none), or puts them back on the queue when the window has no room for them.
The price is a rate of capacity / (window_s + guard_s) rather than capacity / window_s (with the default guard of 0.25 s, 80 %). The grants of one provider are one small
state (at most `capacity` entries), which `adapters/provider_state.py` keeps in one DynamoDB
item updated with optimistic concurrency, so that every invocation shares it.

- `burst` is the most granted at once (default: the whole window's capacity).
- Lanes: `MARKETING` may not take the last `reserve_share` of a window's capacity, so that a
  `NOTIFICATION` finds room within one window however many campaign messages wait.
- A 429 pauses the provider (`paused_until`) and halves its capacity for a while (`slow_until`).
- A fractional rate (0.5/s) widens the window (2 s) so that its capacity is a whole request.

Times are integer milliseconds since the epoch: the state is shared between machines, and a
DynamoDB number of milliseconds needs no Decimal arithmetic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime

from smsbridge.models.message import MessageType
from smsbridge.models.provider import Throughput

DEFAULT_GUARD_S = 0.25  # how late after its grant a request may reach the provider with the bound holding
DEFAULT_RESERVE_SHARE = 0.2  # of a window's capacity that MARKETING leaves to NOTIFICATION
DEFAULT_PAUSE_S = 1.0  # after a 429 without Retry-After
SLOW_FOR_S = 10.0  # after a pause, the capacity stays halved this long


def epoch_ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


@dataclass(frozen=True)
class Window:
    """A provider's shared limiter state: the grants still inside the window, and any slow-down."""

    grants: tuple[tuple[int, int], ...] = ()  # (granted at, in ms; how many), oldest first
    paused_until: int = 0  # ms: nothing granted before
    slow_until: int = 0  # ms: capacity halved before


@dataclass(frozen=True)
class Limits:
    """The limiter's settings for one provider."""

    capacity: int  # requests per window
    window_ms: int
    burst: int
    guard_ms: int = int(DEFAULT_GUARD_S * 1000)
    reserve_share: float = DEFAULT_RESERVE_SHARE

    @property
    def span_ms(self) -> int:
        """How far back grants count: the window and the guard."""
        return self.window_ms + self.guard_ms


def limits_of(throughput: Throughput, *, guard_s: float = DEFAULT_GUARD_S,
              reserve_share: float = DEFAULT_RESERVE_SHARE) -> Limits:
    window_s = max(1.0, 1.0 / throughput.per_second)
    capacity = max(1, math.floor(throughput.per_second * window_s + 1e-9))
    burst = min(capacity, throughput.burst) if throughput.burst is not None else capacity
    return Limits(capacity=capacity, window_ms=round(window_s * 1000), burst=burst,
                  guard_ms=round(guard_s * 1000), reserve_share=reserve_share)


@dataclass(frozen=True)
class Grant:
    """`granted` requests may go now; the next may be tried in `retry_in_s`; `window` is the new state."""

    granted: int
    retry_in_s: float
    window: Window
    changed: bool = field(default=False)  # whether the state must be written
    at_ms: int = 0  # when it was granted: the entry of `window.grants` that holds it


def lane_capacity(limits: Limits, window: Window, lane: MessageType, now_ms: int) -> int:
    """What `lane` may fill of the window: MARKETING leaves the reserve to NOTIFICATION."""
    capacity = limits.capacity
    if now_ms < window.slow_until:
        capacity = max(1, capacity // 2)
    if lane == MessageType.MARKETING:
        capacity -= math.floor(capacity * limits.reserve_share)
    return capacity


def live_grants(window: Window, limits: Limits, now_ms: int) -> tuple[tuple[int, int], ...]:
    """The grants that still count at `now_ms`."""
    since = now_ms - limits.span_ms
    return tuple(grant for grant in window.grants if grant[0] > since)


def grant(window: Window, limits: Limits, count: int, lane: MessageType, now: datetime) -> Grant:
    """How many of `count` requests of `lane` may go now, and the state once they are granted."""
    now_ms = epoch_ms(now)
    if now_ms < window.paused_until:
        return Grant(0, (window.paused_until - now_ms) / 1000, window)
    live = live_grants(window, limits, now_ms)
    room = lane_capacity(limits, window, lane, now_ms) - sum(n for _, n in live)
    granted = max(0, min(count, limits.burst, room))
    if granted:
        if live and live[-1][0] == now_ms:
            live = (*live[:-1], (now_ms, live[-1][1] + granted))
        else:
            live = (*live, (now_ms, granted))
    retry_in_s = 0.0
    if granted < count:
        retry_in_s = _until_room(live, limits, window, lane, now_ms) / 1000
    new = replace(window, grants=live)
    return Grant(granted, retry_in_s, new, changed=granted > 0 or live != window.grants, at_ms=now_ms)


def starts_in_time(at_ms: int, now_ms: int, guard_ms: int) -> bool:
    """Whether a request granted at `at_ms` may still be started at `now_ms`: within half the guard."""
    return 2 * (now_ms - at_ms) <= guard_ms


def regrant(window: Window, limits: Limits, at_ms: int, count: int, lane: MessageType, now: datetime) -> Grant:
    """`count` requests granted at `at_ms` and not started, granted again now, all or none: their old
    grant given back and a new one taken when the window has room for every one of them; else a
    refusal that changes nothing (the old grant stands, for the caller to give back)."""
    decision = grant(given_back(window, at_ms, count), limits, count, lane, now)
    if decision.granted == count:
        return decision
    return Grant(0, decision.retry_in_s, window)


def given_back(window: Window, at_ms: int, count: int) -> Window:
    """The state once `count` requests granted at `at_ms` are given back unsent (their invocation ran
    out of time, its batch ended early): the next grant may use them. Never more than that grant
    holds; a grant no longer in the window is gone already."""
    grants = []
    for granted_at, granted in window.grants:
        if granted_at == at_ms and count > 0:
            kept = granted - min(granted, count)
            count = 0
            if kept <= 0:
                continue
            granted = kept
        grants.append((granted_at, granted))
    return replace(window, grants=tuple(grants))


def _until_room(live: tuple[tuple[int, int], ...], limits: Limits, window: Window, lane: MessageType,
                now_ms: int) -> int:
    """Milliseconds until one more request of `lane` fits, if nothing else is granted meanwhile."""
    capacity = lane_capacity(limits, window, lane, now_ms)
    used = sum(n for _, n in live)
    for at, count in live:  # oldest first: they leave the span in this order
        if used < capacity:
            break
        used -= count
        wait = at + limits.span_ms - now_ms + 1
        if used < capacity:
            return max(0, wait)
    return 0 if used < capacity else limits.span_ms


def paused(window: Window, seconds: float, now: datetime, *, slow_for_s: float = SLOW_FOR_S) -> Window:
    """The state after a 429: nothing granted for `seconds`, then half the capacity for `slow_for_s`."""
    now_ms = epoch_ms(now)
    until = now_ms + round(max(0.0, seconds) * 1000)
    return replace(window, paused_until=max(window.paused_until, until),
                   slow_until=max(window.slow_until, until + round(slow_for_s * 1000)))


def granted_within(window: Window, now_ms: int, span_ms: int = 1000) -> int:
    """Requests granted in the last `span_ms` (for the admin API)."""
    return sum(n for at, n in window.grants if now_ms - span_ms < at <= now_ms)
