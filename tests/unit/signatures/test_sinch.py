"""`sinch`: X-Sinch-Webhook-Signature (base64 HMAC-SHA256 of `body.nonce.timestamp`) with its nonce, timestamp and
algorithm headers, checked against the sinch SDK's `SmsSinchEvent.validate_authentication_header`."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sinch.domains.authentication.sinch_events.v1.authentication_validation import (
    calculate_sinch_event_signature,
    compute_signed_data,
)
from sinch.domains.sms.sinch_events.v1.sms_sinch_event import SmsSinchEvent

from smsbridge.core.signatures import SignatureRefused, verify_webhook
from smsbridge.models.provider import SinchInboundAuth

from .support import JSON, NOW, api_request

SECRET = "callback-secret-7f3a"
BODY = json.dumps({"type": "mo_text", "id": "01FC66621XXXXX119Z8PMV1QPQ", "from": "33612345678",
                   "to": "33757000000", "body": "STOP", "received_at": "2026-11-21T11:59:55.000Z"}).encode()
NONCE = "01FJA8B4A7BM43YGWSG9GBV067"


def _sdk_headers(body: bytes, at, secret: str = SECRET, nonce: str = NONCE) -> dict:
    """The headers Sinch sends, signed with the SDK's own functions."""
    stamp = str(int(at.timestamp()))
    signature = calculate_sinch_event_signature(compute_signed_data(body.decode(), nonce, stamp), secret)
    return {"x-sinch-webhook-signature": signature, "x-sinch-webhook-signature-nonce": nonce,
            "x-sinch-webhook-signature-timestamp": stamp, "x-sinch-webhook-signature-algorithm": "HmacSHA256",
            "content-type": "application/json; charset=utf-8"}


def _auth(**kwargs) -> SinchInboundAuth:
    return SinchInboundAuth(type="sinch", secret=SECRET, **kwargs)


def test_given_a_callback_the_sdk_accepts_when_verified_then_it_passes_and_gives_the_signed_time():
    headers = _sdk_headers(BODY, NOW - timedelta(seconds=4))

    assert SmsSinchEvent(SECRET).validate_authentication_header(headers, BODY)
    assert verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), NOW) == NOW - timedelta(seconds=4)


@pytest.mark.parametrize("change", ["byte", "secret", "nonce", "timestamp"])
def test_given_a_changed_byte_a_wrong_secret_or_a_changed_header_then_the_sdk_and_the_bridge_both_refuse(change):
    body, headers = BODY, _sdk_headers(BODY, NOW)
    secret = "another-secret" if change == "secret" else SECRET
    if change == "byte":
        body = BODY.replace(b"STOP", b"STOQ")
    elif change == "nonce":
        headers["x-sinch-webhook-signature-nonce"] = NONCE[:-1] + "8"
    elif change == "timestamp":
        headers["x-sinch-webhook-signature-timestamp"] = str(int(NOW.timestamp()) + 1)

    assert not SmsSinchEvent(secret).validate_authentication_header(headers, body)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(SinchInboundAuth(type="sinch", secret=secret),
                       api_request(body, headers, content_type=JSON), NOW)
    assert refused.value.status == 403 and secret not in refused.value.reason


def test_given_a_signed_callback_replayed_outside_the_window_when_verified_then_it_is_refused():
    headers = _sdk_headers(BODY, NOW - timedelta(seconds=301))

    assert SmsSinchEvent(SECRET).validate_authentication_header(headers, BODY), "the SDK checks no time"
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), NOW)
    assert "replay" in refused.value.reason


def test_given_a_body_in_another_charset_when_verified_then_it_is_signed_as_utf8_as_the_sdk_does():
    body = json.dumps({"body": "Arrêt"}, ensure_ascii=False).encode("latin-1")
    headers = _sdk_headers(body.decode("latin-1").encode("utf-8"), NOW)
    headers["content-type"] = "application/json; charset=ISO-8859-1"

    assert SmsSinchEvent(SECRET).validate_authentication_header(headers, body)
    verify_webhook(_auth(), api_request(body, headers, content_type=headers["content-type"]), NOW)


def test_given_another_algorithm_announced_when_verified_then_it_is_refused():
    headers = {**_sdk_headers(BODY, NOW), "x-sinch-webhook-signature-algorithm": "HmacSHA1"}
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), NOW)
    assert refused.value.status == 403


@pytest.mark.parametrize("missing", ["x-sinch-webhook-signature", "x-sinch-webhook-signature-nonce",
                                     "x-sinch-webhook-signature-timestamp"])
def test_given_a_missing_signature_header_when_verified_then_it_is_401(missing):
    headers = _sdk_headers(BODY, NOW)
    del headers[missing]
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), NOW)
    assert refused.value.status == 401


def test_given_no_algorithm_header_when_a_callback_the_sdk_accepts_is_verified_then_it_passes():
    headers = _sdk_headers(BODY, NOW)
    del headers["x-sinch-webhook-signature-algorithm"]

    assert SmsSinchEvent(SECRET).validate_authentication_header(headers, BODY)
    verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), NOW)


def test_given_a_quoted_charset_when_verified_then_the_body_is_read_in_it_as_the_sdk_does():
    body = json.dumps({"body": "Arrêt"}, ensure_ascii=False).encode("latin-1")
    headers = _sdk_headers(body.decode("latin-1").encode("utf-8"), NOW)
    headers["content-type"] = 'application/json; charset="iso-8859-1"'

    assert SmsSinchEvent(SECRET).validate_authentication_header(headers, body)
    verify_webhook(_auth(), api_request(body, headers, content_type=headers["content-type"]), NOW)


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/json; charset=no-such-charset"])
def test_given_a_body_not_readable_in_its_declared_charset_when_verified_then_it_is_403_as_the_sdk_raises(
        content_type):
    body = b'{"body": "Arr\xeat"}'  # Latin-1 bytes, not UTF-8
    headers = {**_sdk_headers(b'{"body": "Arr"}', NOW), "content-type": content_type}

    with pytest.raises((UnicodeDecodeError, LookupError)):
        SmsSinchEvent(SECRET).validate_authentication_header(headers, body)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(body, headers, content_type=content_type), NOW)
    assert (refused.value.status, refused.value.reason) == (403, "the body cannot be read in its declared charset")


# The reason is what Sinch is answered with and what the operator reads in the log.
@pytest.mark.parametrize(("change", "status", "reason"), [
    ("no nonce", 401, "the X-Sinch-Webhook-Signature, -Nonce or -Timestamp header is missing"),
    ("algorithm", 403, "the X-Sinch-Webhook-Signature-Algorithm is not HmacSHA256"),
    ("byte", 403, "the X-Sinch-Webhook-Signature does not match"),
    ("timestamp", 403, "the X-Sinch-Webhook-Signature-Timestamp header is not a time"),
])
def test_given_a_missing_wrong_or_unreadable_header_when_verified_then_the_answer_says_which(change, status, reason):
    body, headers = BODY, _sdk_headers(BODY, NOW)
    if change == "no nonce":
        del headers["x-sinch-webhook-signature-nonce"]
    elif change == "algorithm":
        headers["x-sinch-webhook-signature-algorithm"] = " HmacSHA512 "
    elif change == "byte":
        body = BODY.replace(b"STOP", b"STOQ")
    else:  # signed with the SDK's own functions over a timestamp that is no time
        headers["x-sinch-webhook-signature-timestamp"] = "soon"
        headers["x-sinch-webhook-signature"] = calculate_sinch_event_signature(
            compute_signed_data(BODY.decode(), NONCE, "soon"), SECRET)
        assert SmsSinchEvent(SECRET).validate_authentication_header(headers, body)

    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_auth(), api_request(body, headers, content_type=JSON), NOW)
    assert (refused.value.status, refused.value.reason) == (status, reason)


def test_given_the_algorithm_header_in_another_case_when_verified_then_it_passes():
    headers = {**_sdk_headers(BODY, NOW), "x-sinch-webhook-signature-algorithm": " hmacsha256 "}
    verify_webhook(_auth(), api_request(BODY, headers, content_type=JSON), NOW)


def test_given_a_content_type_without_a_charset_when_a_callback_the_sdk_accepts_is_verified_then_it_is_read_as_utf8():
    body = json.dumps({"body": "Arrêt"}, ensure_ascii=False).encode("utf-8")
    headers = {**_sdk_headers(body, NOW), "content-type": "application/json"}

    assert SmsSinchEvent(SECRET).validate_authentication_header(headers, body)
    verify_webhook(_auth(), api_request(body, headers, content_type="application/json"), NOW)
