"""In-memory stand-ins for the send path's storage adapters (same methods as adapters/*), for
unit tests and benchmarks where DynamoDB and SQS are not the question."""
from __future__ import annotations

import threading
import time
from typing import Any

from smsbridge.adapters.store import ProviderNotFound
from smsbridge.models.claim import ClaimAnswer, ClaimRequest, FinalRecord, MessageState
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
            return self._record(message_id, change, apply_if_status_in, fields)

    def _record(self, message_id, change, apply_if_status_in, fields) -> bool:
        item = self.items.setdefault(message_id, {"id": message_id, "history": []})
        item["history"].append(change)
        if apply_if_status_in is not None and item.get("status") not in apply_if_status_in:
            return False
        item["status"] = change.status.value
        item.update({k: v for k, v in fields.items() if v is not None})
        return True

    # The claims, with MessageStore's conditions (adapters/store.py), one lock standing for a transaction.

    def states(self, message_ids: list[str]) -> dict[str, MessageState]:
        with self._lock:
            return {i: self._state(i) for i in message_ids}

    def _state(self, message_id: str) -> MessageState:
        item = self.items.get(message_id)
        if item is None:
            return MessageState()
        return MessageState(exists=True, status=item.get("status"), claimed_until=item.get("claimed_until"),
                            attempts=item.get("attempts", 0), pinned_provider=item.get("pinned_provider"),
                            waiting=item.get("waiting"), spend_month=item.get("spend_month"))

    def note_wait(self, message_id: str, first, change: StatusChange, key: str) -> bool:
        with self._lock:
            state = self._state(message_id)
            if state.settled or state.busy(time.time()) or state.waiting == key:
                return False
            item = self.items.setdefault(message_id, {"id": message_id})
            item.setdefault("history", [first.change])
            item.setdefault("status", first.change.status.value)
            for name, value in first.fields.items():
                if value is not None:
                    item.setdefault(name, value)
            item["history"] = item["history"] + [change]
            item["waiting"] = key
            return True

    def claim(self, requests: list[ClaimRequest]) -> dict[str, ClaimAnswer]:
        now_s = time.time()
        answers = {}
        with self._lock:
            for request in requests:
                state = self._state(request.message_id)
                if state.settled:
                    answers[request.message_id] = ClaimAnswer("done", state)
                    continue
                if state.busy(now_s):
                    answers[request.message_id] = ClaimAnswer("busy", state)
                    continue
                item = self.items.setdefault(request.message_id, {"id": request.message_id})
                item.setdefault("history", [request.first.change])
                item.setdefault("status", request.first.change.status.value)
                for name, value in request.first.fields.items():
                    if value is not None:
                        item.setdefault(name, value)
                if request.settle_with:
                    item["history"] = item["history"] + list(request.settle_with)
                    item["status"] = request.settle_with[-1].status.value
                    item.pop("claimed_until", None)
                    item.pop("claimed_by", None)
                else:
                    if request.due is not None:
                        item["history"] = item["history"] + [request.due]
                        item["status"] = request.due.status.value
                    item.update(claimed_until=request.claimed_until, claimed_by=request.token,
                                attempts=state.attempts + 1)
                answers[request.message_id] = ClaimAnswer("taken", state)
        return answers

    def settle(self, finals: list[FinalRecord]) -> None:
        with self._lock:
            for final in finals:
                item = self.items.get(final.message_id)
                if item is None or item.get("claimed_by") != final.token:
                    for change in final.changes:
                        self._record(final.message_id, change, {"queued"}, final.fields)
                    continue
                item["history"] = item["history"] + list(final.changes)
                item["status"] = final.changes[-1].status.value
                item["attempts"] = final.attempts
                item.update({k: v for k, v in final.fields.items() if v is not None})
                item.pop("claimed_until", None)
                item.pop("claimed_by", None)


class MemoryConsent:
    def __init__(self) -> None:
        self.by_subject: dict[tuple[str, str], Any] = {}

    def state(self, provider_id: str, phone: str):
        return self.by_subject.get((provider_id, phone))

    def states(self, subjects: list[tuple[str, str]]):
        return {subject: self.state(*subject) for subject in subjects}


class MemoryQueue:
    def __init__(self) -> None:
        self.delays: dict[str, float] = {}
        self.requeued: list[tuple[str, float]] = []
        self.dead: list[tuple[str, str]] = []
        self.enqueued: list[Any] = []
        self.lanes: dict[str, Any] = {}
        self.enqueue_delays: dict[str, int] = {}

    def enqueue(self, message, lane, *, delay_s: int = 0) -> None:
        self.enqueued.append(message)
        self.lanes[message.id] = lane
        self.enqueue_delays[message.id] = delay_s

    def delay_all(self, waits) -> set[str]:
        self.delays.update((record.receiptHandle, seconds) for record, seconds in waits)
        return set()

    def requeue(self, record, body: str, seconds: float) -> None:
        self.requeued.append((body, seconds))

    def dead_letter(self, body: str, reason: str, *, message_id: str | None = None) -> None:
        self.dead.append((body, reason))


class MemorySpend:
    """SpendLedger's methods (adapters/spend.py) over a dict; `calls` counts what would be AWS calls."""

    def __init__(self) -> None:
        from smsbridge.core.spend import MonthCount

        self._empty = MonthCount
        self.months: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls = 0
        self._lock = threading.Lock()

    def _count(self, key, added: bool = False):
        item = self.months.get(key, {})
        return self._empty(used=item.get("segments", 0), alerts=frozenset(item.get("alerts", {})),
                           limit=item.get("limit"), added=added)

    def known(self, provider_id: str, month: str):
        return None

    def read(self, provider_id: str, month: str):
        self.calls += 1
        return self._count((provider_id, month))

    def add(self, provider_id: str, month: str, segments: int, limit: int):
        with self._lock:
            self.calls += 1
            item = self.months.setdefault((provider_id, month), {"segments": 0, "alerts": {}})
            if item["segments"] + segments > limit:
                return self._count((provider_id, month))
            item["segments"] += segments
            item["limit"] = limit
            return self._count((provider_id, month), added=True)

    def claim_alert(self, provider_id: str, month: str, level: int, now) -> bool:
        with self._lock:
            self.calls += 1
            alerts = self.months.setdefault((provider_id, month), {"segments": 0, "alerts": {}})["alerts"]
            if level in alerts:
                return False
            alerts[level] = now.isoformat()
            return True

    def release_alert(self, provider_id: str, month: str, level: int) -> None:
        with self._lock:
            self.calls += 1
            self.months[(provider_id, month)]["alerts"].pop(level, None)

    def alerts_sent_at(self, provider_id: str, month: str) -> dict[int, str]:
        return dict(self.months.get((provider_id, month), {}).get("alerts", {}))


class MemoryMailer:
    def __init__(self, *, failing: int = 0) -> None:
        self.sent: list[tuple[list[str], str, str]] = []
        self.failing = failing  # the next `failing` sends raise, as SES refusing would

    def send(self, recipients: list[str], subject: str, text: str) -> str:
        if self.failing:
            self.failing -= 1
            raise RuntimeError("SES refused the email")
        self.sent.append((list(recipients), subject, text))
        return f"email-{len(self.sent)}"
