"""Balance watch rules (pure): reading a balance from an answer, when a check is due, and which alert to send."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import jmespath

EVERY = {"5m": timedelta(minutes=5), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
# The schedule fires every 5 minutes with some jitter: a check 4m58s after the last one is
# still "every 5 minutes"; without this slack a 5m check would run every 10 minutes.
DUE_SLACK = timedelta(minutes=1)
REMINDER_EVERY = timedelta(days=1)
FAILURES_BEFORE_ALERT = 3

# A number: an optional minus sign that is not glued to a word ("ACME-2024" is 2024), digits with
# optional thousands commas in groups of three ("1,234"), and an optional decimal part.
_NUMBER = re.compile(r"(?:(?<![\w-])-)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?")


class BalanceUnreadable(ValueError):
    """The answer holds no balance; the message is safe to log and to email (no body, no URL)."""


# ---------------------------------------------------------------- extraction

def first_number(text: str) -> float | None:
    """The first number written in `text` (`Credits: 1,234.50` gives 1234.5), or None."""
    match = _NUMBER.search(text)
    return float(match.group().replace(",", "")) if match else None


def extract_balance(body: str, field: str | None = None) -> float:
    """The balance in a provider's answer.

    With `field`, the body must be JSON and the JMESPath must give a number (or text holding one).
    Without, a JSON body gives its first number value in document order (then the first number
    written in one of its strings); any other body gives the first number written in it.
    Raises BalanceUnreadable when there is no number to read.
    """
    try:
        document: Any = json.loads(body)
        is_json = True
    except ValueError:
        document, is_json = None, False
    if field is not None:
        if not is_json:
            raise BalanceUnreadable(f"the answer is not JSON, so the balance field {field!r} cannot be read")
        return _number_at(jmespath.search(field, document), field)
    if is_json:
        leaves = list(_leaves(document))
        for leaf in leaves:
            if isinstance(leaf, (int, float)) and not isinstance(leaf, bool):
                return float(leaf)
        for leaf in leaves:
            if isinstance(leaf, str) and (number := first_number(leaf)) is not None:
                return number
        raise BalanceUnreadable("the answer (JSON) holds no number")
    if (number := first_number(body)) is None:
        raise BalanceUnreadable("the answer holds no number" if body.strip() else "the answer is empty")
    return number


def _number_at(value: Any, field: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and (number := first_number(value)) is not None:
        return number
    if value is None:
        raise BalanceUnreadable(f"the balance field {field!r} is not in the answer")
    raise BalanceUnreadable(f"the balance field {field!r} holds {type(value).__name__}, not a number")


def _leaves(value: Any):
    """The scalar values of a JSON document, in document order."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


# ---------------------------------------------------------------- due-ness

def is_due(every: str, last_checked_at: datetime | None, now: datetime) -> bool:
    """Whether a check with period `every` (`5m`, `1h`, `1d`) last run at `last_checked_at` runs now."""
    if last_checked_at is None:
        return True
    return now - last_checked_at >= EVERY[every] - DUE_SLACK


# ---------------------------------------------------------------- alert state machine

class BalanceState(StrEnum):
    UNKNOWN = "unknown"  # never read successfully
    OK = "ok"
    BELOW = "below"


class AlertKind(StrEnum):
    LOW = "low"  # the balance just crossed below the minimum
    REMINDER = "reminder"  # still below, a day after the last alert
    RECOVERED = "recovered"  # back at or above the minimum
    CHECK_FAILING = "check_failing"  # FAILURES_BEFORE_ALERT failed checks in a row


@dataclass(frozen=True)
class BalanceRecord:
    """What the balance table keeps per provider: the last reading and what was already emailed."""

    provider: str
    checked_at: datetime | None = None
    balance: float | None = None  # the last balance read (kept through failed checks)
    balance_at: datetime | None = None
    minimum: float | None = None
    state: BalanceState = BalanceState.UNKNOWN
    consecutive_failures: int = 0
    last_error: str | None = None
    low_alert_at: datetime | None = None  # the last "low" or "reminder" email
    recovered_alert_at: datetime | None = None
    failing_alert_at: datetime | None = None  # set while the "check failing" email stands


@dataclass(frozen=True)
class CheckResult:
    """One balance check: a balance, or why there is none."""

    balance: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Decision:
    record: BalanceRecord
    alert: AlertKind | None = None


def decide(previous: BalanceRecord, result: CheckResult, minimum: float | None, now: datetime) -> Decision:
    """The record to store after `result`, and the email it calls for (at most one)."""
    if not result.ok:
        failures = previous.consecutive_failures + 1
        record = replace(previous, checked_at=now, consecutive_failures=failures, last_error=result.error)
        if failures >= FAILURES_BEFORE_ALERT and previous.failing_alert_at is None:
            return Decision(replace(record, failing_alert_at=now), AlertKind.CHECK_FAILING)
        return Decision(record)

    balance = result.balance
    below = minimum is not None and balance < minimum
    record = replace(previous, checked_at=now, balance=balance, balance_at=now, minimum=minimum,
                     state=BalanceState.BELOW if below else BalanceState.OK,
                     consecutive_failures=0, last_error=None, failing_alert_at=None)
    if below:
        if previous.state != BalanceState.BELOW:
            return Decision(replace(record, low_alert_at=now), AlertKind.LOW)
        if previous.low_alert_at is None or now - previous.low_alert_at >= REMINDER_EVERY:
            return Decision(replace(record, low_alert_at=now), AlertKind.REMINDER)
        return Decision(record)
    if previous.state == BalanceState.BELOW:
        return Decision(replace(record, recovered_alert_at=now), AlertKind.RECOVERED)
    return Decision(record)


# ---------------------------------------------------------------- the emails

@dataclass(frozen=True)
class AlertEmail:
    subject: str
    text: str


def _amount(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


def alert_email(kind: AlertKind, *, provider_id: str, provider_name: str | None, record: BalanceRecord,
                every: str, now: datetime) -> AlertEmail:
    """The email for one alert. It names no URL, header or answer body: those can carry credentials."""
    who = provider_id  # the id is what the API and the configuration use; the name goes in the body
    named = f"Provider: {provider_id}\n" + (f"Name: {provider_name}\n" if provider_name else "")
    at = now.strftime("%Y-%m-%d %H:%M UTC")
    balance, minimum = _amount(record.balance), _amount(record.minimum)
    threshold = (f"To change the threshold, set `balance.minimum` in the provider's configuration "
                 f"(PUT /providers/{provider_id}); the balance is checked every {every}.")
    facts = f"{named}Balance: {balance}\nMinimum: {minimum}\nChecked at: {at}\n"
    if kind in (AlertKind.LOW, AlertKind.REMINDER):
        since = "" if kind is AlertKind.LOW else " (still below: daily reminder)"
        return AlertEmail(
            subject=f"[SMS Bridge] Low balance{since}: {who} has {balance}, minimum {minimum}",
            text=(f"The SMS credit balance of {who} is below its minimum{since}.\n\n{facts}\n"
                  f"What to do: top up the account at the provider before the credits run out; once the "
                  f"balance is back at or above {minimum}, you get one 'recovered' email. Until then a "
                  f"reminder is sent once a day.\n{threshold}\n"))
    if kind is AlertKind.RECOVERED:
        return AlertEmail(
            subject=f"[SMS Bridge] Balance recovered: {who} has {balance}, minimum {minimum}",
            text=f"The SMS credit balance of {who} is back at or above its minimum.\n\n{facts}\n{threshold}\n")
    return AlertEmail(
        subject=f"[SMS Bridge] Balance check failing: {who}",
        text=(f"The balance of {who} could not be checked {record.consecutive_failures} times in a row.\n\n"
              f"{named}Last error: {record.last_error}\nLast known balance: {balance}"
              f"{'' if record.balance_at is None else record.balance_at.strftime(' (at %Y-%m-%d %H:%M UTC)')}\n"
              f"Minimum: {minimum}\nChecked at: {at}\n\n"
              f"What to do: check the provider's `balance` settings (url, method, headers, field) and its "
              f"credentials, and whether the provider's balance endpoint is up. This email is sent once; "
              f"checks go on every {every}, and low-balance alerts resume once a check succeeds.\n"))
