"""The presets of SPEC 6 "Then:": shipped data, valid once the user's part is given, rendered as each provider documents.

Providers with an official Python SDK are also tested on the wire against it (tests/integration/test_sdk_wire_*.py,
test_sigv4_wire.py); those without one (Termii, SMSGlobal, Esendex) against the API reference page named here. Webhook
payloads are the ones the providers document (pages and SDK models named in each test), read with the preset's mapping.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

import pytest
from pydantic import ValidationError

from smsbridge.core.auth import authenticate
from smsbridge.core.inbound_parse import PayloadError, map_status_word, parse_delivery_receipt, parse_inbound_sms
from smsbridge.core.presets import available_presets, load_preset, merge_over, resolve_preset
from smsbridge.core.render import render_request
from smsbridge.core.signatures import SignatureRefused, WebhookRequest, verify_webhook
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import InboundSpec, ProviderConfig, StatusSpec
from tests.unit.test_presets import MINIMAL_DOCUMENTS

NOW = datetime(2026, 11, 30, 10, 30, 5, tzinfo=UTC)
MORE_PRESETS = {"clicksend", "aws-end-user-messaging", "africastalking", "termii", "textmagic", "bandwidth",
                "smsglobal", "esendex", "twilio-messaging-service"}


def each(names: set[str]) -> list[Any]:
    return sorted(names)


def configured(name: str) -> ProviderConfig:
    return ProviderConfig.model_validate(resolve_preset({"id": "p", "preset": name, **MINIMAL_DOCUMENTS[name]}))


def message(text: str = "Your code is 1234", **fields: Any) -> OutboundMessage:
    return OutboundMessage(id="msg-1", to="+33612345678", text=text, sender="ACME", **fields)


def rendered(name: str):
    return render_request(configured(name), [message()], NOW)


def form_of(name: str) -> dict[str, str]:
    return dict(parse_qsl(rendered(name).body.decode()))


# ---------------------------------------------------------------- the shipped data

def test_every_preset_of_spec_6_then_is_shipped() -> None:
    assert MORE_PRESETS <= set(available_presets())


@pytest.mark.parametrize("name", sorted(MORE_PRESETS))
def test_every_new_preset_file_names_its_sources_and_what_the_user_fills(name: str) -> None:
    raw = json.loads((files("smsbridge") / "presets" / f"{name}.json").read_text(encoding="utf-8"))

    # A page, an SDK, or a plain statement of what no reference could settle.
    assert all(source.startswith(("https://", "http://", "botocore", "clicksend-client", "africastalking", "textmagic",
                                  "bandwidth-sdk", "twilio", "not found")) for source in raw["_source"])
    assert raw["_secrets"], "a preset says what the user must give"
    assert "id" not in raw and "preset" not in raw


@pytest.mark.parametrize("name", sorted(MORE_PRESETS))
def test_a_new_preset_holds_no_secret_value(name: str) -> None:
    preset = load_preset(name)

    assert "secrets" not in preset
    for part in (preset.get("auth", {}), (preset.get("inbound") or {}).get("auth", {})):
        assert not {"password", "token", "secret", "client_secret", "private_key", "secret_access_key"} & set(part)


@pytest.mark.parametrize("name", each(MORE_PRESETS))
def test_given_a_new_preset_with_the_users_part_when_validated_then_it_is_an_https_provider(name: str) -> None:
    config = configured(name)

    assert config.preset == name and config.request.url.startswith("https://")


@pytest.mark.parametrize("name", sorted(MORE_PRESETS - {"aws-end-user-messaging"}))
def test_given_a_new_preset_alone_when_validated_then_the_error_names_what_is_missing(name: str) -> None:
    with pytest.raises(ValidationError) as error:
        ProviderConfig.model_validate(resolve_preset({"id": "p", "preset": name}))

    # What the user must give: credentials in `auth`, a webhook secret in `inbound`, or a named secret
    assert any((e["loc"] and e["loc"][0] in {"auth", "inbound"}) or "secrets" in e["msg"] for e in error.value.errors())


def test_given_the_aws_preset_alone_when_validated_then_the_error_asks_for_the_region() -> None:
    # No keys are asked for: the function's own role signs by default.
    with pytest.raises(ValidationError) as error:
        ProviderConfig.model_validate(resolve_preset({"id": "p", "preset": "aws-end-user-messaging"}))

    assert [e["loc"][:3] for e in error.value.errors()] == [("auth", "sigv4", "region")]


@pytest.mark.parametrize("name", each(MORE_PRESETS))
def test_every_new_preset_renders_a_message_with_recipient_and_text(name: str) -> None:
    request = render_request(configured(name), [message("Hello & 'bye'")], NOW)
    sent = unquote_plus((request.body or b"").decode()) + unquote_plus(request.url)

    assert request.method == ("GET" if name == "smsglobal" else "POST")  # SMSGlobal's HTTP API documents a GET
    assert "33612345678" in sent and "Hello & 'bye'" in sent


# ---------------------------------------------------------------- rendered as each provider documents

def test_clicksend_sends_messages_with_from_to_body_and_basic_auth() -> None:
    body = json.loads(rendered("clicksend").body)

    assert body["messages"][0] | {"source": None} == {"source": None, "from": "ACME", "to": "+33612345678",
                                                     "body": "Your code is 1234", "custom_string": "msg-1"}
    assert configured("clicksend").auth.type == "basic"


def test_aws_end_user_messaging_calls_send_text_message_in_aws_json_1_0() -> None:
    request = rendered("aws-end-user-messaging")

    assert request.headers["X-Amz-Target"] == "PinpointSMSVoiceV2.SendTextMessage"
    assert request.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert json.loads(request.body) == {"DestinationPhoneNumber": "+33612345678", "OriginationIdentity": "ACME",
                                        "MessageBody": "Your code is 1234"}
    assert (configured("aws-end-user-messaging").auth.service, configured("aws-end-user-messaging").auth.region) == (
        "sms-voice", "eu-west-1")


def test_africastalking_sends_username_to_message_from_with_the_api_key_header() -> None:
    form = form_of("africastalking")

    assert (form["username"], form["to"], form["message"], form["from"]) == (
        "USERNAME", "+33612345678", "Your code is 1234", "ACME")
    assert configured("africastalking").auth.header == "apiKey"


def test_termii_sends_api_key_to_from_sms_as_its_messaging_api_documents() -> None:
    """https://developers.termii.com/messaging-api: POST {base}/api/sms/send, JSON
    {"api_key", "to" (international, no +), "from", "sms", "type": "plain", "channel": "generic"}."""
    request = rendered("termii")

    assert urlsplit(request.url).path == "/api/sms/send"
    assert json.loads(request.body) == {"api_key": "api-key", "to": "33612345678", "from": "ACME",
                                        "sms": "Your code is 1234", "type": "plain", "channel": "generic"}


def test_textmagic_sends_phones_text_from_with_its_username_and_key_headers() -> None:
    request = rendered("textmagic")

    assert form_of("textmagic") == {"phones": "33612345678", "text": "Your code is 1234", "from": "ACME"}
    assert request.headers["X-TM-Username"] == "USERNAME"
    assert configured("textmagic").auth.header == "X-TM-Key"


def test_bandwidth_sends_to_as_a_list_with_its_application_and_checks_callbacks_with_basic() -> None:
    body = json.loads(rendered("bandwidth").body)
    config = configured("bandwidth")

    assert body == {"applicationId": "APPLICATION_ID", "to": ["+33612345678"], "from": "ACME",
                    "text": "Your code is 1234", "tag": "msg-1"}
    assert config.inbound.auth.type == "basic"
    assert config.status.map["message-delivered"] == "delivered" and config.status.map["message-failed"] == "failed"


def test_smsglobal_sends_its_http_api_sendsms_as_the_documented_get_with_the_password_as_a_parameter() -> None:
    """https://www.smsglobal.com/http-api/ and http://www.smsglobal.com/en-au/technology/api/http.php: GET
    https://api.smsglobal.com/http-api.php?action=sendsms&user=...&password=...&from=...&to=...&text=..., numbers
    without the +; success answered as `OK: 0; Sent queued message ID: ... SMSGlobalMsgID:...`."""
    config = configured("smsglobal")
    request = authenticate(render_request(config, [message()], NOW), config.auth, NOW)

    assert request.method == "GET" and not request.body
    assert (urlsplit(request.url).scheme, urlsplit(request.url).netloc, urlsplit(request.url).path) == (
        "https", "api.smsglobal.com", "/http-api.php")
    assert dict(parse_qsl(urlsplit(request.url).query)) == {
        "action": "sendsms", "user": "API_USER", "from": "ACME", "to": "33612345678", "text": "Your code is 1234",
        "password": "api-password"}
    assert config.response.success_contains == "OK: 0"


def test_esendex_dispatches_messages_of_its_account_reference_as_json() -> None:
    """https://developers.esendex.com/api-reference/#messagedispatcher and the official Go SDK
    (github.com/esendex/esendex-go-sdk, send.go, client.go): POST /v1.0/messagedispatcher, Basic auth,
    accountreference + messages of to/body; the JSON spelling {"accountreference", "messages": [{"from", "to",
    "body"}]} as github.com/messagebird/sachet provider/esendex/esendex.go sends it."""
    request = rendered("esendex")

    assert urlsplit(request.url).path == "/v1.0/messagedispatcher"
    assert json.loads(request.body) == {"accountreference": "ACCOUNT_REFERENCE", "messages": [
        {"to": "33612345678", "from": "ACME", "body": "Your code is 1234"}]}
    assert request.headers["Accept"] == "application/json" and configured("esendex").auth.type == "basic"


def test_twilio_messaging_service_sends_messaging_service_sid_in_place_of_from() -> None:
    form = form_of("twilio-messaging-service")

    assert form == {"To": "+33612345678", "MessagingServiceSid": "MESSAGING_SERVICE_SID", "Body": "Your code is 1234"}
    assert configured("twilio-messaging-service").inbound.auth.type == "twilio"


# ---------------------------------------------------------------- webhooks as each provider documents them

def preset_inbound(name: str, **auth: Any) -> InboundSpec:
    """The preset's inbound part with the user's secret, validated alone (Termii's request needs branch render)."""
    return InboundSpec.model_validate(merge_over(load_preset(name)["inbound"], {"auth": auth}))


def preset_status(name: str) -> StatusSpec:
    return StatusSpec.model_validate(load_preset(name)["status"])


def receipt_status(name: str, body: bytes) -> tuple[str, str | None]:
    spec = preset_status(name)
    receipt = parse_delivery_receipt(spec, load_preset(name)["inbound"]["format"], body, [])
    return receipt.provider_message_id, map_status_word(spec, receipt.status_word)


# Termii: https://developer.termii.com/events-and-reports and http://developer.termii.com/docs/events-and-reports/
TERMII_REPORT = json.dumps({
    "type": "outbound", "message_id": "5964465985113503103", "receiver": "2343459509389", "sender": "N-Alert",
    "message": "Your Termii confirmation code is 234u53.", "sent_at": "2020-12-16 11:34:36", "cost": "3.9",
    "command": "deliver", "status": "DELIVERED | Message delivered to handset", "channel": "Number Api"}).encode()
# https://developer.termii.com/incoming
TERMII_INBOUND = json.dumps({
    "type": "inbound", "id": "8248611476370959318", "message_id": "3905204342778053556", "receiver": "12022214836",
    "sender": "2347069549231", "message": "Great ", "received_at": "2020-12-16T10:51:03.000000Z", "cost": None,
    "command": "Received", "status": "Received", "channel": None}).encode()


def termii_call(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {"content-type": "application/json"} | ({"x-termii-signature": signature} if signature else {})
    return WebhookRequest(method="POST", path="/status/termii", headers=headers, body=body)


def test_given_a_termii_event_signed_with_hmac_sha512_of_its_body_when_checked_then_it_is_accepted() -> None:
    """https://developer.termii.com/events-and-reports: X-Termii-Signature is an HMAC SHA512 of the event payload
    signed with your secret key (hex assumed: the page does not name the encoding)."""
    auth = preset_inbound("termii", secret="termii-secret-key").auth
    signature = hmac.new(b"termii-secret-key", TERMII_REPORT, hashlib.sha512).hexdigest()

    verify_webhook(auth, termii_call(TERMII_REPORT, signature), NOW)

    assert (auth.header, auth.algorithm, auth.encoding) == ("X-Termii-Signature", "sha512", "hex")


@pytest.mark.parametrize("signature", [None, "0" * 128, hmac.new(b"another-key", TERMII_REPORT, "sha512").hexdigest()])
def test_given_a_termii_event_unsigned_or_signed_with_another_key_when_checked_then_it_is_refused(signature) -> None:
    auth = preset_inbound("termii", secret="termii-secret-key").auth

    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(auth, termii_call(TERMII_REPORT, signature), NOW)

    assert refused.value.status == (401 if signature is None else 403)


def test_given_termiis_documented_delivery_report_when_read_then_the_message_is_delivered() -> None:
    assert receipt_status("termii", TERMII_REPORT) == ("5964465985113503103", "delivered")


@pytest.mark.parametrize(("word", "status"), [("Delivered", "delivered"), ("Message Sent", "sent"),
                                              ("DND Active on Phone Number", "failed"), ("Message Failed", "failed"),
                                              ("Rejected", "failed"), ("Expired", "failed")])
def test_given_each_termii_status_of_its_table_when_read_then_it_maps_as_documented(word: str, status: str) -> None:
    body = json.dumps({"type": "outbound", "message_id": "1", "status": word}).encode()

    assert receipt_status("termii", body) == ("1", status)


def test_given_termiis_documented_inbound_message_when_read_then_sender_receiver_and_text_are_taken() -> None:
    sms = parse_inbound_sms(preset_inbound("termii", secret="k"), TERMII_INBOUND, [])

    assert (sms.sender, sms.recipient, sms.text, sms.provider_message_id) == (
        "2347069549231", "12022214836", "Great ", "3905204342778053556")


def test_given_a_termii_delivery_report_posted_to_the_inbound_route_when_read_then_it_is_not_taken_for_an_sms() -> None:
    # Termii's console may send every event to one URL: our own outgoing text must not come back as an inbound SMS.
    with pytest.raises(PayloadError):
        parse_inbound_sms(preset_inbound("termii", secret="k"), TERMII_REPORT, [])


# ClickSend: clicksend-client 6.0.2, clicksend/models/sms_receipt.py and inbound_sms.py (fields); status codes from
# https://help.clicksend.com/article/8cc479qlbb-list-of-sms-gateway-error-codes (the page the SDK links).
@pytest.mark.parametrize(("code", "text", "status"), [
    ("201", "Success: Message received on handset.", "delivered"),
    ("301", "Failed: Absent Subscriber.", "failed"),
    ("200", "Message sent to the network for delivery", "sent")])
def test_given_a_clicksend_receipt_as_its_sdk_models_it_when_read_then_the_status_code_decides(code, text, status):
    from clicksend.models.sms_receipt import SmsReceipt

    receipt = SmsReceipt(timestamp_send=1442381791, timestamp=1442381795,
                         message_id="31BC271B-1E0C-45F6-9E7E-97186C46BB82", status_code=int(code),
                         status_text=text, custom_string="msg-1", message_type="sms")
    body = urlencode(receipt.to_dict()).encode()

    assert receipt_status("clicksend", body) == ("31BC271B-1E0C-45F6-9E7E-97186C46BB82", status)


def test_given_a_clicksend_inbound_push_as_its_sdk_models_it_when_read_then_from_to_body_are_taken() -> None:
    from clicksend.models.inbound_sms import InboundSms

    pushed = InboundSms.from_dict({"timestamp": 1436174407, "from": "+61411111111", "body": "STOP",
                                   "to": "+61422222222", "message_id": "C557B56E-83C0-4070-A74C-9BF05474B418"})
    sms = parse_inbound_sms(preset_inbound("clicksend", token="hook"), urlencode(pushed.to_dict()).encode(), [])

    assert (sms.sender, sms.recipient, sms.text, sms.provider_message_id) == (
        "+61411111111", "+61422222222", "STOP", "C557B56E-83C0-4070-A74C-9BF05474B418")
    assert sms.sent_at == datetime(2015, 7, 6, 9, 20, 7, tzinfo=UTC)


# Africa's Talking: http://docs.africastalking.com/sms/deliveryreports and http://docs.africastalking.com/sms/callback
@pytest.mark.parametrize(("word", "status"), [("Success", "delivered"), ("Failed", "failed"), ("Rejected", "failed"),
                                              ("Sent", "sent"), ("Submitted", "sent"), ("Buffered", "sent")])
def test_given_an_africastalking_delivery_report_when_read_then_each_documented_status_maps(word, status) -> None:
    body = f"id=ATXid_1&status={word}&phoneNumber=%2B254711XXXYYY&networkCode=63902&failureReason=&retryCount=0"

    assert receipt_status("africastalking", body.encode()) == ("ATXid_1", status)


def test_given_an_africastalking_failure_reason_when_read_then_it_is_the_error_not_a_status() -> None:
    spec = preset_status("africastalking")
    body = b"id=ATXid_2&status=Failed&phoneNumber=%2B254711XXXYYY&networkCode=63902&failureReason=AbsentSubscriber"

    receipt = parse_delivery_receipt(spec, "form", body, [])

    assert (receipt.status_word, receipt.error) == ("Failed", "AbsentSubscriber")
    assert "AbsentSubscriber" not in spec.map


def test_given_an_africastalking_inbound_callback_when_read_then_from_to_text_id_are_taken() -> None:
    body = b"from=%2B254711XXXYYY&to=22384&text=STOP&date=2017-05-16+10%3A10%3A10&id=5f3a&linkId=SampleLinkId123"

    sms = parse_inbound_sms(preset_inbound("africastalking", token="hook"), body, [])

    assert (sms.sender, sms.recipient, sms.text, sms.provider_message_id) == ("+254711XXXYYY", "22384", "STOP", "5f3a")
