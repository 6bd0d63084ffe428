"""Outbound authentication (SPEC 3 `auth`): stamp a rendered provider request with its credentials."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from smsbridge.core.render import RenderError, render_text
from smsbridge.models.placeholders import SECRETS_SCOPE
from smsbridge.models.provider import (
    ApiKeyAuth,
    BasicAuth,
    HmacAuth,
    JwtAuth,
    NoAuth,
    OAuth2Auth,
    SigV4Auth,
)
from smsbridge.models.wire import HttpRequest, HttpResponse

OutboundAuth = NoAuth | BasicAuth | ApiKeyAuth | HmacAuth | OAuth2Auth | JwtAuth | SigV4Auth

DEFAULT_TOKEN_LIFETIME_S = 3600  # RFC 6749 5.1 makes `expires_in` optional; an hour is the common default
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# OAuth error codes (RFC 6749 5.2) are short ASCII words: safe to repeat, unlike error_description,
# which some servers fill with the request they received.
_OAUTH_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_UNSAFE_HEADER_VALUE = re.compile(r"[\r\n\0]|^\s")


class AuthError(ValueError):
    """The configured credentials cannot be applied; the message never holds a secret."""


class TokenError(Exception):
    """The token endpoint's answer gave no usable access token; `reason` is safe to log and store."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AwsCredentials:
    """AWS keys to sign with (SigV4); `session_token` comes with a role's temporary keys."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: datetime


# ---------------------------------------------------------------- authenticate

def authenticate(request: HttpRequest, auth: OutboundAuth, now: datetime, *,
                 bearer: str | None = None, secrets: Mapping[str, SecretStr] | None = None,
                 aws_credentials: AwsCredentials | None = None) -> HttpRequest:
    """The request with the credentials of `auth` added; `bearer` is the OAuth2 access token,
    `secrets` the provider's named secrets, for `{{secrets.NAME}}` in an hmac template,
    `aws_credentials` the keys SigV4 signs with when `auth` names none (the function's role)."""
    match auth:
        case NoAuth():
            return request
        case BasicAuth():
            return _with_header(request, "Authorization",
                                _basic_credentials(auth.username, auth.password.get_secret_value()))
        case ApiKeyAuth():
            token = auth.token.get_secret_value()
            if auth.header is not None:
                return _with_header(request, auth.header, auth.prefix + token)
            return replace(request, url=_with_query_parameter(request.url, auth.query, token))
        case HmacAuth():
            return _hmac_signed(request, auth, now, secrets or {})
        case JwtAuth():
            return _with_header(request, auth.header, auth.prefix + _jwt_for(auth, now))
        case OAuth2Auth():
            if bearer is None:
                raise ValueError("oauth2 auth needs the access token: ask the token cache for it first")
            return _with_header(request, auth.header, auth.prefix + bearer)
        case SigV4Auth():
            return _sigv4_signed(request, auth, now, aws_credentials)
    raise AuthError(f"unknown auth type {getattr(auth, 'type', type(auth).__name__)!r}")


def _basic_credentials(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _with_header(request: HttpRequest, name: str, value: str) -> HttpRequest:
    # A token with a line break would split the header (injection); and requests would refuse it
    # with an error message that quotes the value, i.e. the secret.
    if _UNSAFE_HEADER_VALUE.search(value):
        raise AuthError(f"the value for header {name!r} starts with a space or holds a line break")
    headers = {key: val for key, val in request.headers.items() if key.lower() != name.lower()}
    headers[name] = value
    return replace(request, headers=headers)


def _with_query_parameter(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    parameter = urlencode([(name, value)], quote_via=quote)
    query = f"{parts.query}&{parameter}" if parts.query else parameter
    return urlunsplit(parts._replace(query=query))


# ---------------------------------------------------------------- hmac

_HMAC_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def _hmac_signed(request: HttpRequest, auth: HmacAuth, now: datetime,
                 secrets: Mapping[str, SecretStr]) -> HttpRequest:
    parts = urlsplit(request.url)
    timestamp = format_timestamp(now, auth.timestamp_format)
    context = {
        "method": request.method.upper(),
        "path": (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        "body": request.body.decode("utf-8") if request.body else "",
        "timestamp": timestamp,
        "key_id": auth.key_id or "",
        SECRETS_SCOPE: {name: value.get_secret_value() for name, value in secrets.items()},
    }
    try:
        message = render_text(auth.string_to_sign, context).encode("utf-8")
        prefix = render_text(auth.signature_prefix, context)
    except RenderError as exc:  # a {{secrets.NAME}} the caller did not pass: says the name, never a value
        raise AuthError(f"hmac: {exc}") from None
    digest = hmac.new(auth.secret.get_secret_value().encode("utf-8"), message,
                      _HMAC_DIGESTS[auth.algorithm]).digest()
    signature = digest.hex() if auth.encoding == "hex" else base64.b64encode(digest).decode("ascii")
    signed = _with_header(request, auth.signature_header,
                          prefix + signature)
    if auth.timestamp_header:
        signed = _with_header(signed, auth.timestamp_header, timestamp)
    return signed


def format_timestamp(now: datetime, style: str) -> str:
    """`now` as unix seconds, unix milliseconds or ISO-8601 UTC (`2026-11-21T10:00:00Z`)."""
    now = _utc(now)
    if style == "unix":
        return str((now - _EPOCH) // timedelta(seconds=1))
    if style == "unix_ms":
        # Integer arithmetic on timedeltas: float timestamps are off by one millisecond at times.
        return str((now - _EPOCH) // timedelta(milliseconds=1))
    if style == "iso":
        return now.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise AuthError(f"unknown timestamp format {style!r}")


def _utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


# ---------------------------------------------------------------- sigv4

def _sigv4_signed(request: HttpRequest, auth: SigV4Auth, now: datetime,
                  default: AwsCredentials | None) -> HttpRequest:
    if auth.access_key_id is not None and auth.secret_access_key is not None:
        credentials = AwsCredentials(auth.access_key_id, auth.secret_access_key.get_secret_value())
    elif default is not None:
        credentials = default
    else:
        raise AuthError("sigv4: no AWS credentials: give access_key_id and secret_access_key, "
                        "or run with an IAM role")
    # botocore ships with the Lambda runtime; imported here so that only SigV4 providers pay for it.
    from botocore.auth import SIGV4_TIMESTAMP
    from botocore.auth import SigV4Auth as BotocoreSigV4
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signer = BotocoreSigV4(Credentials(credentials.access_key_id, credentials.secret_access_key,
                                       credentials.session_token), auth.service, auth.region)
    signed = AWSRequest(method=request.method.upper(), url=request.url, headers=dict(request.headers),
                        data=request.body or b"")
    # botocore's add_auth reads the clock; these are its steps with the time given instead.
    signed.context["timestamp"] = _utc(now).strftime(SIGV4_TIMESTAMP)
    signer._modify_request_before_signing(signed)
    string_to_sign = signer.string_to_sign(signed, signer.canonical_request(signed))
    signer._inject_signature_to_request(signed, signer.signature(string_to_sign, signed))
    headers = dict(request.headers)
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
        if name in signed.headers:
            headers = {key: val for key, val in headers.items() if key.lower() != name.lower()}
            headers[name] = signed.headers[name]
    return replace(request, headers=headers)


# ---------------------------------------------------------------- jwt

# Signing costs a PEM parse plus an RSA/ECDSA operation (about a millisecond for RS256):
# the send path reuses a token for 80% of its lifetime. Keys are digests of the signing
# inputs, so the cache holds no secret in a form that could reach a log.
_JWT_REUSE_FRACTION = 0.8
_JWT_CACHE_MAX = 256
_jwt_cache: dict[str, tuple[str, datetime, datetime]] = {}  # key -> (token, issued_at, reuse_until)


def _jwt_for(auth: JwtAuth, now: datetime) -> str:
    now = _utc(now)
    key = _jwt_cache_key(auth)
    cached = _jwt_cache.get(key)
    if cached is not None and cached[1] <= now < cached[2]:
        return cached[0]
    issued_at = now.replace(microsecond=0)  # iat is whole seconds on the wire
    token = _jwt_encode(auth, issued_at)
    if len(_jwt_cache) >= _JWT_CACHE_MAX:
        _jwt_cache.clear()  # many providers rotating keys: start over rather than track ages
    _jwt_cache[key] = (token, issued_at,
                       issued_at + timedelta(seconds=auth.lifetime_s * _JWT_REUSE_FRACTION))
    return token


def _jwt_cache_key(auth: JwtAuth) -> str:
    signing_key = auth.secret if auth.algorithm == "HS256" else auth.private_key
    material = json.dumps(
        [auth.algorithm, signing_key.get_secret_value() if signing_key else "", auth.key_id,
         auth.claims, auth.lifetime_s],
        sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _jwt_encode(auth: JwtAuth, issued_at: datetime) -> str:
    import jwt  # about 0.1 s to import: only the providers that use JWT pay for it

    claims: dict[str, Any] = {**auth.claims}
    claims.setdefault("jti", str(uuid.uuid4()))
    claims["iat"] = int(issued_at.timestamp())
    claims["exp"] = int(issued_at.timestamp()) + auth.lifetime_s
    if auth.algorithm == "HS256":
        key = auth.secret.get_secret_value()
    else:
        key = auth.private_key.get_secret_value()
    headers = {"kid": auth.key_id} if auth.key_id else None
    try:
        return jwt.encode(claims, key, algorithm=auth.algorithm, headers=headers)
    except Exception:
        # Key-loading errors can describe the key material: report the kind of failure only.
        raise AuthError(f"jwt: the configured key cannot sign with {auth.algorithm}") from None


# ---------------------------------------------------------------- oauth2 client credentials

def token_request(auth: OAuth2Auth) -> HttpRequest:
    """The client-credentials token request (RFC 6749 4.4.2) for `auth`."""
    secret = auth.client_secret.get_secret_value()
    fields: dict[str, str] = {"grant_type": "client_credentials"}
    if auth.scope:
        fields["scope"] = auth.scope
    headers = {"Accept": "application/json"}
    if auth.client_auth == "basic":
        # RFC 6749 2.3.1 asks to form-encode id and secret first; most servers do not decode
        # them, and a raw value only differs when it holds '%' or '+'. Sent raw, as
        # requests-oauthlib does.
        headers["Authorization"] = _basic_credentials(auth.client_id, secret)
    else:
        fields["client_id"] = auth.client_id
        fields["client_secret"] = secret
    for name, value in auth.extra.items():
        fields.setdefault(name, value)  # extra fields add to the grant, never replace it
    if auth.token_request == "json":
        headers["Content-Type"] = "application/json"
        body = json.dumps(fields, ensure_ascii=False).encode("utf-8")
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode(fields).encode("ascii")
    return HttpRequest(method="POST", url=auth.token_url, headers=headers, body=body)


def parse_token_answer(response: HttpResponse, now: datetime) -> AccessToken:
    """The access token in a token endpoint's answer (RFC 6749 5.1), or TokenError (5.2)."""
    try:
        answer = json.loads(response.body) if response.body else None
    except ValueError:
        answer = None
    if not 200 <= response.status_code < 300:
        code = answer.get("error") if isinstance(answer, dict) else None
        detail = f" ({code})" if isinstance(code, str) and _OAUTH_ERROR_CODE.match(code) else ""
        raise TokenError(f"token endpoint answered HTTP {response.status_code}{detail}")
    if not isinstance(answer, dict):
        raise TokenError("token endpoint answer is not a JSON object")
    value = answer.get("access_token")
    if not isinstance(value, str) or not value:
        raise TokenError("token endpoint answer has no access_token")
    return AccessToken(value=value, expires_at=_utc(now) + timedelta(seconds=_lifetime_s(answer)))


def _lifetime_s(answer: dict[str, Any]) -> float:
    raw = answer.get("expires_in")
    if raw is None:
        return DEFAULT_TOKEN_LIFETIME_S
    try:
        # Some servers send it as a string ("3599"); booleans are not numbers here.
        seconds = float(raw) if not isinstance(raw, bool) else float("nan")
    except (TypeError, ValueError):
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise TokenError("token endpoint answer has an expires_in that is not a positive number")
    return seconds
