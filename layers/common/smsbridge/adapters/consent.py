"""The consent ledger in DynamoDB: the state per (provider, phone number), and its history."""
from __future__ import annotations

from typing import Any

import boto3

from smsbridge.core.consent import ConsentState


class ConsentLedger:
    def __init__(self, table_name: str, history_table_name: str, *, dynamodb=None):
        resource = dynamodb or boto3.resource("dynamodb")
        self._table = resource.Table(table_name)
        self._history = resource.Table(history_table_name)

    def get(self, provider_id: str, phone: str) -> dict[str, Any] | None:
        """The current consent record of a number, or None when it never said anything."""
        return self._table.get_item(Key={"provider": provider_id, "phone": phone}, ConsistentRead=True).get("Item")

    def state(self, provider_id: str, phone: str) -> ConsentState | None:
        item = self.get(provider_id, phone)
        return ConsentState(item["state"]) if item else None
