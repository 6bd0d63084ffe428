"""`vonage`: the SMS API's `sig` (checked against the nexmo 2.x SDK for `md5hash` and the vonage v4 SDK for the
HMAC methods) and the Bearer JWT of the newer APIs (checked against vonage_jwt's `verify_signature`)."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from urllib.parse import urlencode

import jwt
import nexmo
import pytest
from vonage_http_client.auth import Auth
from vonage_jwt.errors import VonageVerifyJwtError
from vonage_jwt.verify_jwt import verify_signature

from smsbridge.core.signatures import SignatureRefused, verify_webhook
from smsbridge.models.provider import VonageInboundAuth

from .support import JSON, NOW, api_request, wall_clock

SECRET = "signature-secret-0123456789abcdef"
INBOUND = {"msisdn": "33612345678", "to": "33757000000", "messageId": "0A0000000123ABCD1", "text": "STOP & go=now",
           "type": "text", "keyword": "STOP", "message-timestamp": "2026-11-21 11:59:50", "nonce": "a1b2c3"}


def _auth(method: str = "md5hash", **kwargs) -> VonageInboundAuth:
    return VonageInboundAuth(type="vonage", secret=SECRET, method=method, **kwargs)


def _sdk_signed(method: str, params: dict, secret: str = SECRET) -> dict:
    """`params` with `timestamp` and `sig` as Vonage's own SDKs compute them."""
    signed = dict(params)
    if method == "md5hash":
        signed["sig"] = nexmo.Client(key="abcd1234", signature_secret=secret).signature(signed)
    else:
        signed["sig"] = Auth(api_key="abcd1234", signature_secret=secret, signature_method=method).sign_params(signed)
    return signed


def _stamped(at=NOW) -> dict:
    return {**INBOUND, "timestamp": str(int(at.timestamp()))}


# ---------------------------------------------------------------- the `sig` parameter

@pytest.mark.parametrize("method", ["md5hash", "md5", "sha1", "sha256", "sha512"])
def test_given_a_form_webhook_signed_by_the_vonage_sdk_when_verified_then_it_passes_and_gives_the_signed_time(method):
    params = _sdk_signed(method, _stamped(NOW - timedelta(seconds=10)))

    signed_at = verify_webhook(_auth(method), api_request(urlencode(params).encode()), NOW)

    assert signed_at == NOW - timedelta(seconds=10)


def test_given_a_get_webhook_signed_by_the_sdk_when_verified_then_the_query_parameters_are_checked():
    params = _sdk_signed("sha256", _stamped())
    verify_webhook(_auth("sha256"), api_request(method="GET", query=list(params.items())), NOW)


def test_given_a_json_webhook_signed_by_the_sdk_when_verified_then_its_values_are_checked():
    params = _sdk_signed("sha512", _stamped())
    verify_webhook(_auth("sha512"), api_request(json.dumps(params).encode(), content_type=JSON), NOW)


@pytest.mark.parametrize("method", ["md5hash", "sha256"])
def test_given_a_changed_byte_when_checked_then_the_sdk_and_the_bridge_both_refuse(method):
    params = _sdk_signed(method, _stamped())
    params["text"] = "STOQ & go=now"

    sdk = nexmo.Client(key="k", signature_secret=SECRET) if method == "md5hash" else \
        Auth(api_key="k", signature_secret=SECRET, signature_method=method)
    assert not sdk.check_signature(dict(params))
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(method), api_request(urlencode(params).encode()), NOW)
    assert refused.value.status == 403


def test_given_a_wrong_secret_when_checked_then_the_sdk_and_the_bridge_both_refuse():
    params = _sdk_signed("md5hash", _stamped(), secret="another-secret")

    assert not nexmo.Client(key="k", signature_secret=SECRET).check_signature(dict(params))
    with pytest.raises(SignatureRefused):
        verify_webhook(_auth(), api_request(urlencode(params).encode()), NOW)


def test_given_another_method_than_the_dashboards_when_verified_then_it_is_refused_naming_the_method():
    params = _sdk_signed("sha1", _stamped())
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth("sha256"), api_request(urlencode(params).encode()), NOW)
    assert "sha256" in refused.value.reason and SECRET not in refused.value.reason


def test_given_a_correctly_signed_webhook_replayed_outside_the_window_when_verified_then_it_is_refused():
    old = _sdk_signed("md5hash", _stamped(NOW - timedelta(seconds=301)))
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(urlencode(old).encode()), NOW)
    assert refused.value.status == 403 and "replay" in refused.value.reason
    verify_webhook(_auth(tolerance_s=600), api_request(urlencode(old).encode()), NOW)


def test_given_no_signature_at_all_when_verified_then_it_is_401():
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(urlencode(INBOUND).encode()), NOW)
    assert refused.value.status == 401


def test_given_a_sig_without_timestamp_when_verified_then_it_is_refused():
    unsigned = {**INBOUND, "sig": "0" * 32}
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(urlencode(unsigned).encode()), NOW)
    assert refused.value.status == 403


# ---------------------------------------------------------------- the signed JWT (Messages API and newer)

def _vonage_jwt(body: bytes, iat, secret: str = SECRET, **claims) -> str:
    """A JWT with the claims Vonage documents for signed webhooks (HS256 with the signature secret)."""
    return jwt.encode({"iat": iat if isinstance(iat, str) else int(iat.timestamp()), "jti": "c7d1f6a3-0000-4000-8000-000000000001", "iss": "Vonage",
                       "payload_hash": hashlib.sha256(body).hexdigest(), "api_key": "abcd1234",
                       "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", **claims}, secret, algorithm="HS256")


BODY = b'{"channel":"sms","message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","to":"447700900000",' \
       b'"from":"447700900001","timestamp":"2026-11-21T11:59:55Z","text":"STOP","message_type":"text"}'


def test_given_a_jwt_the_vonage_sdk_accepts_when_verified_then_it_passes_and_gives_the_signed_time():
    token = _vonage_jwt(BODY, NOW - timedelta(seconds=5))

    assert verify_signature(token, SECRET)
    assert verify_webhook(_auth(), api_request(BODY, {"Authorization": f"Bearer {token}"}, content_type=JSON),
                          NOW) == NOW - timedelta(seconds=5)


def test_given_a_jwt_with_a_wrong_secret_or_a_changed_byte_when_checked_then_the_sdk_and_the_bridge_refuse():
    wrong_secret = _vonage_jwt(BODY, NOW, secret="not-the-signature-secret-at-all!")
    token = _vonage_jwt(BODY, NOW)
    changed_byte = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]

    for bad in (wrong_secret, changed_byte):
        assert not verify_signature(bad, SECRET)
        with pytest.raises(SignatureRefused) as refused:
            verify_webhook(_auth(), api_request(BODY, {"Authorization": f"Bearer {bad}"}, content_type=JSON), NOW)
        assert refused.value.status == 403


def test_given_a_body_changed_after_signing_when_verified_then_the_payload_hash_refuses_it():
    token = _vonage_jwt(BODY, NOW)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY.replace(b"STOP", b"STAR"), {"Authorization": f"Bearer {token}"},
                                            content_type=JSON), NOW)
    assert "payload_hash" in refused.value.reason


def test_given_a_jwt_issued_outside_the_window_when_verified_then_the_replay_is_refused():
    token = _vonage_jwt(BODY, NOW - timedelta(seconds=301))
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY, {"Authorization": f"Bearer {token}"}, content_type=JSON), NOW)
    assert "replay" in refused.value.reason


def test_given_an_expired_jwt_when_verified_then_it_is_refused_as_pyjwt_would():
    token = _vonage_jwt(BODY, NOW - timedelta(seconds=60), exp=int((NOW - timedelta(seconds=30)).timestamp()))
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY, {"Authorization": f"Bearer {token}"}, content_type=JSON), NOW)
    assert "expired" in refused.value.reason


# ---------------------------------------------------------------- what each refusal says, and the edges of the window

def test_given_a_json_webhook_with_a_boolean_and_a_null_when_signed_over_their_json_spelling_then_it_passes():
    # Vonage signs the values as the JSON wrote them (`true`, `null`), which the SDK signs as text.
    signed = _sdk_signed("sha256", {**_stamped(), "flash": "true", "udh": "null"})
    body = {**signed, "flash": True, "udh": None}

    verify_webhook(_auth("sha256"), api_request(json.dumps(body).encode(), content_type=JSON), NOW)


@pytest.mark.parametrize(("params", "status", "reason"), [
    (INBOUND, 401, "no Vonage signature: neither a `sig` parameter nor a Bearer JWT"),
    ({**INBOUND, "sig": "0" * 32}, 403, "the signed webhook has no `timestamp` parameter"),
    (_sdk_signed("md5hash", {**INBOUND, "timestamp": "soon"}), 403, "the `timestamp` parameter is not a time"),
    ({**_stamped(), "sig": "0" * 32}, 403, "the Vonage `sig` does not match (signature method md5hash)"),
])
def test_given_a_missing_wrong_or_unreadable_sig_when_verified_then_the_answer_says_which(params, status, reason):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(urlencode(params).encode()), NOW)
    assert (refused.value.status, refused.value.reason) == (status, reason)


def _jwt_refusal(token: str, body: bytes = BODY, now=NOW) -> tuple[int, str]:
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(body, {"Authorization": f"Bearer {token}"}, content_type=JSON), now)
    return refused.value.status, refused.value.reason


def test_given_jwts_that_are_wrong_in_each_way_when_verified_then_the_answer_says_which():
    not_verified = (403, "the Vonage JWT does not verify with the configured secret")
    without_iat = jwt.encode({"payload_hash": hashlib.sha256(BODY).hexdigest()}, SECRET, algorithm="HS256")
    without_hash = jwt.encode({"iat": int(NOW.timestamp())}, SECRET, algorithm="HS256")

    assert _jwt_refusal(_vonage_jwt(BODY, NOW, secret="not-the-signature-secret-at-all!")) == not_verified
    assert _jwt_refusal(without_iat) == not_verified
    assert _jwt_refusal(without_hash) == (403, "the Vonage JWT has no payload_hash for a request with a body")
    assert _jwt_refusal(_vonage_jwt(BODY, NOW), BODY + b" ") == (
        403, "the body does not match the Vonage JWT's payload_hash")
    assert _jwt_refusal(_vonage_jwt(BODY, "soon")) == (403, "the Vonage JWT's iat is not a time")
    assert _jwt_refusal(_vonage_jwt(BODY, NOW, exp="soon")) == (403, "the Vonage JWT's exp is not a time")
    assert _jwt_refusal(_vonage_jwt(BODY, NOW - timedelta(seconds=60), exp=int(NOW.timestamp()) - 2)) == (
        403, "the Vonage JWT has expired: replay refused")


def test_given_a_jwt_that_names_an_audience_when_checked_then_the_sdk_and_the_bridge_both_refuse():
    token = _vonage_jwt(BODY, NOW, aud="someone-else")

    with pytest.raises(VonageVerifyJwtError):
        verify_signature(token, SECRET)
    assert _jwt_refusal(token) == (403, "the Vonage JWT does not verify with the configured secret")


def test_given_a_jwt_whose_exp_passed_within_the_one_second_leeway_when_verified_then_it_passes():
    token = _vonage_jwt(BODY, NOW - timedelta(seconds=60), exp=int(NOW.timestamp()) - 1)
    verify_webhook(_auth(), api_request(BODY, {"Authorization": f"Bearer {token}"}, content_type=JSON), NOW)


def test_given_a_jwt_issued_after_the_wall_clock_when_checked_at_its_own_now_then_it_passes():
    # The times are checked against the `now` given, never against the clock PyJWT would read.
    later = wall_clock() + timedelta(days=1)
    token = _vonage_jwt(BODY, later - timedelta(seconds=5))

    assert verify_webhook(_auth(), api_request(BODY, {"Authorization": f"Bearer {token}"}, content_type=JSON),
                          later) == later - timedelta(seconds=5)
