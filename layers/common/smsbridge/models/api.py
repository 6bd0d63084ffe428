"""The admin API's request and response bodies (SPEC 7), beside the outbound message and the provider configuration."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from smsbridge.core.consent import ConsentState
from smsbridge.models.status import MessageStatus, StatusChange


class ApiError(BaseModel):
    """Every error answer: one sentence a caller can act on, and the field-level details when there are some."""

    message: str
    errors: list[dict[str, Any]] | None = Field(default=None, description="per field: `loc` and `msg`")


class MessageAccepted(BaseModel):
    id: str = Field(description="the message id: the caller's, or the one generated")


class MessageView(BaseModel):
    id: str
    status: MessageStatus
    to: str | None = None
    provider: str | None = None
    type: str | None = None
    segments: int | None = None
    is_unicode: bool | None = None
    campaign_id: str | None = None
    provider_message_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    history: list[StatusChange] = Field(default_factory=list, description="every status change, oldest first")


class ProviderList(BaseModel):
    providers: list[dict[str, Any]] = Field(description="provider configurations, secrets masked")


class PreviewRequestView(BaseModel):
    """The exact HTTP request a message would be sent as, secrets masked."""

    method: str
    url: str
    headers: dict[str, str]
    body: str | None = Field(default=None, description="the body as sent (UTF-8 text)")
    json_body: Any = Field(default=None, description="the body parsed, when it is JSON")
    curl: str = Field(description="the same request as a curl command")


class CheckResult(BaseModel):
    """What `POST /providers/{provider}/test` checked, and how it went."""

    ok: bool
    check: str = Field(description="balance, oauth2_token or reachability")
    detail: str
    url: str | None = None
    status_code: int | None = None
    elapsed_ms: float | None = None


class TestSendResult(BaseModel):
    id: str
    status: MessageStatus
    reason: str | None = None
    status_code: int | None = None
    provider_message_id: str | None = None
    body: str | None = Field(default=None, description="the provider's answer, truncated, secrets masked")


class ImportCurlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    curl: str = Field(min_length=4, max_length=20_000, description="a provider's sample curl command")
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
                           description="the provider id of the draft (default: from the host name)")
    save: bool = Field(default=False, description="store the draft as a provider when it is valid")


class ImportCurlResult(BaseModel):
    provider: dict[str, Any] = Field(description="the provider draft, secrets masked")
    notes: list[str] = Field(description="what was recognised, replaced by placeholders, or left to check")
    valid: bool = Field(description="whether the draft is a valid provider configuration as it stands")
    errors: list[dict[str, Any]] = Field(default_factory=list, description="why it is not, per field")
    saved: bool = False


class ConsentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: ConsentState


class ConsentView(BaseModel):
    provider: str
    phone: str = Field(description="E.164")
    state: ConsentState | None = Field(description="null when the number never opted in or out")
    record: dict[str, Any] | None = Field(default=None, description="the current consent record as stored")
    history: list[dict[str, Any]] = Field(default_factory=list, description="consent events, as the ledger keeps them")
