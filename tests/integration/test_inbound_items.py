"""Webhooks that carry several delivery reports or inbound messages (`status.items`, `inbound.items`):
every item is applied, one item's problem does not stop the others, the answer counts them.

Messages are first sent through the send function to a loopback provider speaking Infobip's or
BulkSMS's answer, so that receipts find them by the ids those providers gave. Payload shapes follow:
- Infobip delivery reports: https://www.infobip.com/docs/api/channels/sms/sms-messaging/logs-and-status-reports/receive-outbound-sms-message-report
- Infobip inbound SMS: https://www.infobip.com/docs/api/channels/sms/inbound-sms/receive-inbound-sms-messages
- BulkSMS webhooks: https://www.bulksms.com/developer/webhooks/ and the JSON v1 Message object
  (https://www.bulksms.com/developer/json/v1/swagger.yaml)
(Infobip's Python SDK checks the send request, from its own venv: test_sdk_wire_infobip.py.)"""
from __future__ import annotations

import itertools
import json
import time

import pytest

from smsbridge.core.presets import resolve_preset
from tests.support.apigw_events import api_event, put_provider
from tests.support.loopback import LoopbackProvider
from tests.support.stack import LambdaContext, moto_stack

HOOK_TOKEN = "hook-token-123"
NUMBERS = ["+33612345671", "+33612345672", "+33612345673"]


@pytest.fixture
def stack():
    with moto_stack("SendFunction") as stack:
        yield stack


@pytest.fixture
def provider_server():
    with LoopbackProvider() as server:
        yield server


@pytest.fixture
def infobip(stack, provider_server):
    """The Infobip preset pointed at the loopback server, which answers as Infobip's send API does."""
    ids = (f"ib-{n:04d}" for n in itertools.count(1))
    provider_server.on("/sms/2/text/advanced", lambda request: (200, {}, {
        "bulkId": "bulk-1", "messages": [{"messageId": next(ids), "to": request.json()["messages"][0]["destinations"][0]["to"],
                                          "status": {"groupId": 1, "groupName": "PENDING", "id": 26,
                                                     "name": "PENDING_ACCEPTED"}}]}))
    put_provider(resolve_preset({
        "id": "infobip", "preset": "infobip", "default_sender": "InfoSMS",
        "request": {"url": provider_server.url_for("/sms/2/text/advanced")},
        "auth": {"token": "api-key"}, "inbound": {"auth": {"token": HOOK_TOKEN}},
        "balance": {"url": provider_server.url_for("/account/1/balance")}}))
    return provider_server


@pytest.fixture
def bulksms(stack, provider_server):
    """The BulkSMS preset pointed at the loopback server, which answers as BulkSMS's POST /v1/messages does
    (ids as large JSON numbers, as BulkSMS writes them)."""
    ids = itertools.count(1674813649253834752)
    provider_server.on("/v1/messages", lambda request: (201, {}, (
        f'[{{"id": {next(ids)}, "type": "SENT", "from": "ACME", "to": "{request.json()["to"]}", '
        f'"body": "x", "status": {{"id": "ACCEPTED.null", "type": "ACCEPTED", "subtype": null}}}}]').encode()))
    put_provider(resolve_preset({
        "id": "bulksms", "preset": "bulksms", "default_sender": "ACME",
        "request": {"url": provider_server.url_for("/v1/messages") + "?auto-unicode=true"},
        "auth": {"username": "token-id", "password": "token-secret"}, "inbound": {"auth": {"token": HOOK_TOKEN}},
        "balance": {"url": provider_server.url_for("/v1/profile")}}))
    return provider_server


def send_three(stack, provider_id: str) -> dict[str, str]:
    """Three messages through the send function; returns our message id → the provider's id."""
    from send_handler import lambda_handler
    from smsbridge.wiring import message_store

    for n, number in enumerate(NUMBERS):
        stack.enqueue({"id": f"{provider_id}-m{n}", "provider": provider_id, "to": number, "text": f"hello {n}",
                       "sender": "ACME"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(stack.dead_letters()) == 0:
        records = stack.receive()
        if not records:
            break
        stack.deliver(records, lambda_handler)
    sent = {}
    for n in range(3):
        item = message_store().get(f"{provider_id}-m{n}")
        assert item["status"] == "sent", item
        sent[f"{provider_id}-m{n}"] = item["history"][-1]["answer"]["message_id"]
    return sent


def webhook(path: str, document, token: str = HOOK_TOKEN) -> dict:
    import inbound_handler

    event = api_event("POST", path, body=json.dumps(document).encode(), query=[("token", token)],
                      headers={"Content-Type": "application/json"})
    answer = inbound_handler.lambda_handler(event, LambdaContext())
    return {"status": answer["statusCode"], "body": json.loads(answer["body"])}


def status_of(message_id: str) -> str:
    from smsbridge.wiring import message_store

    return message_store().get(message_id)["status"]


def infobip_report(provider_message_id: str, to: str, group: str, error: str = "NO_ERROR") -> dict:
    return {"bulkId": "bulk-1", "messageId": provider_message_id, "to": to.lstrip("+"),
            "sentAt": "2026-11-30T10:00:00.000+0000", "doneAt": "2026-11-30T10:00:05.000+0000", "smsCount": 1,
            "price": {"pricePerMessage": 0.01, "currency": "EUR"},
            "status": {"groupId": 3, "groupName": group, "id": 5, "name": f"{group}_X", "description": "..."},
            "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": error, "description": "", "permanent": False}}


def bulksms_message(provider_message_id: str, to: str, status_type: str, subtype: str | None = None) -> dict:
    return {"id": provider_message_id, "type": "SENT", "from": "ACME", "to": to, "body": "hello",
            "encoding": "TEXT", "protocolId": 0, "messageClass": 2, "numberOfParts": 1, "creditCost": 1,
            "submission": {"id": "1-00000000000522347562", "date": "2026-11-30T10:00:00Z"},
            "status": {"id": f"{status_type}.{subtype}", "type": status_type, "subtype": subtype},
            "relatedSentMessageId": None, "userSuppliedId": None}


# ---------------------------------------------------------------- Must show (issue 9, item 5)

def test_given_three_infobip_messages_sent_when_one_report_webhook_carries_three_results_then_all_three_move(
        stack, infobip):
    sent = send_three(stack, "infobip")
    ids = list(sent)

    answer = webhook("/status/infobip", {"results": [
        infobip_report(sent[ids[0]], NUMBERS[0], "DELIVERED"),
        infobip_report(sent[ids[1]], NUMBERS[1], "UNDELIVERABLE", "EC_ABSENT_SUBSCRIBER"),
        infobip_report(sent[ids[2]], NUMBERS[2], "DELIVERED"),
    ]})

    assert answer == {"status": 200, "body": {"ok": True, "received": 3, "applied": 3}}
    assert [status_of(i) for i in ids] == ["delivered", "failed", "delivered"]
    from smsbridge.wiring import message_store
    assert "EC_ABSENT_SUBSCRIBER" in message_store().get(ids[1])["history"][-1]["reason"]


def test_given_three_bulksms_messages_sent_when_one_webhook_array_carries_three_then_all_three_move(stack, bulksms):
    sent = send_three(stack, "bulksms")
    ids = list(sent)
    # Large JSON numbers kept exact (the three are sent concurrently: which message got which is not fixed)
    assert sorted(sent.values()) == ["1674813649253834752", "1674813649253834753", "1674813649253834754"]

    answer = webhook("/status/bulksms", [
        bulksms_message(sent[ids[0]], NUMBERS[0], "DELIVERED"),
        bulksms_message(sent[ids[1]], NUMBERS[1], "DELIVERED"),
        bulksms_message(sent[ids[2]], NUMBERS[2], "FAILED", "BLOCKED"),
    ])

    assert answer == {"status": 200, "body": {"ok": True, "received": 3, "applied": 3}}
    assert [status_of(i) for i in ids] == ["delivered", "delivered", "failed"]


# ---------------------------------------------------------------- one item's problem, the others applied

def test_given_reports_with_an_unknown_id_an_unmapped_word_and_a_missing_id_then_the_others_are_applied(
        stack, infobip):
    sent = send_three(stack, "infobip")
    ids = list(sent)
    missing_id = infobip_report("x", NUMBERS[0], "DELIVERED")
    del missing_id["messageId"]

    answer = webhook("/status/infobip", {"results": [
        infobip_report("never-sent", NUMBERS[0], "DELIVERED"),
        infobip_report(sent[ids[0]], NUMBERS[0], "DELIVERED"),
        infobip_report(sent[ids[1]], NUMBERS[1], "SOMETHING_NEW"),
        missing_id,
        infobip_report(sent[ids[2]], NUMBERS[2], "EXPIRED"),
    ]})

    assert answer["status"] == 200
    assert answer["body"]["received"] == 5 and answer["body"]["applied"] == 2
    assert answer["body"]["notes"] == ["item 0: unknown message id: ignored",
                                       "item 2: status word not in status.map: ignored",
                                       "item 3: the message id ('messageId') is missing"]
    assert [status_of(i) for i in ids] == ["delivered", "sent", "failed"]


def test_given_the_same_report_webhook_twice_then_the_second_applies_nothing_new_and_says_so(stack, bulksms):
    sent = send_three(stack, "bulksms")
    document = [bulksms_message(pmid, number, "DELIVERED") for pmid, number in zip(sent.values(), NUMBERS)]

    first, second = webhook("/status/bulksms", document), webhook("/status/bulksms", document)

    assert first["body"]["applied"] == 3
    assert second["status"] == 200 and second["body"]["applied"] == 0
    assert all("does not move back" in note for note in second["body"]["notes"])


@pytest.mark.parametrize(("document", "reason"), [
    ({"results": "not a list"}, "names no list"),
    ({"something": []}, "names no list"),
    ({"results": [{"status": {"groupName": "DELIVERED"}}, {"messageId": "a"}]}, "no item could be read"),
    ({"results": [{"messageId": "m" * 201, "status": {"groupName": "DELIVERED"}}]}, "'message_id'"),
    ({"results": [{"messageId": "a", "status": {"groupName": "DELIVERED"}}] * 1001}, "at most 1000"),
])
def test_given_a_report_webhook_with_no_readable_item_then_400_with_the_reason(stack, infobip, document, reason):
    answer = webhook("/status/infobip", document)
    assert answer["status"] == 400
    assert reason in answer["body"]["message"]


def test_given_an_empty_results_list_then_200_with_nothing_applied(stack, infobip):
    assert webhook("/status/infobip", {"results": []}) == {"status": 200,
                                                           "body": {"ok": True, "received": 0, "applied": 0}}


def test_given_a_wrong_token_then_no_item_is_applied(stack, infobip):
    sent = send_three(stack, "infobip")
    answer = webhook("/status/infobip", {"results": [infobip_report(p, n, "DELIVERED")
                                                     for p, n in zip(sent.values(), NUMBERS)]}, token="guess")
    assert answer["status"] == 403
    assert [status_of(i) for i in sent] == ["sent", "sent", "sent"]


# ---------------------------------------------------------------- inbound messages

def infobip_inbound(message_id: str, sender: str, text: str, to: str = "41793026727") -> dict:
    return {"messageId": message_id, "from": sender, "to": to, "text": text, "cleanText": text, "keyword": "",
            "receivedAt": "2026-11-30T10:00:00.000+0000", "smsCount": 1,
            "price": {"pricePerMessage": 0, "currency": "EUR"}, "callbackData": None}


def test_given_one_infobip_webhook_with_three_inbound_messages_then_each_is_applied(stack, infobip):
    answer = webhook("/inbound/infobip", {"results": [
        infobip_inbound("mo-1", "33612345671", "STOP"),
        infobip_inbound("mo-2", "33612345672", "Is my order ready?"),
        infobip_inbound("mo-3", "33612345673", "help"),
    ], "messageCount": 3, "pendingMessageCount": 0})

    assert answer == {"status": 200, "body": {"ok": True, "received": 3, "applied": 3}}
    consent = stack.table("ConsentTable").get_item(Key={"provider": "infobip", "phone": "+33612345671"})["Item"]
    assert consent["state"] == "opted_out"
    [stored] = stack.scan("InboundTable")
    assert (stored["id"], stored["from"], stored["text"]) == ("infobip#mo-2", "+33612345672", "Is my order ready?")
    replies = sorted(stack.queued(), key=lambda r: r["to"])
    assert [(r["to"], r["sender"]) for r in replies] == [("+33612345671", "41793026727"), ("+33612345673", "41793026727")]


def test_given_one_bulksms_webhook_with_three_inbound_messages_in_either_documented_shape_then_each_is_stored(
        stack, bulksms):
    received = {"type": "RECEIVED", "encoding": "TEXT", "protocolId": 0, "messageClass": 0,
                "submission": {"id": "1-1", "date": "2026-11-30T10:00:00Z"},
                "status": {"id": "RECEIVED.null", "type": "RECEIVED", "subtype": None}}
    answer = webhook("/inbound/bulksms", [
        {**received, "id": "9001", "from": "+33612345671", "to": "+44700000000", "body": "first"},
        {**received, "id": "9002", "from": {"type": "INTERNATIONAL", "address": "+33612345672"},
         "to": {"type": "INTERNATIONAL", "address": "+44700000000"}, "body": {"value": "second", "encoding": {"type": "TEXT"}}},
        {**received, "id": "9003", "from": "+33612345673", "to": "+44700000000", "body": "third"},
    ])

    assert answer == {"status": 200, "body": {"ok": True, "received": 3, "applied": 3}}
    stored = {item["id"]: (item["from"], item["text"]) for item in stack.scan("InboundTable")}
    assert stored == {"bulksms#9001": ("+33612345671", "first"), "bulksms#9002": ("+33612345672", "second"),
                      "bulksms#9003": ("+33612345673", "third")}


def test_given_an_inbound_item_without_a_sender_then_the_others_are_stored_and_the_answer_says_which(stack, infobip):
    no_sender = infobip_inbound("mo-2", "", "lost")
    answer = webhook("/inbound/infobip", {"results": [infobip_inbound("mo-1", "33612345671", "one"), no_sender,
                                                      infobip_inbound("mo-3", "33612345673", "three")]})
    assert answer["status"] == 200
    assert (answer["body"]["received"], answer["body"]["applied"]) == (3, 2)
    assert answer["body"]["notes"] == ["item 1: the sender ('from') is missing"]
    assert sorted(i["id"] for i in stack.scan("InboundTable")) == ["infobip#mo-1", "infobip#mo-3"]


# ---------------------------------------------------------------- the auto-reply's sender stays valid (SPEC 2)

@pytest.mark.parametrize(("to", "expected_sender"), [
    ("41793026727", "41793026727"),            # a number as the provider wrote it
    ("+41 79 302 67 27", "+41793026727"),      # with spaces: normalised to E.164
    ("Our shop line", "InfoSMS"),              # not a sender networks take: the provider's default sender
    ("", "InfoSMS"),
])
def test_given_stop_sent_to_any_recipient_form_then_the_auto_reply_has_a_valid_sender(stack, infobip, to,
                                                                                        expected_sender):
    assert webhook("/inbound/infobip", {"results": [infobip_inbound("mo-9", "33612345671", "STOP", to=to)]})[
        "status"] == 200
    [reply] = stack.queued()
    assert reply["sender"] == expected_sender
