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
    if fmt == "json":
        document = _json_document(body)
        values = {}
        for name, expression in fields.items():
            try:
                values[name] = _text(jmespath.search(expression, document))
            except JMESPathError:
                raise PayloadError(f"field {name!r}: the expression cannot be evaluated") from None
        return values
    pairs = list(query) if fmt == "query" else _form_pairs(body) + list(query)
    found: dict[str, str] = {}
    for key, value in pairs:
        found.setdefault(key, value)  # the first value of a repeated key, body before query
    return {name: _text(found.get(key)) for name, key in fields.items()}


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
        text = json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_FIELD_CHARS:
        raise PayloadError("a field is too long")
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
    values = read_fields(spec.format, spec.fields, body, query)
    sender = (values.get("from") or "").strip()
    if not sender:
        raise PayloadError(f"the sender ({spec.fields.get('from', 'from')!r}) is missing")
    recipient = (values.get("to") or "").strip() or None
    return InboundSms(sender=sender, recipient=recipient, text=values.get("text") or "",
                      provider_message_id=(values.get("id") or "").strip() or None,
                      sent_at=_time(values.get("timestamp"), "timestamp"))


def parse_delivery_receipt(status: StatusSpec, inbound_format: PayloadFormat, body: bytes,
                           query: Sequence[tuple[str, str]]) -> DeliveryReceipt:
    values = read_fields(status.format or inbound_format, status.fields, body, query)
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
