"""Provider presets: shipped data, valid once the user's secrets are given, merged key by key, rendered as documented."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from pydantic import ValidationError

from smsbridge.core.presets import UnknownPreset, available_presets, load_preset, merge_over, resolve_preset
from smsbridge.core.render import render_balance_request, render_request
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import ProviderConfig

NOW = datetime(2026, 11, 21, 10, 30, 5, tzinfo=timezone.utc)
REQUIRED_PRESETS = {"twilio", "vonage", "plivo", "sinch", "infobip", "messagebird", "telnyx", "clickatell",
                    "bulksms", "textlocal", "msg91", "ino-cx"}

# What a user adds to a preset, and nothing more: the id and the secrets the preset leaves out.
MINIMAL_DOCUMENTS: dict[str, dict[str, Any]] = {
    "twilio": {"auth": {"username": "AC0123456789abcdef", "password": "auth-token"}},
    "vonage": {"auth": {"username": "abcd1234", "password": "api-secret"},
               "inbound": {"auth": {"secret": "signature-secret"}}},
    "plivo": {"auth": {"username": "MAXXXXXXXXXXXXXXXXXX", "password": "auth-token"}},
    "sinch": {"auth": {"token": "api-token"}, "inbound": {"auth": {"secret": "callback-secret"}}},
    "infobip": {"auth": {"token": "api-key"}, "inbound": {"auth": {"token": "hook"}}},
    "messagebird": {"auth": {"token": "access-key"}, "inbound": {"auth": {"secret": "signing-key"}}},
    "telnyx": {"auth": {"token": "api-key"},
               "inbound": {"auth": {"public_key": "ZKIRXWh4nZ9nBKbRHdtD1CWc6MmFqXsDyNmwuyd5pO4="}}},
    "clickatell": {"auth": {"token": "api-key"}},
    "bulksms": {"auth": {"username": "token-id", "password": "token-secret"}, "inbound": {"auth": {"token": "hook"}}},
    "textlocal": {"secrets": {"apikey": "api-key"}, "inbound": {"auth": {"token": "hook"}}},
    "msg91": {"auth": {"token": "authkey"}},
    "ino-cx": {"auth": {"token": "api-token"}},
    # The presets of SPEC 6 "Then:" (tests/unit/test_presets_more.py)
    "clicksend": {"auth": {"username": "user", "password": "api-key"}, "inbound": {"auth": {"token": "hook"}}},
    "aws-end-user-messaging": {"request": {"url": "https://sms-voice.eu-west-1.amazonaws.com/"},
                               "auth": {"region": "eu-west-1"}},
    "africastalking": {"auth": {"token": "api-key"}, "inbound": {"auth": {"token": "hook"}}},
    "termii": {"secrets": {"api_key": "api-key"}, "inbound": {"auth": {"secret": "termii-secret-key"}}},
    "textmagic": {"auth": {"token": "api-key"}},
    "bandwidth": {"auth": {"username": "api-user", "password": "api-password"},
                  "inbound": {"auth": {"username": "bandwidth", "password": "callback"}}},
    "smsglobal": {"auth": {"token": "api-password"}},
    "esendex": {"auth": {"username": "user@example.com", "password": "api-token"}},
    "twilio-messaging-service": {"auth": {"username": "AC0123456789abcdef", "password": "auth-token"}},
}


def configured(name: str, **changes: Any) -> ProviderConfig:
    document = merge_over({"id": "p", "preset": name, **MINIMAL_DOCUMENTS[name]}, changes)
    return ProviderConfig.model_validate(resolve_preset(document))


def message(text: str = "Your code is 1234", **fields: Any) -> OutboundMessage:
    return OutboundMessage(id="msg-1", to="+33612345678", text=text, sender="ACME", **fields)


def rendered_json(name: str, msg: OutboundMessage | None = None) -> Any:
    return json.loads(render_request(configured(name), [msg or message()], NOW).body)


def rendered_form(name: str) -> dict[str, str]:
    return dict(parse_qsl(render_request(configured(name), [message()], NOW).body.decode()))


# ---------------------------------------------------------------- the shipped data

def test_every_required_provider_has_a_preset() -> None:
    assert REQUIRED_PRESETS <= set(available_presets())


def test_every_preset_has_a_minimal_document_in_these_tests() -> None:
    assert set(available_presets()) == set(MINIMAL_DOCUMENTS)


@pytest.mark.parametrize("name", sorted(REQUIRED_PRESETS))
def test_every_preset_file_is_a_json_object_naming_its_sources(name: str) -> None:
    raw = json.loads((files("smsbridge") / "presets" / f"{name}.json").read_text(encoding="utf-8"))

    assert isinstance(raw, dict)
    assert raw["_source"], "a preset says which documentation it follows"
    assert "id" not in raw and "preset" not in raw, "the id and the preset name are the user's"


@pytest.mark.parametrize("name", sorted(REQUIRED_PRESETS))
def test_given_a_preset_with_only_the_users_secrets_when_validated_then_it_is_a_provider(name: str) -> None:
    config = configured(name)

    assert config.preset == name
    assert config.request.url.startswith("https://")


# Textlocal wants its key in the body: its credential is `secrets.apikey`, tested on its own below.
@pytest.mark.parametrize("name", sorted(REQUIRED_PRESETS - {"textlocal"}))
def test_given_a_preset_without_the_users_secrets_when_validated_then_the_error_names_the_auth(name: str) -> None:
    with pytest.raises(ValidationError) as error:
        ProviderConfig.model_validate(resolve_preset({"id": "p", "preset": name}))

    assert any(e["loc"][0] == "auth" for e in error.value.errors())


@pytest.mark.parametrize("name", sorted(REQUIRED_PRESETS))
def test_a_preset_holds_no_secret_value(name: str) -> None:
    preset = load_preset(name)

    for part in (preset.get("auth", {}), (preset.get("inbound") or {}).get("auth", {})):
        assert not {"password", "token", "secret", "client_secret", "private_key"} & set(part)


@pytest.mark.parametrize("name", sorted(REQUIRED_PRESETS))
def test_every_preset_renders_a_sample_message(name: str) -> None:
    request = render_request(configured(name), [message(template_id="1107161234567890")], NOW)

    assert request.method == "POST" and request.body


# ---------------------------------------------------------------- merging

def test_given_nested_objects_when_merged_then_they_merge_key_by_key() -> None:
    merged = merge_over({"a": {"b": 1, "c": {"d": 2, "e": 3}}, "f": 4}, {"a": {"c": {"d": 20}}, "g": 5})

    assert merged == {"a": {"b": 1, "c": {"d": 20, "e": 3}}, "f": 4, "g": 5}


def test_given_a_list_when_merged_then_it_replaces_the_presets_list() -> None:
    assert merge_over({"to": ["{{to}}"], "x": 1}, {"to": ["+1", "+2"]}) == {"to": ["+1", "+2"], "x": 1}


def test_given_a_scalar_or_null_when_merged_then_it_replaces_even_an_object() -> None:
    assert merge_over({"balance": {"url": "u"}, "n": 1}, {"balance": None, "n": "two"}) == {"balance": None, "n": "two"}


def test_given_the_twilio_preset_and_an_api_key_auth_when_resolved_then_the_auth_is_the_documents_alone() -> None:
    document = {"id": "p", "preset": "twilio",
                "auth": {"type": "api_key", "header": "Authorization", "prefix": "Bearer ", "token": "tok-1"}}

    config = ProviderConfig.model_validate(resolve_preset(document))

    assert config.auth.model_dump(mode="json") == {"type": "api_key", "token": "**********", "header": "Authorization",
                                                   "prefix": "Bearer ", "query": None}
    assert config.inbound.auth.type == "twilio"


def test_given_an_inbound_auth_of_another_type_when_merged_then_it_replaces_the_presets_whole() -> None:
    merged = resolve_preset({"id": "p", "preset": "vonage", "inbound": {"auth": {"type": "basic", "username": "u",
                                                                                "password": "p"}}})

    assert merged["inbound"]["auth"] == {"type": "basic", "username": "u", "password": "p"}
    assert merged["inbound"]["fields"]["from"] == "msisdn"


def test_given_an_auth_of_the_same_type_or_without_type_when_merged_then_it_merges_key_by_key() -> None:
    same = resolve_preset({"id": "p", "preset": "twilio", "auth": {"type": "basic", "username": "AC1"}})
    untyped = resolve_preset({"id": "p", "preset": "messagebird", "auth": {"token": "k"}})

    assert same["auth"] == {"type": "basic", "username": "AC1"}
    assert untyped["auth"] == {"type": "api_key", "header": "Authorization", "prefix": "AccessKey ", "token": "k"}


def test_given_a_request_body_field_named_type_when_merged_then_the_body_still_merges_key_by_key() -> None:
    merged = resolve_preset({"id": "p", "preset": "vonage", "request": {"body": {"type": "text"}}})

    assert merged["request"]["body"]["type"] == "text" and merged["request"]["body"]["to"] == "{{to_digits}}"


def test_given_a_preset_when_resolved_then_the_users_fields_win_and_the_preset_name_is_kept() -> None:
    document = {"id": "tw", "preset": "twilio",
                "request": {"url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"},
                "status": {"map": {"sent": "delivered"}}}

    resolved = resolve_preset(document)

    assert resolved["preset"] == "twilio"
    assert resolved["request"]["url"].endswith("/AC1/Messages.json")
    assert resolved["request"]["content_type"] == "form"  # from the preset
    assert resolved["status"]["map"]["sent"] == "delivered" and resolved["status"]["map"]["failed"] == "failed"


def test_given_a_resolved_document_when_changed_then_the_shipped_preset_is_untouched() -> None:
    resolve_preset({"id": "tw", "preset": "twilio"})["request"]["body"]["To"] = "changed"

    assert load_preset("twilio")["request"]["body"]["To"] == "{{to}}"


def test_given_no_preset_when_resolved_then_the_document_is_unchanged() -> None:
    document = {"id": "x", "request": {"url": "https://sms.example.com"}}

    assert resolve_preset(document) == document


def test_given_an_unknown_preset_when_resolved_then_a_value_error_lists_the_available_ones() -> None:
    with pytest.raises(UnknownPreset) as error:
        resolve_preset({"id": "x", "preset": "no-such-provider"})

    assert isinstance(error.value, ValueError)
    assert "no-such-provider" in str(error.value)
    assert all(name in str(error.value) for name in ("twilio", "vonage", "ino-cx"))


def test_a_documentation_key_of_a_preset_file_never_reaches_the_configuration() -> None:
    assert not [key for name in available_presets() for key in load_preset(name) if key.startswith("_")]


# ---------------------------------------------------------------- rendered as each provider documents

def test_twilio_sends_a_form_with_to_from_body_to_the_account_messages_resource() -> None:
    request = render_request(configured("twilio"), [message()], NOW)

    assert urlsplit(request.url).path == "/2010-04-01/Accounts/ACCOUNT_SID/Messages.json"
    assert rendered_form("twilio") == {"To": "+33612345678", "From": "ACME", "Body": "Your code is 1234"}


def test_vonage_sends_a_form_with_to_from_text_and_the_number_without_plus() -> None:
    form = rendered_form("vonage")

    assert form["to"] == "33612345678" and form["from"] == "ACME" and form["text"] == "Your code is 1234"


def test_plivo_sends_src_dst_text() -> None:
    assert rendered_json("plivo") == {"src": "ACME", "dst": "33612345678", "text": "Your code is 1234"}


def test_sinch_sends_a_batch_with_to_as_a_list() -> None:
    body = rendered_json("sinch")

    assert body["to"] == ["+33612345678"] and body["from"] == "ACME" and body["body"] == "Your code is 1234"


def test_infobip_sends_messages_with_destinations() -> None:
    body = rendered_json("infobip")

    assert body["messages"][0]["destinations"][0]["to"] == "33612345678"
    assert body["messages"][0]["text"] == "Your code is 1234" and body["messages"][0]["from"] == "ACME"


def test_messagebird_sends_originator_recipients_body() -> None:
    body = rendered_json("messagebird")

    assert (body["originator"], body["recipients"], body["body"]) == ("ACME", ["33612345678"], "Your code is 1234")


def test_telnyx_sends_from_to_text() -> None:
    assert rendered_json("telnyx") == {"from": "ACME", "to": "+33612345678", "text": "Your code is 1234"}


def test_clickatell_sends_messages_on_the_sms_channel() -> None:
    body = rendered_json("clickatell")

    assert body["messages"][0] == {"channel": "sms", "to": "33612345678", "content": "Your code is 1234",
                                   "clientMessageId": "msg-1"}


def test_bulksms_sends_to_from_body() -> None:
    body = rendered_json("bulksms")

    assert (body["to"], body["from"], body["body"]) == ("+33612345678", "ACME", "Your code is 1234")


def test_textlocal_sends_apikey_numbers_sender_message_in_the_form_body() -> None:
    # https://api.txtlocal.com/docs/sendsms: the POST sample sends apikey among the form fields
    request = render_request(configured("textlocal"), [message()], NOW)
    form = parse_qsl(request.body.decode())

    assert [key for key, _ in form] == ["apikey", "numbers", "sender", "message", "custom"]
    assert dict(form) | {"custom": None} == {"apikey": "api-key", "numbers": "33612345678", "sender": "ACME",
                                              "message": "Your code is 1234", "custom": None}
    assert "apikey" not in request.url and "Authorization" not in request.headers


def test_textlocal_asks_its_balance_with_the_apikey_in_the_query() -> None:
    # https://api.txtlocal.com/docs/getbalance
    request = render_balance_request(configured("textlocal", secrets={"apikey": "k&y/1"}))

    assert request.url == "https://api.txtlocal.com/balance/?apikey=k%26y%2F1"


def test_given_a_textlocal_document_without_its_apikey_when_validated_then_the_error_names_the_secret() -> None:
    with pytest.raises(ValidationError, match=r"\{\{secrets\.apikey\}\}.*no secret of that name"):
        ProviderConfig.model_validate(resolve_preset({"id": "p", "preset": "textlocal",
                                                      "inbound": {"auth": {"token": "hook"}}}))


@pytest.mark.parametrize(("text", "expected"), [("Your code is 1234 {ok} €", "text"), ("Code 1234 🎉", "unicode"),
                                                ("Привет", "unicode")])
def test_vonage_sends_type_unicode_for_a_unicode_text_and_text_for_a_gsm_one(text: str, expected: str) -> None:
    # https://developer.vonage.com/en/api/sms: `type` text for GSM, unicode for anything outside it
    form = dict(parse_qsl(render_request(configured("vonage"), [message(text)], NOW).body.decode()))

    assert (form["type"], form["text"]) == (expected, text)


def test_messagebird_lets_its_api_choose_the_datacoding() -> None:
    # https://developers.messagebird.com/api/sms-messaging/#the-message-object: `auto` sets plain or
    # unicode from the body, where the default `plain` would mangle a unicode text
    assert rendered_json("messagebird", message("Code 1234 🎉"))["datacoding"] == "auto"


def test_msg91_sends_the_template_id_and_the_recipient() -> None:
    body = rendered_json("msg91", message(template_id="1107161234567890"))

    assert body["template_id"] == "1107161234567890"
    assert body["recipients"][0]["mobiles"] == "33612345678"


def test_ino_cx_sends_exactly_its_seven_fields_with_typed_unicode_flag_and_credits() -> None:
    body = rendered_json("ino-cx", message("Crème brûlée ☕", type="NOTIFICATION"))

    assert set(body) == {"type", "sender", "to", "retId", "isUnicode", "text", "credits"}
    assert body == {"type": "NOTIFICATION", "sender": "ACME", "to": "+33612345678", "retId": "msg-1",
                    "isUnicode": True, "text": "Crème brûlée ☕", "credits": 1}
    assert isinstance(body["credits"], int) and not isinstance(body["credits"], bool)


def test_twilio_checks_inbound_signatures_and_maps_its_status_words() -> None:
    config = configured("twilio")

    assert config.inbound.auth.type == "twilio"
    assert config.inbound.fields == {"from": "From", "to": "To", "text": "Body", "id": "MessageSid"}
    assert config.status.map["undelivered"] == "failed" and config.status.map["delivered"] == "delivered"


# ---------------------------------------------------------------- the local runtime's provider files

def test_given_a_provider_file_naming_a_preset_when_read_then_it_validates(tmp_path) -> None:
    from local.runtime import read_provider_files

    (tmp_path / "tw.json").write_text(json.dumps({"id": "tw", "preset": "twilio", **MINIMAL_DOCUMENTS["twilio"]}))

    assert [document["id"] for document in read_provider_files(tmp_path)] == ["tw"]


def test_given_a_provider_file_naming_an_unknown_preset_when_read_then_the_error_names_the_file(tmp_path) -> None:
    from local.runtime import ProviderFileError, read_provider_files

    (tmp_path / "x.json").write_text(json.dumps({"id": "x", "preset": "nope"}))

    with pytest.raises(ProviderFileError, match=r"x\.json: unknown preset 'nope'"):
        read_provider_files(tmp_path)


SHIPPED = ("africastalking, aws-end-user-messaging, bandwidth, bulksms, clickatell, clicksend, esendex, infobip, "
           "ino-cx, messagebird, msg91, plivo, sinch, smsglobal, telnyx, termii, textlocal, textmagic, twilio, "
           "twilio-messaging-service, vonage")


def test_given_an_unknown_preset_when_loaded_or_documented_then_the_error_lists_every_shipped_preset() -> None:
    from smsbridge.core.presets import preset_documentation

    for read in (load_preset, preset_documentation):
        with pytest.raises(UnknownPreset) as refused:
            read("nope")
        assert str(refused.value) == f"unknown preset 'nope'; available presets: {SHIPPED}"


def test_given_a_presets_folder_holding_a_file_that_is_not_json_then_it_is_no_preset(tmp_path, monkeypatch) -> None:
    from smsbridge.core import presets

    (tmp_path / "acme.json").write_text('{"request": {"url": "https://acme.example/send"}}', encoding="utf-8")
    (tmp_path / "README.md").write_text("# presets\n", encoding="utf-8")
    (tmp_path / "old.json").mkdir()
    monkeypatch.setattr(presets, "_PRESETS", tmp_path)

    assert presets.available_presets() == ["acme"]


def test_given_an_auth_of_the_presets_type_when_merged_then_its_fields_join_the_presets() -> None:
    base = {"auth": {"type": "basic", "username": "{{account_sid}}"}, "inbound": {"auth": {"type": "hmac", "header": "X-Sig"}}}
    override = {"auth": {"type": "basic", "password": "pw"}, "inbound": {"auth": {"type": "hmac", "secret": "s"}}}

    assert merge_over(base, override) == {"auth": {"type": "basic", "username": "{{account_sid}}", "password": "pw"},
                                          "inbound": {"auth": {"type": "hmac", "header": "X-Sig", "secret": "s"}}}


@pytest.mark.parametrize("document", ["twilio", ["twilio"], None, 3])
def test_given_a_document_that_is_not_an_object_when_resolved_then_it_comes_back_unchanged_for_validation_to_refuse(document) -> None:
    assert resolve_preset(document) == document
