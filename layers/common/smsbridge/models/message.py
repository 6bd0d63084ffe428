"""The outbound message: the SQS body and the body of `POST /messages` (SPEC 2)."""
from __future__ import annotations

import json
import math
import re
import unicodedata
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator


class MessageType(StrEnum):
    NOTIFICATION = "NOTIFICATION"
    MARKETING = "MARKETING"


def to_e164(number: str) -> str:
    """Normalise a phone number written in international form to E.164; ValueError if it is not one."""
    text = number.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+"):
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("not a possible phone number (give it in international form, e.g. +33612345678)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# SPEC 2: what networks take as a sender. Alphanumeric: ASCII letters, digits, space and
# `- . _ & +`, at most 11 characters, with a letter (all digits would read as a number);
# or a phone number / short code: digits with an optional leading `+`, at most 15 digits.
_ALPHANUMERIC_SENDER = re.compile(r"[A-Za-z0-9 ._&+-]{1,11}")
_NUMERIC_SENDER = re.compile(r"\+?[0-9]{1,15}")
_ALLOWED_CONTROLS = frozenset("\n\r\t")


def control_character_in(text: str, allowed: frozenset[str] = _ALLOWED_CONTROLS) -> str | None:
    """The first control character not in `allowed` (newline, carriage return, tab), or None."""
    for char in text:
        if unicodedata.category(char) == "Cc" and char not in allowed:
            return char
    return None


def sender_problem(sender: str) -> str | None:
    """Why `sender` cannot be an SMS sender (SPEC 2), or None when it can."""
    control = control_character_in(sender, allowed=frozenset())
    if control is not None:
        return f"contains the control character U+{ord(control):04X}"
    if _NUMERIC_SENDER.fullmatch(sender):
        return None
    if _ALPHANUMERIC_SENDER.fullmatch(sender) and any(c.isascii() and c.isalpha() for c in sender):
        return None
    return ("must be alphanumeric (ASCII letters, digits, space and - . _ & +; 1 to 11 characters, "
            "at least one letter) or a phone number / short code (digits, optional leading +, at most 15)")


def _network_sender(sender: str) -> str:
    problem = sender_problem(sender)
    if problem:
        raise ValueError(problem)
    return sender


# A sender a network takes (SPEC 2): the message's own, or the one a routing rule gives.
# The schema's pattern says the same for clients (pydantic's regex engine has no look-ahead).
NetworkSender = Annotated[str, AfterValidator(_network_sender), Field(json_schema_extra={
    "pattern": r"^(\+?[0-9]{1,15}|(?=[A-Za-z0-9 ._&+-]*[A-Za-z])[A-Za-z0-9 ._&+-]{1,11})$"})]


def _first_refused_number(value: Any, accepted: Callable[[int | float], bool]) -> str | None:
    """The path of the first number (bools aside) of a JSON-like value that `accepted` refuses ("" for
    the value itself), or None; iterative, so that nesting depth cannot exhaust the stack."""
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, (int, float)) and not isinstance(item, bool) and not accepted(item):
            return path
        if isinstance(item, dict):
            pending.extend((f"{path}.{key}" if path else str(key), child) for key, child in item.items())
        elif isinstance(item, (list, tuple)):
            pending.extend((f"{path}[{index}]", child) for index, child in enumerate(item))
    return None


def _finite(number: int | float) -> bool:
    return not isinstance(number, float) or math.isfinite(number)


def _dynamodb_number(number: int | float) -> bool:
    """Whether DynamoDB can store the number: `metadata` is stored as a map, its numbers as DynamoDB
    numbers, so one it cannot store would fail the write, not the request."""
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
    if isinstance(number, float) and not math.isfinite(number):
        return False
    exact = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
    if exact.is_zero():
        return True
    # Every digit counts: boto3 refuses an int of 39 digits even when they end in zeros.
    return len(exact.as_tuple().digits) <= 38 and -130 <= exact.adjusted() <= 125


METADATA_MAX_BYTES = 2048


class OutboundMessage(BaseModel):
    """One SMS to send. `to` is normalised to E.164; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=128,
                    pattern=r"^[A-Za-z0-9._:\-]+$",
                    description="caller's id, the idempotency key (generated when absent)")
    provider: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
                                 description="provider id; the default provider when absent")
    to: str = Field(min_length=1, description="the recipient, in international form; E.164 once read")
    text: str = Field(min_length=1, max_length=10_000)
    sender: NetworkSender | None = Field(default=None, max_length=64,
                               description="alphanumeric (1 to 11 of A-Z a-z 0-9 space - . _ & +, a letter among "
                                           "them) or a phone number / short code (optional +, at most 15 digits)")
    type: MessageType | None = Field(default=None, description="NOTIFICATION or MARKETING; see SPEC 2 for the default")
    template_id: str | None = Field(default=None, max_length=256)
    template_variables: Any = None
    campaign_id: str | None = Field(default=None, max_length=128)
    vars: dict[str, Any] = Field(default_factory=dict)
    expires_at: datetime | None = None
    send_at: datetime | None = Field(default=None, description="not sent before this time (status `scheduled` "
                                                               "until then)")
    callback_url: str | None = Field(default=None, max_length=2048,
                                     description="receives this message's status changes (SPEC 10)")
    metadata: dict[str, Any] | None = Field(default=None, description="any JSON object up to 2 KB, echoed in "
                                                                      "status events")

    @field_validator("to")
    @classmethod
    def _normalise_to(cls, value: str) -> str:
        return to_e164(value)

    @field_validator("text")
    @classmethod
    def _readable_text(cls, value: str) -> str:
        control = control_character_in(value)
        if control is not None:
            raise ValueError(f"contains the control character U+{ord(control):04X} (only newline, carriage "
                             "return and tab are allowed)")
        if not value.strip():
            raise ValueError("holds only white space")
        return value

    @field_validator("vars", "template_variables")
    @classmethod
    def _finite_numbers(cls, value: Any) -> Any:
        where = _first_refused_number(value, _finite)
        if where is not None:
            raise ValueError(f"numbers must be finite (no NaN, no Infinity){': ' + where[:100] if where else ''}")
        return value

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
            if size > METADATA_MAX_BYTES:
                raise ValueError(f"is {size} bytes of JSON; at most {METADATA_MAX_BYTES}")
            where = _first_refused_number(value, _dynamodb_number)
            if where is not None:
                raise ValueError("numbers must be finite, with at most 38 significant digits, between 1E-130 and "
                                 f"9.99E+125 in size (DynamoDB's numbers){': ' + where[:100] if where else ''}")
        return value

    @field_validator("expires_at", "send_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value

    def effective_type(self, default_sender: str | None) -> MessageType:
        """SPEC 2: with no sender and no provider default sender the type becomes MARKETING
        (as INO CX does); otherwise the given type, NOTIFICATION when none is given."""
        if not (self.sender or default_sender):
            return MessageType.MARKETING
        return self.type or MessageType.NOTIFICATION
