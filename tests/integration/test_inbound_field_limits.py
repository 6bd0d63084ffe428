"""Inbound fields longer than storage takes answer 4xx naming the field, never 5xx (moto, the inbound handler).

Before the limits, a signed inbound message with a 5 KB id answered 502: the id is part of the inbound
table's partition key (`<provider>#<id>`, 2,048 bytes at most) and of the consent history's sort key
(`<time>#<id>`, 1,024 bytes at most)."""
from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from smsbridge.core.inbound_parse import ERROR_MAX_CHARS, FIELD_MAX_CHARS
from smsbridge.core.signatures import hmac_signature, twilio_signature
from tests.support.apigw_events import api_event, public_url, put_provider
from tests.support.stack import LambdaContext, moto_stack

SECRET = "limits-secret"
PERSON = "+33612345678"
WIDE = "🎉"  # four bytes in UTF-8: the worst case for a DynamoDB key's byte limit
SIGNED = {
    "id": "signed", "default_sender": "ACME",
    "request": {"url": "https://sms.example.com/x", "body": {"to": "{{to}}", "text": "{{text}}"}},
    "inbound": {"auth": {"type": "hmac", "secret": SECRET, "timestamp_header": "X-Timestamp"}, "format": "json",
                "fields": {"from": "from", "to": "to", "text": "text", "id": "id", "timestamp": "at"}},
    "status": {"fields": {"message_id": "id", "status": "status", "error": "error"},
               "map": {"ok": "delivered", "DELIVERED": "delivered"}},
}
TWILIO = {
    "id": "twilio", "request": {"url": "https://api.twilio.com/x", "body": {"to": "{{to}}", "text": "{{text}}"}},
    "auth": {"type": "basic", "username": "AC1", "password": "tok"},
    "inbound": {"auth": {"type": "twilio"}, "fields": {"from": "From", "to": "To", "text": "Body", "id": "MessageSid"}},
}


@pytest.fixture
def stack():
    with moto_stack("InboundFunction") as stack:
        put_provider(SIGNED)
        put_provider(TWILIO)
        yield stack


def signed(path: str, document: dict) -> dict:
    import inbound_handler

    body = json.dumps(document).encode()
    stamp = str(int(time.time()))
    event = api_event("POST", path, body=body, headers={
        "X-Timestamp": stamp, "X-Signature": hmac_signature(SECRET, stamp.encode() + b"." + body)})
    answer = inbound_handler.lambda_handler(event, LambdaContext())
    return {"status": answer["statusCode"], "body": json.loads(answer["body"])}


def seed_sent(provider_message_id: str) -> str:
    from smsbridge.adapters.store import provider_ref
    from smsbridge.models.status import MessageStatus, StatusChange
    from smsbridge.wiring import message_store

    message_store().create("msg-1", StatusChange(status=MessageStatus.SENT, at="2026-11-30T10:00:00+00:00"),
                           provider="signed", to=PERSON, provider_ref=provider_ref("signed", provider_message_id))
    return "msg-1"


INBOUND = {"from": PERSON, "to": "+33757000000", "text": "hello", "id": "m-1"}
INBOUND_KEYS = {"from": "from", "to": "to", "text": "text", "id": "id", "timestamp": "at"}


@pytest.mark.parametrize("field", ["id", "from", "to", "text", "timestamp"])
def test_given_an_inbound_field_one_character_too_long_then_400_naming_the_field_and_nothing_written(stack, field):
    limit = FIELD_MAX_CHARS[field]
    before = stack.snapshot()

    answer = signed("/inbound/signed", {**INBOUND, INBOUND_KEYS[field]: "7" * (limit + 1)})

    assert answer["status"] == 400
    assert f"field {field!r}" in answer["body"]["message"] and str(limit) in answer["body"]["message"]
    assert stack.snapshot() == before


def test_given_the_5kb_id_of_the_issue_then_400_not_502(stack):
    answer = signed("/inbound/signed", {**INBOUND, "id": "x" * 5_000})
    assert answer["status"] == 400 and "'id'" in answer["body"]["message"]


@pytest.mark.parametrize("text", ["STOP", "Is my order ready?"], ids=["keyword: consent history", "message: inbox"])
def test_given_every_inbound_field_at_its_limit_in_four_byte_characters_then_it_is_stored(stack, text):
    # The id is in the keys of both the inbox and the consent history: at its limit, in the widest
    # characters, it must still fit them.
    document = {"from": PERSON, "to": "+33757000000", "text": text + WIDE * (FIELD_MAX_CHARS["text"] - 40),
                "id": WIDE * FIELD_MAX_CHARS["id"]}
    if text == "STOP":
        document["text"] = "STOP"

    answer = signed("/inbound/signed", document)

    assert answer["status"] == 200
    if text == "STOP":
        [entry] = [e for e in stack.scan("ConsentHistoryTable") if e.get("keyword") == "STOP"]
        assert entry["event"].endswith(WIDE * FIELD_MAX_CHARS["id"])
    else:
        [stored] = stack.scan("InboundTable")
        assert stored["id"] == "signed#" + WIDE * FIELD_MAX_CHARS["id"]


def test_given_a_sender_at_its_limit_that_is_not_a_number_then_it_is_stored_as_given(stack):
    sender = "S" * FIELD_MAX_CHARS["from"]
    assert signed("/inbound/signed", {**INBOUND, "from": sender})["status"] == 200
    [stored] = stack.scan("InboundTable")
    assert stored["from"] == sender


@pytest.mark.parametrize(("field", "key"), [("message_id", "id"), ("status", "status")])
def test_given_a_receipt_field_one_character_too_long_then_400_naming_it_and_the_message_unchanged(stack, field, key):
    message_id = seed_sent("p-1")
    document = {"id": "p-1", "status": "ok", key: "7" * (FIELD_MAX_CHARS[field] + 1)}

    answer = signed("/status/signed", document)

    assert answer["status"] == 400 and f"field {field!r}" in answer["body"]["message"]
    assert stack.table("MessagesTable").get_item(Key={"id": message_id})["Item"]["status"] == "sent"


def test_given_a_receipt_with_a_provider_id_at_its_limit_in_four_byte_characters_then_it_applies(stack):
    message_id = seed_sent(WIDE * FIELD_MAX_CHARS["message_id"])
    answer = signed("/status/signed", {"id": WIDE * FIELD_MAX_CHARS["message_id"], "status": "ok"})
    assert answer == {"status": 200, "body": {"ok": True}}
    assert stack.table("MessagesTable").get_item(Key={"id": message_id})["Item"]["status"] == "delivered"


def test_given_a_very_long_error_then_the_receipt_applies_with_the_error_cut(stack):
    message_id = seed_sent("p-2")

    answer = signed("/status/signed", {"id": "p-2", "status": "ok", "error": "E" * 50_000})

    assert answer["status"] == 200
    reason = stack.table("MessagesTable").get_item(Key={"id": message_id})["Item"]["history"][-1]["reason"]
    assert "E" * (ERROR_MAX_CHARS - 1) + "…" in reason
    assert len(reason) < ERROR_MAX_CHARS + 100


def test_given_a_form_webhook_with_a_5kb_message_sid_then_400_naming_the_field(stack):
    import inbound_handler

    params = [("From", PERSON), ("To", "+33757000000"), ("Body", "hi"), ("MessageSid", "S" * 5_000)]
    event = api_event("POST", "/inbound/twilio", body=urlencode(params), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature("tok", public_url("/inbound/twilio"), params)})
    answer = inbound_handler.lambda_handler(event, LambdaContext())
    assert answer["statusCode"] == 400
    assert "field 'id' ('MessageSid')" in json.loads(answer["body"])["message"]
