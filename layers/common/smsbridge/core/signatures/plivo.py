"""`{"type": "plivo"}`: X-Plivo-Signature-V3, HMAC-SHA256 of the URL called, the sorted parameters and the
X-Plivo-Signature-V3-Nonce, keyed by the auth token (as the plivo SDK's `validate_v3_signature`)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

from pydantic import Field, SecretStr

from smsbridge.core.signatures.webhook import (
    InboundAuthModel,
    InboundScheme,
    SignatureRefused,
    WebhookRequest,
    called_urls,
    same,
)

SIGNATURE_HEADER = "x-plivo-signature-v3"
NONCE_HEADER = "x-plivo-signature-v3-nonce"


class PlivoInboundAuth(InboundAuthModel):
    """The V3 signature carries a nonce but no time: there is no replay window to configure."""

    type: Literal["plivo"]
    secret: SecretStr | None = Field(default=None, description="default: the provider's auth.password (the auth token)")


def plivo_signature(auth_token: str, method: str, url: str, nonce: str, params: dict[str, Any] | None = None) -> str:
    """The V3 signature of a callback to `url` (query included) with the POST `params` (a value may be a
    list when a name repeats, or an object in a JSON body); a GET's covers the URL alone."""
    if method.upper() == "GET":
        base = _url_with_sorted_query(url, no_post_params=True)
    else:
        params = params or {}
        base = _url_with_sorted_query(url, no_post_params=not params) + _sorted_params(params)
    digest = hmac.new(auth_token.encode("utf-8"), f"{base}.{nonce}".encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_with_sorted_query(url: str, *, no_post_params: bool) -> str:
    # The SDK's construct_get_url: the URL's query, decoded, re-sorted as name=value; a lone "?" (and a
    # "." after a query) mark that POST parameters follow.
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    params = parse_qs(parts.query, keep_blank_values=True)
    pairs = []
    for key in sorted(params):
        pairs.append("&".join(f"{key}={item}" for item in sorted(params[key])))
    query = "&".join(pairs)
    if query or not no_post_params:
        base += "?" + query
    if query and not no_post_params:
        base += "."
    return base


def _sorted_params(params: dict[str, Any]) -> str:
    out = []
    for key in sorted(params):
        value = params[key]
        if isinstance(value, list):
            # Sorted as text (the SDK's string_format): a list mixing null, objects and text sorts too.
            out.append("".join(f"{key}{item}" for item in sorted(str(v) for v in value)))
        elif isinstance(value, dict):
            out.append(f"{key}{_sorted_params(value)}")
        else:
            out.append(f"{key}{value}")
    return "".join(out)


def callback_params(request: WebhookRequest) -> dict[str, Any]:
    """The POST parameters as the SDK takes them: one value per name, a list where a name repeats."""
    body = request.json_object()
    if body is not None:
        return body
    params: dict[str, Any] = {}
    for key, value in request.form():
        if key in params:
            previous = params[key]
            params[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[key] = value
    return params


def verify_plivo(auth: PlivoInboundAuth, request: WebhookRequest, now: datetime, *, public_url: str | None = None,
                 fallback_secret: str | None = None) -> None:
    secret = auth.secret.get_secret_value() if auth.secret else fallback_secret
    given, nonce = request.header(SIGNATURE_HEADER), request.header(NONCE_HEADER)
    if not given or not nonce:
        raise SignatureRefused(401, "the X-Plivo-Signature-V3 or X-Plivo-Signature-V3-Nonce header is missing")
    if not secret:
        raise SignatureRefused(403, "no Plivo auth token is configured for this provider")
    # After a token rotation Plivo sends one signature per valid token, comma-separated.
    candidates = [part.strip() for part in given.split(",") if part.strip()]
    params = callback_params(request)  # a GET's signature covers its URL only: plivo_signature leaves these out
    expected = {plivo_signature(secret, request.method, url, nonce, params) for url in called_urls(request, public_url)}
    if not any(same(candidate, signature) for candidate in candidates for signature in expected):
        raise SignatureRefused(403, "the X-Plivo-Signature-V3 does not match")


SCHEME = InboundScheme(PlivoInboundAuth, verify_plivo)
