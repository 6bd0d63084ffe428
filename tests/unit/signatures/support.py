"""What the scheme tests share: a webhook as API Gateway hands it over, and the moments they sign at."""
from __future__ import annotations

from datetime import UTC, datetime

from smsbridge.core.signatures import WebhookRequest

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"
API_HOST = "abc123.execute-api.eu-west-1.amazonaws.com"
JSON = "application/json"


def api_request(body: bytes = b"", headers: dict | None = None, query=(), method: str = "POST",
                path: str = "/inbound/p", content_type: str = FORM) -> WebhookRequest:
    """A webhook to `https://API_HOST/prod{path}` as the inbound function receives it."""
    return WebhookRequest(method=method, path=path, body=body, query=list(query), stage="prod",
                          request_path=f"/prod{path}",
                          headers={"host": API_HOST, "x-forwarded-proto": "https", "x-forwarded-port": "443",
                                   "content-type": content_type,
                                   **{k.lower(): v for k, v in (headers or {}).items()}})


def url_of(path: str = "/inbound/p") -> str:
    """The URL a provider calls (and signs) for `api_request(path=path)`."""
    return f"https://{API_HOST}/prod{path}"


def wall_clock() -> datetime:
    """Now, for the SDKs that read the clock themselves (their windows are checked against it)."""
    return datetime.now(UTC).replace(microsecond=0)
