"""`{"type": "twilio"}`: X-Twilio-Signature, HMAC-SHA1 of the URL called and the POST parameters (as the twilio SDK's RequestValidator)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr

from smsbridge.core.signatures.webhook import (
    InboundAuthModel,
    InboundScheme,
    SignatureRefused,
    WebhookRequest,
    called_urls,
    same,
)

TWILIO_SIGNATURE_HEADER = "x-twilio-signature"


class TwilioInboundAuth(InboundAuthModel):
    type: Literal["twilio"]
    secret: SecretStr | None = Field(default=None, description="default: the provider's auth.password")


def twilio_signature(secret: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """Twilio's documented algorithm: HMAC-SHA1 of the URL followed by every POST parameter,
    sorted by name (case-sensitive), each written as name + value; base64."""
    payload = url + "".join(key + value for key, value in sorted(set(params)))
    digest = hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_twilio(auth: TwilioInboundAuth, request: WebhookRequest, now: datetime, *, public_url: str | None = None,
                  fallback_secret: str | None = None) -> None:
    secret = auth.secret.get_secret_value() if auth.secret else fallback_secret
    given = request.header(TWILIO_SIGNATURE_HEADER)
    if not given:
        raise SignatureRefused(401, "the X-Twilio-Signature header is missing")
    if not secret:
        # A configuration gap, not the caller's fault, but nothing can be trusted without it.
        raise SignatureRefused(403, "no Twilio auth token is configured for this provider")
    body_hash = request.query_value("bodySHA256")
    # JSON webhooks sign the URL alone (it carries bodySHA256); form webhooks add the POST params.
    params = [] if body_hash is not None or request.method.upper() != "POST" else request.form()
    matched = any(same(given, twilio_signature(secret, url, params)) for url in called_urls(request, public_url))
    if not matched:
        raise SignatureRefused(403, "the X-Twilio-Signature does not match")
    if body_hash is not None and not same(body_hash.lower(), hashlib.sha256(request.body).hexdigest()):
        raise SignatureRefused(403, "the body does not match bodySHA256")


SCHEME = InboundScheme(TwilioInboundAuth, verify_twilio)
