"""The presets of SPEC 6 "Then:": shipped data, valid once the user's part is given, rendered as each provider documents.

Providers with an official Python SDK are also tested on the wire against it (tests/integration/test_sdk_wire_*.py,
test_sigv4_wire.py); those without one (Termii, SMSGlobal, Esendex) against the API reference page named here.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from pydantic import ValidationError

from smsbridge.core.presets import available_presets, load_preset, resolve_preset
from smsbridge.core.render import render_request
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import ProviderConfig
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

    assert all(source.startswith(("https://", "botocore", "clicksend-client", "africastalking", "textmagic",
                                  "bandwidth-sdk", "twilio")) for source in raw["_source"])
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


@pytest.mark.parametrize("name", each(MORE_PRESETS - {"aws-end-user-messaging"}))
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
    sent = request.body.decode() + request.url

    assert request.method == "POST"
    assert "33612345678" in sent and ("Hello" in sent)


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


def test_smsglobal_sends_its_http_api_sendsms_with_the_password_as_a_parameter() -> None:
    """https://www.smsglobal.com/http-api/: action=sendsms, user, password, from, to (international, no +), text;
    success answered as `OK: 0; Sent queued message ID: ...`."""
    request = rendered("smsglobal")

    assert form_of("smsglobal") == {"action": "sendsms", "user": "API_USER", "from": "ACME", "to": "33612345678",
                                    "text": "Your code is 1234"}
    assert configured("smsglobal").auth.query == "password"
    assert configured("smsglobal").response.success_contains == "OK: 0"
    assert urlsplit(request.url).path == "/http-api.php"


def test_esendex_dispatches_messages_of_its_account_reference_as_json() -> None:
    """https://developers.esendex.com/api-reference/#messagedispatcher: POST /v1.0/messagedispatcher,
    {"accountreference", "messages": [{"to", "from", "body"}]}, Basic auth, JSON with Accept: application/json."""
    request = rendered("esendex")

    assert urlsplit(request.url).path == "/v1.0/messagedispatcher"
    assert json.loads(request.body) == {"accountreference": "ACCOUNT_REFERENCE", "messages": [
        {"to": "33612345678", "from": "ACME", "body": "Your code is 1234"}]}
    assert request.headers["Accept"] == "application/json" and configured("esendex").auth.type == "basic"


def test_twilio_messaging_service_sends_messaging_service_sid_in_place_of_from() -> None:
    form = form_of("twilio-messaging-service")

    assert form == {"To": "+33612345678", "MessagingServiceSid": "MESSAGING_SERVICE_SID", "Body": "Your code is 1234"}
    assert configured("twilio-messaging-service").inbound.auth.type == "twilio"
