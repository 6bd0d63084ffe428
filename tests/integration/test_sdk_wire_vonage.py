"""The Vonage SMS API preset's request against the official `vonage` v4 SDK's (vonage_sms), on one loopback."""
from __future__ import annotations

import pytest
from vonage import Auth, HttpClientOptions, Vonage
from vonage_sms import SmsMessage

from tests.support.sdk_wire import TRICKY_TEXT, SdkWireBench, WireFields, read_wire

API_KEY, API_SECRET = "a1b2c3d4", "Secret-1234abcd"
TO, SENDER, MESSAGE_ID = "447700900123", "ACME", "order-42.sms"
FIELDS_ON_THE_WIRE = WireFields(recipient="to", sender="\"from\"", text="text",
                                credential_params=("api_key", "api_secret", "sig"))
# Vonage's answer to POST /sms/json (always 200; status "0" is success).
ANSWER = (200, {}, {"message-count": "1", "messages": [{
    "to": TO, "message-id": "0A0000000123ABCD1", "status": "0", "remaining-balance": "3.14159265",
    "message-price": "0.03330000", "network": "23410", "client-ref": MESSAGE_ID}]})


@pytest.fixture
def bench(monkeypatch):
    # The SDK builds https://{rest_host}{path} itself: serve TLS and make requests trust the loopback's certificate.
    with SdkWireBench(ANSWER, tls=True) as bench:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", bench.ca_file)
        yield bench


def sdk_send(bench: SdkWireBench):
    client = Vonage(Auth(api_key=API_KEY, api_secret=API_SECRET), HttpClientOptions(rest_host=bench.host))
    # The text holds an emoji: Vonage's documentation and the SDK's model ask for type=unicode.
    message = SmsMessage(to=TO, from_=SENDER, text=TRICKY_TEXT, client_ref=MESSAGE_ID, type="unicode")
    return bench.capture_sdk(lambda: client.sms.send(message))


def preset_send(bench: SdkWireBench):
    provider = bench.provider_from_preset("vonage", {"auth": {"username": API_KEY, "password": API_SECRET}})
    return bench.send_preset(provider, {"id": MESSAGE_ID, "to": "+" + TO, "sender": SENDER, "text": TRICKY_TEXT})


def test_given_the_same_sms_when_sent_by_the_vonage_sdk_and_the_preset_then_the_provider_reads_the_same_request(bench):
    # Given the same message, When the SDK and the preset each send it to the same server
    sdk_request, _ = sdk_send(bench)
    preset_request, _ = preset_send(bench)

    # Then endpoint, credentials (v4 sends Basic, no signature secret given), recipient, sender, text are the same
    sdk, preset = read_wire(sdk_request, FIELDS_ON_THE_WIRE), read_wire(preset_request, FIELDS_ON_THE_WIRE)
    assert preset.essentials() == sdk.essentials()
    assert sdk.credentials == {"basic.username": API_KEY, "basic.password": API_SECRET}
    assert sdk.path == "/sms/json"
    assert preset.params["client-ref"] == sdk.params["client-ref"] == MESSAGE_ID
    assert preset.body_format == sdk.body_format == "form"


def test_given_a_text_with_an_emoji_when_sent_by_the_preset_then_type_is_unicode_as_the_sdk_sends(bench):
    sdk_request, _ = sdk_send(bench)
    preset_request, _ = preset_send(bench)

    sdk, preset = read_wire(sdk_request, FIELDS_ON_THE_WIRE), read_wire(preset_request, FIELDS_ON_THE_WIRE)
    assert sdk.params["type"] == "unicode"
    assert preset.params.get("type") == sdk.params["type"]


def test_given_vonages_answer_when_the_preset_reads_it_then_sent_with_the_message_id_the_sdk_reads(bench):
    _, answer = sdk_send(bench)
    _, outcome = preset_send(bench)

    assert outcome.verdict == "sent"
    assert outcome.provider_message_id == answer.messages[0].message_id == "0A0000000123ABCD1"


def test_given_vonages_error_answer_when_the_preset_reads_it_then_failed_with_the_text_the_sdk_raises(bench):
    from vonage_sms import SmsError

    # Vonage answers 200 and says in the message's status that it was refused.
    bench.server.answer_with(200, {"message-count": "1", "messages": [{"status": "4", "error-text": "Bad Credentials"}]})

    with pytest.raises(SmsError, match="Bad Credentials"):
        sdk_send(bench)
    _, outcome = preset_send(bench)

    assert outcome.verdict == "failed" and outcome.reason.endswith("Bad Credentials")
