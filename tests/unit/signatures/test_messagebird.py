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

from .support import api_request, url_of, wall_clock

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
