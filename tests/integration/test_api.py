"""The admin API handler end to end in-process: API Gateway proxy events in, moto for DynamoDB, SQS and Secrets Manager."""
from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from tests.support.apigw_events import AdminApi as Api
from tests.support.provider_curls import SAMPLES, ProviderCurl

SECRET_TOKEN = "tok-SECRET-8c1f2e"
MASK = "**********"


def acme_provider(**changes: Any) -> dict[str, Any]:
    provider = {
        "id": "acme",
        "name": "ACME SMS",
        "default": True,
        "default_sender": "ACME",
        "request": {"url": "https://sms.example.com/v1/messages", "method": "POST", "content_type": "json",
                    "body": {"to": "{{to}}", "text": "{{text}}", "from": "{{sender}}", "unicode": "{{is_unicode}}"}},
        "auth": {"type": "api_key", "header": "Authorization", "prefix": "Bearer ", "token": SECRET_TOKEN},
    }
    provider.update(changes)
    return provider


@pytest.fixture
def with_acme(api: Api) -> Api:
    assert api.call("POST", "/providers", acme_provider()).status == 201
    return api


# ---------------------------------------------------------------- messages

def test_given_a_valid_message_when_posted_then_202_with_its_id_and_it_is_on_the_queue(with_acme: Api) -> None:
    answer = with_acme.call("POST", "/messages", {"id": "order-42", "to": "+33 6 12 34 56 78", "text": "Code 1234",
                                                  "sender": "ACME"})

    assert answer.status == 202
    assert answer.json() == {"id": "order-42"}
    queued = with_acme.queued()
    assert len(queued) == 1
    assert queued[0]["id"] == "order-42"
    assert queued[0]["to"] == "+33612345678"
    assert queued[0]["provider"] == "acme"


def test_given_no_id_when_a_message_is_posted_then_one_is_generated(with_acme: Api) -> None:
    answer = with_acme.call("POST", "/messages", {"to": "+33612345678", "text": "hi"})

    assert answer.status == 202
    assert answer.json()["id"]
    assert with_acme.queued()[0]["id"] == answer.json()["id"]


def test_given_a_queued_message_when_got_then_its_status_fields_and_history(with_acme: Api) -> None:
    with_acme.call("POST", "/messages", {"id": "m-1", "to": "+33612345678", "text": "Prix: 5€", "sender": "ACME"})

    answer = with_acme.call("GET", "/messages/m-1")

    assert answer.status == 200
    view = answer.json()
    assert {"id", "status", "to", "provider", "segments", "history"} <= set(view)
    assert view["id"] == "m-1"
    assert view["status"] == "queued"
    assert view["to"] == "+33612345678"
    assert view["provider"] == "acme"
    assert view["segments"] == 1
    assert [entry["status"] for entry in view["history"]] == ["queued"]


def test_given_an_unknown_message_id_when_got_then_404_with_a_message(api: Api) -> None:
    answer = api.call("GET", "/messages/nope")

    assert answer.status == 404
    assert "nope" in answer.json()["message"]


def test_given_an_unknown_provider_when_a_message_is_posted_then_400_and_nothing_queued(with_acme: Api) -> None:
    answer = with_acme.call("POST", "/messages", {"to": "+33612345678", "text": "hi", "provider": "ghost"})

    assert answer.status == 400
    assert "ghost" in answer.json()["message"]
    assert with_acme.queued() == []


@pytest.mark.parametrize("body", [
    {"to": "not a number", "text": "hi"},
    {"to": "+33612345678"},
    {"to": "+33612345678", "text": "hi", "surprise": 1},
    {"to": "+33612345678", "text": "hi", "type": "SPAM"},
])
def test_given_an_invalid_message_when_posted_then_422_with_pydantic_messages(with_acme: Api, body: dict) -> None:
    answer = with_acme.call("POST", "/messages", body)

    assert answer.status == 422
    assert answer.json()["message"].startswith("invalid request:")
    assert answer.json()["errors"]
    assert with_acme.queued() == []


def test_given_a_body_that_is_not_json_when_posted_then_400(with_acme: Api) -> None:
    answer = with_acme.call("POST", "/messages", raw='{"to": "+336', content_type="application/json")

    assert answer.status == 400
    assert "not valid JSON" in answer.json()["message"]


def test_given_a_base64_encoded_body_as_api_gateway_sends_with_binary_types_when_posted_then_accepted(
        with_acme: Api) -> None:
    answer = with_acme.call("POST", "/messages", {"to": "+33612345678", "text": "hi"}, base64_body=True)

    assert answer.status == 202


# ---------------------------------------------------------------- providers

def test_given_a_provider_when_created_then_201_and_the_secret_is_masked(api: Api) -> None:
    answer = api.call("POST", "/providers", acme_provider())

    assert answer.status == 201
    assert answer.json()["auth"]["token"] == MASK
    assert SECRET_TOKEN not in answer.text


def test_given_a_stored_provider_when_read_or_listed_then_secrets_never_appear(with_acme: Api) -> None:
    one = with_acme.call("GET", "/providers/acme")
    many = with_acme.call("GET", "/providers")

    assert one.status == 200 and many.status == 200
    assert one.json()["auth"]["token"] == MASK
    assert [p["id"] for p in many.json()["providers"]] == ["acme"]
    assert SECRET_TOKEN not in one.text + many.text


def test_given_a_provider_when_got_edited_and_put_back_with_the_mask_then_the_stored_secret_is_kept(
        with_acme: Api) -> None:
    document = with_acme.call("GET", "/providers/acme").json()
    document["name"] = "ACME renamed"

    answer = with_acme.call("PUT", "/providers/acme", document)

    assert answer.status == 200
    assert answer.json()["name"] == "ACME renamed"
    from smsbridge.wiring import admin_providers

    stored = admin_providers().get("acme")  # the secret kept, as the send path will read it
    assert stored.auth.token.get_secret_value() == SECRET_TOKEN


def test_given_a_new_secret_when_put_then_it_replaces_the_stored_one(with_acme: Api) -> None:
    document = acme_provider(auth={"type": "api_key", "header": "X-Key", "token": "new-token-777"})

    answer = with_acme.call("PUT", "/providers/acme", document)

    assert answer.status == 200
    assert "new-token-777" not in answer.text
    from smsbridge.wiring import admin_providers

    assert admin_providers().get("acme").auth.token.get_secret_value() == "new-token-777"


def test_given_the_mask_for_a_secret_never_stored_when_put_then_400(api: Api) -> None:
    answer = api.call("PUT", "/providers/acme", acme_provider(auth={"type": "basic", "username": "u",
                                                                    "password": MASK}))

    assert answer.status == 400
    assert "auth.password" in answer.json()["message"]


def test_given_a_body_id_that_differs_from_the_path_when_put_then_400(with_acme: Api) -> None:
    answer = with_acme.call("PUT", "/providers/acme", acme_provider(id="other"))

    assert answer.status == 400


def test_given_an_existing_provider_when_posted_again_then_409(with_acme: Api) -> None:
    assert with_acme.call("POST", "/providers", acme_provider()).status == 409


def test_given_an_invalid_provider_when_created_then_422_without_echoing_its_secret(api: Api) -> None:
    bad = acme_provider(auth={"type": "basic", "username": "bad user!", "password": "pw-SECRET-991"})

    answer = api.call("POST", "/providers", bad)

    assert answer.status == 422
    assert "pw-SECRET-991" not in answer.text
    assert "auth.basic.username" in answer.json()["message"]


def test_given_an_unknown_placeholder_when_a_provider_is_created_then_422_naming_it(api: Api) -> None:
    bad = acme_provider()
    bad["request"]["body"] = {"to": "{{recipient}}"}

    answer = api.call("POST", "/providers", bad)

    assert answer.status == 422
    assert "unknown placeholder {{recipient}}" in answer.json()["message"]
    assert SECRET_TOKEN not in answer.text


def test_given_a_provider_without_a_recipient_placeholder_when_created_then_422_saying_so(api: Api) -> None:
    # A sample number left in the template would send every message to it
    bad = acme_provider()
    bad["request"]["body"] = {"to": "+33612345678", "text": "{{text}}"}

    answer = api.call("POST", "/providers", bad)

    assert answer.status == 422
    assert answer.json()["errors"][0]["loc"] == "body.request"
    assert "carries no recipient: put {{to}} or {{to_digits}}" in answer.json()["message"]
    assert api.call("GET", "/providers/acme").status == 404


def test_given_a_secret_placeholder_with_no_such_secret_when_put_then_422_naming_it(api: Api) -> None:
    bad = acme_provider(secrets={"apikey": "k-SECRET-2"})
    bad["request"]["body"]["key"] = "{{secrets.api_key}}"

    answer = api.call("PUT", "/providers/acme", bad)

    assert answer.status == 422
    assert "{{secrets.api_key}} (in request): no secret of that name in `secrets` (defined: apikey)" in answer.text
    assert "k-SECRET-2" not in answer.text


def test_given_a_provider_when_deleted_then_204_and_then_404(with_acme: Api) -> None:
    assert with_acme.call("DELETE", "/providers/acme").status == 204
    assert with_acme.call("GET", "/providers/acme").status == 404
    assert with_acme.call("DELETE", "/providers/acme").status == 404


# ---------------------------------------------------------------- preview

def test_given_a_text_with_quotes_newline_and_emoji_when_previewed_then_the_body_is_valid_json_with_it_intact(
        with_acme: Api) -> None:
    text = 'He said "hi"\nand left 👋 \\o/'

    answer = with_acme.call("POST", "/providers/acme/preview", {"to": "+33612345678", "text": text})

    assert answer.status == 200
    preview = answer.json()
    assert preview["method"] == "POST"
    assert preview["url"] == "https://sms.example.com/v1/messages"
    assert json.loads(preview["body"]) == {"to": "+33612345678", "text": text, "from": "ACME", "unicode": True}
    assert preview["json_body"]["text"] == text
    assert preview["headers"]["Authorization"] == f"Bearer {MASK}"
    assert preview["curl"].startswith("curl -X POST https://sms.example.com/v1/messages")
    assert SECRET_TOKEN not in answer.text


def test_given_an_api_key_in_the_query_when_previewed_then_the_key_is_masked_in_url_and_curl(api: Api) -> None:
    provider = acme_provider(id="querykey", auth={"type": "api_key", "query": "api_key", "token": "qk/SECRET+1"})
    api.call("POST", "/providers", provider)

    answer = api.call("POST", "/providers/querykey/preview", {"to": "+33612345678", "text": "hi"})

    assert answer.status == 200
    assert answer.json()["url"] == f"https://sms.example.com/v1/messages?api_key={MASK}"
    assert "SECRET" not in answer.text


def test_given_basic_auth_when_previewed_then_the_credentials_are_masked(api: Api) -> None:
    api.call("POST", "/providers", acme_provider(id="basic", auth={"type": "basic", "username": "acct",
                                                                   "password": "pw-SECRET-1"}))

    answer = api.call("POST", "/providers/basic/preview", {"to": "+33612345678", "text": "hi"})

    assert answer.json()["headers"]["Authorization"] == f"Basic {MASK}"
    assert "pw-SECRET-1" not in answer.text
    assert base64.b64encode(b"acct:pw-SECRET-1").decode() not in answer.text


@pytest.mark.parametrize("content_type", ["json", "form"])
def test_given_named_secrets_in_body_query_and_header_when_previewed_then_only_the_mask_stands_there(
        api: Api, content_type: str) -> None:
    # Given secrets in the body, the query and a header (Vonage-like api_key and api_secret)
    secrets = {"api_key": "vk-SECRET-71", "api_secret": 's&"SECRET/72'}
    provider = acme_provider(
        id="named", auth={"type": "none"}, secrets=secrets,
        request={"url": "https://sms.example.com/v1/messages", "content_type": content_type,
                 "query": {"key": "{{secrets.api_key}}"}, "headers": {"X-Secret": "{{secrets.api_secret}}"},
                 "body": {"api_key": "{{secrets.api_key}}", "api_secret": "{{secrets.api_secret}}",
                          "to": "{{to}}", "text": "{{text}}"}})
    assert api.call("POST", "/providers", provider).status == 201

    # When a message is previewed
    answer = api.call("POST", "/providers/named/preview", {"to": "+33612345678", "text": "hi"})

    # Then the mask stands where each secret goes, in the url, headers, body and curl, and no value anywhere
    assert answer.status == 200, answer.text
    preview = answer.json()
    assert preview["url"] == f"https://sms.example.com/v1/messages?key={MASK}"
    assert preview["headers"]["X-Secret"] == MASK
    body = preview["json_body"] if content_type == "json" else dict(pair.split("=", 1)
                                                                     for pair in preview["body"].split("&"))
    assert (body["api_key"], body["api_secret"]) == (MASK, MASK)
    assert preview["curl"].count(MASK) == 4
    for value in secrets.values():
        for form in (value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]):
            assert form not in answer.text


def test_given_an_unknown_provider_when_previewed_then_404(api: Api) -> None:
    answer = api.call("POST", "/providers/ghost/preview", {"to": "+33612345678", "text": "hi"})

    assert answer.status == 404
    assert answer.json()["message"]


# ---------------------------------------------------------------- test and test-send

def test_given_a_provider_on_loopback_when_test_sent_then_the_provider_answer_is_returned_and_recorded(
        api: Api, loopback_provider) -> None:
    loopback_provider.answer_with(201, {"id": "prov-77"})
    provider = acme_provider(id="loop", request={"url": loopback_provider.url_for("/v1/messages"),
                                                 "body": {"to": "{{to}}", "text": "{{text}}"}},
                             response={"message_id_jmespath": "id"})
    api.call("POST", "/providers", provider)

    answer = api.call("POST", "/providers/loop/test-send", {"to": "+33612345678", "text": "hello"})

    assert answer.status == 200
    result = answer.json()
    assert result["status"] == "sent"
    assert result["status_code"] == 201
    assert result["provider_message_id"] == "prov-77"
    assert loopback_provider.last.json() == {"to": "+33612345678", "text": "hello"}
    assert loopback_provider.last.header("authorization") == f"Bearer {SECRET_TOKEN}"
    assert api.call("GET", f"/messages/{result['id']}").json()["status"] == "sent"


def test_given_a_reachable_provider_without_balance_when_tested_then_reachability_is_reported(
        api: Api, loopback_provider) -> None:
    api.call("POST", "/providers", acme_provider(id="loop", request={"url": loopback_provider.url_for("/v1/sms"),
                                                                     "body": {"to": "{{to}}", "text": "{{text}}"}}))

    answer = api.call("POST", "/providers/loop/test")

    assert answer.status == 200
    assert answer.json()["check"] == "reachability"
    assert answer.json()["ok"] is True


def test_given_a_balance_endpoint_refusing_the_credentials_when_tested_then_not_ok_and_said_why(
        api: Api, loopback_provider) -> None:
    loopback_provider.answer_with(401, {"error": "bad token"})
    api.call("POST", "/providers", acme_provider(id="loop", request={"url": loopback_provider.url_for("/v1/sms"),
                                                                     "body": {"to": "{{to}}", "text": "{{text}}"}},
                                                 balance={"url": loopback_provider.url_for("/v1/balance")}))

    answer = api.call("POST", "/providers/loop/test")

    assert answer.json()["check"] == "balance"
    assert answer.json()["ok"] is False
    assert "refused" in answer.json()["detail"]
    assert loopback_provider.last.path == "/v1/balance"


def test_given_a_balance_url_with_a_named_secret_when_tested_then_the_key_is_sent_and_the_answer_masks_it(
        api: Api, loopback_provider) -> None:
    loopback_provider.answer_with(200, {"balance": {"sms": 120}})
    api.call("POST", "/providers", acme_provider(
        id="loop", auth={"type": "none"}, secrets={"apikey": "bal-SECRET-3"},
        request={"url": loopback_provider.url_for("/v1/sms"), "body": {"to": "{{to}}", "text": "{{text}}"}},
        balance={"url": loopback_provider.url_for("/balance/?apikey={{secrets.apikey}}"), "field": "balance.sms"}))

    answer = api.call("POST", "/providers/loop/test")

    assert answer.json()["ok"] is True, answer.text
    assert loopback_provider.last.args["apikey"] == ["bal-SECRET-3"]
    assert answer.json()["url"].endswith(f"/balance/?apikey={MASK}")
    assert "bal-SECRET" not in answer.text


# ---------------------------------------------------------------- import-curl

def test_given_a_twilio_style_curl_when_imported_then_a_valid_draft_with_placeholders_and_masked_secret(
        api: Api) -> None:
    command = ("curl -X POST https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json \\\n"
               "  --data-urlencode \"To=+15558675310\" --data-urlencode \"From=+15017122661\" \\\n"
               "  --data-urlencode \"Body=Hi there\" -u AC123:authtoken-SECRET")

    answer = api.call("POST", "/providers/import-curl", {"curl": command})

    assert answer.status == 200
    result = answer.json()
    assert result["valid"] is True
    draft = result["provider"]
    assert draft["id"] == "twilio"
    assert draft["request"]["content_type"] == "form"
    assert draft["request"]["body"] == [["To", "{{to}}"], ["From", "{{sender}}"], ["Body", "{{text}}"]]
    assert draft["auth"] == {"type": "basic", "username": "AC123", "password": MASK}
    assert "authtoken-SECRET" not in answer.text


def test_given_save_when_a_curl_is_imported_then_the_provider_is_stored_with_its_secret(api: Api) -> None:
    command = ("curl https://api.example.net/sms -H 'Authorization: Bearer live-SECRET' "
               "-H 'Content-Type: application/json' -d '{\"to\": \"+33612345678\", \"message\": \"hi\"}'")

    answer = api.call("POST", "/providers/import-curl", {"curl": command, "id": "example", "save": True})

    assert answer.json()["saved"] is True
    from smsbridge.wiring import admin_providers

    stored = admin_providers().get("example")
    assert stored.auth.token.get_secret_value() == "live-SECRET"
    assert stored.request.body == {"to": "{{to}}", "message": "{{text}}"}


def test_given_credentials_in_a_form_body_when_imported_and_saved_then_they_live_in_secrets_manager_only(
        api: Api) -> None:
    command = ("curl -X POST https://rest.nexmo.com/sms/json -d api_key=key-SECRET-1 -d api_secret=sec-SECRET-2 "
               "-d to=447700900000 -d from=ACME -d 'text=Hello'")

    answer = api.call("POST", "/providers/import-curl", {"curl": command, "id": "vonage-form", "save": True})

    assert answer.status == 200
    assert answer.json()["saved"] is True
    assert answer.json()["provider"]["request"]["body"] == [
        ["api_key", "{{secrets.api_key}}"], ["api_secret", "{{secrets.api_secret}}"], ["to", "{{to_digits}}"],
        ["from", "{{sender}}"], ["text", "{{text}}"]]
    assert "SECRET" not in answer.text
    from smsbridge.wiring import admin_providers

    store = admin_providers()
    row = store._table.get_item(Key={"id": "vonage-form"})["Item"]
    assert "SECRET" not in json.dumps(row, default=str)
    assert {name: value.get_secret_value() for name, value in store.get("vonage-form").secrets.items()} == {
        "api_key": "key-SECRET-1", "api_secret": "sec-SECRET-2"}


def test_given_vonages_documented_curl_when_imported_then_not_valid_naming_each_shell_variable_and_not_saved(
        api: Api) -> None:
    vonage = next(sample for sample in SAMPLES if sample.provider == "Vonage (SMS API)")

    answer = api.call("POST", "/providers/import-curl", {"curl": vonage.command, "id": "vonage", "save": True})

    assert answer.status == 200
    result = answer.json()
    assert result["valid"] is False
    assert result["saved"] is False
    assert {"loc": "auth.username", "msg": "auth.username: shell variable $VONAGE_API_KEY left to fill"} in result["errors"]
    assert {"loc": "auth.password", "msg": "auth.password: shell variable $VONAGE_API_SECRET left to fill"} in (
        result["errors"])
    assert result["provider"]["auth"]["password"] == "$VONAGE_API_SECRET"  # a placeholder, nothing secret to mask
    assert result["provider"]["request"]["body"] == {"from": "{{sender}}", "to": "{{to}}", "text": "{{text}}"}
    assert api.call("GET", "/providers/vonage").status == 404


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.provider for sample in SAMPLES])
def test_given_a_providers_documented_curl_when_imported_then_placeholders_are_errors_and_real_secrets_are_masked(
        api: Api, sample: ProviderCurl) -> None:
    answer = api.call("POST", "/providers/import-curl", {"curl": sample.command})

    assert answer.status == 200, sample.source
    result = answer.json()
    assert result["valid"] is not bool(sample.left_to_fill)
    assert {(error["loc"], token) for error in result["errors"] for where, token in sample.left_to_fill
            if error["loc"] == where and token in error["msg"]} == set(sample.left_to_fill)
    for credential in sample.credentials:
        if not any(token == credential for _, token in sample.left_to_fill):
            shown = json.dumps([result["provider"]["request"].get(part) for part in ("headers", "query", "body")]
                               + [result["provider"].get("secrets"), result["provider"].get("auth")])
            assert credential not in shown, sample.source


def test_given_a_command_without_url_when_imported_then_400(api: Api) -> None:
    answer = api.call("POST", "/providers/import-curl", {"curl": "curl -X POST"})

    assert answer.status == 400


# ---------------------------------------------------------------- consent

def test_given_a_number_when_opted_out_then_get_shows_the_state_in_e164(with_acme: Api) -> None:
    put = with_acme.call("PUT", "/consent/acme/0033612345678", {"state": "opted_out"})
    got = with_acme.call("GET", "/consent/acme/+33612345678")

    assert put.status == 200
    assert got.status == 200
    assert got.json()["phone"] == "+33612345678"
    assert got.json()["state"] == "opted_out"
    assert [event["source"] for event in got.json()["history"]] == ["api"]


def test_given_a_number_never_seen_when_consent_is_read_then_state_is_null(with_acme: Api) -> None:
    got = with_acme.call("GET", "/consent/acme/+33612345678")

    assert got.status == 200
    assert got.json()["state"] is None


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/consent/acme/12", {"state": "opted_out"}, 400),
    ("/consent/acme/+33612345678", {"state": "maybe"}, 422),
    ("/consent/acme/+33612345678", {"state": "opt_in_requested"}, 422),  # only the number's own keyword asks
    ("/consent/ghost/+33612345678", {"state": "opted_in"}, 404),
])
def test_given_bad_consent_input_when_put_then_4xx(with_acme: Api, path: str, body: dict, status: int) -> None:
    answer = with_acme.call("PUT", path, body)

    assert answer.status == status
    assert answer.json()["message"]


# ---------------------------------------------------------------- OpenAPI and errors

def test_when_openapi_json_is_got_then_it_is_a_valid_openapi_document_with_the_routes(api: Api) -> None:
    from openapi_spec_validator import validate

    answer = api.call("GET", "/openapi.json")

    assert answer.status == 200
    document = answer.json()
    validate(document)
    assert {"/messages", "/messages/{id}", "/providers", "/providers/{provider}", "/providers/{provider}/preview",
            "/providers/import-curl", "/consent/{provider}/{phone}"} <= set(document["paths"])


def test_when_swagger_is_got_then_an_html_page(api: Api) -> None:
    answer = api.call("GET", "/swagger")

    assert answer.status == 200
    assert "swagger" in answer.text.lower()


def test_given_an_unknown_route_when_called_then_404_json(api: Api) -> None:
    answer = api.call("GET", "/nowhere")

    assert answer.status == 404
    assert "no route" in answer.json()["message"]


@pytest.mark.parametrize(("url", "why"), [
    ("http://sms.example.com/send", "https"),
    ("https://127.0.0.1/send", "loopback"),
    ("https://169.254.169.254/latest", "metadata"),
    ("https://10.1.2.3/send", "private"),
])
def test_given_a_deployed_bridge_when_a_provider_url_is_not_public_https_then_saving_it_is_refused(api, monkeypatch,
                                                                                                  url, why):
    from tests.support.stack import reset_cached_clients

    monkeypatch.setenv("SMSBRIDGE_LOCAL", "false")
    reset_cached_clients()

    answer = api.call("POST", "/providers",
                      acme_provider(request={"url": url, "body": {"to": "{{to}}", "text": "{{text}}"}}))

    assert answer.status == 400
    assert "request.url" in answer.json()["message"] and why in answer.json()["message"]
    assert api.call("GET", "/providers/acme").status == 404
