"""The Sinch preset's request against what the official `sinch` SDK sends (SMS REST API, batches.send_sms), on one loopback server."""
from __future__ import annotations

import pytest
from sinch import SinchClient

from tests.support.sdk_wire import TRICKY_TEXT, SdkWireBench, WireFields, read_wire

SERVICE_PLAN_ID, API_TOKEN = "0123456789abcdef0123456789abcdef", "a1b2c3d4e5f60718293a4b5c6d7e8f90"
TO, SENDER, MESSAGE_ID = "+447700900123", "ACME", "order-42.sms"
FIELDS_ON_THE_WIRE = WireFields(recipient="to", sender="\"from\"", text="body")
BATCH_ID = "01FC66621XXXXX119Z8PMV1QPQ"
# Sinch's answer to POST /xms/v1/{service_plan_id}/batches (201, the batch).
ANSWER = (201, {}, {"id": BATCH_ID, "type": "mt_text", "from": SENDER, "to": [TO[1:]], "body": TRICKY_TEXT,
                    "canceled": False, "created_at": "2026-11-30T12:00:00.000Z",
                    "modified_at": "2026-11-30T12:00:00.000Z", "delivery_report": "per_recipient",
                    "client_reference": MESSAGE_ID, "flash_message": False})


@pytest.fixture
def bench():
    with SdkWireBench(ANSWER) as bench:
        yield bench


def sdk_send(bench: SdkWireBench):
    client = SinchClient(service_plan_id=SERVICE_PLAN_ID, sms_api_token=API_TOKEN, sms_region="us")
    client.configuration.sms_domain_with_service_plan_id = bench.url  # in place of https://{region}.sms.api.sinch.com
    return bench.capture_sdk(lambda: client.sms.batches.send_sms(
        to=[TO], from_=SENDER, body=TRICKY_TEXT, delivery_report="per_recipient", client_reference=MESSAGE_ID))


def preset_send(bench: SdkWireBench):
    provider = bench.provider_from_preset("sinch", {
        "auth": {"token": API_TOKEN},
        "request": {"url": f"https://us.sms.api.sinch.com/xms/v1/{SERVICE_PLAN_ID}/batches"}})
    return bench.send_preset(provider, {"id": MESSAGE_ID, "to": TO, "sender": SENDER, "text": TRICKY_TEXT})


def test_given_the_same_sms_when_sent_by_the_sinch_sdk_and_the_preset_then_the_provider_reads_the_same_request(bench):
    # Given the same message, When the SDK and the preset each send it to the same server
    sdk_request, _ = sdk_send(bench)
    preset_request, _ = preset_send(bench)

    # Then endpoint, bearer token, recipients, sender and text are the same, and so are the options sent
    sdk, preset = read_wire(sdk_request, FIELDS_ON_THE_WIRE), read_wire(preset_request, FIELDS_ON_THE_WIRE)
    assert preset.essentials() == sdk.essentials()
    assert sdk.credentials == {"header.authorization": f"Bearer {API_TOKEN}"}
    assert sdk.path == f"/xms/v1/{SERVICE_PLAN_ID}/batches"
    assert preset.recipient_forms == sdk.recipient_forms == (TO,)
    for option in ("delivery_report", "client_reference"):
        assert preset.params[option] == sdk.params[option]


def test_given_sinchs_answer_when_the_preset_reads_it_then_sent_with_the_batch_id_the_sdk_reads(bench):
    _, batch = sdk_send(bench)
    _, outcome = preset_send(bench)

    assert outcome.verdict == "sent"
    assert outcome.provider_message_id == batch.id == BATCH_ID
