"""Outbound authentication as pure functions: what each auth type adds to a request."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from pydantic import SecretStr

from smsbridge.core.auth import (
    AccessToken,
    AuthError,
    TokenError,
    authenticate,
    parse_token_answer,
    token_request,
)
from smsbridge.models.provider import ApiKeyAuth, BasicAuth, HmacAuth, JwtAuth, NoAuth, OAuth2Auth
from smsbridge.models.wire import HttpRequest, HttpResponse

NOW = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
SECRET = "s3cr3t-Very-Private"


def a_request(url: str = "https://sms.example.com/v1/send", body: bytes | None = b'{"to":"+33612345678"}') -> HttpRequest:
    return HttpRequest(method="POST", url=url, headers={"Content-Type": "application/json"}, body=body)


def oauth2(**overrides) -> OAuth2Auth:
    return OAuth2Auth(**{"type": "oauth2", "token_url": "https://auth.example.com/token",
                         "client_id": "bridge-client", "client_secret": SECRET, **overrides})


# ---------------------------------------------------------------- none, basic, api_key

def test_no_auth_leaves_the_request_unchanged():
    request = a_request()

    assert authenticate(request, NoAuth(), NOW) == request


def test_basic_auth_sends_username_and_password_base64_encoded():
    auth = BasicAuth(type="basic", username="acme.user@example.com", password="pä:ss")

    signed = authenticate(a_request(), auth, NOW)

    scheme, encoded = signed.headers["Authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode("utf-8") == "acme.user@example.com:pä:ss"


def test_basic_auth_replaces_an_authorization_header_whatever_its_case():
    request = HttpRequest("POST", "https://sms.example.com/", headers={"authorization": "old"})

    signed = authenticate(request, BasicAuth(type="basic", username="u", password="p"), NOW)

    assert [name for name in signed.headers if name.lower() == "authorization"] == ["Authorization"]


def test_api_key_in_a_header_is_the_prefix_followed_by_the_token():
    auth = ApiKeyAuth(type="api_key", token="tok-123", header="X-Api-Key", prefix="Key ")

    signed = authenticate(a_request(), auth, NOW)

    assert signed.headers["X-Api-Key"] == "Key tok-123"
    assert signed.headers["Content-Type"] == "application/json"


def test_api_key_in_the_query_is_appended_percent_encoded_after_existing_parameters():
    auth = ApiKeyAuth(type="api_key", token="a b&c=d/é", query="api_key")

    signed = authenticate(a_request("https://sms.example.com/send?to=%2B33612345678"), auth, NOW)

    parts = urlsplit(signed.url)
    assert parts.path == "/send"
    assert parse_qs(parts.query) == {"to": ["+33612345678"], "api_key": ["a b&c=d/é"]}
    assert "a b" not in signed.url and "&c=d" not in signed.url


def test_a_token_with_a_line_break_is_refused_without_quoting_it():
    auth = ApiKeyAuth(type="api_key", token="abc\r\nX-Injected: 1", header="X-Api-Key")

    with pytest.raises(AuthError) as refused:
        authenticate(a_request(), auth, NOW)

    assert "abc" not in str(refused.value)


# ---------------------------------------------------------------- hmac

@pytest.mark.parametrize(("algorithm", "expected_hex"), [
    # RFC 2202 test case 2 and RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    ("sha1", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    ("sha256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    ("sha512", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
               "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
])
def test_hmac_signature_matches_the_rfc_test_vectors(algorithm, expected_hex):
    auth = HmacAuth(type="hmac", secret="Jefe", algorithm=algorithm,
                    string_to_sign="what do ya want for nothing?")

    signed = authenticate(a_request(), auth, NOW)

    assert signed.headers["X-Signature"] == expected_hex


def test_hmac_signature_in_base64_is_the_same_digest_base64_encoded():
    auth = HmacAuth(type="hmac", secret="Jefe", encoding="base64", string_to_sign="what do ya want for nothing?")

    signed = authenticate(a_request(), auth, NOW)

    assert signed.headers["X-Signature"] == base64.b64encode(bytes.fromhex(
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")).decode()


def test_hmac_context_values_are_the_ones_a_provider_would_recompute():
    request = HttpRequest("post", "https://sms.example.com/v1/send?dry=1", body=b'{"text":"h\xc3\xa9"}')
    auth = HmacAuth(type="hmac", secret="k", key_id="key-7",
                    string_to_sign="{{method}}|{{path}}|{{body}}|{{timestamp}}|{{key_id}}")
    expected = HmacAuth(type="hmac", secret="k",
                        string_to_sign='POST|/v1/send?dry=1|{"text":"hé"}|1795255200|key-7')

    signed = authenticate(request, auth, NOW)

    assert signed.headers["X-Signature"] == authenticate(request, expected, NOW).headers["X-Signature"]
    assert signed.headers["X-Timestamp"] == "1795255200"


def test_hmac_string_to_sign_with_a_named_secret_signs_over_the_secrets_value():
    request = a_request()
    auth = HmacAuth(type="hmac", secret="k", string_to_sign="{{secrets.account}}|{{timestamp}}|{{body}}",
                    signature_prefix="acct={{secrets.account}},sig=")
    expected = HmacAuth(type="hmac", secret="k", string_to_sign='AC-77|1795255200|{"to":"+33612345678"}',
                        signature_prefix="acct=AC-77,sig=")

    signed = authenticate(request, auth, NOW, secrets={"account": SecretStr("AC-77")})

    assert signed.headers["X-Signature"] == authenticate(request, expected, NOW).headers["X-Signature"]
    assert signed.headers["X-Signature"].startswith("acct=AC-77,sig=")


def test_hmac_with_a_named_secret_not_given_is_an_auth_error_naming_it():
    auth = HmacAuth(type="hmac", secret="k", string_to_sign="{{secrets.account}}|{{body}}")

    with pytest.raises(AuthError, match=r"hmac: .*'account'"):
        authenticate(a_request(), auth, NOW)


def test_hmac_template_with_a_message_placeholder_is_refused_when_saved():
    with pytest.raises(ValueError, match=r"hmac: unknown placeholder \{\{to\}\}"):
        HmacAuth(type="hmac", secret="k", string_to_sign="{{to}}|{{body}}")


def test_hmac_signature_prefix_is_rendered_with_the_key_id():
    auth = HmacAuth(type="hmac", secret="k", key_id="key-7", signature_header="Authorization",
                    signature_prefix="HMAC {{key_id}}:")

    signed = authenticate(a_request(), auth, NOW)

    assert signed.headers["Authorization"].startswith("HMAC key-7:")
    assert len(signed.headers["Authorization"]) == len("HMAC key-7:") + 64


@pytest.mark.parametrize(("style", "expected"), [
    ("unix", "1795255200"),
    ("unix_ms", "1795255200123"),
    ("iso", "2026-11-21T10:00:00Z"),
])
def test_hmac_timestamp_header_follows_the_configured_format(style, expected):
    auth = HmacAuth(type="hmac", secret="k", timestamp_format=style, timestamp_header="X-Date")

    signed = authenticate(a_request(), auth, NOW + timedelta(microseconds=123_000))

    assert signed.headers["X-Date"] == expected


def test_hmac_of_a_request_without_body_signs_an_empty_body():
    auth = HmacAuth(type="hmac", secret="Jefe", string_to_sign="what do ya want for nothing?{{body}}")

    signed = authenticate(a_request(body=None), auth, NOW)

    assert signed.headers["X-Signature"] == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


# ---------------------------------------------------------------- jwt

def test_jwt_decodes_with_pyjwt_and_carries_the_claims_iat_exp_and_jti():
    auth = JwtAuth(type="jwt", secret="jwt-secret-of-32-bytes-at-least!", key_id="k1",
                   claims={"iss": "bridge", "sub": "acme", "aud": "sms-api"}, lifetime_s=600)

    signed = authenticate(a_request(), auth, NOW)

    token = signed.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, "jwt-secret-of-32-bytes-at-least!", algorithms=["HS256"], audience="sms-api",
                        options={"verify_exp": False, "verify_iat": False})
    assert (claims["iss"], claims["sub"]) == ("bridge", "acme")
    assert claims["iat"] == int(NOW.timestamp())
    assert claims["exp"] == int(NOW.timestamp()) + 600
    assert claims["jti"]
    assert jwt.get_unverified_header(token)["kid"] == "k1"


def test_jwt_is_reused_until_80_percent_of_its_lifetime_then_signed_again():
    auth = JwtAuth(type="jwt", secret="reuse-secret-of-32-bytes-at-least", claims={"iss": "reuse"}, lifetime_s=100)

    first = authenticate(a_request(), auth, NOW).headers["Authorization"]
    at_79s = authenticate(a_request(), auth, NOW + timedelta(seconds=79)).headers["Authorization"]
    at_80s = authenticate(a_request(), auth, NOW + timedelta(seconds=80)).headers["Authorization"]

    assert at_79s == first
    assert at_80s != first


def test_jwt_is_signed_again_when_the_claims_change():
    auth = JwtAuth(type="jwt", secret="claims-secret-of-32-bytes-at-least", claims={"sub": "a"})

    first = authenticate(a_request(), auth, NOW).headers["Authorization"]
    other = authenticate(a_request(), auth.model_copy(update={"claims": {"sub": "b"}}), NOW).headers["Authorization"]

    assert other != first


def test_jwt_with_a_key_that_cannot_sign_raises_without_quoting_the_key():
    auth = JwtAuth(type="jwt", algorithm="RS256", private_key="-----BEGIN PRIVATE KEY-----\nNOTAKEY\n")

    with pytest.raises(AuthError) as refused:
        authenticate(a_request(), auth, NOW)

    assert "NOTAKEY" not in str(refused.value)


# ---------------------------------------------------------------- oauth2

def test_oauth2_sends_the_bearer_token_after_the_prefix():
    signed = authenticate(a_request(), oauth2(), NOW, bearer="at-1")

    assert signed.headers["Authorization"] == "Bearer at-1"


def test_oauth2_without_a_bearer_token_is_an_error():
    with pytest.raises(ValueError):
        authenticate(a_request(), oauth2(), NOW)


def test_token_request_is_a_form_post_with_client_credentials_in_the_body():
    auth = oauth2(scope="sms.send", extra={"audience": "https://sms.example.com"})

    request = token_request(auth)

    assert (request.method, request.url) == ("POST", "https://auth.example.com/token")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Accept"] == "application/json"
    assert "Authorization" not in request.headers
    assert parse_qs(request.body.decode()) == {
        "grant_type": ["client_credentials"], "scope": ["sms.send"], "client_id": ["bridge-client"],
        "client_secret": [SECRET], "audience": ["https://sms.example.com"]}


def test_token_request_as_json_carries_the_same_fields():
    request = token_request(oauth2(token_request="json"))

    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"grant_type": "client_credentials", "client_id": "bridge-client",
                                        "client_secret": SECRET}


def test_token_request_with_basic_client_auth_keeps_the_secret_out_of_the_body():
    request = token_request(oauth2(client_auth="basic"))

    encoded = request.headers["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(encoded).decode() == f"bridge-client:{SECRET}"
    assert parse_qs(request.body.decode()) == {"grant_type": ["client_credentials"]}


def test_extra_fields_cannot_replace_the_grant_type():
    request = token_request(oauth2(extra={"grant_type": "password", "resource": "sms"}))

    assert parse_qs(request.body.decode())["grant_type"] == ["client_credentials"]
    assert parse_qs(request.body.decode())["resource"] == ["sms"]


def test_token_answer_gives_the_token_and_its_expiry():
    answer = HttpResponse(200, {"content-type": "application/json"},
                          b'{"access_token": "at-1", "token_type": "Bearer", "expires_in": 1800}')

    token = parse_token_answer(answer, NOW)

    assert token == AccessToken("at-1", NOW + timedelta(seconds=1800))


def test_token_answer_without_expires_in_lasts_an_hour():
    token = parse_token_answer(HttpResponse(200, {}, b'{"access_token": "at-1"}'), NOW)

    assert token.expires_at == NOW + timedelta(hours=1)


def test_token_answer_with_expires_in_as_text_is_understood():
    token = parse_token_answer(HttpResponse(200, {}, b'{"access_token": "at-1", "expires_in": "120"}'), NOW)

    assert token.expires_at == NOW + timedelta(seconds=120)


def test_access_token_repr_hides_the_token():
    assert "at-secret" not in repr(AccessToken("at-secret", NOW))


@pytest.mark.parametrize(("status", "body", "reason"), [
    (401, b'{"error": "invalid_client", "error_description": "bad secret ' + SECRET.encode() + b'"}',
     "token endpoint answered HTTP 401 (invalid_client)"),
    (500, b"internal error for client_secret=" + SECRET.encode(), "token endpoint answered HTTP 500"),
    (200, b'{"token": "at-leaked", "secret": "' + SECRET.encode() + b'"}', "token endpoint answer has no access_token"),
    (200, b"access_token=at-leaked&expires_in=3600", "token endpoint answer is not a JSON object"),
    (200, b'{"access_token": "at-leaked", "expires_in": "soon"}',
     "token endpoint answer has an expires_in that is not a positive number"),
])
def test_token_answer_errors_explain_without_leaking_the_token_or_secret(status, body, reason):
    with pytest.raises(TokenError) as refused:
        parse_token_answer(HttpResponse(status, {}, body), NOW)

    assert refused.value.reason == reason
    assert SECRET not in str(refused.value) and "at-leaked" not in str(refused.value)


# ---------------------------------------------------------------- edges of jwt and token answers (issue 16)

def _pem(private_key) -> str:
    from cryptography.hazmat.primitives import serialization

    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()


def test_given_a_rotated_jwt_secret_when_a_token_for_the_old_one_is_cached_then_a_new_token_is_signed_with_the_new():
    claims = {"iss": "rotation"}
    old = JwtAuth(type="jwt", secret="rotation-old-secret-of-32-bytes-min", claims=claims)
    new = JwtAuth(type="jwt", secret="rotation-new-secret-of-32-bytes-min", claims=claims)

    authenticate(a_request(), old, NOW)
    token = authenticate(a_request(), new, NOW + timedelta(seconds=1)).headers["Authorization"].removeprefix("Bearer ")

    assert jwt.decode(token, "rotation-new-secret-of-32-bytes-min", algorithms=["HS256"],
                      options={"verify_exp": False, "verify_iat": False})["iss"] == "rotation"


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_given_a_private_key_when_signing_with_rs256_or_es256_then_the_public_key_verifies_the_token(algorithm):
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    private_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if algorithm == "RS256"
                   else ec.generate_private_key(ec.SECP256R1()))
    auth = JwtAuth(type="jwt", algorithm=algorithm, private_key=_pem(private_key), key_id="kid-7",
                   claims={"iss": algorithm.lower()}, lifetime_s=60, header="X-Auth", prefix="JWT ")

    signed = authenticate(a_request(), auth, NOW)

    token = signed.headers["X-Auth"].removeprefix("JWT ")
    assert jwt.get_unverified_header(token) == {"alg": algorithm, "kid": "kid-7", "typ": "JWT"}
    claims = jwt.decode(token, private_key.public_key(), algorithms=[algorithm],
                        options={"verify_exp": False, "verify_iat": False})
    assert (claims["iss"], claims["exp"] - claims["iat"]) == (algorithm.lower(), 60)


def test_given_a_cached_jwt_when_the_clock_goes_back_before_it_was_issued_then_a_new_one_is_signed():
    # A claim of its own: the token cache is process-wide, and a rerun of this test must not find its tokens.
    auth = JwtAuth(type="jwt", secret="clock-secret-of-32-bytes-at-least!", claims={"iss": str(uuid.uuid4())})

    first = authenticate(a_request(), auth, NOW).headers["Authorization"]
    earlier = authenticate(a_request(), auth, NOW - timedelta(seconds=5)).headers["Authorization"]

    assert earlier != first


@pytest.mark.parametrize("expires_in", ["true", "false", "0", "-60", '"inf"', '"NaN"', "[]"])
def test_given_an_expires_in_that_is_a_boolean_or_not_a_positive_number_when_read_then_the_answer_is_refused(
        expires_in):
    body = b'{"access_token": "at-1", "expires_in": ' + expires_in.encode() + b"}"

    with pytest.raises(TokenError) as refused:
        parse_token_answer(HttpResponse(200, {}, body), NOW)

    assert refused.value.reason == "token endpoint answer has an expires_in that is not a positive number"


def test_given_a_fractional_expires_in_when_read_then_the_token_expires_that_many_seconds_later():
    token = parse_token_answer(HttpResponse(200, {}, b'{"access_token": "at-1", "expires_in": 0.5}'), NOW)

    assert token.expires_at == NOW + timedelta(seconds=0.5)


# ---------------------------------------------------------------- more edges (issue 16, second pass)

def test_given_a_rotated_rs256_private_key_when_a_token_for_the_old_key_is_cached_then_the_new_key_signs():
    from cryptography.hazmat.primitives.asymmetric import rsa

    old_key, new_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    claims = {"iss": str(uuid.uuid4())}
    authenticate(a_request(), JwtAuth(type="jwt", algorithm="RS256", private_key=_pem(old_key), claims=claims), NOW)

    signed = authenticate(a_request(), JwtAuth(type="jwt", algorithm="RS256", private_key=_pem(new_key), claims=claims),
                          NOW + timedelta(seconds=1))

    token = signed.headers["Authorization"].removeprefix("Bearer ")
    assert jwt.decode(token, new_key.public_key(), algorithms=["RS256"],
                      options={"verify_exp": False, "verify_iat": False})["iss"] == claims["iss"]


def test_given_a_cached_jwt_when_asked_in_the_second_it_was_issued_then_the_same_token_goes_again():
    auth = JwtAuth(type="jwt", secret="same-second-secret-of-32-bytes-min", claims={"iss": str(uuid.uuid4())})

    first = authenticate(a_request(), auth, NOW).headers["Authorization"]

    assert authenticate(a_request(), auth, NOW).headers["Authorization"] == first


def test_given_two_jwts_signed_then_each_has_its_own_token_id():
    claims = [jwt.decode(authenticate(a_request(), JwtAuth(type="jwt", secret="jti-secret-of-32-bytes-at-least!!",
                                                           claims={"iss": str(uuid.uuid4())}), NOW)
                         .headers["Authorization"].removeprefix("Bearer "),
                         "jti-secret-of-32-bytes-at-least!!", algorithms=["HS256"],
                         options={"verify_exp": False, "verify_iat": False}) for _ in range(2)]

    assert all(uuid.UUID(claim["jti"]) for claim in claims)
    assert claims[0]["jti"] != claims[1]["jti"]


def test_given_an_api_key_in_the_query_when_the_url_has_one_or_none_then_it_is_appended_with_spaces_as_percent_20():
    auth = ApiKeyAuth(type="api_key", token="k y+1", query="key")

    assert authenticate(a_request("https://sms.example.com/send?a=1"), auth, NOW).url == \
        "https://sms.example.com/send?a=1&key=k%20y%2B1"
    assert authenticate(a_request("https://sms.example.com/send"), auth, NOW).url == \
        "https://sms.example.com/send?key=k%20y%2B1"


def test_given_an_hmac_over_path_and_key_id_when_the_url_has_no_path_or_query_then_the_path_is_a_slash():
    import hashlib
    import hmac as hmac_module

    auth = HmacAuth(type="hmac", secret="hmac-secret", string_to_sign="{{method}} {{path}} [{{key_id}}]",
                    signature_header="X-Sig", encoding="hex")

    signed = authenticate(a_request("https://sms.example.com"), auth, NOW)

    expected = hmac_module.new(b"hmac-secret", b"POST / []", hashlib.sha256).hexdigest()
    assert signed.headers["X-Sig"] == expected


def test_given_a_time_with_another_offset_or_none_when_formatted_then_it_is_read_as_utc():
    from datetime import timezone

    from smsbridge.core.auth import format_timestamp

    paris = datetime(2026, 11, 21, 11, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    assert format_timestamp(paris, "iso") == "2026-11-21T10:00:00Z"
    assert format_timestamp(datetime(2026, 11, 21, 10, 0, 0), "iso") == "2026-11-21T10:00:00Z"
    with pytest.raises(AuthError, match="^unknown timestamp format 'rfc822'$"):
        format_timestamp(NOW, "rfc822")


def test_given_an_oauth2_json_token_request_with_a_non_ascii_field_then_the_body_is_utf8_json():
    request = token_request(oauth2(token_request="json", client_auth="body", extra={"audience": "café"}))

    assert "café".encode() in request.body and b"\\u00e9" not in request.body


@pytest.mark.parametrize("status", [300, 301])
def test_given_a_token_endpoint_answering_a_redirect_when_read_then_it_is_refused(status):
    with pytest.raises(TokenError) as refused:
        parse_token_answer(HttpResponse(status, {}, b'{"access_token": "at-1"}'), NOW)

    assert refused.value.reason == f"token endpoint answered HTTP {status}"
    assert str(refused.value) == refused.value.reason


def test_given_an_empty_access_token_when_read_then_the_answer_is_refused():
    with pytest.raises(TokenError, match="^token endpoint answer has no access_token$"):
        parse_token_answer(HttpResponse(200, {}, b'{"access_token": ""}'), NOW)


def test_given_an_oauth2_auth_without_its_token_or_an_unknown_auth_when_applied_then_the_error_says_which():
    with pytest.raises(ValueError, match="^oauth2 auth needs the access token: ask the token cache for it first$"):
        authenticate(a_request(), oauth2(), NOW)
    with pytest.raises(AuthError, match="^unknown auth type 'object'$"):
        authenticate(a_request(), object(), NOW)


def test_given_a_header_value_with_a_line_break_when_applied_then_the_error_names_the_header_not_the_value():
    with pytest.raises(AuthError, match="^the value for header 'X-Key' starts with a space or holds a line break$"):
        authenticate(a_request(), ApiKeyAuth(type="api_key", token="k\r\nX-Evil: 1", header="X-Key"), NOW)
