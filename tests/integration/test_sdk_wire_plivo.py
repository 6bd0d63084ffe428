"""The Plivo preset's request against what the official `plivo` SDK sends (messages.create), on one loopback server."""
from __future__ import annotations

import plivo
import plivo.rest.client
import pytest

from tests.support.sdk_wire import TRICKY_TEXT, SdkWireBench, WireFields, read_wire

AUTH_ID, AUTH_TOKEN = "MAODUZYTQ0Y2FMYJBLOW", "ZWNkNjE3ZDM0NzUyMDdmYmM0MjhjMjA5OTRlZTBi"
TO, SENDER = "14155550100", "14155550199"
FIELDS_ON_THE_WIRE = WireFields(recipient="dst", sender="src", text="text")
# Plivo's answer to POST /v1/Account/{auth_id}/Message/ (202).
MESSAGE_UUID = "db3ce55a-7f1d-11e1-8ea7-1231380bc196"
ANSWER = (202, {}, {"api_id": "4e1f954c-baf3-11ec-bafe-0242ac110003", "message": "message(s) queued",
                    "message_uuid": [MESSAGE_UUID]})


@pytest.fixture
def bench(monkeypatch):
    with SdkWireBench(ANSWER) as bench:
        # The SDK resets its base URI from this module constant before each request.
        monkeypatch.setattr(plivo.rest.client, "PLIVO_API_BASE_URI", f"{bench.url}/v1/Account")
        yield bench


def sdk_send(bench: SdkWireBench):
    client = plivo.RestClient(AUTH_ID, AUTH_TOKEN)
    return bench.capture_sdk(lambda: client.messages.create(src=SENDER, dst=TO, text=TRICKY_TEXT))


def preset_send(bench: SdkWireBench):
    provider = bench.provider_from_preset("plivo", {
        "auth": {"username": AUTH_ID, "password": AUTH_TOKEN},
        "request": {"url": f"https://api.plivo.com/v1/Account/{AUTH_ID}/Message/"}})
    return bench.send_preset(provider, {"to": "+" + TO, "sender": SENDER, "text": TRICKY_TEXT})


def test_given_the_same_sms_when_sent_by_the_plivo_sdk_and_the_preset_then_the_provider_reads_the_same_request(bench):
    # Given the same message, When the SDK and the preset each send it to the same server
    sdk_request, _ = sdk_send(bench)
    preset_request, _ = preset_send(bench)

    # Then endpoint, Basic credentials, recipient, sender and text are the same, both as JSON
    sdk, preset = read_wire(sdk_request, FIELDS_ON_THE_WIRE), read_wire(preset_request, FIELDS_ON_THE_WIRE)
    assert preset.essentials() == sdk.essentials()
    assert sdk.credentials == {"basic.username": AUTH_ID, "basic.password": AUTH_TOKEN}
    assert sdk.path == f"/v1/Account/{AUTH_ID}/Message/"
    assert preset.body_format == sdk.body_format == "json"


def test_given_plivos_answer_when_the_preset_reads_it_then_sent_with_the_uuid_the_sdk_reads(bench):
    _, answer = sdk_send(bench)
    _, outcome = preset_send(bench)

    assert outcome.verdict == "sent"
    assert outcome.provider_message_id == answer.message_uuid[0] == MESSAGE_UUID
