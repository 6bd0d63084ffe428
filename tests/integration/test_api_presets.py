"""Presets through the admin API: a document naming a preset is stored merged, its own fields winning."""
from __future__ import annotations

from tests.support.apigw_events import AdminApi as Api

MASK = "**********"
TELNYX_PUBLIC_KEY = "ZKIRXWh4nZ9nBKbRHdtD1CWc6MmFqXsDyNmwuyd5pO4="  # an ed25519 public key, base64


def test_given_the_twilio_preset_and_credentials_when_posted_then_201_and_get_shows_the_merged_config(api: Api) -> None:
    # Given a document naming the preset, with the account's credentials and its own URL
    document = {"id": "tw", "preset": "twilio",
                "auth": {"username": "AC0123456789abcdef", "password": "twilio-auth-token-1"},
                "request": {"url": "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"}}

    # When it is created
    created = api.call("POST", "/providers", document)

    # Then it is stored merged: the preset's form body and status map, the document's URL, the secret masked
    assert created.status == 201, created.text
    stored = api.call("GET", "/providers/tw").json()
    assert stored["preset"] == "twilio"
    assert stored["request"]["url"].endswith("/Accounts/AC0123456789abcdef/Messages.json")
    assert stored["request"]["content_type"] == "form"
    assert [key for key, _ in stored["request"]["body"]] == ["To", "From", "Body"]
    assert stored["auth"] == {"type": "basic", "username": "AC0123456789abcdef", "password": MASK}
    assert stored["inbound"]["auth"]["type"] == "twilio"
    assert stored["status"]["map"]["delivered"] == "delivered"


def test_given_a_preset_without_its_secrets_when_posted_then_422_naming_the_missing_fields(api: Api) -> None:
    answer = api.call("POST", "/providers", {"id": "tw", "preset": "twilio"})

    assert answer.status == 422
    assert "auth" in answer.text and "password" in answer.text


def test_given_an_unknown_preset_when_posted_then_422_listing_the_available_ones(api: Api) -> None:
    answer = api.call("POST", "/providers", {"id": "x", "preset": "nope", "auth": {"type": "none"}})

    assert answer.status == 422
    assert "unknown preset 'nope'" in answer.text and "twilio" in answer.text


def test_given_a_preset_document_when_put_then_it_is_stored_merged(api: Api) -> None:
    document = {"id": "tx", "preset": "telnyx", "auth": {"token": "telnyx-key-1"},
                "inbound": {"auth": {"public_key": TELNYX_PUBLIC_KEY}}}

    answer = api.call("PUT", "/providers/tx", document)

    assert answer.status == 201, answer.text
    stored = api.call("GET", "/providers/tx").json()
    assert stored["request"]["url"] == "https://api.telnyx.com/v2/messages"
    assert stored["auth"]["prefix"] == "Bearer " and stored["auth"]["token"] == MASK
    assert stored["inbound"]["auth"] == {"type": "telnyx", "public_key": TELNYX_PUBLIC_KEY, "tolerance_s": 300}


def test_given_the_twilio_preset_with_an_api_key_auth_when_posted_then_the_auth_holds_no_basic_field(api: Api) -> None:
    # Given the Twilio preset (basic auth) and a document choosing another auth type
    document = {"id": "tw", "preset": "twilio",
                "auth": {"type": "api_key", "header": "Authorization", "prefix": "Bearer ", "token": "tok-SECRET-4"}}

    # When it is created
    answer = api.call("POST", "/providers", document)

    # Then the document's auth replaced the preset's whole: no username left over to refuse or to send
    assert answer.status == 201, answer.text
    assert api.call("GET", "/providers/tw").json()["auth"] == {
        "type": "api_key", "header": "Authorization", "prefix": "Bearer ", "token": MASK}


VONAGE_ACCEPTED = {"message-count": "1", "messages": [{"status": "0", "message-id": "vm-1", "to": "33612345678"}]}


def test_given_the_vonage_preset_when_an_emoji_and_a_gsm_text_are_test_sent_then_they_arrive_as_unicode_and_text(
        api: Api, loopback_provider) -> None:
    # Given the Vonage preset pointed at a loopback stand-in for rest.nexmo.com
    loopback_provider.answer_with(200, VONAGE_ACCEPTED)
    document = {"id": "vonage", "preset": "vonage", "default_sender": "ACME",
                "request": {"url": loopback_provider.url_for("/sms/json")},
                "auth": {"username": "abcd1234", "password": "vonage-SECRET-5"},
                "inbound": {"auth": {"type": "token", "token": "h"}}}
    assert api.call("POST", "/providers", document).status == 201

    # When an emoji text, then a GSM one, are sent
    types = []
    for text in ("Party tonight 🎉", "Your code is 1234 {ok} €"):
        sent = api.call("POST", "/providers/vonage/test-send", {"to": "+33612345678", "text": text})
        assert sent.json()["status"] == "sent", sent.text
        form = loopback_provider.last.form
        types.append(form["type"])
        assert form["text"] == [text]

    # Then Vonage is told unicode for the first and text for the second (https://developer.vonage.com/en/api/sms)
    assert types == [["unicode"], ["text"]]


def test_given_the_textlocal_preset_when_test_sent_then_the_apikey_arrives_in_the_form_and_never_in_the_answer(
        api: Api, loopback_provider) -> None:
    # Given the Textlocal preset (https://api.txtlocal.com/docs/sendsms) with its API key as a named secret
    loopback_provider.answer_with(200, {"status": "success", "messages": [{"id": "tl-1"}]})
    document = {"id": "tl", "preset": "textlocal", "default_sender": "ACME",
                "request": {"url": loopback_provider.url_for("/send/")},
                "secrets": {"apikey": "tl-SECRET-key/6"}, "inbound": {"auth": {"token": "h"}}}
    created = api.call("POST", "/providers", document)
    assert created.status == 201, created.text

    # When a message is test-sent
    sent = api.call("POST", "/providers/tl/test-send", {"to": "+447700900123", "text": "Hello"})

    # Then the key is the apikey form field, and the API shows only the mask
    assert sent.json()["status"] == "sent", sent.text
    assert loopback_provider.last.form["apikey"] == ["tl-SECRET-key/6"]
    assert loopback_provider.last.form["numbers"] == ["447700900123"]
    assert created.json()["secrets"] == {"apikey": MASK}
    assert "tl-SECRET" not in created.text + sent.text + api.call("GET", "/providers/tl").text
