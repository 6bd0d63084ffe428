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
