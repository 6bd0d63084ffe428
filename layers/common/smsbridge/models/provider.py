"""The provider configuration (SPEC 3): how one HTTP SMS provider wants to be called.

Secret values (passwords, tokens, client secrets, private keys) are `SecretStr`, so that
they never show in a repr, a log line or a serialised response unless asked for
explicitly (`secret_paths` and `core.secrets` deal with storing them apart).
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from smsbridge.core.signatures import INBOUND_AUTH_MODELS
from smsbridge.core.signatures.basic import BasicInboundAuth  # noqa: F401 - re-exported: the public model names
from smsbridge.core.signatures.hmac import HmacInboundAuth  # noqa: F401
from smsbridge.core.signatures.messagebird import MessageBirdInboundAuth  # noqa: F401
from smsbridge.core.signatures.none import NoInboundAuth  # noqa: F401
from smsbridge.core.signatures.plivo import PlivoInboundAuth  # noqa: F401
from smsbridge.core.signatures.sinch import SinchInboundAuth  # noqa: F401
from smsbridge.core.signatures.telnyx import TelnyxInboundAuth  # noqa: F401
from smsbridge.core.signatures.token import TokenInboundAuth  # noqa: F401
from smsbridge.core.signatures.twilio import TwilioInboundAuth  # noqa: F401
from smsbridge.core.signatures.vonage import VonageInboundAuth  # noqa: F401
from smsbridge.models.placeholders import (
    CONTENT_PLACEHOLDERS,
    RECIPIENT_PLACEHOLDERS,
    Placeholder,
    check_placeholders,
    placeholders_in,
    secret_name,
    strings_in,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_jmespath(value: str) -> str:
    try:
        jmespath.compile(value)
    except JMESPathError as exc:
        raise ValueError(f"invalid JMESPath expression {value!r}: {exc}") from None
    return value


JMESPath = Annotated[str, Field(min_length=1, description="a JMESPath expression"), AfterValidator(_check_jmespath)]


# ---------------------------------------------------------------- request

class BatchSpec(_Strict):
    """Provider-side batching: one request carries many recipients."""

    key: str = Field(min_length=1, description="the JSON key holding the per-recipient array")
    max_size: int = Field(default=100, ge=1, le=1000)
    results_jmespath: JMESPath | None = Field(
        default=None, description="the per-recipient results in the answer, one per recipient, in order")
    result_success_jmespath: JMESPath | None = Field(
        default=None, description="evaluated on one result: truthy when that recipient was accepted")
    result_message_id_jmespath: JMESPath | None = Field(
        default=None, description="evaluated on one result: the provider's message id")



FormBody = dict[str, str] | list[tuple[str, str]]
_JSON_MEDIA_TYPE = re.compile(r"^application/[A-Za-z0-9.+-]*json[A-Za-z0-9.+-]*(\s*;.*)?$")


class RequestSpec(_Strict):
    # The pattern is the schema's (the save refuses any other scheme: services/providers.py _check_urls).
    url: str = Field(min_length=1, json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]+"})
    method: Literal["GET", "POST"] = "POST"
    content_type: Literal["json", "form", "none"] = "json"
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    batch: BatchSpec | None = None

    @model_validator(mode="after")
    def _coherent(self) -> RequestSpec:
        if self.method == "GET" and self.content_type == "json":
            raise ValueError("a JSON body cannot be sent with GET: use content_type 'none' and `query`")
        if self.content_type == "none" and self.body is not None:
            raise ValueError("content_type 'none' takes no body")
        if self.content_type == "form":
            self.body = _form_pairs(self.body)
        if self.batch is not None:
            if self.content_type != "json":
                raise ValueError("request.batch needs a JSON body")
            if not isinstance(self.body, dict) or not isinstance(self.body.get(self.batch.key), (dict, list)):
                raise ValueError(f"request.batch.key {self.batch.key!r} must name an object or one-element "
                                 "list in the JSON body: the template of one recipient")
        for name, value in self.headers.items():
            # A JSON API may name its own JSON media type (AWS's `application/x-amz-json-1.0`).
            if name.lower() == "content-type" and self.content_type == "json" and _JSON_MEDIA_TYPE.match(value):
                continue
            if name.lower() in ("content-type", "content-length"):
                raise ValueError(f"header {name!r} is set by the bridge from content_type (a JSON body "
                                 "may name another JSON media type, such as application/x-amz-json-1.0)")
        _check_request_templates(self)
        return self

    def templates(self) -> list[str]:
        """Every template string of the request: url, query and header names and values, the body."""
        return [self.url, *(part for mapping in (self.query, self.headers) for item in mapping.items() for part in item),
                *strings_in(self.body)]


def batch_element_template(value: Any) -> Any:
    """The template of one recipient under `batch.key`: an object, or the only element of a list."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    raise ValueError("the value under request.batch.key is the template of one recipient: "
                     "an object, or a list holding exactly one element")


def _check_request_templates(request: RequestSpec) -> None:
    """Refuse templates that could not render (unknown placeholders, headers with line breaks) and
    requests that would not carry each message's recipient and content (SPEC 3): a sample number
    left in place would send every message to it."""
    for name, value in request.headers.items():
        if _HEADER_BREAK.search(name) or _HEADER_BREAK.search(value):
            raise ValueError(f"header {name!r}: CR, LF and NUL are not allowed in a header")
    used = check_placeholders(request.templates())
    element = None
    if request.batch is not None:
        element = batch_element_template(request.body[request.batch.key])
    recipient_uses = used if element is None else check_placeholders(strings_in(element))
    missing = []
    if not _carries(recipient_uses, RECIPIENT_PLACEHOLDERS):
        where = (f"the batch element (request.body.{request.batch.key}), one per message" if element is not None
                 else "its url, query, headers or body")
        missing.append(f"the request carries no recipient: put {{{{to}}}} or {{{{to_digits}}}} ($$To, %TO%) in {where}")
    if not _carries(used, CONTENT_PLACEHOLDERS):
        missing.append("the request carries no content: put {{text}} ($$Body, %MESSAGE%) or {{template_id}} "
                       "in its url, query, headers or body")
    if missing:
        raise ValueError("; ".join(missing))


def _carries(used: list[Placeholder], names: tuple[str, ...]) -> bool:
    return any(placeholder.name in names and placeholder.choice is None for placeholder in used)


_HEADER_BREAK = re.compile(r"[\r\n\x00]")


def _form_pairs(body: Any) -> list[tuple[str, str]]:
    """A form body as ordered (key, value template) pairs: an object keeps its order, a list
    of pairs lets a key repeat."""
    if body is None:
        return []
    if isinstance(body, dict):
        items = list(body.items())
    elif isinstance(body, list):
        items = []
        for pair in body:
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                raise ValueError("a form body given as a list holds [key, value] pairs")
            items.append((pair[0], pair[1]))
    else:
        raise ValueError("a form body is an object of key to value template, or a list of [key, value] pairs")
    pairs = []
    for key, value in items:
        if not isinstance(key, str) or not isinstance(value, (str, int, float, bool)):
            raise ValueError(f"form field {key!r}: keys are strings and values are text templates")
        pairs.append((key, value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)))
    return pairs


# ---------------------------------------------------------------- outbound auth

def _type_required(schema: dict) -> None:
    """The union picks its class by `type` and refuses an object without it: the schema says so too."""
    schema["required"] = ["type", *(name for name in schema.get("required", []) if name != "type")]


class NoAuth(_Strict):
    model_config = ConfigDict(json_schema_extra=_type_required)

    type: Literal["none"] = "none"


class BasicAuth(_Strict):
    type: Literal["basic"]
    username: str = Field(pattern=r"^[A-Za-z0-9_+.@-]+$",
                          description="letters, digits and _ + . @ - only")
    password: SecretStr


class ApiKeyAuth(_Strict):
    type: Literal["api_key"]
    token: SecretStr
    header: str | None = Field(default=None, description="header that carries the token")
    prefix: str = Field(default="", description="put before the token in the header, e.g. 'Bearer '")
    query: str | None = Field(default=None, description="query parameter that carries the token")

    @model_validator(mode="after")
    def _one_place(self) -> ApiKeyAuth:
        if (self.header is None) == (self.query is None):
            raise ValueError("api_key auth: give exactly one of `header` or `query`")
        return self


class HmacAuth(_Strict):
    type: Literal["hmac"]
    key_id: str | None = None
    secret: SecretStr
    algorithm: Literal["sha1", "sha256", "sha512"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    string_to_sign: str = Field(
        default="{{method}}\n{{path}}\n{{timestamp}}\n{{body}}",
        description="template over {{method}}, {{path}} (path and query), {{body}}, {{timestamp}}, {{key_id}}")
    signature_header: str = "X-Signature"
    signature_prefix: str = Field(default="", description="template put before the signature, e.g. 'HMAC {{key_id}}:'")
    timestamp_header: str | None = "X-Timestamp"
    timestamp_format: Literal["unix", "unix_ms", "iso"] = "unix"

    @model_validator(mode="after")
    def _known_parts(self) -> HmacAuth:
        check_placeholders(self.templates(), allowed=HMAC_PLACEHOLDERS, where="hmac")
        return self

    def templates(self) -> list[str]:
        return [self.string_to_sign, self.signature_prefix]


HMAC_PLACEHOLDERS = frozenset({"method", "path", "body", "timestamp", "key_id"})


class OAuth2Auth(_Strict):
    type: Literal["oauth2"]
    token_url: str
    client_id: str
    client_secret: SecretStr
    scope: str | None = None
    extra: dict[str, str] = Field(default_factory=dict, description="extra fields of the token request")
    token_request: Literal["form", "json"] = "form"
    client_auth: Literal["body", "basic"] = Field(
        default="body", description="client credentials in the request body, or as HTTP Basic")
    header: str = "Authorization"
    prefix: str = "Bearer "


class JwtAuth(_Strict):
    type: Literal["jwt"]
    algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    secret: SecretStr | None = None
    private_key: SecretStr | None = Field(default=None, description="PEM, for RS256 and ES256")
    key_id: str | None = Field(default=None, description="the `kid` header")
    claims: dict[str, Any] = Field(default_factory=dict, description="iss, sub, aud and any other claim")
    lifetime_s: int = Field(default=300, ge=10, le=86_400)
    header: str = "Authorization"
    prefix: str = "Bearer "

    @model_validator(mode="after")
    def _key(self) -> JwtAuth:
        if self.algorithm == "HS256" and self.secret is None:
            raise ValueError("jwt HS256 needs `secret`")
        if self.algorithm != "HS256" and self.private_key is None:
            raise ValueError(f"jwt {self.algorithm} needs `private_key` (PEM)")
        return self


class SigV4Auth(_Strict):
    """AWS Signature Version 4, for AWS APIs such as End User Messaging SMS (`SendTextMessage`)."""

    type: Literal["sigv4"]
    service: str = Field(pattern=r"^[a-z0-9-]{1,64}$", description="the signing name, e.g. `sms-voice`")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$", description="e.g. `eu-west-1`")
    access_key_id: str | None = Field(
        default=None, pattern=r"^[A-Z0-9]{1,128}$",
        description="with `secret_access_key`: an IAM user's keys; default: the send function's own role")
    secret_access_key: SecretStr | None = None

    @model_validator(mode="after")
    def _keys_in_pairs(self) -> SigV4Auth:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("sigv4 auth: give both `access_key_id` and `secret_access_key`, or neither "
                             "(to sign with the function's own IAM role)")
        return self


Auth = Annotated[NoAuth | BasicAuth | ApiKeyAuth | HmacAuth | OAuth2Auth | JwtAuth | SigV4Auth,
                 Field(discriminator="type")]


# ---------------------------------------------------------------- response

class ResponseSpec(_Strict):
    success_status: list[int] | None = Field(default=None, description="default: any 2xx")
    success_contains: str | None = None
    success_jmespath: JMESPath | None = None
    message_id_jmespath: JMESPath | None = None
    retry_status: list[int] | None = Field(default=None, description="default: 408, 425, 429 and any 5xx")
    error_jmespath: JMESPath | None = Field(default=None, description="where the answer explains a failure")



# ---------------------------------------------------------------- inbound

# Each scheme's model lives beside its verify function in core/signatures/ (one module per scheme).
InboundAuth = Annotated[Union[INBOUND_AUTH_MODELS], Field(discriminator="type")]  # noqa: UP007 - a tuple of classes


class ConfirmOptIn(_Strict):
    """Double opt-in (with `marketing_requires_opt_in`): an opt-in keyword asks for a confirming reply, and the
    number counts as opted in only once that reply arrives, within `expires_after_h`."""

    prompt: str = Field(default="Reply YES to confirm that you want our messages. Reply STOP to opt out.",
                        min_length=1, max_length=1600, description="the reply that asks for the confirmation")
    keywords: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=lambda: ["YES", "Y"], min_length=1, max_length=20,
        description="the words that confirm a pending request (matched as keywords are); opt-out and help words "
                    "keep their meaning")
    expires_after_h: int = Field(default=24, ge=1, le=720, description="how long a request waits for its confirmation")


class Keywords(_Strict):
    opt_in: list[str] | None = None
    opt_out: list[str] | None = None
    help: list[str] | None = None
    confirm_opt_in: ConfirmOptIn | None = Field(
        default=None, description="double opt-in: ask for a confirmation before an opt-in counts "
                                  "(needs `marketing_requires_opt_in`)")


class Replies(_Strict):
    opt_in: str | None = "You are subscribed again. Reply STOP to unsubscribe."
    opt_out: str | None = "You are unsubscribed and will get no more messages. Reply START to subscribe again."
    help: str | None = "Reply STOP to unsubscribe, START to subscribe again."


class InboundSpec(_Strict):
    auth: InboundAuth = Field(description="required: `{\"type\": \"none\"}` must be chosen explicitly")
    public_url: str | None = None
    format: Literal["form", "json", "query"] = "form"
    items: JMESPath | None = Field(
        default=None, description="JMESPath to the list of messages when one webhook carries several (JSON only); "
                                  "`fields` are then read inside each item")
    fields: dict[Literal["from", "to", "text", "id", "timestamp"], str] = Field(
        default_factory=lambda: {"from": "from", "to": "to", "text": "text", "id": "id"},
        description="form/query keys, or JMESPath for JSON")
    keywords: Keywords = Field(default_factory=Keywords)
    replies: Replies = Field(default_factory=Replies)

    @model_validator(mode="after")
    def _items_in_json(self) -> InboundSpec:
        if self.items is not None and self.format != "json":
            raise ValueError("inbound.items needs format 'json'")
        return self


class StatusSpec(_Strict):
    format: Literal["form", "json", "query"] | None = Field(default=None, description="default: inbound.format")
    items: JMESPath | None = Field(
        default=None, description="JMESPath to the list of receipts when one webhook carries several (JSON only); "
                                  "`fields` are then read inside each item")
    fields: dict[Literal["message_id", "status", "error", "timestamp"], str] = Field(
        default_factory=lambda: {"message_id": "id", "status": "status", "error": "error"})
    map: dict[str, Literal["delivered", "failed", "sent"]] = Field(default_factory=dict)


class BalanceSpec(_Strict):
    url: str
    method: Literal["GET", "POST"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    field: JMESPath | None = Field(default=None, description="JMESPath; default: the first number in the body")
    every: Literal["5m", "1h", "1d"] = "1h"
    minimum: float | None = None
    email: list[str] = Field(default_factory=list)
    use_auth: bool = Field(default=True, description="authenticate the call with the provider's `auth`")

    @model_validator(mode="after")
    def _known_parts(self) -> BalanceSpec:
        for name, value in self.headers.items():
            if _HEADER_BREAK.search(name) or _HEADER_BREAK.search(value):
                raise ValueError(f"balance header {name!r}: CR, LF and NUL are not allowed in a header")
        check_placeholders(self.templates(), allowed=(), where="balance")
        return self

    def templates(self) -> list[str]:
        return [self.url, *(part for item in self.headers.items() for part in item)]



# ---------------------------------------------------------------- traffic

class Throughput(_Strict):
    """The most the provider receives (SPEC 3 `throughput`), across every invocation of the send function."""

    per_second: float = Field(gt=0, le=10_000, description="requests per second, on average (a fraction is allowed: "
                                                            "0.5 is one request every 2 s)")
    burst: int | None = Field(default=None, ge=1, le=10_000,
                              description="the most requests granted at once; default: a whole second's capacity")


# ---------------------------------------------------------------- waiting (SPEC 3)

_CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class QuietHours(_Strict):
    """`MARKETING` is not sent between `start` and `end` of the recipient's local time (SPEC 3)."""

    start: str = Field(pattern=_CLOCK_TIME, description="HH:MM, the recipient's local time", examples=["21:00"])
    end: str = Field(pattern=_CLOCK_TIME, description="HH:MM; before `start` means the next morning",
                     examples=["08:00"])

    @model_validator(mode="after")
    def _a_window(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet_hours: start and end are the same time (an empty or a whole-day window)")
        return self


class SpendLimit(_Strict):
    """At most `segments_per_month` segments a calendar month (UTC) for messages of `types` (SPEC 3)."""

    segments_per_month: int = Field(ge=1, le=1_000_000_000)
    types: list[Literal["NOTIFICATION", "MARKETING"]] = Field(
        default_factory=lambda: ["MARKETING"], min_length=1, description="the message types that wait past the limit")
    email: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]] = Field(
        default_factory=list, max_length=10, description="told at 80 % and at 100 % of the limit, once each a month")


# ---------------------------------------------------------------- provider

SecretName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]

class ProviderConfig(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str | None = None
    preset: str | None = Field(default=None, description="the preset this configuration started from")
    enabled: bool = True
    default: bool = Field(default=False, description="the provider used when a message names none")
    default_sender: str | None = None
    expiry_days: float = Field(default=2, gt=0, le=30)
    timeout_s: float = Field(default=10, gt=0, le=60)
    verify_tls: bool = True
    marketing_requires_opt_in: bool = False
    request: RequestSpec
    auth: Auth = Field(default_factory=NoAuth)
    response: ResponseSpec = Field(default_factory=ResponseSpec)
    inbound: InboundSpec | None = None
    status: StatusSpec | None = None
    balance: BalanceSpec | None = None
    secrets: dict[SecretName, SecretStr] = Field(
        default_factory=dict,
        description="named secrets (write-only, kept in Secrets Manager), used as {{secrets.NAME}} in request, "
                    "balance and auth templates")
    throughput: Throughput | None = Field(default=None, description="a rate limit shared by every sender")
    failover: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]] = Field(
        default_factory=list, max_length=10,
        description="other provider ids, in order: a message this provider did not take goes to the next at once")
    quiet_hours: QuietHours | None = Field(default=None, description="MARKETING waits out this window of the "
                                                                     "recipient's local time")
    smart_encoding: bool = Field(default=True, description="replace typographic look-alikes by GSM-7 characters when "
                                                           "that makes the whole text GSM-7")
    spend_limit: SpendLimit | None = Field(default=None, description="segments a calendar month before messages of "
                                                                     "the limited types wait")

    @model_validator(mode="after")
    def _failover_list(self) -> ProviderConfig:
        if self.id in self.failover:
            raise ValueError(f"failover: {self.id!r} is this provider itself")
        repeated = sorted({name for name in self.failover if self.failover.count(name) > 1})
        if repeated:
            raise ValueError(f"failover: {', '.join(map(repr, repeated))} named more than once")
        return self

    @model_validator(mode="after")
    def _secrets_known(self) -> ProviderConfig:
        templates = {"request": self.request.templates()}
        if self.balance is not None:
            templates["balance"] = self.balance.templates()
        if isinstance(self.auth, HmacAuth):
            templates["auth"] = self.auth.templates()
        missing = sorted({f"{{{{secrets.{name}}}}} (in {where})" for where, parts in templates.items()
                          for placeholder in placeholders_in(parts)
                          if (name := secret_name(placeholder.name)) is not None and name not in self.secrets})
        if missing:
            defined = ", ".join(sorted(self.secrets)) or "none"
            raise ValueError(f"{', '.join(missing)}: no secret of that name in `secrets` (defined: {defined})")
        return self

    @model_validator(mode="after")
    def _double_opt_in_for_marketing(self) -> ProviderConfig:
        if self.inbound is not None and self.inbound.keywords.confirm_opt_in is not None \
                and not self.marketing_requires_opt_in:
            raise ValueError("inbound.keywords.confirm_opt_in (double opt-in) needs marketing_requires_opt_in: "
                             "without it an opt-in changes nothing a confirmation could protect")
        return self

    @model_validator(mode="after")
    def _status_items_in_json(self) -> ProviderConfig:
        if self.status is not None and self.status.items is not None:
            fmt = self.status.format or (self.inbound.format if self.inbound else None)
            if fmt != "json":
                raise ValueError("status.items needs JSON receipts: status.format (or inbound.format) 'json'")
        return self
