"""The inbound table: SMS received that are not keywords, kept for a retention period (DynamoDB TTL)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError


class InboundMessageStore:
    def __init__(self, table_name: str, *, retention_days: int = 90, dynamodb=None):
        self._table = (dynamodb or boto3.resource("dynamodb")).Table(table_name)
        self._retention = timedelta(days=retention_days)

    def add(self, item: dict[str, Any], received_at: datetime) -> bool:
        """Store the message unless its id is there already (a webhook delivered twice); returns
        whether it was new."""
        record = {**{k: v for k, v in item.items() if v is not None},
                  "ttl": int((received_at + self._retention).timestamp())}
        try:
            self._table.put_item(Item=record, ConditionExpression="attribute_not_exists(id)")
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    def get(self, message_id: str) -> dict[str, Any] | None:
        return self._table.get_item(Key={"id": message_id}, ConsistentRead=True).get("Item")
