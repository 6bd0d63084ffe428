"""A callback job (SPEC 10): one status event to POST to a message's `callback_url`, the body of a CallbackQueue message."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CallbackJob(BaseModel):
    """The event's JSON is kept as the exact text first signed, so that every try POSTs the same bytes."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    url: str = Field(max_length=2048)
    body: str = Field(description="the status event's JSON, as POSTed")
    message_id: str
    status: str
    first_attempt_at: datetime | None = Field(default=None, description="when it was first tried; None before")
    attempts: int = Field(default=0, ge=0, description="tries that failed so far")


class CallbackSecretView(BaseModel):
    """`GET /callback-secret`: the key that signs every callback (X-SmsBridge-Signature)."""

    secret: str = Field(description="HMAC-SHA256 key: verify hex(HMAC(secret, timestamp + '.' + body))")
