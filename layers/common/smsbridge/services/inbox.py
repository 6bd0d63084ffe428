"""Inbound messages (the SMS received that were not keywords) through the admin API, newest first."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from smsbridge.clock import iso_utc, utc_now
from smsbridge.core import time_index
from smsbridge.errors import BadRequest
from smsbridge.models.api import InboundPage, InboundView
from smsbridge.services.ports import InboundList


class InboxDesk:
    def __init__(self, *, inbox: InboundList, retention_days: int = 90, clock: Callable[[], datetime] = utc_now):
        self._inbox = inbox
        self._retention = timedelta(days=retention_days)
        self._clock = clock

    def newest(self, *, since: datetime | None = None, limit: int = 50, cursor: str | None = None) -> InboundPage:
        scope = iso_utc(since) if since else ""
        now = self._clock()
        floor = now - self._retention - timedelta(days=1)  # nothing is kept longer: no older month is read
        start = max(since or floor, floor)
        try:
            before = time_index.decode_cursor(cursor, scope) if cursor else time_index.upper_bound(iso_utc(now))
        except time_index.BadCursor as exc:
            raise BadRequest(str(exc)) from None
        page = self._inbox.newest(since=time_index.lower_bound(iso_utc(start)), before=before, limit=limit)
        keys = [field.alias or name for name, field in InboundView.model_fields.items()]
        items = [InboundView.model_validate({key: item.get(key) for key in keys}) for item in page.items]
        return InboundPage(items=items, cursor=time_index.encode_cursor(page.before, scope) if page.before else None)
