"""`{"type": "basic"}`: HTTP Basic credentials that the provider sends with each webhook."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Literal

from pydantic import SecretStr

from smsbridge.core.signatures.webhook import InboundAuthModel, InboundScheme, SignatureRefused, WebhookRequest, same


class BasicInboundAuth(InboundAuthModel):
    type: Literal["basic"]
    username: str
    password: SecretStr


def verify_basic(auth: BasicInboundAuth, request: WebhookRequest, now: datetime, *, public_url: str | None = None,
                 fallback_secret: str | None = None) -> None:
    header = request.header("authorization") or ""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise SignatureRefused(401, "Basic credentials are missing")
    try:
        username, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        raise SignatureRefused(401, "the Basic credentials are not readable") from None
    # Both compared, always, so that the time taken says nothing about which one was wrong.
    user_ok = same(username, auth.username)
    password_ok = same(password, auth.password.get_secret_value())
    if not (sep and user_ok and password_ok):
        raise SignatureRefused(403, "the Basic credentials do not match")


SCHEME = InboundScheme(BasicInboundAuth, verify_basic)
