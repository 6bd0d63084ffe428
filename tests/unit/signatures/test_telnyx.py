"""`telnyx`: ed25519 over `timestamp|body` (telnyx-signature-ed25519, telnyx-timestamp), checked against the telnyx
SDK's `verify_webhook_signature` (which reads the wall clock: these tests sign at the wall clock's time)."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from nacl.signing import SigningKey
from pydantic import ValidationError
from telnyx.lib.webhook_verification import WebhookVerificationError, verify_webhook_signature

from smsbridge.core.signatures import SignatureRefused, verify_webhook
from smsbridge.models.provider import TelnyxInboundAuth

from .support import JSON, api_request, wall_clock

SIGNING_KEY = SigningKey(bytes(range(32)))  # Telnyx's side: the account's private key
PUBLIC_KEY = base64.b64encode(bytes(SIGNING_KEY.verify_key)).decode()
BODY = json.dumps({"data": {"event_type": "message.received", "id": "b301ed3f-1490-491f-995f-6e64e69674d4",
                            "occurred_at": "2026-11-21T11:59:55.000+00:00",
                            "payload": {"from": {"phone_number": "+33612345678"}, "text": "STOP",
                                        "to": [{"phone_number": "+33757000000"}]}}}).encode()


def _signed_headers(body: bytes, at, key: SigningKey = SIGNING_KEY) -> dict:
    stamp = str(int(at.timestamp()))
    signature = key.sign(stamp.encode() + b"|" + body).signature
    return {"telnyx-signature-ed25519": base64.b64encode(signature).decode(), "telnyx-timestamp": stamp}


def _auth(**kwargs) -> TelnyxInboundAuth:
    return TelnyxInboundAuth(type="telnyx", public_key=PUBLIC_KEY, **kwargs)


def test_given_a_webhook_the_telnyx_sdk_accepts_when_verified_then_it_passes_and_gives_the_signed_time():
    now = wall_clock()
    headers = _signed_headers(BODY, now - timedelta(seconds=3))

    verify_webhook_signature(BODY, headers, PUBLIC_KEY)
    assert verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), now) == now - timedelta(seconds=3)


@pytest.mark.parametrize("change", ["byte", "key", "timestamp"])
def test_given_a_changed_byte_another_key_or_a_moved_timestamp_then_the_sdk_and_the_bridge_both_refuse(change):
    now = wall_clock()
    body, headers = BODY, _signed_headers(BODY, now)
    if change == "byte":
        body = BODY.replace(b"STOP", b"STOQ")
    elif change == "key":
        headers = _signed_headers(BODY, now, SigningKey(bytes(range(1, 33))))
    else:
        headers["telnyx-timestamp"] = str(int(now.timestamp()) - 1)

    with pytest.raises(WebhookVerificationError):
        verify_webhook_signature(body, headers, PUBLIC_KEY)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(body, headers, content_type=JSON), now)
    assert refused.value.status == 403


def test_given_a_signed_webhook_replayed_outside_the_window_then_the_sdk_and_the_bridge_both_refuse():
    now = wall_clock()
    headers = _signed_headers(BODY, now - timedelta(seconds=301))

    with pytest.raises(WebhookVerificationError):
        verify_webhook_signature(BODY, headers, PUBLIC_KEY)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), now)
    assert "replay" in refused.value.reason


def test_given_a_wider_tolerance_when_an_older_webhook_arrives_then_it_passes():
    now = wall_clock()
    verify_webhook(_auth(tolerance_s=900), api_request(BODY, _signed_headers(BODY, now - timedelta(seconds=600)),
                                                      content_type=JSON), now)


@pytest.mark.parametrize("headers", [{}, {"telnyx-timestamp": "1"}, {"telnyx-signature-ed25519": "AA=="}])
def test_given_missing_signature_headers_when_verified_then_it_is_401(headers):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), wall_clock())
    assert refused.value.status == 401


def test_given_a_signature_that_is_not_64_bytes_of_base64_when_verified_then_it_is_403():
    headers = {"telnyx-signature-ed25519": "not base64!", "telnyx-timestamp": "1"}
    for signature in ("not base64!", base64.b64encode(b"short").decode()):
        headers["telnyx-signature-ed25519"] = signature
        with pytest.raises(SignatureRefused) as refused:
            verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), wall_clock())
        assert refused.value.status == 403


@pytest.mark.parametrize("key", ["not base64", base64.b64encode(b"16 bytes only!!!").decode()])
def test_given_a_public_key_that_is_not_an_ed25519_key_when_saved_then_it_is_refused(key):
    with pytest.raises(ValidationError) as error:
        TelnyxInboundAuth(type="telnyx", public_key=key)
    assert "public_key" in str(error.value)


# The reason is what Telnyx is answered with and what the operator reads in the log.
@pytest.mark.parametrize(("change", "status", "reason"), [
    ("no timestamp", 401, "the telnyx-signature-ed25519 or telnyx-timestamp header is missing"),
    ("stray character", 403, "the telnyx-signature-ed25519 header is not base64"),
    ("body", 403, "the telnyx-signature-ed25519 does not match"),
])
def test_given_a_missing_unreadable_or_wrong_signature_when_verified_then_the_answer_says_which(change, status,
                                                                                                 reason):
    now = wall_clock()
    body, headers = BODY, _signed_headers(BODY, now)
    if change == "no timestamp":
        del headers["telnyx-timestamp"]
    elif change == "stray character":
        # The right signature with a character base64 does not have: read strictly, refused.
        headers["telnyx-signature-ed25519"] = headers["telnyx-signature-ed25519"][:10] + "!" + \
            headers["telnyx-signature-ed25519"][10:]
    else:
        body = BODY.replace(b"STOP", b"STOQ")

    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(body, headers, content_type=JSON), now)
    assert (refused.value.status, refused.value.reason) == (status, reason)


@pytest.mark.parametrize(("stamp", "reason"), [
    ("2026-11-21T12:00:00Z", "the telnyx-timestamp header is not a unix time"),
    ("9" * 20, "the telnyx-timestamp header is not a time"),
])
def test_given_a_signed_timestamp_that_is_no_unix_time_when_verified_then_it_is_403_saying_so(stamp, reason):
    # Signed with the account's key over `stamp|body`: the signature holds, the time does not.
    signature = SIGNING_KEY.sign(stamp.encode() + b"|" + BODY).signature
    headers = {"telnyx-signature-ed25519": base64.b64encode(signature).decode(), "telnyx-timestamp": stamp}

    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), wall_clock())
    assert (refused.value.status, refused.value.reason) == (403, reason)
