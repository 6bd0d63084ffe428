"""Spend limits (SPEC 3 `spend_limit`): what of a batch fits in its provider's month, the 80 % and 100 % emails, the admin view.

`SpendGuard.reserve` is asked by the send path once per provider and batch, for the messages of
the limited types, in order; those past the limit wait on their queue (services/send.py). A
message's segments count once (the send path marks it `spend_month` in its claim), in the month
it is first claimed for sending, whatever becomes of it (a provider may charge for a message that
later fails). Without `spend_limit`, nothing is asked and nothing is stored.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from smsbridge.clock import utc_now
from smsbridge.core.spend import MonthCount, fitting, levels_reached, month_of, spend_email
from smsbridge.models.message import MessageType
from smsbridge.models.provider import ProviderConfig
from smsbridge.observability import logger, metrics
from smsbridge.services.ports import Mailer, ProviderSource, SpendCounter

_ADD_ROUNDS = 3  # concurrent invocations adding to the same month: a refusal brings the count back


def limits(provider: ProviderConfig, message_type: MessageType) -> bool:
    """Whether the provider's spend limit applies to messages of this type."""
    return provider.spend_limit is not None and message_type.value in provider.spend_limit.types


class SpendGuard:
    def __init__(self, counter: SpendCounter, mailer: Mailer | None) -> None:
        self._counter = counter
        self._mailer = mailer

    def reserve(self, provider: ProviderConfig, segments: Sequence[int], now: datetime) -> int:
        """How many of the messages (their segments, in order) are counted and may go now."""
        limit = provider.spend_limit.segments_per_month
        month = month_of(now)
        count = self._counter.known(provider.id, month) or MonthCount()
        granted = 0
        for _ in range(_ADD_ROUNDS):
            fit = fitting(segments, count.used, limit)
            if fit == 0:
                break
            count = self._counter.add(provider.id, month, sum(segments[:fit]), limit)
            if count.added:
                granted = fit
                break
        if granted < len(segments):
            metrics.add_metric(name="SpendLimitWaits", unit="Count", value=len(segments) - granted)
            if count == MonthCount():  # nothing known yet: the alerts' state is in the item
                count = self._counter.read(provider.id, month)
        self._alert(provider, month, count, limit, waiting=granted < len(segments), now=now)
        return granted

    def _alert(self, provider: ProviderConfig, month: str, count: MonthCount, limit: int, *, waiting: bool,
               now: datetime) -> None:
        levels = set(levels_reached(count.used, limit))
        if waiting:
            levels.add(100)  # a message waits: the limit is reached for it
        for level in sorted(levels - count.alerts):
            recipients = provider.spend_limit.email
            if not recipients or self._mailer is None:
                logger.warning("spend limit level reached with no one to tell: set spend_limit.email",
                               provider=provider.id, level=level, month=month)
                continue
            if not self._counter.claim_alert(provider.id, month, level, now):
                continue  # another invocation sends it
            email = spend_email(level, provider_id=provider.id, month=month, used=count.used, limit=limit,
                                types=provider.spend_limit.types, waiting=waiting)
            try:
                self._mailer.send(list(recipients), email.subject, email.text)
            except Exception:
                logger.exception("spend alert not sent; the next batch tries again", provider=provider.id,
                                 level=level)
                self._counter.release_alert(provider.id, month, level)
                continue
            logger.info("spend alert sent", provider=provider.id, level=level, month=month, used=count.used,
                        limit=limit)
            metrics.add_metric(name="SpendAlertsSent", unit="Count", value=1)


class SpendDesk:
    """`GET /providers/{provider}/spend`: the month's count against the provider's limit."""

    def __init__(self, *, providers: ProviderSource, counter: SpendCounter,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._providers = providers
        self._counter = counter
        self._clock = clock

    def report(self, provider_id: str):
        from smsbridge.models.api import SpendView

        provider = self._providers.get(provider_id)  # ProviderNotFound: 404
        month = month_of(self._clock())
        count = self._counter.read(provider.id, month)
        spend_limit = provider.spend_limit
        limit = spend_limit.segments_per_month if spend_limit else None
        return SpendView(provider=provider.id, month=month, segments=count.used, limit=limit,
                         types=list(spend_limit.types) if spend_limit else [],
                         percent=round(100 * count.used / limit, 1) if limit else None,
                         reached=limit is not None and count.used >= limit,
                         alerts_sent=self._counter.alerts_sent_at(provider.id, month) if count.alerts else {})
