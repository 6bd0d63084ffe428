"""Reading inbound SMS and delivery receipts with a provider's field mapping: form, query or JSON payloads,
one or many items, each field's length limit, and the clear refusals a provider's bad webhook gets."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from smsbridge.core.inbound_parse import (
    DeliveryReceipt,
    InboundSms,
    PayloadError,
    delivery_receipt_of,
    fields_of,
    map_status_word,
    parse_delivery_receipt,
    parse_inbound_sms,
    read_fields,
    webhook_items,
)
from smsbridge.models.provider import InboundSpec, StatusSpec

NONE = {"type": "none"}
SIGNED_AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def inbound(**fields) -> InboundSpec:
    return InboundSpec.model_validate({"auth": NONE, **fields})


# ---------------------------------------------------------------- where the fields are read

def test_given_a_form_webhook_when_read_then_the_body_wins_over_the_query_and_the_first_repeat_is_taken():
    body = urlencode([("from", "+33612345678"), ("text", "STOP"), ("text", "later"), ("to", "")]).encode()

    values = read_fields("form", {"from": "from", "to": "to", "text": "text", "id": "id"}, body,
                         [("from", "+1999"), ("id", "SM1")])

    assert values == {"from": "+33612345678", "to": "", "text": "STOP", "id": "SM1"}


def test_given_a_query_webhook_when_read_then_the_body_is_ignored():
    values = read_fields("query", {"from": "msisdn"}, b"msisdn=%2B1999", [("msisdn", "+33612345678")])

    assert values == {"from": "+33612345678"}


def test_given_a_json_webhook_when_read_then_each_field_is_a_jmespath_and_values_become_text():
    body = json.dumps({"msg": {"from": 33612345678, "flash": True, "parts": [1, "é"], "none": None,
                               "rate": 0.5}}).encode()

    values = read_fields("json", {"from": "msg.from", "to": "msg.flash", "text": "msg.parts", "id": "msg.none",
                                  "timestamp": "msg.rate"}, body, [])

    assert values == {"from": "33612345678", "to": "true", "text": '[1, "é"]', "id": None, "timestamp": "0.5"}


@pytest.mark.parametrize(("body", "reason"), [
    (b"", "the body is empty; a JSON document was expected"),
    (b"  \n", "the body is empty; a JSON document was expected"),
    (b"{", "the body is not valid JSON"),
    (b'{"from": "\xff"}', "the body is not valid JSON"),
    (b"[" * 100_000, "the body is not valid JSON"),
])
def test_given_a_json_webhook_that_is_empty_or_not_json_when_read_then_it_is_refused_saying_so(body, reason):
    with pytest.raises(PayloadError, match=f"^{reason}$"):
        read_fields("json", {"from": "from"}, body, [])


@pytest.mark.parametrize(("body", "reason"), [(b"from=\xff", "the form body is not UTF-8"),
                                              (b"&".join(b"k%d=v" % i for i in range(1001)),
                                               "the form body has too many fields")])
def test_given_a_form_that_is_not_utf8_or_too_big_when_read_then_it_is_refused_saying_so(body, reason):
    with pytest.raises(PayloadError, match=f"^{reason}$"):
        read_fields("form", {"from": "from"}, body, [])


def test_given_a_form_of_1000_fields_when_read_then_it_is_taken():
    body = b"&".join(b"k%d=v%d" % (i, i) for i in range(1000))

    assert read_fields("form", {"from": "k999"}, body, []) == {"from": "v999"}


def test_given_a_json_field_that_holds_a_lone_surrogate_when_read_then_it_is_refused():
    with pytest.raises(PayloadError, match="^a field is not valid Unicode text$"):
        read_fields("json", {"text": "text"}, b'{"text": "\\ud800"}', [])


def test_given_a_field_expression_that_fails_on_the_payload_when_read_then_the_field_is_named():
    with pytest.raises(PayloadError, match="^field 'text': the expression cannot be evaluated$"):
        read_fields("json", {"text": "abs(text)"}, b'{"text": "hi"}', [])


# ---------------------------------------------------------------- several items in one webhook

def test_given_a_json_webhook_with_items_when_split_then_each_element_is_one_item():
    body = json.dumps({"results": [{"from": "+1"}, {"from": "+2"}]}).encode()

    assert webhook_items("json", "results", body, []) == [{"from": "+1"}, {"from": "+2"}]
    assert webhook_items("json", None, body, []) == [json.loads(body)]
    assert webhook_items("form", None, b"a=1", [("b", "2")]) == [{"a": "1", "b": "2"}]


@pytest.mark.parametrize(("fmt", "items", "body", "reason"), [
    ("form", "results", b"a=1", "`items` needs a JSON payload"),
    ("json", "results", b'{"results": {"from": "+1"}}', "`items` ('results') names no list in the payload"),
    ("json", "abs(results)", b'{"results": "x"}', "`items` ('abs(results)') cannot be evaluated on the payload"),
    ("json", "r", json.dumps({"r": [{}] * 1001}).encode(),
     "the payload has 1001 items; at most 1000 are taken in one call"),
])
def test_given_items_that_cannot_be_taken_when_split_then_the_webhook_is_refused_saying_why(fmt, items, body, reason):
    with pytest.raises(PayloadError) as refused:
        webhook_items(fmt, items, body, [])
    assert str(refused.value) == reason


def test_given_exactly_1000_items_when_split_then_all_are_taken():
    assert len(webhook_items("json", "r", json.dumps({"r": [{}] * 1000}).encode(), [])) == 1000


# ---------------------------------------------------------------- length limits

@pytest.mark.parametrize(("name", "limit"), [("id", 200), ("from", 64), ("to", 64), ("timestamp", 64),
                                             ("text", 10_000)])
def test_given_a_value_at_and_past_its_fields_limit_when_read_then_only_the_longer_one_is_refused(name, limit):
    assert read_fields("query", {name: "k"}, b"", [("k", "x" * limit)]) == {name: "x" * limit}
    with pytest.raises(PayloadError) as refused:
        read_fields("query", {name: "k"}, b"", [("k", "x" * (limit + 1))])
    assert str(refused.value) == f"field {name!r} ('k') is longer than {limit} characters"


def test_given_a_long_provider_error_when_read_then_it_is_cut_to_200_characters_with_an_ellipsis():
    assert read_fields("query", {"error": "e"}, b"", [("e", "x" * 200)]) == {"error": "x" * 200}
    assert read_fields("query", {"error": "e"}, b"", [("e", "x" * 201)]) == {"error": "x" * 199 + "…"}


# ---------------------------------------------------------------- inbound SMS and receipts

def test_given_an_inbound_sms_when_parsed_then_sender_recipient_text_id_and_time_are_taken_trimmed():
    spec = inbound(fields={"from": "From", "to": "To", "text": "Body", "id": "Sid", "timestamp": "At"})
    body = urlencode({"From": " +33612345678 ", "To": " ", "Body": " STOP ", "Sid": " SM1 ",
                      "At": "2026-11-21T12:00:00Z"}).encode()

    assert parse_inbound_sms(spec, body, []) == InboundSms(sender="+33612345678", recipient=None, text=" STOP ",
                                                           provider_message_id="SM1", sent_at=SIGNED_AT)


@pytest.mark.parametrize("sender", ["", "   "])
def test_given_an_inbound_sms_without_a_sender_when_parsed_then_it_is_refused_naming_the_key(sender):
    spec = inbound(fields={"from": "msisdn", "text": "text"})

    with pytest.raises(PayloadError) as refused:
        parse_inbound_sms(spec, urlencode({"msisdn": sender, "text": "hi"}).encode(), [])
    assert str(refused.value) == "the sender ('msisdn') is missing"


@pytest.mark.parametrize(("stamp", "expected"), [("", None), ("  ", None), (None, None)])
def test_given_an_inbound_sms_with_an_empty_or_no_time_when_parsed_then_it_has_none(stamp, expected):
    spec = inbound(fields={"from": "from", "timestamp": "at"})
    pairs = [("from", "+1")] + ([("at", stamp)] if stamp is not None else [])

    assert parse_inbound_sms(spec, urlencode(pairs).encode(), []).sent_at is expected


def test_given_an_inbound_sms_whose_time_is_not_a_time_when_parsed_then_the_field_is_named():
    spec = inbound(fields={"from": "from", "timestamp": "at"})

    with pytest.raises(PayloadError, match="^field 'timestamp' is not a time$"):
        parse_inbound_sms(spec, b"from=%2B1&at=soon", [])


def test_given_a_delivery_receipt_when_parsed_then_id_status_error_and_time_are_taken_in_the_status_format():
    status = StatusSpec(format="json", fields={"message_id": "id", "status": "s", "error": "e", "timestamp": "t"})
    body = json.dumps({"id": " M1 ", "s": " DELIVRD ", "e": " ", "t": int(SIGNED_AT.timestamp()) * 1000}).encode()

    assert parse_delivery_receipt(status, "form", body, []) == DeliveryReceipt(
        provider_message_id="M1", status_word="DELIVRD", error=None, reported_at=SIGNED_AT)


def test_given_a_receipt_without_its_own_format_when_parsed_then_the_inbound_format_is_used():
    receipt = parse_delivery_receipt(StatusSpec(), "query", b"", [("id", "M1"), ("status", "ok"), ("error", "x")])

    assert (receipt.provider_message_id, receipt.status_word, receipt.error) == ("M1", "ok", "x")


@pytest.mark.parametrize(("document", "reason"), [({"status": "ok"}, "the message id ('msgid') is missing"),
                                                  ({"msgid": "M1", "status": " "}, "the status ('st') is missing")])
def test_given_a_receipt_without_id_or_status_when_read_then_it_is_refused_naming_the_key(document, reason):
    status = StatusSpec(fields={"message_id": "msgid", "status": "st"})

    with pytest.raises(PayloadError) as refused:
        delivery_receipt_of(status, "form", {k.replace("status", "st"): v for k, v in document.items()})
    assert str(refused.value) == reason


@pytest.mark.parametrize(("word", "mapped"), [("DELIVRD", "delivered"), ("delivrd", "delivered"),
                                              ("Undeliv", "failed"), ("ACCEPTD", None)])
def test_given_a_status_word_when_mapped_then_an_exact_then_a_case_insensitive_match_gives_the_status(word, mapped):
    status = StatusSpec(map={"DELIVRD": "delivered", "UNDELIV": "failed", "undeliv": "sent"})

    assert map_status_word(status, word) == mapped


# ---------------------------------------------------------------- absent fields, default keys, nested receipts

def test_given_an_inbound_sms_without_to_text_or_id_when_parsed_then_they_are_empty_not_made_up():
    spec = inbound(fields={"from": "msisdn", "to": "to", "text": "text", "id": "id"})

    sms = parse_inbound_sms(spec, b"msisdn=%2B33612345678", [])

    assert (sms.recipient, sms.text, sms.provider_message_id) == (None, "", None)


def test_given_a_mapping_without_a_sender_key_when_a_webhook_has_none_then_the_default_key_is_named():
    with pytest.raises(PayloadError) as refused:
        parse_inbound_sms(inbound(fields={"text": "text"}), b"text=hi", [])
    assert str(refused.value) == "the sender ('from') is missing"


@pytest.mark.parametrize(("fields", "reason"), [({"status": "s"}, "the message id ('id') is missing"),
                                                ({"message_id": "m"}, "the status ('status') is missing")])
def test_given_a_status_mapping_without_a_key_when_a_receipt_lacks_it_then_the_default_key_is_named(fields, reason):
    with pytest.raises(PayloadError) as refused:
        delivery_receipt_of(StatusSpec(fields=fields), "form", {"s": "DELIVRD", "m": "M1"})
    assert str(refused.value) == reason


def test_given_a_receipt_without_a_status_field_at_all_when_read_then_it_is_refused_naming_the_key():
    with pytest.raises(PayloadError) as refused:
        delivery_receipt_of(StatusSpec(fields={"message_id": "id", "status": "st"}), "form", {"id": "M1"})
    assert str(refused.value) == "the status ('st') is missing"


def test_given_a_json_receipt_with_nested_fields_and_no_error_when_parsed_then_the_paths_are_followed():
    status = StatusSpec(format="json", fields={"message_id": "data.id", "status": "data.state", "error": "data.err"})
    body = json.dumps({"data": {"id": "M1", "state": "DELIVRD"}}).encode()

    assert parse_delivery_receipt(status, "form", body, []) == DeliveryReceipt(
        provider_message_id="M1", status_word="DELIVRD", error=None, reported_at=None)


def test_given_a_receipt_whose_time_is_not_a_time_when_parsed_then_the_field_is_named():
    status = StatusSpec(fields={"message_id": "id", "status": "s", "timestamp": "t"})

    with pytest.raises(PayloadError) as refused:
        parse_delivery_receipt(status, "form", b"id=M1&s=ok&t=soon", [])
    assert str(refused.value) == "field 'timestamp' is not a time"


def test_given_a_long_value_under_a_long_key_when_refused_then_the_key_is_quoted_cut_to_64_characters():
    key = "k" * 70
    with pytest.raises(PayloadError) as refused:
        read_fields("query", {"from": key}, b"", [(key, "x" * 65)])
    assert str(refused.value) == f"field 'from' ({'k' * 64!r}) is longer than 64 characters"


def test_given_a_form_mapping_and_a_document_that_is_no_mapping_when_read_then_the_fields_are_absent():
    assert fields_of("form", {"from": "from"}, ["from"]) == {"from": None}


def test_given_a_document_that_cannot_be_written_as_json_when_read_then_it_is_refused_saying_so():
    looped: list = []
    looped.append(looped)

    with pytest.raises(PayloadError) as refused:
        fields_of("json", {"text": "@"}, looped)
    assert str(refused.value) == "a field holds a value that cannot be read as text"
