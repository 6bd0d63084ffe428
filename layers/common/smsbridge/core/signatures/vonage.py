"""`{"type": "vonage"}`: Vonage's signed webhooks, both kinds: the SMS API's `sig` parameter over the sorted
parameters (as `check_signature` in the nexmo and vonage SDKs), and the Bearer JWT of the newer APIs, HS256 with
the signature secret and a `payload_hash` of the body (as vonage_jwt's `verify_signature`)."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, SecretStr

from smsbridge.core.signatures.webhook import (
    DEFAULT_TOLERANCE_S,
    InboundAuthModel,
    JWT_LEEWAY,
    InboundScheme,
    SignatureRefused,
    WebhookRequest,
    bearer_token,
    jwt_claims,
    refuse_replay,
    same,
    signed_time,
)

class VonageInboundAuth(InboundAuthModel):
    type: Literal["vonage"]
    secret: SecretStr = Field(description="the account's signature secret (dashboard, API settings)")
    method: Literal["md5hash", "md5", "sha1", "sha256", "sha512"] = Field(
        default="md5hash", description="the signature method chosen in the dashboard: `md5hash` (the default there: "
                                       "MD5 of the parameters and the secret) or an HMAC; the JWT is always HS256")
    tolerance_s: int = Field(default=DEFAULT_TOLERANCE_S, ge=1)


def vonage_sig(secret: str, method: str, params: dict[str, Any]) -> str:
    """The SMS API's `sig`: `&name=value` for every parameter but `sig`, sorted by name, with `&` and `=` in
    values written `_`; MD5 of that followed by the secret (`md5hash`), or its HMAC keyed by the secret; hex."""
    if method == "md5hash":
        hasher = hashlib.md5(usedforsecurity=False)
    else:
        hasher = hmac.new(secret.encode("utf-8"), digestmod=getattr(hashlib, method))
    for key in sorted(params):
        if key == "sig":
            continue
        value = params[key]
        if isinstance(value, str):
            value = value.replace("&", "_").replace("=", "_")
        hasher.update(f"&{key}={value}".encode("utf-8"))
    if method == "md5hash":
        hasher.update(secret.encode("utf-8"))
    return hasher.hexdigest()


def webhook_params(request: WebhookRequest) -> dict[str, Any]:
    """The parameters Vonage signed: the query, then the form or JSON body's top-level values."""
    params: dict[str, Any] = dict(request.query)
    body = request.json_object()
    if body is not None:
        params.update({key: value if isinstance(value, str) else json.dumps(value) for key, value in body.items()
                       if not isinstance(value, (dict, list))})
    else:
        params.update(request.form())
    return params


def verify_vonage(auth: VonageInboundAuth, request: WebhookRequest, now: datetime, *, public_url: str | None = None,
                  fallback_secret: str | None = None) -> datetime:
    secret = auth.secret.get_secret_value()
    token = bearer_token(request)
    if token is not None:
        return _verify_jwt(token, secret, request, now, auth.tolerance_s)
    params = webhook_params(request)
    given = params.get("sig")
    if not given:
        raise SignatureRefused(401, "no Vonage signature: neither a `sig` parameter nor a Bearer JWT")
    stamp = params.get("timestamp")
    if not stamp:
        raise SignatureRefused(403, "the signed webhook has no `timestamp` parameter")
    if not same(str(given).lower(), vonage_sig(secret, auth.method, params)):
        raise SignatureRefused(403, f"the Vonage `sig` does not match (signature method {auth.method})")
    signed_at = signed_time(str(stamp), "the `timestamp` parameter")
    refuse_replay(signed_at, now, auth.tolerance_s)
    return signed_at


def _verify_jwt(token: str, secret: str, request: WebhookRequest, now: datetime, tolerance_s: int) -> datetime:
    claims = jwt_claims(token, secret, ["HS256"], required=["iat"], what="the Vonage JWT")
    payload_hash = claims.get("payload_hash")
    if request.body and not isinstance(payload_hash, str):
        raise SignatureRefused(403, "the Vonage JWT has no payload_hash for a request with a body")
    if isinstance(payload_hash, str) and not same(payload_hash.lower(), hashlib.sha256(request.body).hexdigest()):
        raise SignatureRefused(403, "the body does not match the Vonage JWT's payload_hash")
    signed_at = signed_time(str(claims["iat"]), "the Vonage JWT's iat")
    refuse_replay(signed_at, now, tolerance_s)
    if "exp" in claims and now > signed_time(str(claims["exp"]), "the Vonage JWT's exp") + JWT_LEEWAY:
        raise SignatureRefused(403, "the Vonage JWT has expired: replay refused")
    return signed_at


SCHEME = InboundScheme(VonageInboundAuth, verify_vonage)
