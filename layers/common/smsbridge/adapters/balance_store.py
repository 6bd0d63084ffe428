"""The balance table in DynamoDB: one item per provider, the last check and the alerts already sent."""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3

from smsbridge.core.balance import BalanceRecord, BalanceState

_TIMES = ("checked_at", "balance_at", "low_alert_at", "recovered_alert_at", "failing_alert_at")


class BalanceStore:
    def __init__(self, table_name: str, *, dynamodb=None):
        self._table = (dynamodb or boto3.resource("dynamodb")).Table(table_name)

    def get(self, provider_id: str) -> BalanceRecord | None:
        item = self._table.get_item(Key={"provider": provider_id}, ConsistentRead=True).get("Item")
        return _record(item) if item else None

    def put(self, record: BalanceRecord) -> None:
        self._table.put_item(Item=_item(record))


def _item(record: BalanceRecord) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for field in fields(record):
        value = getattr(record, field.name)
        if value is None:
            continue  # DynamoDB items carry only what is known
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, float):
            value = Decimal(repr(value))  # DynamoDB takes no floats; repr keeps the exact decimal
        elif isinstance(value, BalanceState):
            value = value.value
        item[field.name] = value
    return item


def _record(item: dict[str, Any]) -> BalanceRecord:
    known = {field.name for field in fields(BalanceRecord)}
    values: dict[str, Any] = {}
    for name, value in item.items():
        if name not in known:
            continue
        if name in _TIMES:
            value = datetime.fromisoformat(value)
        elif isinstance(value, Decimal):
            value = int(value) if name == "consecutive_failures" else float(value)
        elif name == "state":
            value = BalanceState(value)
        values[name] = value
    return BalanceRecord(**values)
