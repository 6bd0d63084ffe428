"""Message statuses and the record of one status change."""
from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class MessageStatus(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    BLOCKED = "blocked"
    REJECTED = "rejected"
    CANCELED = "canceled"
    # The function stopped while the provider held the request of a message that must not be sent
    # twice (MARKETING): nothing more is sent; a delivery receipt may still move it on (SPEC 11).
    UNKNOWN = "unknown"


# Statuses after which nothing more is sent; a delivery receipt may still move `sent` and `unknown` on.
FINAL_STATUSES = frozenset({MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.EXPIRED,
                            MessageStatus.BLOCKED, MessageStatus.REJECTED,
                            MessageStatus.CANCELED, MessageStatus.UNKNOWN})


class ProviderAnswer(BaseModel):
    """What the provider said, kept short enough to store with every status change."""

    status_code: int | None = None
    body: str | None = Field(default=None, description="the answer's body, truncated")
    message_id: str | None = None


class StatusChange(BaseModel):
    status: MessageStatus
    at: str = Field(description="ISO-8601 UTC time of the change")
    attempt: int = 0
    reason: str | None = None
    answer: ProviderAnswer | None = None
    provider: str | None = Field(default=None, description="the provider this attempt went to (sent, failed, failover)")
