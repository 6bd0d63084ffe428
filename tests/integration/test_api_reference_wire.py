"""Presets of providers without an official Python SDK we can run: each request, sent through the real
send path to a loopback server, has the shape the provider's API reference documents (each test's
docstring names the page, which the preset's `_source` cites too), and the documented answer is read."""
from __future__ import annotations

import json
from importlib.resources import files

from tests.support.sdk_wire import TRICKY_TEXT, SdkWireBench, WireFields, read_wire

TO, SENDER, MESSAGE_ID = "+447700900123", "ACME", "order-42.sms"
MESSAGE = {"id": MESSAGE_ID, "to": TO, "sender": SENDER, "text": TRICKY_TEXT}


def cited_pages(preset: str) -> list[str]:
    """The preset's `_source` entries, each a URL optionally followed by a remark."""
    document = json.loads((files("smsbridge") / "presets" / f"{preset}.json").read_text(encoding="utf-8"))
    return [entry.split()[0] for entry in document["_source"]]


def send(preset: str, document: dict, answer) -> tuple:
    with SdkWireBench(answer) as bench:
        return bench.send_preset(bench.provider_from_preset(preset, document), MESSAGE)


def test_given_the_clickatell_preset_when_sent_then_the_request_is_the_documented_one_api_send_messages():
    """https://guides.clickatell.com/clickatell-chat-commerce-platform/developer/channels/whatsapp-and-sms-one-api/api-reference/messages/send-messages
    (POST /v1/message, `Authorization: <API key>` with no scheme, 202 with messages[].apiMessageId)."""
    page = ("https://guides.clickatell.com/clickatell-chat-commerce-platform/developer/channels/"
            "whatsapp-and-sms-one-api/api-reference/messages/send-messages")
    answer = (202, {}, {"messages": [{"apiMessageId": "77fb29998253415fa5d66971d519d362", "accepted": True,
                                      "to": TO[1:], "error": None}], "error": None})

    request, outcome = send("clickatell", {"auth": {"token": "clickatell-key-1"}}, answer)

    assert page in cited_pages("clickatell")
    assert (request.method, request.path) == ("POST", "/v1/message")
    assert request.header("authorization") == "clickatell-key-1"
    sent = request.json()["messages"][0]
    assert {key: sent[key] for key in ("channel", "to", "content")} == {
        "channel": "sms", "to": TO[1:], "content": TRICKY_TEXT}
    assert (outcome.verdict, outcome.provider_message_id) == ("sent", "77fb29998253415fa5d66971d519d362")


def test_given_the_bulksms_preset_when_sent_then_the_request_is_the_documented_json_submission():
    """https://www.bulksms.com/developer/json/v1/ (POST /v1/messages?auto-unicode=true, Basic credentials,
    `to`/`from`/`body`, 201 with an array of messages)."""
    answer = (201, {}, [{"id": "1073741824", "type": "SENT", "from": SENDER, "to": TO, "body": TRICKY_TEXT,
                         "encoding": "UNICODE", "userSuppliedId": MESSAGE_ID,
                         "status": {"id": "ACCEPTED.null", "type": "ACCEPTED", "subtype": None}}])

    request, outcome = send("bulksms", {"auth": {"username": "bulk-token-id", "password": "bulk-token-secret"}}, answer)

    wire = read_wire(request, WireFields(recipient="to", sender='"from"', text="body"))
    assert "https://www.bulksms.com/developer/json/v1/" in cited_pages("bulksms")
    assert (request.method, request.path, request.args) == ("POST", "/v1/messages", {"auto-unicode": ["true"]})
    assert wire.credentials == {"basic.username": "bulk-token-id", "basic.password": "bulk-token-secret"}
    assert (wire.recipient_forms, wire.sender, wire.text) == ((TO,), SENDER, TRICKY_TEXT)
    assert wire.params["userSuppliedId"] == MESSAGE_ID
    assert (outcome.verdict, outcome.provider_message_id) == ("sent", "1073741824")


TEXTLOCAL_ANSWER = (200, {}, {
    "balance": 1162, "batch_id": 123456789, "cost": 2, "num_messages": 1,
    "message": {"num_parts": 1, "sender": SENDER, "content": TRICKY_TEXT}, "receipt_url": "", "custom": MESSAGE_ID,
    "messages": [{"id": "1151346216", "recipient": int(TO[1:])}], "status": "success"})
TEXTLOCAL_FIELDS = WireFields(recipient="numbers", sender="sender", text="message", credential_params=("apikey",))


def test_given_the_textlocal_preset_when_sent_then_the_request_is_the_documented_send_command():
    """https://api.txtlocal.com/docs/sendsms (POST https://api.txtlocal.com/send/, form parameters
    `numbers` in international format without "+", `sender`, `message`, `custom`; the answer's
    `status` is "success" and `messages[].id` the message's id)."""
    request, outcome = send("textlocal", {"secrets": {"apikey": "textlocal-key-1"}}, TEXTLOCAL_ANSWER)

    wire = read_wire(request, TEXTLOCAL_FIELDS)
    assert "https://api.txtlocal.com/docs/sendsms" in cited_pages("textlocal")
    assert (request.method, request.path, wire.body_format) == ("POST", "/send/", "form")
    assert (wire.recipient_forms, wire.sender, wire.text) == ((TO[1:],), SENDER, TRICKY_TEXT)
    assert wire.credentials == {"param.apikey": "textlocal-key-1"}
    assert wire.params["custom"] == MESSAGE_ID
    assert (outcome.verdict, outcome.provider_message_id) == ("sent", "1151346216")


def test_given_the_textlocal_preset_when_sent_by_post_then_the_api_key_is_in_the_body_as_documented():
    """https://api.txtlocal.com/docs/sendsms: the POST sample sends `apikey` among the form fields (only
    the GET sample puts parameters in the query string): the preset sends it as `{{secrets.apikey}}`."""
    request, _ = send("textlocal", {"secrets": {"apikey": "textlocal-key-1"}}, TEXTLOCAL_ANSWER)

    assert request.args.get("apikey") is None
    assert request.form["apikey"] == ["textlocal-key-1"]


def test_given_the_msg91_preset_when_sent_then_the_request_is_the_documented_flow_call():
    """https://docs.msg91.com/sms/send-sms (POST https://control.msg91.com/api/v5/flow/, `authkey` header,
    `template_id`, `short_url`, `recipients[].mobiles` in international format plus the template's
    variables; answer {"type": "success", "message": <request id>}). The older page
    https://control.msg91.com/apidoc/textsms/send-sms-flow.php documents the same call with `flow_id`."""
    answer = (200, {}, {"message": "5762846b4f8d285d378b4567", "type": "success"})
    document = {"auth": {"token": "msg91-authkey-1"}}

    with SdkWireBench(answer) as bench:
        provider = bench.provider_from_preset("msg91", document)
        request, outcome = bench.send_preset(provider, {**MESSAGE, "template_id": "64f0c2d1e4b0a1b2c3d4e5f6"})

    assert "https://docs.msg91.com/sms/send-sms" in cited_pages("msg91")
    assert (request.method, request.path) == ("POST", "/api/v5/flow/")
    assert request.header("authkey") == "msg91-authkey-1"
    assert request.json() == {"template_id": "64f0c2d1e4b0a1b2c3d4e5f6", "short_url": "0",
                              "recipients": [{"mobiles": TO[1:], "VAR1": TRICKY_TEXT}]}
    assert (outcome.verdict, outcome.provider_message_id) == ("sent", "5762846b4f8d285d378b4567")


def test_given_the_ino_cx_preset_when_sent_then_the_body_is_the_spec_6_json_format():
    """INO CX publishes no public API reference: the format is SPEC 6's `type, sender, to, retId,
    isUnicode, text, credits` (cited as such in the preset's `_source`), with a bearer token."""
    with SdkWireBench((200, {}, {"status": "accepted"})) as bench:
        provider = bench.provider_from_preset("ino-cx", {"auth": {"token": "ino-token-1"},
                                                         "request": {"url": "https://sms.example-ino.cx/sms"}})
        request, outcome = bench.send_preset(provider, MESSAGE)

    assert any("SPEC 6" in entry for entry in json.loads(
        (files("smsbridge") / "presets" / "ino-cx.json").read_text(encoding="utf-8"))["_source"])
    assert (request.method, request.path) == ("POST", "/sms")
    assert request.header("authorization") == "Bearer ino-token-1"
    assert request.json() == {"type": "NOTIFICATION", "sender": SENDER, "to": TO, "retId": MESSAGE_ID,
                              "isUnicode": True, "text": TRICKY_TEXT, "credits": 1}
    assert outcome.verdict == "sent"
