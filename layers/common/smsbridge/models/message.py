"""The outbound message: the SQS body and the body of `POST /messages` (SPEC 2)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator


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


class OutboundMessage(BaseModel):
    """One SMS to send. `to` is normalised to E.164; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=128,
                    pattern=r"^[A-Za-z0-9._:\-]+$",
                    description="caller's id, the idempotency key (generated when absent)")
    provider: str | None = Field(default=None, description="provider id; the default provider when absent")
    to: str
    text: str = Field(min_length=1, max_length=10_000)
    sender: str | None = Field(default=None, max_length=64)
    type: MessageType | None = Field(default=None, description="NOTIFICATION or MARKETING; see SPEC 2 for the default")
    template_id: str | None = None
    template_variables: Any = None
    campaign_id: str | None = None
    vars: dict[str, Any] = Field(default_factory=dict)
    expires_at: datetime | None = None

    @field_validator("to")
    @classmethod
    def _normalise_to(cls, value: str) -> str:
        return to_e164(value)

    @field_validator("expires_at")
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
