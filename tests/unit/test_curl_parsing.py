"""Exact behaviour of import-curl's parsing, placeholders and masking (core.curl's parse_curl side)."""
from __future__ import annotations

import base64

import pytest

from smsbridge.core.curl import (CurlError, CurlRequest, curl_command, mask_paths, masked_request, parse_curl,
                                 provider_draft, unfilled_placeholders, Unfilled)
from smsbridge.core.secrets import MASK
from smsbridge.models.provider import ApiKeyAuth, BasicAuth
from smsbridge.models.wire import HttpRequest
from tests.support.provider_curls import SAMPLES

# ---------------------------------------------------------------- parse_curl


@pytest.mark.parametrize("command", [
    "curl -X POST https://p.example/send \\\n -d 'to=1' \\\r\n -d 'text=hi'",
    "curl -X POST https://p.example/send ^\n -d 'to=1' ^\r\n -d 'text=hi'",
    "  /usr/bin/curl -X POST https://p.example/send -d to=1 -d text=hi  ",
    "$ curl -X POST https://p.example/send -d to=1 -d text=hi",
    "$curl -X POST https://p.example/send -d to=1 -d text=hi",
])
def test_given_line_continuations_or_a_prompt_when_parsed_then_the_same_request(command: str) -> None:
    assert parse_curl(command) == CurlRequest(method="POST", url="https://p.example/send", data=["to=1", "text=hi"])


def test_given_bash_dollar_quoting_when_parsed_then_the_quoted_body_is_read_as_is() -> None:
    parsed = parse_curl("curl https://p.example/send -H 'Content-Type: application/json' -d $'{\"to\": \"1\"}'")

    assert parsed == CurlRequest(method="POST", url="https://p.example/send",
                                 headers=[("Content-Type", "application/json")], data=['{"to": "1"}'])


def test_given_attached_option_values_when_parsed_then_each_is_read() -> None:
    parsed = parse_curl("curl --request=put '--header=X-A:\t a=b:c ' --url=https://p.example/a?b=c -HX-B:2 -dto=1 "
                        "-d1 -uuser:pw")

    assert parsed == CurlRequest(method="PUT", url="https://p.example/a?b=c", headers=[("X-A", "a=b:c"), ("X-B", "2")],
                                 data=["to=1", "1"], user="user:pw")
    assert parse_curl("curl -XPATCH https://p.example/").method == "PATCH"


def test_given_long_options_when_parsed_then_each_is_read() -> None:
    parsed = parse_curl("curl --url p.example/a --request get --header 'X-A : 1 ' --header 'no colon' "
                        "--data a=1 --data-raw b=2 --data-binary c=3 --data-ascii d=4 --user u --insecure "
                        "--max-time 7.5")

    assert parsed == CurlRequest(method="GET", url="https://p.example/a", headers=[("X-A", "1")],
                                 data=["a=1", "b=2", "c=3", "d=4"], user="u", insecure=True, max_time_s=7.5)


def test_given_short_flags_when_parsed_then_insecure_and_max_time() -> None:
    assert parse_curl("curl -k -m 3 https://p.example/") == CurlRequest(
        method="GET", url="https://p.example/", insecure=True, max_time_s=3.0)


def test_given_a_max_time_that_is_no_number_when_parsed_then_it_is_left_out() -> None:
    assert parse_curl("curl -m soon https://p.example/") == CurlRequest(method="GET", url="https://p.example/")


def test_given_the_json_option_when_parsed_then_data_and_the_json_flag() -> None:
    assert parse_curl("curl --json '{\"a\":1}' https://p.example/") == CurlRequest(
        method="POST", url="https://p.example/", data=['{"a":1}'], json_flag=True)


def test_given_data_urlencode_forms_when_parsed_then_encoded_as_curl_does() -> None:
    parsed = parse_curl("curl https://p.example/ --data-urlencode 'To=+1 555' --data-urlencode '=a b' "
                        "--data-urlencode 'x&y' --data-urlencode 'q=a=b' --data-urlencode @a=b --data-urlencode @body.txt --data-urlencode name@file.txt -d z=1")

    assert parsed == CurlRequest(method="POST", url="https://p.example/",
                                 data=["z=1", "To=%2B1+555", "a+b", "x%26y", "q=a%3Db", "name%40file.txt"],
                                 ignored=["--data-urlencode '@a=b' reads a file", "--data-urlencode '@body.txt' reads a file"])
    long = "@" + "f" * 50
    assert parse_curl(f"curl https://p.example/ --data-urlencode {long}").ignored == [
        f"--data-urlencode {long[:40]!r} reads a file"]


def test_given_get_mode_when_parsed_then_the_data_joins_the_query_string() -> None:
    assert parse_curl("curl -G https://p.example/s -d a=1 -d b=2") == CurlRequest(
        method="GET", url="https://p.example/s?a=1&b=2")
    assert parse_curl("curl --get https://p.example/s?k=v -d a=1") == CurlRequest(
        method="GET", url="https://p.example/s?k=v&a=1")
    assert parse_curl("curl -G https://p.example/s") == CurlRequest(method="GET", url="https://p.example/s")


def test_given_forms_ignored_options_flags_and_extra_words_when_parsed_then_notes_only_for_what_is_lost() -> None:
    parsed = parse_curl("curl -s -v -L --compressed -o out.json -A agent --retry 3 -F file=@x.png --form f=1 https://p.example/ "
                        "https://q.example/ " + "w" * 50 + " -")

    assert parsed == CurlRequest(method="GET", url="https://p.example/", ignored=[
        "-F/--form (multipart bodies are not supported: use a form or JSON body)",
        "-F/--form (multipart bodies are not supported: use a form or JSON body)",
        "extra argument 'https://q.example/'", f"extra argument {'w' * 40!r}", "extra argument '-'"])


@pytest.mark.parametrize(("command", "message"), [
    ("curl 'https://p.example/", "cannot read the command as a shell would: No closing quotation"),
    ("curl https://p.example/ -X", "option -X needs a value"),
    ("curl https://p.example/ --header", "option --header needs a value"),
    ("curl -s", "the command has no URL"),
    ("$ curl", "the command has no URL"),
    ("curl --url ''", "the command has no URL"),
    ("curl https://p.example/ -d @body.json", "the body is read from a file (-d @file): paste the body itself into the command"),
])
def test_given_an_unusable_command_when_parsed_then_the_exact_reason(command: str, message: str) -> None:
    with pytest.raises(CurlError) as raised:
        parse_curl(command)

    assert str(raised.value) == message


def test_given_a_lone_prompt_when_parsed_then_it_is_read_as_the_url_not_a_crash() -> None:
    assert parse_curl("$") == CurlRequest(method="GET", url="https://$")


def test_given_the_twilio_sample_when_parsed_then_every_part_as_curl_sends_it() -> None:
    twilio = next(sample for sample in SAMPLES if sample.provider == "Twilio")

    assert parse_curl(twilio.command) == CurlRequest(
        method="POST", url="https://api.twilio.com/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages.json",
        data=["MediaUrl=http://farm2.static.flickr.com/1075/1404618563_3ed9a44a3a.jpg", "To=%2B15558675309",
              "From=%2B15017250604", "Body=Hey+Jenny%21+Good+luck+on+the+bar+exam%21"],
        user="ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:[AuthToken]")


# ---------------------------------------------------------------- provider id from the host

@pytest.mark.parametrize(("url", "provider_id"), [
    ("https://api.twilio.com/x", "twilio"),
    ("https://rest.nexmo.com/sms/json", "nexmo"),
    ("https://sms.api.com/x", "api"),
    ("https://api.2.clicksend.co.uk/x", "clicksend"),
    ("https://localhost:8080/x", "localhost"),
    ("https://127.0.0.1/x", "imported"),
    ("https://[::1]/x", "imported"),
    ("https://[FE80::1]/x", "imported"),
    ("https://Gateway.My_Sms-Co.example./x", "my_sms-co"),
    ("https://api.my_sms.io/x", "my_sms"),
    ("https://api.-sms-.io/x", "sms"),
    ("https://api.-.io/x", "imported"),
    ("https://" + "a" * 70 + ".io/x", "a" * 64),
    ("https://acme.io/x", "acme"),
    ("https://acme!sms.io/x", "acme-sms"),
    ("https://acme.123.io/x", "acme"),
    *[(f"https://acme.{word}.io/x", "acme") for word in
      ("api", "www", "rest", "sms", "gateway", "app", "platform", "co", "com", "v1", "v2", "messaging")],
])
def test_given_a_host_when_drafted_then_the_provider_id_names_the_provider(url: str, provider_id: str) -> None:
    assert provider_draft(f"curl {url} -d to=1 -d text=hi").config["id"] == provider_id


# ---------------------------------------------------------------- Authorization header

def _auth_of(value: str) -> tuple[dict, list[str], list[str]]:
    draft = provider_draft(f"curl https://p.example/s -H 'Authorization: {value}' -d to=1 -d text=hi")
    return draft.config["auth"], draft.secret_paths, draft.notes[:1]


def test_given_basic_credentials_when_drafted_then_basic_auth_with_its_note() -> None:
    token = base64.b64encode(b"acme:pa:ss").decode()

    assert _auth_of(f"  Basic   {token} ") == ({"type": "basic", "username": "acme", "password": "pa:ss"},
                                               ["auth.password"],
                                               ["Authorization: Basic taken as HTTP Basic (auth.type basic)"])


@pytest.mark.parametrize("credentials", [
    base64.b64encode(b"no colon").decode(), "YWNt*ZTpwdw==", base64.b64encode(b"\xff\xfe:x").decode()])
def test_given_basic_that_is_no_user_password_when_drafted_then_a_token_with_the_basic_prefix(credentials: str) -> None:
    assert _auth_of(f"basic {credentials}") == (
        {"type": "api_key", "header": "Authorization", "prefix": "basic ", "token": credentials}, ["auth.token"],
        ["Authorization: basic taken as an API key sent as 'Authorization: basic <token>' (auth.type api_key)"])


def test_given_a_bearer_token_when_drafted_then_an_api_key_with_the_bearer_prefix() -> None:
    assert _auth_of("Bearer  tok-123 ") == (
        {"type": "api_key", "header": "Authorization", "prefix": "Bearer ", "token": "tok-123"}, ["auth.token"],
        ["Authorization: Bearer taken as an API key sent as 'Authorization: Bearer <token>' (auth.type api_key)"])


@pytest.mark.parametrize("value", ["tok-123", "Basic"])
def test_given_a_bare_token_when_drafted_then_the_whole_value_is_the_api_key(value: str) -> None:
    assert _auth_of(value) == ({"type": "api_key", "header": "Authorization", "token": value}, ["auth.token"],
                               ["the Authorization header taken as an API key (auth.type api_key)"])


# ---------------------------------------------------------------- placeholders left to fill

def test_given_a_draft_with_placeholders_everywhere_when_listed_then_each_where_it_stands() -> None:
    config = {"request": {"url": "https://p.example/{account_id}/send", "headers": {"X-Channel": "$CHANNEL"},
                          "query": {"sender": "<SENDER>"},
                          "body": {"to": "${TO}", "list": ["[your key]", ["from", "YOUR_NUMBER"], {"n": "xxxxx"}],
                                   "n": 3}},
              "auth": {"type": "basic", "username": "username", "password": "CHANGE_ME", "header": "API_KEY"},
              "secrets": {"api_key": "key", "other": "s3cr3t-xxxx-9"}}

    assert unfilled_placeholders(config) == [
        Unfilled("request.url", "{account_id}", "documentation placeholder"),
        Unfilled("request.headers.X-Channel", "$CHANNEL", "shell variable"),
        Unfilled("request.query.sender", "<SENDER>", "documentation placeholder"),
        Unfilled("request.body.to", "${TO}", "shell variable"),
        Unfilled("request.body.list[0]", "[your key]", "documentation placeholder"),
        Unfilled("request.body.list.from", "YOUR_NUMBER", "documentation placeholder"),
        Unfilled("request.body.list[2].n", "xxxxx", "documentation placeholder"),
        Unfilled("auth.username", "username", "documentation placeholder"),
        Unfilled("auth.password", "CHANGE_ME", "documentation placeholder"),
        Unfilled("secrets.api_key", "key", "documentation placeholder"),
        Unfilled("secrets.other", "(in the masked value)", "documentation placeholder"),
    ]


def test_given_a_generic_word_outside_a_credential_when_listed_then_it_is_not_a_placeholder() -> None:
    config = {"request": {"url": "https://p.example/", "body": {"user": "username"}},
              "auth": {"type": "api_key", "token": " token ", "prefix": "password"}}

    assert unfilled_placeholders(config) == [Unfilled("auth.token", "token", "documentation placeholder")]


def test_given_a_placeholder_inside_a_shell_variable_when_listed_then_only_the_variable() -> None:
    config = {"request": {"url": "https://p.example/${YOUR_KEY}?a=<b>"}}

    assert unfilled_placeholders(config) == [Unfilled("request.url", "${YOUR_KEY}", "shell variable"),
                                             Unfilled("request.url", "<b>", "documentation placeholder")]


def test_given_a_nearly_empty_draft_when_listed_then_nothing() -> None:
    assert unfilled_placeholders({}) == []
    assert unfilled_placeholders({"request": {"url": "https://p.example/", "headers": None, "query": None},
                                  "auth": None, "secrets": None}) == []


# ---------------------------------------------------------------- masking for display

def test_given_a_request_when_written_as_curl_then_the_exact_multi_line_command() -> None:
    request = HttpRequest("POST", "https://p.example/s?a=1&b=2", {"X-A": "it's", "X-B": "2"}, b"@to=1")

    assert curl_command(request) == ("curl -X POST 'https://p.example/s?a=1&b=2' \\\n"
                                     "  -H 'X-A: it'\"'\"'s' \\\n"
                                     "  -H 'X-B: 2' \\\n"
                                     "  --data-raw @to=1")


def test_given_a_body_that_is_no_utf8_when_written_as_curl_then_replacement_characters() -> None:
    assert curl_command(HttpRequest("POST", "https://p.example/", {}, b"a\xffb")) == (
        "curl -X POST https://p.example/ \\\n  --data-raw 'a\ufffdb'")


def test_given_api_key_auth_in_a_header_with_prefix_when_masked_then_prefix_kept_case_insensitively() -> None:
    auth = ApiKeyAuth(type="api_key", header="X-Key", prefix="Key ", token="k-SECRET")
    request = HttpRequest("POST", "https://p.example/s?k=1", {"x-key": "Key k-SECRET", "Other": "v k-SECRET"},
                          b"to=k-SECRET")

    shown = masked_request(request, auth, ["k-SECRET"])

    assert shown == HttpRequest("POST", "https://p.example/s?k=1", {"x-key": f"Key {MASK}", "Other": f"v {MASK}"},
                                f"to={MASK}".encode())


def test_given_a_header_without_the_configured_prefix_when_masked_then_its_scheme_or_nothing_stays() -> None:
    auth = ApiKeyAuth(type="api_key", header="Authorization", prefix="Token ", token="t")
    plain = ApiKeyAuth(type="api_key", header="Authorization", token="t")
    templated = ApiKeyAuth(type="api_key", header="Authorization", prefix="{{secrets.p}} ", token="t")

    assert masked_request(HttpRequest("GET", "https://p.example/", {"Authorization": "Bearer t"}), auth, []).headers \
        == {"Authorization": f"Bearer {MASK}"}
    assert masked_request(HttpRequest("GET", "https://p.example/", {"Authorization": "t"}), plain, []).headers \
        == {"Authorization": MASK}
    assert masked_request(HttpRequest("GET", "https://p.example/", {"Authorization": "{{secrets.p}} t"}), templated,
                          []).headers == {"Authorization": MASK}


def test_given_basic_auth_when_masked_then_the_url_and_a_missing_body_stay() -> None:
    auth = BasicAuth(type="basic", username="u", password="pw")
    request = HttpRequest("GET", "https://p.example/s?key=1", {"Authorization": "Basic dTpwdw=="})

    assert masked_request(request, auth, ["pw"]) == HttpRequest("GET", "https://p.example/s?key=1",
                                                                 {"Authorization": f"Basic {MASK}"}, None)


def test_given_an_api_key_in_the_query_when_masked_then_only_that_parameter_whatever_its_encoding() -> None:
    auth = ApiKeyAuth(type="api_key", query="api key", token="k")
    request = HttpRequest("GET", "https://p.example/s?a=1&api+key=k&flag&b=2&&api%20key=k2#f")

    assert masked_request(request, auth, []).url == f"https://p.example/s?a=1&api+key={MASK}&flag&b=2&api%20key={MASK}#f"


def test_given_paths_when_masked_then_only_present_non_empty_values_and_the_original_untouched() -> None:
    document = {"auth": {"password": "pw", "token": "", "user": None}, "secrets": {"a": "1"}, "id": "p"}

    masked = mask_paths(document, ["auth.password", "auth.token", "auth.user", "auth.none", "secrets.a.b",
                                   "id.x", "secrets.a"])

    assert masked == {"auth": {"password": MASK, "token": "", "user": None}, "secrets": {"a": MASK}, "id": "p"}
    assert document["auth"]["password"] == "pw"


@pytest.mark.parametrize(("header", "kept"), [("X-Auth", False), ("X-Public-Key", True), ("Idempotency-Key", True),
                                               ("X-Request-Id", True)])
def test_given_a_header_name_when_drafted_then_it_is_a_credential_only_when_its_name_says_so(header: str,
                                                                                               kept: bool) -> None:
    draft = provider_draft(f"curl https://p.example/s -H '{header}: abc123' -d to=1 -d text=hi")

    assert draft.config["request"].get("headers") == ({header: "abc123"} if kept else None)
    assert draft.config.get("auth") == (None if kept else {"type": "api_key", "header": header, "token": "abc123"})


@pytest.mark.parametrize(("to", "drafted"), [
    ("123456", "{{to_digits}}"), ("12345", "12345"), ("123456789012345", "{{to_digits}}"),
    ("1234567890123456", "1234567890123456"), ("%2B33+6+12+34+56+78", "{{to}}")])
def test_given_a_recipient_of_some_length_when_drafted_then_a_placeholder_only_for_6_to_15_digits(
        to: str, drafted: str) -> None:
    assert provider_draft(f"curl https://p.example/s -d to={to} -d text=hi").config["request"]["body"]["to"] == drafted


def test_given_a_valid_number_in_the_path_when_drafted_then_the_recipient_placeholder() -> None:
    assert provider_draft("curl https://p.example/%2B33612345678/s -d text=hi").config["request"]["url"] == \
        "https://p.example/{{to}}/s"


def test_given_adjacent_and_repeated_placeholders_when_listed_then_each_once() -> None:
    config = {"request": {"url": "https://p.example/$A<b>$C/${YOUR_KEY}/YOUR_OTHER/AB-CD/TO_NUMBER"}}

    assert [item.token for item in unfilled_placeholders(config)] == [
        "$A", "$C", "${YOUR_KEY}", "<b>", "YOUR_OTHER", "TO_NUMBER"]


def test_given_generic_words_outside_credentials_when_listed_then_none_is_a_placeholder() -> None:
    config = {"request": {"url": "key", "headers": {"X-A": "password"}, "query": {"q": "token"},
                          "body": [["a", "user"], ["b", "secret"], ["c", "d", "{e}"]]}}

    assert unfilled_placeholders(config) == [Unfilled("request.body[2][2]", "{e}", "documentation placeholder")]


def test_given_a_real_password_containing_xxxx_when_listed_then_the_report_quotes_none_of_it() -> None:
    config = {"auth": {"type": "basic", "username": "acme", "password": "pw-xxxx-9"}}

    assert unfilled_placeholders(config) == [Unfilled("auth.password", "(in the masked value)",
                                                      "documentation placeholder")]


def test_given_basic_auth_and_a_header_value_starting_like_a_placeholder_when_masked_then_all_of_it_goes() -> None:
    auth = BasicAuth(type="basic", username="u", password="pw")

    assert masked_request(HttpRequest("GET", "https://p.example/", {"Authorization": "XXXXsecret"}), auth,
                          []).headers == {"Authorization": MASK}


def test_given_a_path_through_a_string_when_masked_then_nothing_changes_and_no_crash() -> None:
    assert mask_paths({"id": "p"}, ["id.x.y"]) == {"id": "p"}


def test_given_a_bearer_token_that_decodes_as_user_password_when_drafted_then_it_stays_a_bearer_token() -> None:
    token = base64.b64encode(b"acme:pw").decode()

    assert _auth_of(f"Bearer {token}")[0] == {"type": "api_key", "header": "Authorization", "prefix": "Bearer ",
                                               "token": token}
