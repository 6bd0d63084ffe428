"""The inbound table: SMS received that are not keywords, kept for a retention period (DynamoDB TTL)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from smsbridge.adapters.time_index import Page, TimeIndex
from smsbridge.clock import iso_utc
from smsbridge.core import time_index

# The inbound table's index of arrival times (template.yaml): a month shard, then `time#id`.
BY_TIME_INDEX = "by-time"
SEARCH_PARTITION = "month_shard"
SEARCH_SORT = "received_key"


class InboundMessageStore:
    def __init__(self, table_name: str, *, retention_days: int = 90, dynamodb=None):
        self._table = (dynamodb or boto3.resource("dynamodb")).Table(table_name)
        self._retention = timedelta(days=retention_days)
        self.by_time = TimeIndex(self._table, BY_TIME_INDEX, SEARCH_PARTITION, SEARCH_SORT)

    def add(self, item: dict[str, Any], received_at: datetime) -> bool:
        """Store the message unless its id is there already (a webhook delivered twice); returns
        whether it was new."""
        record = {**{k: v for k, v in item.items() if v is not None},
                  "ttl": int((received_at + self._retention).timestamp())}
        at = iso_utc(received_at)
        record[SEARCH_PARTITION] = time_index.partition_key(record["id"], at)
        record[SEARCH_SORT] = time_index.sort_key(record["id"], at)
        try:
            self._table.put_item(Item=record, ConditionExpression="attribute_not_exists(id)")
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    def get(self, message_id: str) -> dict[str, Any] | None:
        return self._table.get_item(Key={"id": message_id}, ConsistentRead=True).get("Item")

    def newest(self, *, since: str, before: str, limit: int) -> Page:
        """Messages received in [since, before), newest first (Query on the time index)."""
        return self.by_time.newest(time_index.month_windows(since, before), since, before, limit)
