"""In-memory stand-ins for the send path's storage adapters (same methods as adapters/*), for
unit tests and benchmarks where DynamoDB and SQS are not the question."""
from __future__ import annotations

import threading
from typing import Any

from smsbridge.adapters.idempotency import Claim
from smsbridge.adapters.store import ProviderNotFound
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.status import StatusChange


class MemoryProviders:
    def __init__(self, *configs: ProviderConfig):
        self._configs = {c.id: c for c in configs}

    def get(self, provider_id: str) -> ProviderConfig:
        try:
            return self._configs[provider_id]
        except KeyError:
            raise ProviderNotFound(f"no provider {provider_id!r}") from None

    def default(self) -> ProviderConfig:
        return next(iter(self._configs.values()))


class MemoryMessages:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def create(self, message_id: str, change: StatusChange, **fields: Any) -> bool:
        with self._lock:
            if message_id in self.items:
                return False
            self.items[message_id] = {"id": message_id, "status": change.status.value, "history": [change], **fields}
            return True

    def get(self, message_id: str) -> dict[str, Any] | None:
        return self.items.get(message_id)

    def next_attempt(self, message_id: str) -> int:
        with self._lock:
            item = self.items.setdefault(message_id, {"id": message_id, "history": []})
            item["attempts"] = item.get("attempts", 0) + 1
            return item["attempts"]

    def record(self, message_id: str, change: StatusChange, *, apply_if_status_in=None, **fields: Any) -> bool:
        with self._lock:
            item = self.items.setdefault(message_id, {"id": message_id, "history": []})
            item["history"].append(change)
            if apply_if_status_in is not None and item.get("status") not in apply_if_status_in:
                return False
            item["status"] = change.status.value
            item.update({k: v for k, v in fields.items() if v is not None})
            return True


class MemoryConsent:
    def __init__(self) -> None:
        self.states: dict[tuple[str, str], Any] = {}

    def state(self, provider_id: str, phone: str):
        return self.states.get((provider_id, phone))


class MemoryClaims:
    def __init__(self) -> None:
        self.claims: dict[str, Claim] = {}
        self._lock = threading.Lock()

    def claim(self, message_id: str, remaining_ms: int) -> Claim:
        with self._lock:
            existing = self.claims.get(message_id)
            if existing is None:
                self.claims[message_id] = Claim("busy")
                return Claim("new")
            return existing

    def complete(self, message_id: str, result: dict[str, Any]) -> None:
        with self._lock:
            self.claims[message_id] = Claim("done", result)

    def release(self, message_id: str) -> None:
        with self._lock:
            self.claims.pop(message_id, None)


class MemoryQueue:
    def __init__(self) -> None:
        self.delays: dict[str, float] = {}
        self.dead: list[tuple[str, str]] = []
        self.enqueued: list[Any] = []
        self.lanes: dict[str, Any] = {}

    def enqueue(self, message, lane) -> None:
        self.enqueued.append(message)
        self.lanes[message.id] = lane

    def delay(self, record, seconds: float) -> None:
        self.delays[record.receiptHandle] = seconds

    def dead_letter(self, body: str, reason: str, *, message_id: str | None = None) -> None:
        self.dead.append((body, reason))
