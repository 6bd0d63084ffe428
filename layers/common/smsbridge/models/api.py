"""The admin API's request and response bodies (SPEC 7), beside the outbound message and the provider configuration."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smsbridge.core.consent import ConsentState
from smsbridge.models.message import OutboundMessage
from smsbridge.models.status import MessageStatus, StatusChange


class ApiError(BaseModel):
    """Every error answer: one sentence a caller can act on, and the field-level details when there are some."""

    message: str
    errors: list[dict[str, Any]] | None = Field(default=None, description="per field: `loc` and `msg`")


class MessageAccepted(BaseModel):
    id: str = Field(description="the message id: the caller's, or the one generated")


class MessageSummary(BaseModel):
    id: str
    status: MessageStatus
    to: str | None = None
    provider: str | None = None
    type: str | None = None
    segments: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


class MessageView(MessageSummary):
    """A message with its whole history (`GET /messages/{id}`)."""

    is_unicode: bool | None = None
    campaign_id: str | None = None
    provider_message_id: str | None = None
    send_at: str | None = Field(default=None, description="when a scheduled message is sent (SPEC 2)")
    callback_url: str | None = Field(default=None, description="where its status changes are POSTed (SPEC 10)")
    metadata: dict[str, Any] | None = Field(default=None, description="the caller's object, echoed in status events")
    in_flight: dict[str, Any] | None = Field(
        default=None, description="the attempt an invocation is sending now, or was when it stopped: "
                                  "{attempt, provider, since} (SPEC 11)")
    history: list[StatusChange] = Field(default_factory=list, description="every status change, oldest first")




class CancelRefused(BaseModel):
    """`DELETE /messages/{id}` on a message that is no longer scheduled (409)."""

    message: str
    status: str = Field(description="the message's status now (queued, sent, delivered, canceled, unknown...)")


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
    model_config = ConfigDict(extra="forbid", strict=True)  # `save` is true or false, not 0 or "yes"

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
    reason: str | None = Field(default=None, max_length=500, description="why (kept in the consent history)")

    @field_validator("state")
    @classmethod
    def _an_operators_state(cls, state: ConsentState) -> ConsentState:
        if state is ConsentState.OPT_IN_REQUESTED:
            raise ValueError("an operator sets opted_in or opted_out; opt_in_requested is the number's own "
                             "double opt-in keyword, waiting for its confirmation")
        return state


class ConsentView(BaseModel):
    provider: str
    phone: str = Field(description="E.164")
    state: ConsentState | None = Field(description="null when the number never opted in or out")
    record: dict[str, Any] | None = Field(default=None, description="the current consent record as stored")
    history: list[dict[str, Any]] = Field(default_factory=list, description="consent events, as the ledger keeps them")


# ---------------------------------------------------------------- the console's routes (issue 10)

class ValidationResult(BaseModel):
    valid: bool
    errors: list[dict[str, Any]] = Field(default_factory=list,
                                         description="per field: `loc` (as POST /providers would answer) and `msg`")


class ReplacementView(BaseModel):
    original: str
    replacement: str = Field(description="empty when the character is removed (a zero width space)")
    count: int


class TextEncodingView(BaseModel):
    is_unicode: bool
    segments: int
    units: int = Field(description="septets (GSM-7) or UTF-16 code units (UCS-2)")
    ucs2_characters: list[str] = Field(description="the characters that make the text UCS-2, each once")
    smart_text: str | None = Field(default=None, description="the text as sent when smart encoding replaced "
                                                             "characters (SPEC 3 `smart_encoding`), else null")
    replaced: list[ReplacementView] = Field(default_factory=list, description="what smart encoding replaced")


class DraftPreview(PreviewRequestView):
    encoding: TextEncodingView


class DraftPreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: dict[str, Any] = Field(description="a provider document, unsaved; its preset is merged")
    message: OutboundMessage = Field(description="an outbound message (SPEC 2)")


class MessagePage(BaseModel):
    items: list[MessageSummary] = Field(description="newest first")
    cursor: str | None = Field(description="pass it back for the next page; null at the end")


class InboundView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    provider: str | None = None
    from_: str | None = Field(default=None, alias="from", serialization_alias="from")
    to: str | None = None
    text: str | None = None
    sent_at: str | None = None
    received_at: str | None = None


class InboundPage(BaseModel):
    items: list[InboundView] = Field(description="newest first")
    cursor: str | None = Field(description="pass it back for the next page; null at the end")


class DeadLetterView(BaseModel):
    id: str = Field(description="what DELETE /dead-letters/{id} and redrive take")
    body: str = Field(description="the body as it reached the dead-letter queue (cut at 4,096 characters)")
    body_truncated: bool = False
    reason: str | None = Field(default=None, description="why it is there; null when SQS moved it (received too often)")
    message_id: str | None = None
    sent_at: str | None = Field(default=None, description="when it reached the dead-letter queue")


class DeadLetterList(BaseModel):
    items: list[DeadLetterView] = Field(description="newest first")


class RedriveRequest(BaseModel):
    # Strict: `all` is true or false, not 0 or "yes"; the schema says the one-of the handler checks.
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"oneOf": [
        {"required": ["ids"], "properties": {"ids": {"type": "array"}, "all": {"const": False}}},
        {"required": ["all"], "properties": {"all": {"const": True}, "ids": {"type": "null"}}}]})

    ids: list[str] | None = Field(default=None, min_length=1, max_length=1000)
    all: bool = False


class Redriven(BaseModel):
    redriven: int


class SeriesPoint(BaseModel):
    at: str
    provider: str
    sent: int = Field(description="sent or delivered")
    failed: int = Field(description="failed, expired or rejected")
    blocked: int


class BalanceView(BaseModel):
    provider: str
    balance: float | None = None
    minimum: float | None = None
    checked_at: str | None = None
    state: str


class TrafficStats(BaseModel):
    since: str
    until: str
    bucket_s: int
    counts: dict[str, int] = Field(description="messages created in the range, by current status (every status)")
    series: list[SeriesPoint] = Field(description="per bucket (by creation time) and provider")
    balances: list[BalanceView]
    complete: bool = Field(description="false when the range held more messages than one answer counts")


class LastSend(BaseModel):
    status: MessageStatus
    at: str | None = None


class ProviderSummary(BaseModel):
    id: str
    name: str | None = None
    enabled: bool
    default: bool
    preset: str | None = None
    last_send: LastSend | None = None
    balance: BalanceView | None = None
    errors_last_hour: int = Field(description="messages of this provider created in the last hour that failed")


class PresetSummary(BaseModel):
    name: str
    title: str
    sources: list[str] = Field(description="the provider's pages the preset follows")
    needs: list[str] = Field(description="the fields still to fill (secrets, sample values to replace)")
    hints: dict[str, str] = Field(default_factory=dict, description="per field of `needs`, what to put there")


class PresetDetail(PresetSummary):
    document: dict[str, Any] = Field(description="the preset as it is merged under a provider document")


class PlaceholderView(BaseModel):
    name: str
    aliases: list[str]
    description: str


class Meta(BaseModel):
    placeholders: list[PlaceholderView]
    auth_types: dict[str, dict[str, Any]] = Field(description="auth `type` to its JSON Schema")
    inbound_auth_types: dict[str, dict[str, Any]] = Field(description="inbound.auth `type` to its JSON Schema")
    statuses: list[str]
    provider_schema: dict[str, Any]


class ProviderTrafficView(BaseModel):
    """One provider's throughput and circuit, as every sender shares them (`GET /traffic`)."""

    provider: str
    per_second: float | None = Field(default=None, description="the throughput limit; null: unlimited")
    burst: int | None = Field(default=None, description="the most granted at once")
    granted_last_second: int = Field(description="requests granted to senders in the last second")
    paused_until: str | None = Field(default=None, description="after a 429: nothing is sent before this time")
    slowed_until: str | None = Field(default=None, description="after a 429: half the rate until this time")
    circuit: str = Field(description="closed, open (no request sent) or half_open (one probe may go)")
    failures: int = Field(description="consecutive failures proving the provider did not take a message")
    opened_at: str | None = None
    half_open_at: str | None = Field(default=None, description="when an open circuit lets a probe through")
    failover: list[str] = Field(default_factory=list)


class TrafficView(BaseModel):
    at: str
    providers: list[ProviderTrafficView]


class SpendView(BaseModel):
    """A provider's spend this calendar month (UTC) against its `spend_limit` (`GET /providers/{provider}/spend`)."""

    provider: str
    month: str = Field(description="YYYY-MM, UTC")
    segments: int = Field(description="segments counted this month (messages of the limited types, once each)")
    limit: int | None = Field(default=None, description="`spend_limit.segments_per_month`; null: no limit, "
                                                        "nothing counted")
    types: list[str] = Field(default_factory=list, description="the message types that count and wait")
    percent: float | None = Field(default=None, description="segments as a percentage of the limit")
    reached: bool = Field(description="true: messages of the limited types wait until the next month or a "
                                      "higher limit")
    alerts_sent: dict[int, str] = Field(default_factory=dict, description="when the 80 % and 100 % emails went, "
                                                                          "by level")
