"""The send path's claims on messages: what it reads of a message, and the writes that take and settle it.

A message is claimed in its own item of the messages table (`adapters.store.MessageStore`): the
claim, the first record and the attempt counter are one write, and the final record releases the
claim in another. A message is *settled* once its status is neither `queued` nor `scheduled` (a
scheduled message whose time came is sent like a queued one; a canceled one is settled); a claim is *live*
until `claimed_until`. A claim whose time passed on a message still `queued` is one a previous
invocation took and did not finish (it crashed or timed out): the message may be claimed again.
A claim also records the attempt it is about to send (`in_flight`: attempt number and provider), and
the final record removes it: a message found with its claim expired and `in_flight` still there is
one whose request may have reached its provider with no result written (SPEC 11, the crash window)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from smsbridge.models.status import MessageStatus, StatusChange


# The statuses a message can still be sent from.
_SENDABLE = (None, MessageStatus.QUEUED.value, MessageStatus.SCHEDULED.value)

# The message's attribute naming the provider an uncertain attempt may have reached (`MessageState.pinned_provider`).
PINNED_PROVIDER = "pinned_provider"
# The message's attributes naming the wait its history told of, and the month its segments counted in.
WAITING = "waiting"
SPEND_MONTH = "spend_month"
# The message's attribute holding the attempt its live or abandoned claim is sending (`InFlight`).
IN_FLIGHT = "in_flight"


@dataclass(frozen=True)
class InFlight:
    """The attempt a claim sends: written by the claim, before its request leaves, removed by the
    final record. Found on a message whose claim expired, its outcome is unknown."""

    attempt: int
    provider: str
    since: str  # ISO-8601 UTC time of the claim

    def as_item(self) -> dict[str, Any]:
        return {"attempt": self.attempt, "provider": self.provider, "since": self.since}

    @classmethod
    def of_item(cls, value: Any) -> InFlight | None:
        if not isinstance(value, dict) or not value.get("provider"):
            return None
        return cls(attempt=int(value.get("attempt", 0)), provider=str(value["provider"]), since=str(value.get("since", "")))

    def describe(self) -> str:
        return f"provider {self.provider} held attempt {self.attempt} (claimed at {self.since})"


@dataclass(frozen=True)
class MessageState:
    """What the send path needs to know of a message before it claims it."""

    exists: bool = False
    status: str | None = None
    claimed_until: float | None = None  # epoch seconds; None once released, or never claimed
    attempts: int = 0  # requests that went out to a provider for it
    # The provider an earlier attempt may have reached (a timeout after the request went out): every
    # later attempt goes to it alone, so that the message never reaches a second provider (SPEC 3 failover).
    pinned_provider: str | None = None
    # Why it waits on its queue, once that was written in its history (quiet hours, spend limit):
    # the next hop of the same wait writes nothing.
    waiting: str | None = None
    spend_month: str | None = None  # the month its segments were counted in (spend limits), once
    in_flight: InFlight | None = None  # the attempt its claim sends (or sent, when that claim was abandoned)

    @property
    def settled(self) -> bool:
        return self.exists and self.status not in _SENDABLE

    def busy(self, now_s: float) -> bool:
        """Claimed by an invocation that may still be sending it."""
        return self.claimed_until is not None and self.claimed_until > now_s

    @property
    def abandoned(self) -> bool:
        """A claim that was taken and neither settled nor released (read with `busy` false)."""
        return self.claimed_until is not None and not self.settled

    def outcome_unknown(self, now_s: float) -> InFlight | None:
        """The attempt of an abandoned claim whose request may have reached its provider, no result
        written (the invocation was killed or timed out while the provider held it); else None."""
        if self.in_flight is None or self.settled or self.busy(now_s):
            return None
        return self.in_flight


@dataclass(frozen=True)
class FirstRecord:
    """The message's first record (status `queued`): written only where nobody (the API) wrote it before."""

    change: StatusChange
    fields: dict[str, Any] = field(default_factory=dict)  # to, provider, type, segments, is_unicode, campaign_id


@dataclass(frozen=True)
class ClaimRequest:
    """Take `message_id` for this invocation until `claimed_until`, counting one more attempt; or,
    with `settle_with`, settle it at once with those changes (expired, blocked: nothing is sent).

    Either write is refused when the message is settled already or claimed elsewhere, and a claim
    also when the message's attempts are no longer `seen.attempts` (read stale)."""

    message_id: str
    first: FirstRecord
    seen: MessageState
    claimed_until: float
    token: str
    settle_with: tuple[StatusChange, ...] = ()
    # A `scheduled` message whose time came: this `queued` change is appended as it is claimed.
    due: StatusChange | None = None
    # The attempt this claim is about to send (recorded with the claim, removed by the final record).
    in_flight: InFlight | None = None
    # History entries the claim appends (why an abandoned attempt is sent again), and the provider
    # every later attempt must go to (`PINNED_PROVIDER`), set in the same write.
    notes: tuple[StatusChange, ...] = ()
    pin: str | None = None


ClaimOutcome = Literal["taken", "done", "busy"]


@dataclass(frozen=True)
class ClaimAnswer:
    """`taken`: the write was made, on the message as `state` shows it (before the write); `done`:
    settled already; `busy`: claimed elsewhere (or could not be taken this time)."""

    outcome: ClaimOutcome
    state: MessageState


@dataclass(frozen=True)
class FinalRecord:
    """The end of a claim: `changes` appended to the history (the last one is the status; `queued`
    for a retry), `fields` set, the attempt counter set to `attempts`, and the claim released.

    Written only while `token` still holds the claim; otherwise the changes are kept in the
    history and the status moves only from `queued`."""

    message_id: str
    changes: tuple[StatusChange, ...]
    token: str
    attempts: int
    fields: dict[str, Any] = field(default_factory=dict)
