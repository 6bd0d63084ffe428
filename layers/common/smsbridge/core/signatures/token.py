"""`{"type": "token"}`: a shared token in the query string, for providers that sign nothing (anyone who learns the URL holds it)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import SecretStr

from smsbridge.core.signatures.webhook import InboundAuthModel, InboundScheme, SignatureRefused, WebhookRequest, same


class TokenInboundAuth(InboundAuthModel):
    type: Literal["token"]
    param: str = "token"
    token: SecretStr


def verify_token(auth: TokenInboundAuth, request: WebhookRequest, now: datetime, *, public_url: str | None = None,
                 fallback_secret: str | None = None) -> None:
    given = request.query_value(auth.param)
    if not given:
        raise SignatureRefused(401, f"the `{auth.param}` query parameter is missing")
    if not same(given, auth.token.get_secret_value()):
        raise SignatureRefused(403, f"the `{auth.param}` query parameter does not match")


SCHEME = InboundScheme(TokenInboundAuth, verify_token)
