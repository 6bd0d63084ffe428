"""`{"type": "telnyx"}`: Telnyx's ed25519 webhook signature over `timestamp|body`, with the timestamp in the
replay window (as the telnyx SDK's `verify_webhook_signature`, here with `cryptography` in place of PyNaCl)."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from smsbridge.core.signatures.webhook import (
    DEFAULT_TOLERANCE_S,
    InboundAuthModel,
    InboundScheme,
    SignatureRefused,
    WebhookRequest,
    refuse_replay,
    signed_time,
)

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"


class TelnyxInboundAuth(InboundAuthModel):
    type: Literal["telnyx"]
    public_key: str = Field(description="the account's public key, base64 (Mission Control, Keys & Credentials); "
                                        "not a secret")
    tolerance_s: int = Field(default=DEFAULT_TOLERANCE_S, ge=1)

    @field_validator("public_key")
    @classmethod
    def _ed25519_key(cls, value: str) -> str:
        try:
            key = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("public_key is not base64") from None
        if len(key) != 32:
            raise ValueError(f"public_key is {len(key)} bytes once decoded: an ed25519 key is 32")
        return value.strip()


def verify_telnyx(auth: TelnyxInboundAuth, request: WebhookRequest, now: datetime, *, public_url: str | None = None,
                  fallback_secret: str | None = None) -> datetime:
    # Deferred: the cryptography package is only needed by this scheme.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    given, stamp = request.header(SIGNATURE_HEADER), request.header(TIMESTAMP_HEADER)
    if not given or not stamp:
        raise SignatureRefused(401, "the telnyx-signature-ed25519 or telnyx-timestamp header is missing")
    try:
        signature = base64.b64decode(given.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRefused(403, "the telnyx-signature-ed25519 header is not base64") from None
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(auth.public_key))
    try:
        key.verify(signature, stamp.encode("utf-8") + b"|" + request.body)
    except InvalidSignature:
        raise SignatureRefused(403, "the telnyx-signature-ed25519 does not match") from None
    if not stamp.strip().isdigit():
        raise SignatureRefused(403, "the telnyx-timestamp header is not a unix time")
    signed_at = signed_time(stamp, "the telnyx-timestamp header")
    refuse_replay(signed_at, now, auth.tolerance_s)
    return signed_at


SCHEME = InboundScheme(TelnyxInboundAuth, verify_telnyx)
