"""core.curl: a request as a curl command, secrets masked for display, and a provider draft from a sample curl command."""
from __future__ import annotations

import base64
import json
import shlex
from datetime import UTC, datetime

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
