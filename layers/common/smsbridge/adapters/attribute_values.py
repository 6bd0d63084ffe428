"""DynamoDB's typed attribute values (the low-level client's `{"S": ...}` form) to and from plain values."""
from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def attribute_values(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def plain_item(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """The item as plain values; None for no item (an empty or absent answer)."""
    if not raw:
        return None
    return {name: _deserializer.deserialize(value) for name, value in raw.items()}
