"""`{"type": "none"}`: no check at all, allowed only when chosen explicitly (SPEC 3)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from smsbridge.core.signatures.webhook import InboundAuthModel, InboundScheme, WebhookRequest


class NoInboundAuth(InboundAuthModel):
    type: Literal["none"]


def verify_none(auth: NoInboundAuth, request: WebhookRequest, now: datetime, *, public_url: str | None = None,
                fallback_secret: str | None = None) -> None:
    return None


SCHEME = InboundScheme(NoInboundAuth, verify_none)
