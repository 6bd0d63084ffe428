"""`{"type": "hmac"}`: a generic HMAC over the raw body (with a timestamp when one is sent), for providers without a scheme of their own."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr

from smsbridge.core.signatures.webhook import (
    DEFAULT_TOLERANCE_S,
    InboundAuthModel,
    InboundScheme,
    SignatureRefused,
    WebhookRequest,
    canonical_base64,
    refuse_replay,
    same,
    signed_time,
)


class HmacInboundAuth(InboundAuthModel):
    type: Literal["hmac"]
    secret: SecretStr
    header: str = "X-Signature"
    algorithm: Literal["sha1", "sha256", "sha512"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = Field(default="", description="text before the signature in the header, e.g. 'sha256='")
    timestamp_header: str | None = None
    tolerance_s: int = Field(default=DEFAULT_TOLERANCE_S, ge=1)


def hmac_signature(secret: str, payload: bytes, algorithm: str = "sha256", encoding: str = "hex") -> str:
    digest = hmac.new(secret.encode("utf-8"), payload, getattr(hashlib, algorithm)).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")


def hmac_signed_payload(body: bytes, timestamp: str | None) -> bytes:
    """What the HMAC covers: the raw body, or `<timestamp>.<raw body>` when a timestamp is sent."""
    return body if timestamp is None else timestamp.encode("utf-8") + b"." + body


def verify_hmac(auth: HmacInboundAuth, request: WebhookRequest, now: datetime, *, public_url: str | None = None,
                fallback_secret: str | None = None) -> datetime | None:
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
        signed_at = signed_time(timestamp, f"the {auth.timestamp_header} header")
    expected = hmac_signature(auth.secret.get_secret_value(), hmac_signed_payload(request.body, timestamp),
                              auth.algorithm, auth.encoding)
    given = given.lower() if auth.encoding == "hex" else canonical_base64(given)
    if not same(given, expected):
        raise SignatureRefused(403, f"the {auth.header} signature does not match")
    if signed_at is not None:
        refuse_replay(signed_at, now, auth.tolerance_s)
    return signed_at


SCHEME = InboundScheme(HmacInboundAuth, verify_hmac)
