"""The Telnyx preset's request against what the official `telnyx` SDK sends (messages.send), on one loopback server."""
from __future__ import annotations

import pytest
from telnyx import Telnyx

from tests.support.sdk_wire import TRICKY_TEXT, SdkWireBench, WireFields, read_wire

API_KEY = "KEY0123456789ABCDEF0123456789ABCDEF_abcdefghijklmnopqrstuv"
TO, SENDER, MESSAGE_ID = "+14155550100", "+14155550199", "order-42.sms"
FIELDS_ON_THE_WIRE = WireFields(recipient="to", sender="\"from\"", text="text")
TELNYX_ID = "40385f64-5717-4562-b3fc-2c963f66afa6"
# Telnyx's answer to POST /v2/messages (200, the message under "data").
ANSWER = (200, {}, {"data": {
    "record_type": "message", "direction": "outbound", "id": TELNYX_ID, "type": "SMS",
    "from": {"phone_number": SENDER, "carrier": "TELNYX LLC", "line_type": "VoIP"},
    "to": [{"phone_number": TO, "status": "queued", "carrier": "T-MOBILE USA, INC.", "line_type": "Wireless"}],
    "text": TRICKY_TEXT, "encoding": "UCS-2", "parts": 1, "media": [], "errors": [],
    "received_at": "2026-11-30T12:00:00.000+00:00"}})


@pytest.fixture
def bench():
    with SdkWireBench(ANSWER) as bench:
        yield bench


def sdk_send(bench: SdkWireBench):
    client = Telnyx(api_key=API_KEY, base_url=f"{bench.url}/v2", max_retries=0)
    return bench.capture_sdk(lambda: client.messages.send(
        to=TO, from_=SENDER, text=TRICKY_TEXT))


def preset_send(bench: SdkWireBench):
    provider = bench.provider_from_preset("telnyx", {"auth": {"token": API_KEY}})
    return bench.send_preset(provider, {"id": MESSAGE_ID, "to": TO, "sender": SENDER, "text": TRICKY_TEXT})


def test_given_the_same_sms_when_sent_by_the_telnyx_sdk_and_the_preset_then_the_provider_reads_the_same_request(bench):
    # Given the same message, When the SDK and the preset each send it to the same server
    sdk_request, _ = sdk_send(bench)
    preset_request, _ = preset_send(bench)

    # Then endpoint, bearer key, E.164 recipient, sender and text are the same
    sdk, preset = read_wire(sdk_request, FIELDS_ON_THE_WIRE), read_wire(preset_request, FIELDS_ON_THE_WIRE)
    assert preset.essentials() == sdk.essentials()
    assert sdk.credentials == {"header.authorization": f"Bearer {API_KEY}"}
    assert sdk.path == "/v2/messages"
    assert preset.recipient_forms == sdk.recipient_forms == (TO,)


def test_given_telnyxs_answer_when_the_preset_reads_it_then_sent_with_the_id_the_sdk_reads(bench):
    _, answer = sdk_send(bench)
    _, outcome = preset_send(bench)

    assert outcome.verdict == "sent"
    assert outcome.provider_message_id == answer.data.id == TELNYX_ID
