"""`{"type": "messagebird"}`: the MessageBird-Signature-JWT header, a JWT signed with the account's signing key
that binds the URL called (`url_hash`) and the body (`payload_hash`), valid from `nbf` to `exp` (as the
messagebird SDK's `RequestValidator`)."""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr

from smsbridge.core.signatures.webhook import (
    DEFAULT_TOLERANCE_S,
    JWT_LEEWAY,
    InboundAuthModel,
    InboundScheme,
    SignatureRefused,
    WebhookRequest,
    called_urls,
    jwt_claims,
    refuse_replay,
    same,
    signed_time,
)

SIGNATURE_HEADER = "messagebird-signature-jwt"
_ALGORITHMS = ["HS256", "HS384", "HS512"]  # what the SDK accepts


class MessageBirdInboundAuth(InboundAuthModel):
    type: Literal["messagebird"]
    secret: SecretStr = Field(description="the signing key (dashboard, Developers, API settings): not the access key")
    tolerance_s: int = Field(default=DEFAULT_TOLERANCE_S, ge=1,
                             description="the longest a token is accepted after its `nbf`, whatever its `exp`")


def verify_messagebird(auth: MessageBirdInboundAuth, request: WebhookRequest, now: datetime, *,
                       public_url: str | None = None, fallback_secret: str | None = None) -> datetime:
    token = request.header(SIGNATURE_HEADER)
    if not token:
        raise SignatureRefused(401, "the MessageBird-Signature-JWT header is missing")
    claims = jwt_claims(token.strip(), auth.secret.get_secret_value(), _ALGORITHMS, required=["iss", "nbf", "exp"],
                        issuer="MessageBird", what="the MessageBird-Signature-JWT")
    url_hash = claims.get("url_hash")
    if not isinstance(url_hash, str) or not any(
            same(url_hash, hashlib.sha256(url.encode("utf-8")).hexdigest()) for url in called_urls(request, public_url)):
        raise SignatureRefused(403, "the MessageBird-Signature-JWT's url_hash does not match the URL called")
    payload_hash = claims.get("payload_hash")
    if bool(request.body) != bool(payload_hash):
        raise SignatureRefused(403, "the MessageBird-Signature-JWT's payload_hash and the body disagree")
    if request.body and not (isinstance(payload_hash, str)
                             and same(payload_hash, hashlib.sha256(request.body).hexdigest())):
        raise SignatureRefused(403, "the body does not match the MessageBird-Signature-JWT's payload_hash")
    not_before = signed_time(str(claims["nbf"]), "the MessageBird-Signature-JWT's nbf")
    expires = signed_time(str(claims["exp"]), "the MessageBird-Signature-JWT's exp")
    if not (not_before - JWT_LEEWAY <= now <= expires + JWT_LEEWAY):
        raise SignatureRefused(403, "the MessageBird-Signature-JWT is not valid now (nbf/exp): replay refused")
    refuse_replay(not_before, now, auth.tolerance_s)
    return not_before


SCHEME = InboundScheme(MessageBirdInboundAuth, verify_messagebird)
