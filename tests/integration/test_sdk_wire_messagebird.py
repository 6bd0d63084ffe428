"""The MessageBird preset's request against the official `messagebird` SDK's (message_create), on one loopback."""
from __future__ import annotations

import messagebird
import pytest
from messagebird.client import USER_AGENT
from messagebird.http_client import HttpClient

from tests.support.sdk_wire import TRICKY_TEXT, SdkWireBench, WireFields, read_wire

ACCESS_KEY = "test_gshuPaZoeEG6ovbc8M79w0QyM"
TO, SENDER, MESSAGE_ID = "447700900123", "ACME", "order-42.sms"
FIELDS_ON_THE_WIRE = WireFields(recipient="recipients", sender="originator", text="body")
MESSAGE = "e8077d803532c0b5937c639b60216938"
# MessageBird's answer to POST /messages (201, the message object).
ANSWER = (201, {}, {
    "id": MESSAGE, "href": f"https://rest.messagebird.com/messages/{MESSAGE}", "direction": "mt", "type": "sms",
    "originator": SENDER, "body": TRICKY_TEXT, "reference": MESSAGE_ID, "validity": None, "gateway": 10,
    "typeDetails": {}, "datacoding": "unicode", "mclass": 1, "scheduledDatetime": None,
    "createdDatetime": "2026-11-30T12:00:00+00:00",
    "recipients": {"totalCount": 1, "totalSentCount": 1, "totalDeliveredCount": 0, "totalDeliveryFailedCount": 0,
                   "items": [{"recipient": int(TO), "status": "sent",
                              "statusDatetime": "2026-11-30T12:00:00+00:00"}]}})


@pytest.fixture
def bench():
    with SdkWireBench(ANSWER) as bench:
        yield bench


def sdk_send(bench: SdkWireBench):
    # The SDK's own way to another endpoint than https://rest.messagebird.com: its HttpClient.
    client = messagebird.Client(ACCESS_KEY, http_client=HttpClient(bench.url, ACCESS_KEY, USER_AGENT))
    # The text holds an emoji: MessageBird's default datacoding "plain" would replace it, so a caller asks for
    # "auto" (MessageBird picks plain or unicode from the body), as the preset does.
    return bench.capture_sdk(lambda: client.message_create(
        SENDER, [TO], TRICKY_TEXT, {"reference": MESSAGE_ID, "datacoding": "auto"}))


def preset_send(bench: SdkWireBench):
    provider = bench.provider_from_preset("messagebird", {"auth": {"token": ACCESS_KEY}})
    return bench.send_preset(provider, {"id": MESSAGE_ID, "to": "+" + TO, "sender": SENDER, "text": TRICKY_TEXT})


def test_given_the_same_sms_when_sent_by_the_messagebird_sdk_and_the_preset_then_the_provider_reads_the_same_request(
        bench):
    # Given the same message, When the SDK and the preset each send it to the same server
    sdk_request, _ = sdk_send(bench)
    preset_request, _ = preset_send(bench)

    # Then endpoint, access key, recipient (the SDK joins a list with commas, the preset sends the
    # documented array), originator, body and reference are the same
    sdk, preset = read_wire(sdk_request, FIELDS_ON_THE_WIRE), read_wire(preset_request, FIELDS_ON_THE_WIRE)
    assert preset.essentials() == sdk.essentials()
    assert sdk.credentials == {"header.authorization": f"AccessKey {ACCESS_KEY}"}
    assert sdk.path == "/messages"
    assert preset.params["reference"] == sdk.params["reference"] == MESSAGE_ID


def test_given_a_text_with_an_emoji_when_sent_by_the_preset_then_datacoding_is_auto_as_the_sdk_caller_asks(bench):
    sdk_request, _ = sdk_send(bench)
    preset_request, _ = preset_send(bench)

    sdk, preset = read_wire(sdk_request, FIELDS_ON_THE_WIRE), read_wire(preset_request, FIELDS_ON_THE_WIRE)
    assert sdk.params["datacoding"] == "auto"
    assert preset.params.get("datacoding") == sdk.params["datacoding"]


def test_given_messagebirds_answer_when_the_preset_reads_it_then_sent_with_the_id_the_sdk_reads(bench):
    _, message = sdk_send(bench)
    _, outcome = preset_send(bench)

    assert outcome.verdict == "sent"
    assert outcome.provider_message_id == message.id == MESSAGE


def test_given_messagebirds_error_answer_when_the_preset_reads_it_then_failed_with_the_description_the_sdk_raises(
        bench):
    from messagebird.client import ErrorException

    error = "no (correct) recipients found"
    bench.server.answer_with(422, {"errors": [{"code": 9, "description": error, "parameter": "recipients"}]})

    with pytest.raises(ErrorException) as raised:
        sdk_send(bench)
    _, outcome = preset_send(bench)

    assert raised.value.errors[0].description == error
    assert outcome.verdict == "failed" and outcome.reason.endswith(error)
