"""An HTTP request to a provider and its answer, as plain values (what rendering produces,
auth signs, the transport sends and classification reads)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str  # absolute, query string included, already percent-encoded
    # Out of the repr: headers carry credentials and bodies carry the message.
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: bytes | None = field(default=None, repr=False)

    def with_headers(self, **extra: str) -> HttpRequest:
        return replace(self, headers={**self.headers, **extra})


@dataclass(frozen=True)
class HttpResponse:
    status_code: int
    headers: dict[str, str]  # names lower-cased
    body: bytes
    elapsed_s: float = 0.0

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")
