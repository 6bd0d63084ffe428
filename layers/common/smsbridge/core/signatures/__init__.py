"""Inbound webhook verification (SPEC 3 `inbound.auth`): one module per scheme, each holding its model class and
its verify function, and `verify_webhook`, which picks the scheme by the model's class.

Adding a scheme is adding a module that defines `SCHEME = InboundScheme(model, verify)` and naming it in
`SCHEME_MODULES`; `models.provider.InboundAuth` is built from the same list."""
from __future__ import annotations

from datetime import datetime
from importlib import import_module
from typing import Any

from smsbridge.core.signatures.hmac import hmac_signature
from smsbridge.core.signatures.twilio import twilio_signature
from smsbridge.core.signatures.webhook import (
    InboundAuthModel,
    InboundScheme,
    SignatureRefused,
    WebhookRequest,
    called_urls,
    parse_timestamp,
)

# The order is the order of the `inbound.auth` union in the published JSON Schema.
SCHEME_MODULES = ("twilio", "hmac", "basic", "token", "none", "vonage", "plivo", "telnyx", "messagebird", "sinch")

SCHEMES: tuple[InboundScheme, ...] = tuple(
    import_module(f"{__name__}.{name}").SCHEME for name in SCHEME_MODULES)
INBOUND_AUTH_MODELS: tuple[type[InboundAuthModel], ...] = tuple(scheme.model for scheme in SCHEMES)
_VERIFY = {scheme.model: scheme.verify for scheme in SCHEMES}

__all__ = ["INBOUND_AUTH_MODELS", "SCHEMES", "SCHEME_MODULES", "InboundScheme", "SignatureRefused", "WebhookRequest",
           "called_urls", "hmac_signature", "parse_timestamp", "twilio_signature", "verify_webhook"]


def verify_webhook(auth: Any, request: WebhookRequest, now: datetime, *,
                   public_url: str | None = None, fallback_secret: str | None = None) -> datetime | None:
    """Raise SignatureRefused unless the request carries the provider's proof.

    `fallback_secret` is the provider's `auth.password`, the secret of the schemes that default to it (twilio,
    plivo). Returns the time the provider signed when the scheme carries one, for the caller to use as the
    event time."""
    verify = _VERIFY.get(type(auth))
    if verify is None:
        raise SignatureRefused(403, "unsupported inbound authentication")
    return verify(auth, request, now, public_url=public_url, fallback_secret=fallback_secret)
