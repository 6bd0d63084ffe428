"""Inbound webhook verification (SPEC 3 `inbound.auth`): Twilio, HMAC over the raw body, Basic, query token, none."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from smsbridge.models.provider import (
    BasicInboundAuth,
    HmacInboundAuth,
    NoInboundAuth,
    TokenInboundAuth,
    TwilioInboundAuth,
)

TWILIO_SIGNATURE_HEADER = "x-twilio-signature"

InboundAuthSpec = TwilioInboundAuth | HmacInboundAuth | BasicInboundAuth | TokenInboundAuth | NoInboundAuth


class SignatureRefused(Exception):
    """The request does not prove it comes from the provider. `status` is 401 (no credentials)
    or 403 (wrong or replayed ones); `reason` is safe to show: it never holds a secret."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class WebhookRequest:
    """A provider's HTTP call as API Gateway (REST, payload 1.0) hands it over, in plain values.

    `path` is the resource path (`/inbound/twilio`, no stage); `request_path` is
    `requestContext.path`, the path as the caller wrote it (with the stage on an execute-api
    host, with the base path on a custom domain); `headers` have lower-case names."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    stage: str | None = None
    request_path: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query_value(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def form(self) -> list[tuple[str, str]]:
        """The body as form parameters, or none when it is not a form."""
        content_type = (self.header("content-type") or "").split(";")[0].strip().lower()
        if content_type and content_type != "application/x-www-form-urlencoded":
            return []
        try:
            return parse_qsl(self.body.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            return []


# ---------------------------------------------------------------- the URL the provider called

def called_urls(request: WebhookRequest, public_url: str | None) -> list[str]:
    """The URLs the provider may have signed, most likely first.

    Behind API Gateway the function never sees the URL itself: it is rebuilt from
    `X-Forwarded-Proto`, `Host`, the path as called (stage included on an execute-api host)
    and the query, whose original encoding and order are lost (API Gateway hands over decoded
    values). So a few spellings are tried, each still needing the secret to match."""
    queries = _query_spellings(request.query)
    if public_url:
        base = urlsplit(public_url)
        if base.query:
            return [public_url]
        path = base.path.rstrip("/")
        paths = [path] if path.endswith(request.path) else [path + request.path, path]
        return _unique(urlunsplit((base.scheme, base.netloc, p, q, "")) for p in paths for q in queries)
    scheme = (request.header("x-forwarded-proto") or "https").split(",")[0].strip().lower() or "https"
    host = (request.header("host") or "").strip()
    port = (request.header("x-forwarded-port") or "").strip()
    hosts = [host]
    default_port = {"https": "443", "http": "80"}.get(scheme)
    if ":" not in host and port and port != default_port:
        hosts = [f"{host}:{port}"]
    elif host.endswith(f":{default_port}"):
        hosts.append(host.rsplit(":", 1)[0])  # Twilio's own validators try with and without the port
    elif ":" not in host and default_port:
        hosts.append(f"{host}:{default_port}")
    paths = []
    if request.request_path and request.request_path.endswith(request.path):
        paths.append(request.request_path)
    if request.stage and ".execute-api." in host and f"/{request.stage}{request.path}" not in paths:
        paths.append(f"/{request.stage}{request.path}")
    paths.append(request.path)
    return _unique(urlunsplit((scheme, h, p, q, "")) for p in _unique(paths) for h in hosts for q in queries)


def _query_spellings(query: Sequence[tuple[str, str]]) -> list[str]:
    if not query:
        return [""]
    pairs = list(query)
    return _unique([urlencode(pairs, quote_via=quote, safe="~"), urlencode(pairs, quote_via=quote_plus)])


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# ---------------------------------------------------------------- the algorithms

def twilio_signature(secret: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """Twilio's documented algorithm: HMAC-SHA1 of the URL followed by every POST parameter,
    sorted by name (case-sensitive), each written as name + value; base64."""
    payload = url + "".join(key + value for key, value in sorted(set(params)))
    digest = hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def hmac_signature(secret: str, payload: bytes, algorithm: str = "sha256", encoding: str = "hex") -> str:
    digest = hmac.new(secret.encode("utf-8"), payload, getattr(hashlib, algorithm)).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")


def hmac_signed_payload(body: bytes, timestamp: str | None) -> bytes:
    """What the HMAC covers: the raw body, or `<timestamp>.<raw body>` when a timestamp is sent."""
    return body if timestamp is None else timestamp.encode("utf-8") + b"." + body


def parse_timestamp(value: str) -> datetime:
    """A unix time in seconds (or milliseconds), or ISO-8601; ValueError otherwise."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    if number != number or abs(number) > 1e14:  # NaN, or beyond any plausible millisecond clock
        raise ValueError("timestamp out of range")
    if abs(number) > 1e11:
        number /= 1000
    return datetime.fromtimestamp(number, UTC)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


# ---------------------------------------------------------------- verification

def verify_webhook(auth: InboundAuthSpec, request: WebhookRequest, now: datetime, *,
                   public_url: str | None = None, fallback_secret: str | None = None) -> datetime | None:
    """Raise SignatureRefused unless the request carries the provider's proof.

    Returns the time the provider signed, when the scheme carries one (HMAC with a timestamp
    header), so that the caller can use it as the event time."""
    match auth:
        case NoInboundAuth():
            return None
        case TwilioInboundAuth():
            secret = auth.secret.get_secret_value() if auth.secret else fallback_secret
            _verify_twilio(secret, request, public_url)
            return None
        case HmacInboundAuth():
            return _verify_hmac(auth, request, now)
        case BasicInboundAuth():
            _verify_basic(auth, request)
            return None
        case TokenInboundAuth():
            given = request.query_value(auth.param)
            if not given:
                raise SignatureRefused(401, f"the `{auth.param}` query parameter is missing")
            if not _same(given, auth.token.get_secret_value()):
                raise SignatureRefused(403, f"the `{auth.param}` query parameter does not match")
            return None
    raise SignatureRefused(403, "unsupported inbound authentication")


def _verify_twilio(secret: str | None, request: WebhookRequest, public_url: str | None) -> None:
    given = request.header(TWILIO_SIGNATURE_HEADER)
    if not given:
        raise SignatureRefused(401, "the X-Twilio-Signature header is missing")
    if not secret:
        # A configuration gap, not the caller's fault, but nothing can be trusted without it.
        raise SignatureRefused(403, "no Twilio auth token is configured for this provider")
    body_hash = request.query_value("bodySHA256")
    # JSON webhooks sign the URL alone (it carries bodySHA256); form webhooks add the POST params.
    params = [] if body_hash is not None or request.method.upper() != "POST" else request.form()
    matched = any(_same(given, twilio_signature(secret, url, params)) for url in called_urls(request, public_url))
    if not matched:
        raise SignatureRefused(403, "the X-Twilio-Signature does not match")
    if body_hash is not None and not _same(body_hash.lower(), hashlib.sha256(request.body).hexdigest()):
        raise SignatureRefused(403, "the body does not match bodySHA256")


def _verify_hmac(auth: HmacInboundAuth, request: WebhookRequest, now: datetime) -> datetime | None:
    header = request.header(auth.header)
    if not header:
        raise SignatureRefused(401, f"the {auth.header} header is missing")
    given = header.strip()
    if auth.prefix:
        if not given.startswith(auth.prefix):
            raise SignatureRefused(403, f"the {auth.header} header does not start with {auth.prefix!r}")
        given = given[len(auth.prefix):]
    signed_at, timestamp = None, None
    if auth.timestamp_header:
        timestamp = request.header(auth.timestamp_header)
        if not timestamp:
            raise SignatureRefused(401, f"the {auth.timestamp_header} header is missing")
        try:
            signed_at = parse_timestamp(timestamp)
        except (ValueError, OverflowError, OSError):
            raise SignatureRefused(403, f"the {auth.timestamp_header} header is not a time") from None
    expected = hmac_signature(auth.secret.get_secret_value(), hmac_signed_payload(request.body, timestamp),
                              auth.algorithm, auth.encoding)
    if auth.encoding == "hex":
        given = given.lower()
    else:
        given = _canonical_base64(given)
    if not _same(given, expected):
        raise SignatureRefused(403, f"the {auth.header} signature does not match")
    # Checked after the signature so that a forger learns nothing from the answer's wording.
    if signed_at is not None and abs((now - signed_at).total_seconds()) > auth.tolerance_s:
        raise SignatureRefused(403, "the signed timestamp is outside the tolerance: replay refused")
    return signed_at


def _canonical_base64(value: str) -> str:
    """Base64 re-encoded, so that a missing padding or URL-safe alphabet compares equal."""
    try:
        padded = value + "=" * (-len(value) % 4)
        return base64.b64encode(base64.b64decode(padded, altchars=b"-_" if "-" in value or "_" in value else None,
                                                 validate=True)).decode("ascii")
    except (binascii.Error, ValueError):
        return value


def _verify_basic(auth: BasicInboundAuth, request: WebhookRequest) -> None:
    header = request.header("authorization") or ""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise SignatureRefused(401, "Basic credentials are missing")
    try:
        username, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        raise SignatureRefused(401, "the Basic credentials are not readable") from None
    # Both compared, always, so that the time taken says nothing about which one was wrong.
    user_ok = _same(username, auth.username)
    password_ok = _same(password, auth.password.get_secret_value())
    if not (sep and user_ok and password_ok):
        raise SignatureRefused(403, "the Basic credentials do not match")
