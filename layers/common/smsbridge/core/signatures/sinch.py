"""`{"type": "sinch"}`: Sinch's signed callbacks, X-Sinch-Webhook-Signature = base64 HMAC-SHA256 of
`body.nonce.timestamp` keyed by the callback secret (as the sinch SDK's `validate_authentication_header`),
with the timestamp in the replay window."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr

from smsbridge.core.signatures.webhook import (
    DEFAULT_TOLERANCE_S,
    InboundAuthModel,
    InboundScheme,
    SignatureRefused,
    WebhookRequest,
    refuse_replay,
    same,
    signed_time,
)

SIGNATURE_HEADER = "x-sinch-webhook-signature"
NONCE_HEADER = "x-sinch-webhook-signature-nonce"
TIMESTAMP_HEADER = "x-sinch-webhook-signature-timestamp"
ALGORITHM_HEADER = "x-sinch-webhook-signature-algorithm"
_CHARSET = re.compile(r"charset\s*=\s*([^\s;]+)", re.IGNORECASE)


class SinchInboundAuth(InboundAuthModel):
    type: Literal["sinch"]
    secret: SecretStr = Field(description="the callback (webhook) secret set for the callbacks")
    tolerance_s: int = Field(default=DEFAULT_TOLERANCE_S, ge=1)


def sinch_signature(secret: str, body: bytes, nonce: str, timestamp: str) -> str:
    signed = body + f".{nonce}.{timestamp}".encode("utf-8")
    return base64.b64encode(hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()).decode("ascii")


def verify_sinch(auth: SinchInboundAuth, request: WebhookRequest, now: datetime, *, public_url: str | None = None,
                 fallback_secret: str | None = None) -> datetime:
    given, nonce, stamp = (request.header(SIGNATURE_HEADER), request.header(NONCE_HEADER),
                           request.header(TIMESTAMP_HEADER))
    if not given or not nonce or not stamp:
        raise SignatureRefused(401, "the X-Sinch-Webhook-Signature, -Nonce or -Timestamp header is missing")
    algorithm = request.header(ALGORITHM_HEADER)  # absent: the SDK checks none, HmacSHA256 is the only one
    if algorithm is not None and algorithm.strip().lower() != "hmacsha256":
        raise SignatureRefused(403, "the X-Sinch-Webhook-Signature-Algorithm is not HmacSHA256")
    expected = sinch_signature(auth.secret.get_secret_value(), _utf8_body(request), nonce, stamp)
    if not same(given.strip(), expected):
        raise SignatureRefused(403, "the X-Sinch-Webhook-Signature does not match")
    signed_at = signed_time(stamp, "the X-Sinch-Webhook-Signature-Timestamp header")
    refuse_replay(signed_at, now, auth.tolerance_s)
    return signed_at


def _utf8_body(request: WebhookRequest) -> bytes:
    """The body as the SDK signs it: read in the Content-Type's charset (UTF-8 by default), written in UTF-8;
    a body that cannot be read so is refused, as the SDK raises on it."""
    match = _CHARSET.search(request.header("content-type") or "")
    # A quoted name (`charset="iso-8859-1"`) needs no unquoting: the codec lookup ignores the quotes.
    charset = match.group(1) if match else "utf-8"
    try:
        return request.body.decode(charset).encode("utf-8")
    except (LookupError, UnicodeDecodeError):
        raise SignatureRefused(403, "the body cannot be read in its declared charset") from None


SCHEME = InboundScheme(SinchInboundAuth, verify_sinch)
