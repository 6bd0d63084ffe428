"""core.curl: a request as a curl command, secrets masked for display, and a provider draft from a sample curl command."""
from __future__ import annotations

import base64
import json
import shlex
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge.core.auth import authenticate
from smsbridge.core.curl import CurlError, curl_command, mask_paths, masked_request, parse_curl, provider_draft
from smsbridge.core.render import render_request
from smsbridge.core.secrets import MASK
from smsbridge.models.message import OutboundMessage
from smsbridge.models.provider import ProviderConfig
from smsbridge.models.wire import HttpRequest
from tests.support.provider_curls import SAMPLES, ProviderCurl

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _words_of(command: str) -> list[str]:
    """The words a POSIX shell reads: a backslash-newline outside quotes continues the line (and is
    dropped), inside quotes it is text (a body may hold one)."""
    kept, quote, i = [], None, 0
    while i < len(command):
        char = command[i]
        if quote is None and command.startswith("\\\n", i):
            i += 2
            continue
        if char in "'\"" and quote in (None, char):
            quote = None if quote == char else char
        kept.append(char)
        i += 1
    return shlex.split("".join(kept))


# ---------------------------------------------------------------- request → curl

def test_given_a_json_request_when_written_as_curl_then_a_shell_reads_back_method_url_headers_and_body() -> None:
    request = HttpRequest("POST", "https://p.example/v1?x=1&y=2", {"Content-Type": "application/json"},
                          json.dumps({"text": "it's \"quoted\"\nnew line 👋"}, ensure_ascii=False).encode())

    words = _words_of(curl_command(request))

    assert words[:4] == ["curl", "-X", "POST", "https://p.example/v1?x=1&y=2"]
    assert words[4:6] == ["-H", "Content-Type: application/json"]
    assert words[6] == "--data-raw"
    assert json.loads(words[7]) == {"text": "it's \"quoted\"\nnew line 👋"}


def test_given_a_get_without_body_when_written_as_curl_then_no_data_option() -> None:
    words = _words_of(curl_command(HttpRequest("GET", "https://p.example/send?to=%2B33")))

    assert words == ["curl", "-X", "GET", "https://p.example/send?to=%2B33"]


@given(st.text(min_size=1, max_size=200))
def test_given_any_body_when_written_as_curl_then_the_shell_gives_it_back_unchanged(text: str) -> None:
    body = text.encode("utf-8", errors="replace")

    words = _words_of(curl_command(HttpRequest("POST", "https://p.example/", {}, body)))

    assert words[-1] == body.decode("utf-8", errors="replace")


# ---------------------------------------------------------------- masking

def _provider(auth: dict, **request) -> ProviderConfig:
    return ProviderConfig.model_validate({
        "id": "p", "default_sender": "ACME",
        "request": {"url": "https://p.example/send", "body": {"to": "{{to}}", "text": "{{text}}"}, **request},
        "auth": auth})


def _shown(provider: ProviderConfig, text: str = "hi") -> HttpRequest:
    message = OutboundMessage(to="+33612345678", text=text)
    request = authenticate(render_request(provider, [message], NOW), provider.auth, NOW, bearer="tkn-SECRET")
    secrets = [provider.auth.model_dump(mode="python").get(k).get_secret_value()
               for k in ("password", "token", "secret", "client_secret") if getattr(provider.auth, k, None)]
    return masked_request(request, provider.auth, secrets)


def test_given_basic_auth_when_masked_then_the_scheme_stays_and_the_credentials_go() -> None:
    shown = _shown(_provider({"type": "basic", "username": "u", "password": "pw-SECRET"}))

    assert shown.headers["Authorization"] == f"Basic {MASK}"


def test_given_an_api_key_header_with_prefix_when_masked_then_the_prefix_stays() -> None:
    shown = _shown(_provider({"type": "api_key", "header": "X-Key", "prefix": "Key ", "token": "k-SECRET"}))

    assert shown.headers["X-Key"] == f"Key {MASK}"


def test_given_an_api_key_query_parameter_when_masked_then_only_its_value_is_masked() -> None:
    provider = _provider({"type": "api_key", "query": "api_key", "token": "k/SECRET+="}, query={"route": "1"})

    shown = _shown(provider)

    assert shown.url == f"https://p.example/send?route=1&api_key={MASK}"


def test_given_hmac_auth_when_masked_then_the_signature_header_is_masked() -> None:
    shown = _shown(_provider({"type": "hmac", "secret": "h-SECRET", "signature_header": "X-Sig"}))

    assert shown.headers["X-Sig"] == MASK
    assert "X-Timestamp" in shown.headers


def test_given_a_secret_that_also_appears_in_the_body_when_masked_then_it_is_masked_there_too() -> None:
    shown = _shown(_provider({"type": "basic", "username": "u", "password": "pw-SECRET"}), text="my pw-SECRET")

    assert b"pw-SECRET" not in shown.body
    assert json.loads(shown.body)["text"] == f"my {MASK}"


def test_given_secret_paths_when_a_draft_is_masked_then_those_values_read_as_the_mask() -> None:
    masked = mask_paths({"auth": {"type": "basic", "password": "x"}}, ["auth.password", "auth.missing"])

    assert masked == {"auth": {"type": "basic", "password": MASK}}


# ---------------------------------------------------------------- curl → provider draft

def test_given_a_twilio_sample_when_drafted_then_form_body_basic_auth_and_placeholders() -> None:
    draft = provider_draft(
        "curl -X POST https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json \\\n"
        "--data-urlencode 'To=+15558675310' --data-urlencode 'From=+15017122661' "
        "--data-urlencode 'Body=Hi there' -u AC1:secret-token")

    assert draft.config["id"] == "twilio"
    assert draft.config["request"]["content_type"] == "form"
    assert draft.config["request"]["body"] == {"To": "{{to}}", "From": "{{sender}}", "Body": "{{text}}"}
    assert draft.config["auth"] == {"type": "basic", "username": "AC1", "password": "secret-token"}
    assert draft.secret_paths == ["auth.password"]
    ProviderConfig.model_validate(draft.config)


def test_given_a_json_body_and_bearer_header_when_drafted_then_json_template_and_api_key_auth() -> None:
    draft = provider_draft(
        """curl 'https://api.example.com/sms/2/text/advanced' -H 'Authorization: App 003026abc' """
        """-H 'Content-Type: application/json' -H 'Accept: application/json' """
        """-d '{"messages":[{"destinations":[{"to":"41793026727"}],"from":"InfoSMS","text":"This is a sample"}]}'""")

    request = draft.config["request"]
    assert request["content_type"] == "json"
    assert request["body"] == {"messages": [{"destinations": [{"to": "{{to_digits}}"}], "from": "{{sender}}",
                                             "text": "{{text}}"}]}
    assert request["headers"] == {"Accept": "application/json"}
    assert draft.config["auth"] == {"type": "api_key", "header": "Authorization", "prefix": "App ",
                                    "token": "003026abc"}
    ProviderConfig.model_validate(draft.config)


def test_given_a_key_in_the_query_string_when_drafted_then_api_key_query_auth_and_other_params_kept() -> None:
    draft = provider_draft("curl 'https://sms.example.org/send?apikey=K123&to=33612345678&msg=hello&route=4'")

    assert draft.config["request"]["method"] == "GET"
    assert draft.config["request"]["content_type"] == "none"
    assert draft.config["request"]["query"] == {"to": "{{to_digits}}", "msg": "{{text}}", "route": "4"}
    assert draft.config["auth"] == {"type": "api_key", "query": "apikey", "token": "K123"}
    ProviderConfig.model_validate(draft.config)


def test_given_data_without_content_type_that_parses_as_json_when_drafted_then_json() -> None:
    draft = provider_draft("""curl https://x.example/v1/sms -d '{"recipient": "+33612345678", "body": "hi"}'""")

    assert draft.config["request"]["method"] == "POST"
    assert draft.config["request"]["body"] == {"recipient": "{{to}}", "body": "{{text}}"}


def test_given_repeated_form_keys_when_drafted_then_the_body_is_a_list_of_pairs() -> None:
    draft = provider_draft("curl https://x.example/send -d 'to=%2B33612345678' -d 'to=%2B33612345679' -d 'text=hi'")

    assert draft.config["request"]["body"] == [["to", "{{to}}"], ["to", "{{to}}"], ["text", "{{text}}"]]


def test_given_basic_credentials_in_an_authorization_header_when_drafted_then_basic_auth() -> None:
    token = base64.b64encode(b"user:pass").decode()

    draft = provider_draft(f"curl https://x.example/send -H 'Authorization: Basic {token}' -d 'text=hi'")

    assert draft.config["auth"] == {"type": "basic", "username": "user", "password": "pass"}


def test_given_insecure_and_max_time_when_drafted_then_verify_tls_off_and_timeout_set_with_a_note() -> None:
    draft = provider_draft("curl -k -m 5 -XPOST https://x.example/send -d 'text=hi'")

    assert draft.config["verify_tls"] is False
    assert draft.config["timeout_s"] == 5
    assert any("insecure" in note for note in draft.notes)


def test_given_get_and_data_when_parsed_then_the_data_goes_to_the_query_string() -> None:
    parsed = parse_curl("curl -G https://x.example/send -d to=1 --data-urlencode 'text=a b'")

    assert parsed.method == "GET"
    assert parsed.url == "https://x.example/send?to=1&text=a+b"
    assert parsed.data == []


@pytest.mark.parametrize("command", ["curl -X POST", "curl 'unterminated", "curl https://x.example -d @body.json"])
def test_given_an_unusable_command_when_drafted_then_curl_error(command: str) -> None:
    with pytest.raises(CurlError):
        provider_draft(command)


def test_given_no_recognisable_fields_when_drafted_then_a_note_says_where_placeholders_go() -> None:
    draft = provider_draft("curl https://x.example/send -d 'a=1'")

    assert any("{{to}}" in note for note in draft.notes)


# ---------------------------------------------------------------- providers' documented sample curls

def _request_text(config: dict) -> str:
    """The request's fields as text, the URL's host left out (Textbelt's key is its own name)."""
    request = dict(config["request"], url=urlsplit(config["request"]["url"])._replace(netloc="").geturl())
    return json.dumps(request, ensure_ascii=False)


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.provider for sample in SAMPLES])
def test_given_a_providers_documented_curl_when_drafted_then_recipient_and_text_are_placeholders(
        sample: ProviderCurl) -> None:
    draft = provider_draft(sample.command)

    request = _request_text(draft.config)
    assert "{{to}}" in request or "{{to_digits}}" in request, sample.source
    assert "{{text}}" in request, sample.source


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.provider for sample in SAMPLES])
def test_given_a_providers_documented_curl_when_drafted_then_no_credential_stays_in_the_request(
        sample: ProviderCurl) -> None:
    draft = provider_draft(sample.command)

    kept = json.dumps([draft.config.get("auth"), draft.config.get("secrets")])
    for credential in sample.credentials:
        assert credential not in _request_text(draft.config), sample.source
        assert credential in kept, sample.source


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.provider for sample in SAMPLES])
def test_given_a_providers_documented_curl_when_drafted_then_every_placeholder_left_is_reported_where_it_stands(
        sample: ProviderCurl) -> None:
    draft = provider_draft(sample.command)

    assert {(item.where, item.token) for item in draft.unfilled} == sample.left_to_fill, sample.source
    for item in draft.unfilled:
        assert any(item.where in note and item.token in note for note in draft.notes)


@pytest.mark.parametrize("sample", [s for s in SAMPLES if not s.left_to_fill], ids=lambda s: s.provider)
def test_given_a_documented_curl_with_nothing_left_to_fill_when_drafted_then_it_is_a_valid_provider(
        sample: ProviderCurl) -> None:
    draft = provider_draft(sample.command)

    provider = ProviderConfig.model_validate(draft.config)
    assert provider.secrets or provider.auth.type != "none"


def test_given_vonages_messages_sample_when_drafted_then_the_number_under_from_is_the_sender() -> None:
    vonage = next(sample for sample in SAMPLES if sample.provider == "Vonage (Messages API)")

    body = provider_draft(vonage.command).config["request"]["body"]

    assert body["from"]["number"] == "{{sender}}"
    assert body["to"]["number"] == "{{to}}"
    assert body["message"]["content"]["text"] == "{{text}}"


# ---------------------------------------------------------------- credentials anywhere

def test_given_credentials_in_a_form_body_when_drafted_then_they_move_to_secrets_with_a_placeholder() -> None:
    draft = provider_draft("curl -X POST https://rest.nexmo.com/sms/json -d api_key=abcd1234 "
                           "-d api_secret=s3cr3tVALUE -d to=447700900000 -d from=ACME -d 'text=hi'")

    assert draft.config["request"]["body"] == {"api_key": "{{secrets.api_key}}", "api_secret": "{{secrets.api_secret}}",
                                               "to": "{{to_digits}}", "from": "{{sender}}", "text": "{{text}}"}
    assert draft.config["secrets"] == {"api_key": "abcd1234", "api_secret": "s3cr3tVALUE"}
    assert set(draft.secret_paths) == {"secrets.api_key", "secrets.api_secret"}
    ProviderConfig.model_validate(draft.config)


def test_given_two_credential_headers_when_drafted_then_the_first_is_auth_and_the_second_a_secret() -> None:
    draft = provider_draft("curl https://rest.example.com/api/v2/messages -H 'X-TM-Username: jane' "
                           "-H 'X-TM-Key: k-111' -H 'X-Other-Token: t-222' -d 'phones=447860021130&text=hi'")

    assert draft.config["auth"] == {"type": "api_key", "header": "X-TM-Key", "token": "k-111"}
    assert draft.config["request"]["headers"] == {"X-TM-Username": "jane", "X-Other-Token": "{{secrets.X_Other_Token}}"}
    assert draft.config["secrets"] == {"X_Other_Token": "t-222"}


def test_given_a_scheme_shaped_value_in_an_unusual_header_when_drafted_then_it_is_taken_as_a_credential() -> None:
    draft = provider_draft("curl -u user:pw https://x.example/send -H 'X-Upstream: Bearer abc.def' -d 'to=+33612345678&text=hi'")

    assert draft.config["request"]["headers"] == {"X-Upstream": "Bearer {{secrets.X_Upstream}}"}
    assert draft.config["secrets"] == {"X_Upstream": "abc.def"}


def test_given_a_second_credential_in_the_query_when_drafted_then_it_goes_to_secrets() -> None:
    draft = provider_draft("curl 'https://x.example/send?apikey=K1&password=P2&numbers=447123456789,447987654321&message=hi'")

    assert draft.config["auth"] == {"type": "api_key", "query": "apikey", "token": "K1"}
    assert draft.config["request"]["query"] == {"password": "{{secrets.password}}", "numbers": "{{to_digits}}",
                                                "message": "{{text}}"}


def test_given_credentials_in_a_json_body_when_drafted_then_the_body_holds_secret_placeholders() -> None:
    draft = provider_draft("""curl https://api.ng.termii.com/api/sms/send -H 'Content-Type: application/json' """
                           """-d '{"to": "2347880234567", "from": "talert", "sms": "Hi", "api_key": "TL-REAL-1"}'""")

    assert draft.config["request"]["body"] == {"to": "{{to_digits}}", "from": "{{sender}}", "sms": "{{text}}",
                                               "api_key": "{{secrets.api_key}}"}
    assert draft.config["secrets"] == {"api_key": "TL-REAL-1"}
    assert draft.shown()["secrets"] == {"api_key": MASK}


def test_given_user_and_password_in_the_url_when_drafted_then_basic_auth_and_a_clean_url() -> None:
    draft = provider_draft("curl 'https://jane:pw-1@sms.example.net/send' -d 'to=+33612345678&text=hi'")

    assert draft.config["auth"] == {"type": "basic", "username": "jane", "password": "pw-1"}
    assert draft.config["request"]["url"] == "https://sms.example.net/send"


# ---------------------------------------------------------------- recipients

def test_given_a_phone_number_under_an_unknown_key_when_drafted_then_it_becomes_the_recipient() -> None:
    draft = provider_draft("""curl https://x.example/v1 -d '{"target_line": "+33612345678", "text": "hi"}'""")

    assert draft.config["request"]["body"]["target_line"] == "{{to}}"


def test_given_a_number_that_is_no_valid_phone_under_an_unknown_key_when_drafted_then_it_stays() -> None:
    draft = provider_draft("""curl https://x.example/v1 -d '{"reference": "45450007002", "to": "+33612345678"}'""")

    assert draft.config["request"]["body"]["reference"] == "45450007002"


def test_given_a_list_of_recipients_when_drafted_then_one_placeholder_and_a_note_on_batching() -> None:
    draft = provider_draft("""curl https://x.example/v1 -d '{"mobiles": ["919999999999", "918888888888"], "msg": "x"}'""")

    assert draft.config["request"]["body"]["mobiles"] == ["{{to_digits}}"]
    assert any("request.batch" in note for note in draft.notes)


def test_given_a_doc_placeholder_as_the_recipient_when_drafted_then_the_recipient_placeholder_takes_its_place() -> None:
    draft = provider_draft("""curl https://x.example/v5/flow -H 'authkey: A1' -d '{"mobiles": "91XXXXXXXXXX"}'""")

    assert draft.config["request"]["body"]["mobiles"] == "{{to_digits}}"
    assert draft.unfilled == []


# ---------------------------------------------------------------- placeholders left to fill

@pytest.mark.parametrize(("command", "where", "token"), [
    ("curl 'https://x.example/{account_id}/send' -d 'to=+33612345678&text=hi'", "request.url", "{account_id}"),
    ("curl https://x.example/send -H 'X-Tenant: <TENANT_ID>' -d 'to=+33612345678'", "request.headers.X-Tenant",
     "<TENANT_ID>"),
    ("curl https://x.example/send -d 'to=+33612345678&route=${ROUTE}'", "request.body.route", "${ROUTE}"),
    ("curl https://x.example/send -d 'to=+33612345678&campaign=REPLACE_ME'", "request.body.campaign", "REPLACE_ME"),
    ("curl https://x.example/send -d 'to=+33612345678&token=[your key]'", "secrets.token", "[your key]"),
    ("curl https://x.example/send -H 'Authorization: Bearer xxxxxxxx' -d 'to=+33612345678'", "auth.token",
     "xxxxxxxx"),
])
def test_given_a_placeholder_left_in_the_sample_when_drafted_then_it_is_reported_where_it_stands(
        command: str, where: str, token: str) -> None:
    draft = provider_draft(command)

    assert (where, token) in {(item.where, item.token) for item in draft.unfilled}
    assert any(where in note and token in note for note in draft.notes)


def test_given_our_own_placeholders_when_drafted_then_they_are_not_reported() -> None:
    draft = provider_draft("curl https://x.example/send -d 'to={{to}}&text={{text}}&ref=$$MessageID'")

    assert draft.unfilled == []


def test_given_a_secret_that_is_only_a_placeholder_when_shown_then_it_is_not_masked_but_a_real_one_is() -> None:
    draft = provider_draft("curl https://x.example/send -u 'jane:$PASSWORD' -d 'to=+33612345678&api_key=real-1'")

    shown = draft.shown()
    assert shown["auth"]["password"] == "$PASSWORD"
    assert shown["secrets"]["api_key"] == MASK


def test_given_a_real_key_that_merely_contains_xxxx_when_drafted_then_the_report_quotes_none_of_it() -> None:
    draft = provider_draft("curl https://x.example/send -H 'X-Api-Key: live-9f2xxxxa71' -d 'to=+33612345678&text=hi'")

    assert [(item.where, item.token) for item in draft.unfilled] == [("auth.token", "(in the masked value)")]
    assert not any("9f2" in note for note in draft.notes)


def test_given_a_host_with_an_unclosed_bracket_when_drafted_then_it_is_a_curl_error_not_a_crash() -> None:
    # schemathesis found it (issue 15): urlsplit raised a bare ValueError, and the API answered 500.
    with pytest.raises(CurlError, match="the URL cannot be read"):
        provider_draft("úå[â\U000b2f68üÆ\U000250b0·", "x")
