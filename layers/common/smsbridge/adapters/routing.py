"""The routing rules in DynamoDB: one item of the routing table, cached for the send path."""
from __future__ import annotations

import threading
import time

import boto3

from smsbridge.clock import iso_utc, utc_now
from smsbridge.models.routing import RoutingRules

_KEY = {"id": "rules"}


class RoutingStore:
    """The rules as one JSON document (an ordered list is read and written whole).

    Reads are cached for `cache_s` seconds, as ProviderStore caches providers, so the send path pays
    no call per message; a change made through the API reaches senders within that time."""

    def __init__(self, table_name: str, *, cache_s: float = 30.0, dynamodb=None):
        self._table = (dynamodb or boto3.resource("dynamodb")).Table(table_name)
        self._cache_s = cache_s
        self._cached: tuple[float, RoutingRules] | None = None
        self._lock = threading.Lock()

    def rules(self) -> RoutingRules:
        now = time.monotonic()
        cached = self._cached
        if cached and now - cached[0] < self._cache_s:
            return cached[1]
        item = self._table.get_item(Key=_KEY).get("Item")
        rules = RoutingRules.model_validate_json(item["rules"]) if item else RoutingRules()
        with self._lock:
            self._cached = (now, rules)
        return rules

    def put(self, rules: RoutingRules) -> None:
        self._table.put_item(Item={**_KEY, "rules": rules.model_dump_json(exclude_none=True),
                                   "updated_at": iso_utc(utc_now())})
        with self._lock:
            self._cached = None
