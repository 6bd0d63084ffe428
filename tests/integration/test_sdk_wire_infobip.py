"""The Infobip preset's request against what the official `infobip-api-python-sdk` 5.0.1 sends
(SMSChannel.send_sms_message, POST /sms/2/text/advanced), on one loopback. The SDK pins pydantic 1 and
requests 2.31, so it runs in its own venv (`make oracles`, tests/support/oracles.py)."""
from __future__ import annotations

from typing import Any

import jmespath
import pytest

from tests.support.oracles import run_oracle
from tests.support.sdk_wire import TRICKY_TEXT, SdkWireBench, WireFields, read_wire

API_KEY = "0123456789abcdef0123456789abcdef-01234567-89ab-cdef-0123-456789abcdef"
TO, SENDER, MESSAGE_ID = "+41793026727", "InfoSMS", "order-42.sms"
FIELDS_ON_THE_WIRE = WireFields(recipient="messages[0].destinations[*].to", sender='messages[0]."from"',
                                text="messages[0].text")
INFOBIP_MESSAGE_ID = "2250be2d4219-3af1-78856-aabe-1362af1edfd2"
# Infobip's answer to POST /sms/2/text/advanced (200), as its API reference shows it:
# https://www.infobip.com/docs/api/channels/sms/sms-messaging/outbound-sms/send-sms-message
ANSWER = (200, {}, {"bulkId": "2034072219640523072", "messages": [{
    "to": TO[1:], "messageId": INFOBIP_MESSAGE_ID,
    "status": {"groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED",
               "description": "Message sent to next instance"}}]})


@pytest.fixture(scope="module")
def bench():
    with SdkWireBench(ANSWER) as bench:
        yield bench


@pytest.fixture(scope="module")
def sdk_sent(bench):
    """The SDK's request and result, sent once for the module: starting the SDK takes about a second."""
    return sdk_send(bench)


def sdk_send(bench: SdkWireBench) -> tuple[Any, dict[str, Any]]:
    # `to` as the API reference writes it ("41793026727"): international digits without "+".
    order = {"base_url": bench.url, "api_key": API_KEY, "message": {"messages": [{
        "destinations": [{"to": TO[1:], "messageId": MESSAGE_ID}], "from": SENDER, "text": TRICKY_TEXT}]}}
    return bench.capture_sdk(lambda: run_oracle("infobip", "infobip_send.py", order))


def preset_send(bench: SdkWireBench):
    provider = bench.provider_from_preset("infobip", {
        "auth": {"token": API_KEY}, "request": {"url": "https://xyz123.api.infobip.com/sms/2/text/advanced"}})
    return bench.send_preset(provider, {"id": MESSAGE_ID, "to": TO, "sender": SENDER, "text": TRICKY_TEXT})


def test_given_the_same_sms_when_sent_by_the_infobip_sdk_and_the_preset_then_the_provider_reads_the_same_request(bench, sdk_sent):
    # Given the same message, When the SDK and the preset each send it to the same server
    sdk_request, _ = sdk_sent
    preset_request, _ = preset_send(bench)

    # Then endpoint, method, `App` key, recipient, sender and text are the same, and so is the message's id
    sdk, preset = read_wire(sdk_request, FIELDS_ON_THE_WIRE), read_wire(preset_request, FIELDS_ON_THE_WIRE)
    assert preset.essentials() == sdk.essentials()
    assert sdk.essentials()["endpoint"] == ("POST", "/sms/2/text/advanced")
    assert sdk.credentials == {"header.authorization": f"App {API_KEY}"}
    assert sdk.text == TRICKY_TEXT and sdk.body_format == preset.body_format == "json"
    assert preset.recipient_forms == sdk.recipient_forms == (TO[1:],)
    destination = jmespath.compile("messages[0].destinations[0].messageId")
    assert destination.search(preset.params) == destination.search(sdk.params) == MESSAGE_ID


def test_given_infobips_answer_when_the_preset_reads_it_then_sent_with_the_message_id_the_sdk_reads(bench, sdk_sent):
    _, sdk_result = sdk_sent
    _, outcome = preset_send(bench)

    assert sdk_result["parsed_as"] == "SendSMSResponse"
    assert outcome.verdict == "sent"
    assert outcome.provider_message_id == sdk_result["answer"]["messages"][0]["messageId"] == INFOBIP_MESSAGE_ID


def test_given_infobips_error_answer_when_the_preset_reads_it_then_failed_with_the_text_the_sdk_reads():
    # Infobip's documented 400: a requestError whose serviceException names what was wrong.
    error = (400, {}, {"requestError": {"serviceException": {
        "messageId": "BAD_REQUEST", "text": "Bad request",
        "validationErrors": {"messages[0].destinations[0].to": ["size must be between 0 and 50"]}}}})

    with SdkWireBench(error) as bench:
        _, sdk_result = sdk_send(bench)
        _, outcome = preset_send(bench)

    assert sdk_result["parsed_as"] == "SMSResponseError"
    error_text = sdk_result["answer"]["requestError"]["serviceException"]["text"]
    assert outcome.verdict == "failed" and outcome.reason.endswith(error_text)
