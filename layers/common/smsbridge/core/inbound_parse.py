"""Reading inbound SMS and delivery receipts out of form, JSON or query payloads with a provider's field mapping."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

import jmespath
from jmespath.exceptions import JMESPathError

from smsbridge.core.signatures import parse_timestamp
from smsbridge.models.provider import InboundSpec, StatusSpec

PayloadFormat = Literal["form", "json", "query"]
MAX_FIELD_CHARS = 10_000
# The longest value taken per field, in characters; a longer one refuses the webhook (or the item)
# naming the field. Ids are part of DynamoDB keys: the inbound table's (`<provider>#<id>`, 2,048
# bytes at most), the consent history's sort key (`<time>#<id>`, 1,024 bytes) and the messages
# index (`<provider>#<message id>`); 200 characters of up to 4 UTF-8 bytes each fit them all.
# `error` is only quoted in the history's reason: cut to ERROR_MAX_CHARS, not refused.
FIELD_MAX_CHARS = {"id": 200, "message_id": 200, "from": 64, "to": 64, "text": MAX_FIELD_CHARS,
                   "status": 64, "timestamp": 64}
ERROR_MAX_CHARS = 200
# One webhook's items are applied one by one within API Gateway's 29 s: Infobip sends 100 per call
# by default.
MAX_ITEMS = 1000


class PayloadError(ValueError):
    """The payload cannot be read with the provider's mapping; the message is safe to answer with."""


@dataclass(frozen=True)
class InboundSms:
    sender: str
    recipient: str | None
    text: str
    provider_message_id: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class DeliveryReceipt:
    provider_message_id: str
    status_word: str
    error: str | None
    reported_at: datetime | None


def read_fields(fmt: PayloadFormat, fields: Mapping[str, str], body: bytes,
                query: Sequence[tuple[str, str]]) -> dict[str, str | None]:
    """Each mapped field's value as text (None when absent).

    `form` reads the body's form parameters, then the query string (providers that call with
    GET put the same keys there); `query` reads the query string only; `json` evaluates each
    mapping as JMESPath over the JSON body."""
    return fields_of(fmt, fields, payload_document(fmt, body, query))


def payload_document(fmt: PayloadFormat, body: bytes, query: Sequence[tuple[str, str]]) -> Any:
    """The payload as one value to read fields in: the parsed JSON body, or for `form` and
    `query` a mapping of each key to its first value (body before query)."""
    if fmt == "json":
        return _json_document(body)
    pairs = list(query) if fmt == "query" else _form_pairs(body) + list(query)
    found: dict[str, str] = {}
    for key, value in pairs:
        found.setdefault(key, value)  # the first value of a repeated key, body before query
    return found


def webhook_items(fmt: PayloadFormat, items: str | None, body: bytes, query: Sequence[tuple[str, str]]) -> list[Any]:
    """What `fields` are read in: the whole payload, or with `items` (a JMESPath naming a list in
    a JSON payload) each element of that list."""
    document = payload_document(fmt, body, query)
    if items is None:
        return [document]
    if fmt != "json":
        raise PayloadError("`items` needs a JSON payload")
    try:
        found = jmespath.search(items, document)
    except JMESPathError:
        raise PayloadError(f"`items` ({items!r}) cannot be evaluated on the payload") from None
    if not isinstance(found, list):
        raise PayloadError(f"`items` ({items!r}) names no list in the payload")
    if len(found) > MAX_ITEMS:
        raise PayloadError(f"the payload has {len(found)} items; at most {MAX_ITEMS} are taken in one call")
    return found


def fields_of(fmt: PayloadFormat, fields: Mapping[str, str], document: Any) -> dict[str, str | None]:
    """Each mapped field's value in one document (the payload or one item), as text; a value
    longer than FIELD_MAX_CHARS allows refuses it, naming the field."""
    values: dict[str, str | None] = {}
    for name, where in fields.items():
        if fmt == "json":
            try:
                raw = jmespath.search(where, document)
            except JMESPathError:
                raise PayloadError(f"field {name!r}: the expression cannot be evaluated") from None
        else:
            raw = document.get(where) if isinstance(document, Mapping) else None
        values[name] = _limited(name, where, _text(raw))
    return values


def _limited(name: str, where: str, value: str | None) -> str | None:
    if value is None:
        return None
    if name == "error":
        return value if len(value) <= ERROR_MAX_CHARS else value[:ERROR_MAX_CHARS - 1] + "…"
    limit = FIELD_MAX_CHARS.get(name, MAX_FIELD_CHARS)
    if len(value) > limit:
        raise PayloadError(f"field {name!r} ({where[:64]!r}) is longer than {limit} characters")
    return value


def _json_document(body: bytes) -> Any:
    if not body.strip():
        raise PayloadError("the body is empty; a JSON document was expected")
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PayloadError("the body is not valid JSON") from None


def _form_pairs(body: bytes) -> list[tuple[str, str]]:
    if not body.strip():
        return []
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=1000)
    except UnicodeDecodeError:
        raise PayloadError("the form body is not UTF-8") from None
    except ValueError:
        raise PayloadError("the form body has too many fields") from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (ValueError, RecursionError):  # NaN is fine; deep nesting was refused at parsing
            raise PayloadError("a field holds a value that cannot be read as text") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape: no store would take it
        raise PayloadError("a field is not valid Unicode text") from None
    return text


def _time(value: str | None, name: str) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError, OSError):
        raise PayloadError(f"field {name!r} is not a time") from None


def parse_inbound_sms(spec: InboundSpec, body: bytes, query: Sequence[tuple[str, str]]) -> InboundSms:
    return inbound_sms_of(spec, payload_document(spec.format, body, query))


def inbound_sms_of(spec: InboundSpec, document: Any) -> InboundSms:
    """One inbound SMS from the payload, or from one of its `items`."""
    values = fields_of(spec.format, spec.fields, document)
    sender = (values.get("from") or "").strip()
    if not sender:
        raise PayloadError(f"the sender ({spec.fields.get('from', 'from')!r}) is missing")
    recipient = (values.get("to") or "").strip() or None
    return InboundSms(sender=sender, recipient=recipient, text=values.get("text") or "",
                      provider_message_id=(values.get("id") or "").strip() or None,
                      sent_at=_time(values.get("timestamp"), "timestamp"))


def parse_delivery_receipt(status: StatusSpec, inbound_format: PayloadFormat, body: bytes,
                           query: Sequence[tuple[str, str]]) -> DeliveryReceipt:
    fmt = status.format or inbound_format
    return delivery_receipt_of(status, fmt, payload_document(fmt, body, query))


def delivery_receipt_of(status: StatusSpec, fmt: PayloadFormat, document: Any) -> DeliveryReceipt:
    """One delivery receipt from the payload, or from one of its `items`."""
    values = fields_of(fmt, status.fields, document)
    message_id = (values.get("message_id") or "").strip()
    word = (values.get("status") or "").strip()
    if not message_id:
        raise PayloadError(f"the message id ({status.fields.get('message_id', 'id')!r}) is missing")
    if not word:
        raise PayloadError(f"the status ({status.fields.get('status', 'status')!r}) is missing")
    return DeliveryReceipt(provider_message_id=message_id, status_word=word,
                           error=(values.get("error") or "").strip() or None,
                           reported_at=_time(values.get("timestamp"), "timestamp"))


def map_status_word(status: StatusSpec, word: str) -> str | None:
    """`delivered`, `failed` or `sent` for the provider's word (exact, then case-insensitive), or None."""
    if word in status.map:
        return status.map[word]
    folded = word.casefold()
    for key, value in status.map.items():
        if key.casefold() == folded:
            return value
    return None
