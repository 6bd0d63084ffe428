"""Spend limits' monthly counts in DynamoDB: one item per provider and month in `TrafficTable`, shared by every invocation.

The key is `spend#<provider>#YYYY-MM` beside the providers' throughput items (`adapters/provider_state.py`):
the same table, the same access (one hot item per provider, conditional UpdateItems), no other
table to deploy or grant. A batch's segments are added by one UpdateItem conditional on the total
staying within the limit; a refusal hands back the item (`ALL_OLD`), so that what still fits is
known without a read. The last answer is kept: the count only grows within a month, so a batch
the copy already refuses needs no call. An alert level is claimed by a conditional write (the
first invocation to make it sends the email). An item is a few bytes a month: no TTL.
"""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from smsbridge.adapters.attribute_values import attribute_values, plain_item
from smsbridge.clock import iso_utc
from smsbridge.core.spend import ALERT_LEVELS, MonthCount



class SpendLedger:
    def __init__(self, table_name: str, *, client=None) -> None:
        self._table = table_name
        self._dynamodb = client
        self._copies: dict[tuple[str, str], MonthCount] = {}
        self._lock = threading.Lock()

    @property
    def _client(self):
        # Made at the first call: a stack without spend limits never makes one.
        if self._dynamodb is None:
            self._dynamodb = boto3.client("dynamodb")
        return self._dynamodb

    def known(self, provider_id: str, month: str) -> MonthCount | None:
        """The last count this process saw (never more than the real one)."""
        return self._copies.get((provider_id, month))

    def read(self, provider_id: str, month: str) -> MonthCount:
        answer = self._client.get_item(TableName=self._table, Key=_key(provider_id, month), ConsistentRead=True)
        return self._keep(provider_id, month, _count(answer.get("Item")))

    def add(self, provider_id: str, month: str, segments: int, limit: int) -> MonthCount:
        """Count `segments` more if the month's total stays within `limit`; `added` says whether it did."""
        try:
            answer = self._client.update_item(
                TableName=self._table, Key=_key(provider_id, month),
                UpdateExpression="ADD #n :n SET #l = :limit",
                ConditionExpression="attribute_not_exists(#n) OR #n <= :room",
                ExpressionAttributeNames={"#n": "segments", "#l": "limit"},
                ExpressionAttributeValues=attribute_values({":n": segments, ":limit": limit, ":room": limit - segments}),
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return self._keep(provider_id, month, _count(error.response.get("Item")))
        count = _count(answer.get("Attributes"))
        self._keep(provider_id, month, count)
        return MonthCount(count.used, count.alerts, count.limit, added=True)

    def claim_alert(self, provider_id: str, month: str, level: int, now: datetime) -> bool:
        """Whether this caller is the first to mark `level` sent for the month (and so sends it)."""
        try:
            answer = self._client.update_item(
                TableName=self._table, Key=_key(provider_id, month), UpdateExpression="SET #a = :at",
                ConditionExpression="attribute_not_exists(#a)", ExpressionAttributeNames={"#a": _alert(level)},
                ExpressionAttributeValues=attribute_values({":at": iso_utc(now)}),
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            self._keep(provider_id, month, _count(error.response.get("Item")))
            return False
        self._keep(provider_id, month, _count(answer.get("Attributes")))
        return True

    def release_alert(self, provider_id: str, month: str, level: int) -> None:
        """Undo a claim whose email could not be sent, so that the next batch tries again."""
        answer = self._client.update_item(
            TableName=self._table, Key=_key(provider_id, month), UpdateExpression="REMOVE #a",
            ExpressionAttributeNames={"#a": _alert(level)}, ReturnValues="ALL_NEW")
        with self._lock:
            self._copies[(provider_id, month)] = _count(answer.get("Attributes"))

    def alerts_sent_at(self, provider_id: str, month: str) -> dict[int, str]:
        """When each alert level was sent this month (for the admin API)."""
        answer = self._client.get_item(TableName=self._table, Key=_key(provider_id, month), ConsistentRead=True)
        item = plain_item(answer.get("Item")) or {}
        return {level: item[_alert(level)] for level in ALERT_LEVELS if _alert(level) in item}

    def _keep(self, provider_id: str, month: str, count: MonthCount) -> MonthCount:
        with self._lock:
            kept = self._copies.get((provider_id, month))
            # Answers may arrive out of order between threads: keep the larger count.
            if kept is None or count.used >= kept.used:
                self._copies[(provider_id, month)] = count
        return count


def spend_key(provider_id: str, month: str) -> str:
    return f"spend#{provider_id}#{month}"


def _key(provider_id: str, month: str) -> dict[str, Any]:
    return {"provider": {"S": spend_key(provider_id, month)}}


def _alert(level: int) -> str:
    return f"alert_{level}"




def _count(raw: dict[str, Any] | None) -> MonthCount:
    item = plain_item(raw) or {}
    limit = item.get("limit")
    return MonthCount(used=int(item.get("segments", 0)),
                      alerts=frozenset(level for level in ALERT_LEVELS if _alert(level) in item),
                      limit=int(limit) if limit is not None else None)
