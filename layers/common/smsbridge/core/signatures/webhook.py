"""What every inbound signature scheme shares: the webhook as plain values, the refusal, the URL the
provider called, timestamps and replay windows, constant-time comparison, the scheme registry's entry type."""
from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

DEFAULT_TOLERANCE_S = 300
JWT_LEEWAY = timedelta(seconds=1)  # slack on a JWT's own nbf/exp for clock drift, as the SDKs give PyJWT


class InboundAuthModel(BaseModel):
    """The base of every `inbound.auth` model: unknown fields are refused, as everywhere in a provider."""

    model_config = ConfigDict(extra="forbid")


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

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None when it is not one."""
        try:
            value = json.loads(self.body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        return value if isinstance(value, dict) else None


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
    if not host:
        return []  # nothing to rebuild the URL from: only a configured public_url can match
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
    # `%20` for a space (quote keeps only letters, digits and `_.-~`), then `+` (urlencode's own quote_plus).
    return _unique([urlencode(pairs, quote_via=quote), urlencode(pairs)])


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def parse_timestamp(value: str) -> datetime:
    """A unix time in seconds (or milliseconds), or ISO-8601; ValueError otherwise."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        moment = datetime.fromisoformat(text)  # Python 3.11+ reads a trailing "Z" as UTC
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    if number != number or abs(number) > 1e14:  # NaN, or beyond any plausible millisecond clock
        raise ValueError("timestamp out of range")
    if abs(number) > 1e11:
        number /= 1000
    return datetime.fromtimestamp(number, UTC)


def same(given: str, expected: str) -> bool:
    """Equal, compared in constant time (the time taken says nothing about where they differ)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def signed_time(value: str, what: str) -> datetime:
    """`value` read with parse_timestamp, or a 403 naming `what` when it is not a time."""
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError, OSError):
        raise SignatureRefused(403, f"{what} is not a time") from None


def refuse_replay(signed_at: datetime, now: datetime, tolerance_s: int) -> None:
    """403 when the provider signed more than `tolerance_s` away from `now`, either way (clocks drift).

    Callers check it after the signature, so that a forger learns nothing from the answer's wording."""
    if abs((now - signed_at).total_seconds()) > tolerance_s:
        raise SignatureRefused(403, "the signed timestamp is outside the tolerance: replay refused")


def canonical_base64(value: str) -> str:
    """Base64 re-encoded, so that a missing padding or URL-safe alphabet compares equal."""
    try:
        padded = value + "=" * (-len(value) % 4)
        # `-_` are read as `+/`, which stay valid too: either alphabet decodes, any other character is refused.
        return base64.b64encode(base64.b64decode(padded, altchars=b"-_", validate=True)).decode("ascii")
    except (binascii.Error, ValueError):
        return value


def bearer_token(request: WebhookRequest) -> str | None:
    """The token of an `Authorization: Bearer ...` header, if there is one."""
    scheme, _, token = (request.header("authorization") or "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def jwt_claims(token: str, key: str, algorithms: list[str], *, required: list[str], what: str,
               issuer: str | None = None) -> dict[str, Any]:
    """The claims of a JWT signed with `key`, or a 403 naming `what`. Its times are the caller's to check
    against `now` (PyJWT would read the clock). A token naming an audience is refused, as the SDKs' own
    `jwt.decode` calls refuse it (no audience is expected)."""
    import jwt  # deferred: PyJWT costs about 0.1 s of cold start, and only the JWT schemes need it

    try:
        return jwt.decode(token, key, algorithms=algorithms, issuer=issuer,
                          options={"require": required, "verify_exp": False, "verify_nbf": False,
                                   "verify_iat": False})
    except jwt.InvalidTokenError:
        raise SignatureRefused(403, f"{what} does not verify with the configured secret") from None


# ---------------------------------------------------------------- the registry's entry

@dataclass(frozen=True)
class InboundScheme:
    """One `inbound.auth` type: its model class (whose `type` literal names it) and its verify function."""

    model: type[InboundAuthModel]
    verify: Callable[..., datetime | None]


