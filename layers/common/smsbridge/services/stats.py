"""Traffic at a glance for the admin API: counts by status, sent/failed/blocked over time, balances, each provider's health."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from smsbridge.clock import iso_utc, utc_now
from smsbridge.core import time_index
from smsbridge.core.balance import BalanceRecord
from smsbridge.errors import BadRequest
from smsbridge.models.api import BalanceView, LastSend, ProviderSummary, SeriesPoint, TrafficStats
from smsbridge.models.status import MessageStatus
from smsbridge.services.ports import BalanceRecords, MessageSearch, ProviderSource

# How a status counts in the chart: accepted by the provider, not sent for good, or held back by consent.
SERIES_OF = {
    MessageStatus.SENT.value: "sent", MessageStatus.DELIVERED.value: "sent",
    MessageStatus.FAILED.value: "failed", MessageStatus.EXPIRED.value: "failed", MessageStatus.REJECTED.value: "failed",
    MessageStatus.BLOCKED.value: "blocked",
}
# The outcome of an attempt to send, which `last_send` reports.
SEND_OUTCOMES = [MessageStatus.SENT.value, MessageStatus.DELIVERED.value, MessageStatus.FAILED.value]
# The bucket is the smallest of these that draws the range in at most MAX_BUCKETS points.
BUCKETS_S = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400)
MAX_BUCKETS = 96
# Counting reads the time index; past this many messages in the range the answer says `complete: false`.
MAX_COUNTED = 50_000


class TrafficReport:
    def __init__(self, *, providers: ProviderSource, messages: MessageSearch, balances: BalanceRecords,
                 retention_days: int = 90, clock: Callable[[], datetime] = utc_now, max_counted: int = MAX_COUNTED):
        self._providers = providers
        self._messages = messages
        self._balances = balances
        self._retention = timedelta(days=retention_days)
        self._clock = clock
        self._max_counted = max_counted

    def stats(self, *, since: datetime | None = None, until: datetime | None = None,
              provider: str | None = None) -> TrafficStats:
        """Messages created in [since, until] (the last 24 hours by default), by their current status."""
        end = (until or self._clock()).astimezone(UTC)
        start = (since or end - timedelta(hours=24)).astimezone(UTC)
        if start >= end:
            raise BadRequest("since: it is not before until")
        if end - start > self._retention + timedelta(days=1):
            raise BadRequest(f"since: messages are kept {self._retention.days} days: ask for a shorter range")
        if provider is not None:
            self._providers.get(provider)  # 404 for an unknown provider, not a silent zero
        bucket_s = next((s for s in BUCKETS_S if (end - start).total_seconds() / s <= MAX_BUCKETS), BUCKETS_S[-1])
        items = self._messages.created_between(iso_utc(start), time_index.upper_bound(iso_utc(end)),
                                               provider=provider, max_items=self._max_counted)
        counts = Counter(item.get("status") for item in items)
        first = int(start.timestamp()) // bucket_s * bucket_s
        buckets = range(first, int(end.timestamp()) + 1, bucket_s)
        points: dict[tuple[int, str], Counter] = defaultdict(Counter)
        for item in items:
            at = int(datetime.fromisoformat(item["created_at"]).timestamp()) // bucket_s * bucket_s
            point = points[(at, item.get("provider") or "")]
            if (kind := SERIES_OF.get(item.get("status"))) is not None:
                point[kind] += 1
        providers = sorted({p for _, p in points} | ({provider} if provider else set()))
        series = [SeriesPoint(at=iso_utc(datetime.fromtimestamp(at, UTC)), provider=p, sent=points[(at, p)]["sent"],
                              failed=points[(at, p)]["failed"], blocked=points[(at, p)]["blocked"])
                  for at in buckets for p in providers]
        ids = [provider] if provider else [config.id for config in self._providers.list()]
        balances = [view for pid in ids if (view := _balance(self._balances.get(pid))) is not None]
        return TrafficStats(since=iso_utc(start), until=iso_utc(end), bucket_s=bucket_s,
                            counts={status.value: counts.get(status.value, 0) for status in MessageStatus},
                            series=series, balances=balances, complete=len(items) < self._max_counted)

    def provider_summary(self) -> list[ProviderSummary]:
        """Each provider with its last send outcome, last balance and failures of the last hour."""
        now = self._clock()
        hour = self._messages.created_between(iso_utc(now - timedelta(hours=1)), time_index.upper_bound(iso_utc(now)),
                                              max_items=self._max_counted)
        failures = Counter(item.get("provider") for item in hour if item.get("status") == MessageStatus.FAILED.value)
        summaries = []
        for config in self._providers.list():
            last = self._messages.newest(since=iso_utc(now - self._retention), before=time_index.upper_bound(iso_utc(now)),
                                         limit=1, statuses=SEND_OUTCOMES, provider=config.id).items
            summaries.append(ProviderSummary(
                id=config.id, name=config.name, enabled=config.enabled, default=config.default, preset=config.preset,
                last_send=LastSend(status=last[0]["status"], at=last[0].get("updated_at")) if last else None,
                balance=_balance(self._balances.get(config.id)), errors_last_hour=failures.get(config.id, 0)))
        return summaries


def _balance(record: BalanceRecord | None) -> BalanceView | None:
    if record is None:
        return None
    return BalanceView(provider=record.provider, balance=record.balance, minimum=record.minimum,
                       checked_at=iso_utc(record.checked_at) if record.checked_at else None, state=record.state.value)
