"""The Twilio preset's request against what the official `twilio` SDK sends (Messages.create), on one loopback."""
from __future__ import annotations

import pytest
from twilio.rest import Client

from tests.support.sdk_wire import TRICKY_TEXT, SdkWireBench, WireFields, read_wire

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "f00dfacecafe4b1d9e8f7a6b5c4d3e2f"  # an auth token is 32 hex digits (none of it in the ids below)
TO, SENDER = "+14155550100", "+15005550006"
FIELDS_ON_THE_WIRE = WireFields(recipient="To", sender="From", text="Body")
# Twilio's answer to Messages.create (201, the Message resource), trimmed to what either side reads.
ANSWER = (201, {}, {"sid": "SM0123456789abcdef0123456789abcdef", "account_sid": ACCOUNT_SID, "to": TO,
                    "from": SENDER, "body": TRICKY_TEXT, "status": "queued", "num_segments": "1",
                    "direction": "outbound-api", "api_version": "2010-04-01",
                    "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM0123456789abcdef0123456789abcdef.json"})


@pytest.fixture
def bench():
    with SdkWireBench(ANSWER) as bench:
        yield bench


def sdk_send(bench: SdkWireBench):
    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = bench.url  # the SDK's own override of https://api.twilio.com
    return bench.capture_sdk(lambda: client.messages.create(to=TO, from_=SENDER, body=TRICKY_TEXT))


def preset_send(bench: SdkWireBench):
    provider = bench.provider_from_preset("twilio", {
        "auth": {"username": ACCOUNT_SID, "password": AUTH_TOKEN},
        "request": {"url": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"}})
    return bench.send_preset(provider, {"to": TO, "sender": SENDER, "text": TRICKY_TEXT})


def test_given_the_same_sms_when_sent_by_the_twilio_sdk_and_the_preset_then_the_provider_reads_the_same_request(bench):
    # Given the same message, When the SDK and the preset each send it to the same server
    sdk_request, _ = sdk_send(bench)
    preset_request, _ = preset_send(bench)

    # Then endpoint, method, Basic credentials, recipient, sender and text are the same
    fields = FIELDS_ON_THE_WIRE
    sdk, preset = read_wire(sdk_request, fields), read_wire(preset_request, fields)
    assert preset.essentials() == sdk.essentials()
    assert sdk.essentials()["credentials"] == {"basic.username": ACCOUNT_SID, "basic.password": AUTH_TOKEN}
    assert sdk.text == TRICKY_TEXT and sdk.body_format == preset.body_format == "form"
    assert preset.recipient_forms == sdk.recipient_forms == (TO,)  # Twilio wants E.164 with its "+"


def test_given_twilios_answer_when_the_preset_reads_it_then_sent_with_the_sid_the_sdk_reads(bench):
    _, message = sdk_send(bench)
    _, outcome = preset_send(bench)

    assert outcome.verdict == "sent"
    assert outcome.provider_message_id == message.sid == ANSWER[2]["sid"]


def test_given_twilios_error_answer_when_the_preset_reads_it_then_failed_with_the_message_the_sdk_raises(bench):
    from twilio.base.exceptions import TwilioRestException

    error = "The 'To' number +14155550100 is not a valid phone number."
    bench.server.answer_with(400, {"code": 21211, "message": error, "status": 400,
                                   "more_info": "https://www.twilio.com/docs/errors/21211"})

    with pytest.raises(TwilioRestException) as raised:
        sdk_send(bench)
    _, outcome = preset_send(bench)

    assert raised.value.msg.endswith(error)  # "Unable to create record: " + Twilio's message
    assert outcome.verdict == "failed" and outcome.reason.endswith(error)
