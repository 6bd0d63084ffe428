"""`hmac`: a generic HMAC over the raw body, with a replay window when a timestamp header is configured."""
from __future__ import annotations

from datetime import timedelta

import pytest

from smsbridge.core.signatures import SignatureRefused, hmac_signature, verify_webhook
from smsbridge.models.provider import HmacInboundAuth

from .support import NOW, api_request


def _hmac_auth(**kwargs) -> HmacInboundAuth:
    return HmacInboundAuth(type="hmac", secret="s3cret", **kwargs)


@pytest.mark.parametrize(("algorithm", "encoding", "prefix"),
                         [("sha256", "hex", ""), ("sha256", "hex", "sha256="), ("sha1", "base64", ""),
                          ("sha512", "base64", "v1,")])
def test_given_an_hmac_over_the_raw_body_when_verified_then_it_passes(algorithm, encoding, prefix):
    body = b'{"from": "+33612345678", "text": "STOP"}'
    signature = prefix + hmac_signature("s3cret", body, algorithm, encoding)
    verify_webhook(_hmac_auth(algorithm=algorithm, encoding=encoding, prefix=prefix),
                   api_request(body, {"X-Signature": signature}), NOW)


def test_given_an_hmac_with_a_timestamp_when_fresh_then_it_passes_and_gives_the_signed_time():
    body = b'{"text": "hi"}'
    stamp = str(int(NOW.timestamp()) - 30)
    signature = hmac_signature("s3cret", stamp.encode() + b"." + body)
    signed_at = verify_webhook(_hmac_auth(timestamp_header="X-Timestamp"),
                               api_request(body, {"X-Signature": signature, "X-Timestamp": stamp}), NOW)
    assert signed_at == NOW - timedelta(seconds=30)


def test_given_a_correctly_signed_but_old_request_when_verified_then_the_replay_is_refused():
    body = b'{"text": "STOP"}'
    stamp = str(int(NOW.timestamp()) - 301)
    signature = hmac_signature("s3cret", stamp.encode() + b"." + body)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_hmac_auth(timestamp_header="X-Timestamp", tolerance_s=300),
                       api_request(body, {"X-Signature": signature, "X-Timestamp": stamp}), NOW)
    assert refused.value.status == 403 and "replay" in refused.value.reason


def test_given_a_timestamp_changed_after_signing_when_verified_then_it_is_refused():
    body = b'{"text": "STOP"}'
    old = str(int(NOW.timestamp()) - 3600)
    signature = hmac_signature("s3cret", old.encode() + b"." + body)
    with pytest.raises(SignatureRefused):
        verify_webhook(_hmac_auth(timestamp_header="X-Timestamp"),
                       api_request(body, {"X-Signature": signature, "X-Timestamp": str(int(NOW.timestamp()))}), NOW)


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"X-Signature": "00" * 32}, 403),
                                                 ({"X-Signature": "not hex at all"}, 403)])
def test_given_a_missing_or_wrong_hmac_when_verified_then_it_is_refused(headers, status):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_hmac_auth(), api_request(b"{}", headers), NOW)
    assert refused.value.status == status


def test_given_a_timestamp_header_is_configured_when_it_is_missing_then_it_is_401():
    body = b"{}"
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_hmac_auth(timestamp_header="X-Timestamp"),
                       api_request(body, {"X-Signature": hmac_signature("s3cret", body)}), NOW)
    assert refused.value.status == 401


