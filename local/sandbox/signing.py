"""How the sandbox signs what it sends to the bridge (inbound SMS and delivery receipts).

The scheme is the `hmac` inbound auth of a provider configuration (`HmacInboundAuth`):
the signed string is `<timestamp>.<raw body>` when a timestamp header is configured, else the
raw body; the header holds `prefix + HMAC(secret, signed string)` in hex or base64.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any


def signed_string(body: bytes, timestamp: str | None) -> bytes:
    return body if timestamp is None else timestamp.encode("ascii") + b"." + body


def signature(auth: Mapping[str, Any], body: bytes, timestamp: str | None) -> str:
    digest = hmac.new(str(auth["secret"]).encode("utf-8"), signed_string(body, timestamp),
                      getattr(hashlib, auth.get("algorithm", "sha256"))).digest()
    encoded = digest.hex() if auth.get("encoding", "hex") == "hex" else base64.b64encode(digest).decode("ascii")
    return auth.get("prefix", "") + encoded


def signature_headers(auth: Mapping[str, Any], body: bytes, now_unix: int) -> dict[str, str]:
    """The headers that sign `body` for a provider whose inbound auth is `auth` (hmac)."""
    timestamp_header = auth.get("timestamp_header")
    timestamp = str(now_unix) if timestamp_header else None
    headers = {auth.get("header", "X-Signature"): signature(auth, body, timestamp)}
    if timestamp_header:
        headers[timestamp_header] = str(timestamp)
    return headers
