"""core.secrets: one masking function for every form a provider's secret can take in an answer, a request or a log line."""
from __future__ import annotations

import base64

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from smsbridge.core.secrets import MASK, applied_credentials, mask, mask_bytes, provider_secrets
from smsbridge.models.provider import ProviderConfig
from tests.support.secret_watch import encodings  # computed apart from the code under test

TRICKY = 'k3y/with+plus=and&"quote"\\é'


def test_given_a_secret_in_every_encoding_when_masked_then_no_form_is_left():
    for name, form in encodings(TRICKY).items():
        text = f'{{"error": "bad key", "echo": "{form}"}}'

        masked = mask(text, [TRICKY])

        assert form not in masked, name
        assert masked == f'{{"error": "bad key", "echo": "{MASK}"}}', name


@given(st.text(min_size=3, max_size=40).filter(lambda s: "*" not in s), st.sampled_from(sorted(encodings("x"))))
def test_given_any_secret_when_echoed_in_any_form_then_it_is_masked(secret, form_name):
    form = encodings(secret)[form_name]
    text = f"echo:{form}:end"
    assume(secret not in f"echo:{MASK}:end" and form not in f"echo:{MASK}:end")

    masked = mask(text, [secret])

    assert form not in masked and secret not in masked


def test_given_a_secret_shorter_than_three_characters_then_it_is_not_masked():
    # "ab" would blank out every word holding it, and the masks would point at where it is.
    assert mask("about a tab", ["ab"]) == "about a tab"


def test_given_two_secrets_one_inside_the_other_when_masked_then_the_longest_goes_whole():
    assert mask("token=abcdef-123", ["abc", "abcdef-123"]) == f"token={MASK}"


def test_given_basic_auth_when_its_header_is_echoed_then_the_base64_of_user_and_password_is_masked():
    provider = ProviderConfig.model_validate({
        "id": "acme", "request": {"url": "https://sms.example.com/send", "body": {"to": "{{to}}", "text": "{{text}}"}},
        "auth": {"type": "basic", "username": "AC123", "password": "pa55-word"}})
    header = "Basic " + base64.b64encode(b"AC123:pa55-word").decode()

    assert mask(f"you sent Authorization: {header}", provider_secrets(provider)) == \
        f"you sent Authorization: Basic {MASK}"


def test_given_every_kind_of_provider_secret_then_each_is_gathered():
    provider = ProviderConfig.model_validate({
        "id": "acme", "request": {"url": "https://sms.example.com/send", "body": {"to": "{{to}}", "text": "{{text}}"}},
        "auth": {"type": "oauth2", "token_url": "https://auth.example.com/token", "client_id": "cid",
                 "client_secret": "client-s3cret", "client_auth": "basic"},
        "inbound": {"auth": {"type": "token", "token": "inbound-t0ken"}},
        "secrets": {"api_secret": "named-s3cret"}})

    gathered = provider_secrets(provider)

    assert {"client-s3cret", "inbound-t0ken", "named-s3cret",
            base64.b64encode(b"cid:client-s3cret").decode()} <= set(gathered)


def test_given_an_authenticated_request_then_the_credentials_applied_are_found_with_and_without_prefix():
    provider = ProviderConfig.model_validate({
        "id": "acme", "request": {"url": "https://sms.example.com/send", "body": {"to": "{{to}}", "text": "{{text}}"}},
        "auth": {"type": "jwt", "secret": "jwt-signing-key", "header": "X-Auth", "prefix": "JWT "}})

    found = applied_credentials({"X-Auth": "JWT eyJ.signed.token", "Content-Type": "application/json"},
                                provider.auth)

    assert found == ["JWT eyJ.signed.token", "eyJ.signed.token"]


def test_given_bytes_that_are_not_utf8_when_masked_then_the_other_bytes_are_kept():
    assert mask_bytes(b"\xff\xfekey=s3cret-value\x00", ["s3cret-value"]) == b"\xff\xfekey=" + MASK.encode() + b"\x00"


def test_given_the_mask_itself_as_a_secret_then_nothing_is_masked_twice():
    assert mask(f"password={MASK}", [MASK]) == f"password={MASK}"


# ---------------------------------------------------------------- split, join, and credentials on headers (issue 16)

def _provider(auth: dict, **fields) -> ProviderConfig:
    return ProviderConfig.model_validate({"id": "acme", "auth": auth, "request": {
        "url": "https://sms.example.com/send", "headers": {"X-To": "{{to}}", "X-Text": "{{text}}"}}, **fields})


def test_given_a_provider_with_secrets_when_split_and_joined_again_then_the_same_configuration_comes_back():
    from smsbridge.core.secrets import join_secrets, split_secrets

    provider = _provider({"type": "basic", "username": "acme", "password": "pw-1"},
                         secrets={"api_key": "k-2"},
                         inbound={"auth": {"type": "hmac", "secret": "hk-3"}})

    public, secrets = split_secrets(provider)

    assert secrets == {"auth.password": "pw-1", "secrets.api_key": "k-2", "inbound.auth.secret": "hk-3"}
    assert "pw-1" not in str(public) and "k-2" not in str(public) and "hk-3" not in str(public)
    assert ProviderConfig.model_validate(join_secrets(public, secrets)) == provider


def test_given_a_secret_whose_place_is_gone_from_the_document_when_joined_then_it_is_left_out():
    from smsbridge.core.secrets import join_secrets

    public = {"auth": {"type": "basic"}, "inbound": None}

    joined = join_secrets(public, {"auth.password": "pw", "inbound.auth.secret": "s", "gone.deeper.key": "x"})

    assert joined == {"auth": {"type": "basic", "password": "pw"}, "inbound": None}
    assert public == {"auth": {"type": "basic"}, "inbound": None}  # the stored copy is not changed


@pytest.mark.parametrize(("auth", "headers", "found"), [
    ({"type": "none"}, {"Authorization": "Bearer x-token"}, []),
    ({"type": "basic", "username": "u", "password": "pw-basic"}, {"authorization": "Basic dTpwdy1iYXNpYw=="},
     ["Basic dTpwdy1iYXNpYw==", "dTpwdy1iYXNpYw=="]),
    ({"type": "api_key", "token": "k-123", "header": "X-Key", "prefix": "Key "}, {"X-Key": "Key k-123"},
     ["Key k-123", "k-123"]),
    ({"type": "api_key", "token": "k-123", "query": "key"}, {"Authorization": "Bearer k-123"}, []),
    ({"type": "oauth2", "token_url": "https://auth.example.com/t", "client_id": "c", "client_secret": "cs"},
     {"Authorization": "Bearer at-9", "X-Other": "Bearer no"}, ["Bearer at-9", "at-9"]),
    ({"type": "hmac", "secret": "hs", "signature_header": "X-Sig", "signature_prefix": "v1="},
     {"X-Sig": "v1=abcdef"}, ["v1=abcdef", "abcdef"]),
    ({"type": "hmac", "secret": "hs", "signature_header": "X-Sig", "signature_prefix": "{{key_id}}:"},
     {"X-Sig": "{{key_id}}:abc"}, ["{{key_id}}:abc"]),
    ({"type": "sigv4", "service": "sms-voice", "region": "eu-west-1"},
     {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=ab", "X-Amz-Security-Token": "tok"},
     ["AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=ab", "Credential=AKIA/x, Signature=ab", "tok"]),
])
def test_given_a_request_stamped_by_an_auth_when_its_credentials_are_picked_then_each_comes_with_and_without_scheme(
        auth, headers, found):
    provider = _provider(auth)

    assert applied_credentials(headers, provider.auth) == found


# A secret with a slash, a quote, a tilde and a non-ASCII letter, whose base64 holds `+`, `/` and
# padding: each form below is written out by hand (RFC 4648 sections 4 and 5 for base64, RFC 3986
# for percent-encoding, RFC 8259 for JSON strings), not computed by the code under test.
ODD = 'ka~"/é'
ODD_FORMS = {
    "base64": "a2F+Ii/DqQ==",
    "base64 without padding": "a2F+Ii/DqQ",
    "URL-safe base64 without padding": "a2F-Ii_DqQ",
    "percent-encoded, slash kept (quote)": "ka~%22/%C3%A9",
    "percent-encoded (quote_plus)": "ka~%22%2F%C3%A9",
    "JSON, ASCII only": 'ka~\\"/\\u00e9',
    "JSON, ASCII only, slash escaped (PHP)": 'ka~\\"\\/\\u00e9',
    "JSON, UTF-8 kept": 'ka~\\"/é',
    "base64 percent-encoded again": "a2F%2BIi%2FDqQ%3D%3D",
}


@pytest.mark.parametrize("form_name", sorted(ODD_FORMS))
def test_given_a_secret_echoed_in_one_of_its_written_out_forms_when_masked_then_the_whole_form_is_masked(form_name):
    form = ODD_FORMS[form_name]
    assert mask(f'{{"echo": "{form}"}}', [ODD]) == f'{{"echo": "{MASK}"}}'


def test_given_a_secret_with_a_space_echoed_percent_encoded_when_masked_then_every_spelling_of_the_space_is_masked():
    for form in ("my%20key%2F1", "my%20key/1", "my+key%2F1"):
        assert mask(f"key={form}&x=1", ["my key/1"]) == f"key={MASK}&x=1", form


def test_given_a_secret_of_exactly_three_characters_when_masked_then_it_is_masked():
    assert mask("key=k9z end", ["k9z"]) == f"key={MASK} end"


def test_given_an_inbound_basic_auth_when_the_provider_secrets_are_gathered_then_its_basic_credentials_are_among_them():
    provider = _provider({"type": "none"}, inbound={"auth": {"type": "basic", "username": "hook", "password": "in-pw-7"}})
    header = base64.b64encode(b"hook:in-pw-7").decode()

    assert mask(f"Authorization: Basic {header}", provider_secrets(provider)) == f"Authorization: Basic {MASK}"


def test_given_a_provider_when_split_then_the_public_document_is_json_with_masks_and_without_nulls():
    import json

    from smsbridge.core.secrets import split_secrets

    public, _ = split_secrets(_provider({"type": "basic", "username": "acme", "password": "pw-1"}))

    assert json.loads(json.dumps(public)) == public
    assert public["auth"] == {"type": "basic", "username": "acme", "password": MASK}
    assert "null" not in json.dumps(public)


def test_given_a_secret_path_through_a_value_that_is_not_an_object_when_joined_then_it_is_left_out():
    from smsbridge.core.secrets import join_secrets

    assert join_secrets({"auth": "none"}, {"auth.password": "pw"}) == {"auth": "none"}


def test_given_no_auth_when_its_credential_headers_are_asked_then_there_are_none():
    from smsbridge.core.secrets import credential_headers

    assert credential_headers(None) == []
