"""`messagebird`: the MessageBird-Signature-JWT (url_hash, payload_hash, nbf/exp), checked against the messagebird
SDK's `RequestValidator` (which reads the wall clock: these tests sign at the wall clock's time)."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlencode

import jwt
import pytest
from messagebird.error import ValidationError as SdkRefused
from messagebird.request_validator import RequestValidator

from smsbridge.core.signatures import SignatureRefused, verify_webhook
from smsbridge.models.provider import MessageBirdInboundAuth

from .support import NOW, api_request, url_of, wall_clock

SIGNING_KEY = "PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd"
QUERY = [("id", "e8077d803532c0b5937c639b60216938"), ("originator", "33612345678"), ("recipient", "33757000000"),
         ("body", "STOP"), ("createdDatetime", "2026-11-21T11:59:55+00:00")]
BODY = urlencode(QUERY).encode()


def _jwt(url: str, body: bytes, nbf, key: str = SIGNING_KEY, lifetime_s: int = 60, **claims) -> str:
    """A token with MessageBird's documented claims."""
    fields = {"iss": "MessageBird", "nbf": int(nbf.timestamp()), "exp": int(nbf.timestamp()) + lifetime_s,
              "jti": "7c5b7e4f-4c2a-4ed5-a2b2-0d0f7e1a2b3c", "url_hash": hashlib.sha256(url.encode()).hexdigest()}
    if body:
        fields["payload_hash"] = hashlib.sha256(body).hexdigest()
    return jwt.encode({**fields, **claims}, key, algorithm="HS256")


def _auth(**kwargs) -> MessageBirdInboundAuth:
    return MessageBirdInboundAuth(type="messagebird", secret=SIGNING_KEY, **kwargs)


def _header(token: str) -> dict:
    return {"MessageBird-Signature-JWT": token}


def test_given_a_post_the_sdk_accepts_when_verified_then_it_passes_and_gives_nbf():
    now = wall_clock()
    token = _jwt(url_of(), BODY, now - timedelta(seconds=2))

    RequestValidator(SIGNING_KEY).validate_signature(token, url_of(), BODY)
    assert verify_webhook(_auth(), api_request(BODY, _header(token)), now) == now - timedelta(seconds=2)


def test_given_a_get_with_the_message_in_the_query_when_the_sdk_accepts_it_then_it_passes():
    now = wall_clock()
    url = url_of() + "?" + urlencode(QUERY)
    token = _jwt(url, b"", now)

    RequestValidator(SIGNING_KEY).validate_signature(token, url, b"")
    verify_webhook(_auth(), api_request(method="GET", query=QUERY, headers=_header(token)), now)


@pytest.mark.parametrize("change", ["byte", "key", "url"])
def test_given_a_changed_byte_a_wrong_key_or_another_url_then_the_sdk_and_the_bridge_both_refuse(change):
    now = wall_clock()
    url, body, key = url_of(), BODY, SIGNING_KEY
    token = _jwt("https://evil.example/inbound/p" if change == "url" else url, body, now,
                 key="another-signing-key-0123456789ab" if change == "key" else key)
    if change == "byte":
        body = BODY.replace(b"STOP", b"STOQ")

    with pytest.raises(SdkRefused):
        RequestValidator(SIGNING_KEY).validate_signature(token, url, body)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(body, _header(token)), now)
    assert refused.value.status == 403 and SIGNING_KEY not in refused.value.reason


def test_given_an_expired_token_replayed_then_the_sdk_and_the_bridge_both_refuse():
    now = wall_clock()
    token = _jwt(url_of(), BODY, now - timedelta(seconds=120), lifetime_s=60)

    with pytest.raises(SdkRefused):
        RequestValidator(SIGNING_KEY).validate_signature(token, url_of(), BODY)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY, _header(token)), now)
    assert "replay" in refused.value.reason


def test_given_a_token_not_yet_valid_then_the_sdk_and_the_bridge_both_refuse():
    now = wall_clock()
    token = _jwt(url_of(), BODY, now + timedelta(seconds=30))

    with pytest.raises(SdkRefused):
        RequestValidator(SIGNING_KEY).validate_signature(token, url_of(), BODY)
    with pytest.raises(SignatureRefused):
        verify_webhook(_auth(), api_request(BODY, _header(token)), now)


def test_given_a_long_lived_token_used_after_the_tolerance_when_verified_then_it_is_refused():
    now = wall_clock()
    token = _jwt(url_of(), BODY, now - timedelta(seconds=400), lifetime_s=3600)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(tolerance_s=300), api_request(BODY, _header(token)), now)
    assert "replay" in refused.value.reason


def test_given_a_body_without_payload_hash_then_the_sdk_and_the_bridge_both_refuse():
    now = wall_clock()
    token = _jwt(url_of(), b"", now)
    with pytest.raises(SdkRefused):
        RequestValidator(SIGNING_KEY).validate_signature(token, url_of(), BODY)
    with pytest.raises(SignatureRefused):
        verify_webhook(_auth(), api_request(BODY, _header(token)), now)


def test_given_another_issuer_when_verified_then_it_is_refused():
    now = wall_clock()
    token = _jwt(url_of(), BODY, now, iss="Someone")
    with pytest.raises(SignatureRefused):
        verify_webhook(_auth(), api_request(BODY, _header(token)), now)


def test_given_no_signature_header_when_verified_then_it_is_401():
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY), wall_clock())
    assert refused.value.status == 401


# ---------------------------------------------------------------- what each refusal says, and the edges of nbf/exp

def _refusal(token: str | None, body: bytes = BODY, now=None, **request) -> tuple[int, str]:
    now = now or wall_clock()
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(body, _header(token) if token else {}, **request), now)
    return refused.value.status, refused.value.reason


def test_given_tokens_wrong_in_each_way_when_verified_then_the_answer_says_which():
    now = wall_clock()

    assert _refusal(None) == (401, "the MessageBird-Signature-JWT header is missing")
    assert _refusal(_jwt(url_of(), BODY, now, key="another-signing-key-0123456789ab")) == (
        403, "the MessageBird-Signature-JWT does not verify with the configured secret")
    assert _refusal(_jwt("https://evil.example/inbound/p", BODY, now)) == (
        403, "the MessageBird-Signature-JWT's url_hash does not match the URL called")
    assert _refusal(_jwt(url_of(), b"", now)) == (
        403, "the MessageBird-Signature-JWT's payload_hash and the body disagree")
    assert _refusal(_jwt(url_of(), BODY, now), b"", method="GET") == (
        403, "the MessageBird-Signature-JWT's payload_hash and the body disagree")
    assert _refusal(_jwt(url_of(), BODY, now), BODY + b"&x=1") == (
        403, "the body does not match the MessageBird-Signature-JWT's payload_hash")
    nbf_not_a_time = jwt.encode({**jwt.decode(_jwt(url_of(), BODY, now), options={"verify_signature": False}),
                                 "nbf": "soon"}, SIGNING_KEY, algorithm="HS256")
    assert _refusal(nbf_not_a_time) == (
        403, "the MessageBird-Signature-JWT's nbf is not a time")
    assert _refusal(_jwt(url_of(), BODY, now, exp="later")) == (
        403, "the MessageBird-Signature-JWT's exp is not a time")
    assert _refusal(_jwt(url_of(), BODY, now - timedelta(seconds=120))) == (
        403, "the MessageBird-Signature-JWT is not valid now (nbf/exp): replay refused")


def test_given_a_token_that_names_an_audience_then_the_sdk_and_the_bridge_both_refuse():
    now = wall_clock()
    token = _jwt(url_of(), BODY, now, aud="someone")

    with pytest.raises(SdkRefused):
        RequestValidator(SIGNING_KEY).validate_signature(token, url_of(), BODY)
    assert _refusal(token, now=now) == (403, "the MessageBird-Signature-JWT does not verify with the configured secret")


@pytest.mark.parametrize(("moment", "accepted"), [("nbf", True), ("exp", True), ("before nbf", False),
                                                  ("after exp", False)])
def test_given_a_token_used_at_the_one_second_leeway_of_nbf_or_exp_then_only_beyond_it_is_refused(moment, accepted):
    # The SDK gives PyJWT `leeway=1`: a token is taken from nbf - 1 s to exp + 1 s.
    now = NOW
    token = _jwt(url_of(), BODY, NOW, lifetime_s=60)
    at = {"nbf": now - timedelta(seconds=1), "exp": now + timedelta(seconds=61),
          "before nbf": now - timedelta(seconds=1, microseconds=1),
          "after exp": now + timedelta(seconds=61, microseconds=1)}[moment]
    if accepted:
        assert verify_webhook(_auth(), api_request(BODY, _header(token)), at) == NOW
        return
    assert _refusal(token, now=at) == (403, "the MessageBird-Signature-JWT is not valid now (nbf/exp): replay refused")


def test_given_a_token_not_before_a_time_past_the_wall_clock_when_checked_at_its_own_now_then_it_passes():
    # Times are checked against the `now` given, never against the clock PyJWT would read.
    later = wall_clock() + timedelta(days=1)
    token = _jwt(url_of(), BODY, later - timedelta(seconds=2))

    assert verify_webhook(_auth(), api_request(BODY, _header(token)), later) == later - timedelta(seconds=2)


def test_given_a_public_url_when_a_token_signed_for_it_arrives_through_a_proxy_then_it_passes():
    now = wall_clock()
    public = "https://sms.example.com/hooks"
    token = _jwt(public + "/inbound/p", BODY, now)

    RequestValidator(SIGNING_KEY).validate_signature(token, public + "/inbound/p", BODY)
    verify_webhook(_auth(), api_request(BODY, {**_header(token), "Host": "internal.local"}), now, public_url=public)
