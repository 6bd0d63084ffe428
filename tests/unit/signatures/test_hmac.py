"""`hmac`: a generic HMAC over the raw body, with a replay window when a timestamp header is configured."""
from __future__ import annotations

import base64
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
    assert (refused.value.status, refused.value.reason) == (401, "the X-Timestamp header is missing")




# ---------------------------------------------------------------- fixed reference vectors, base64 spellings

# RFC 2202 test case 2 (HMAC-SHA1) and RFC 4231 test case 2 (HMAC-SHA256, HMAC-SHA512): key "Jefe",
# data "what do ya want for nothing?". https://www.rfc-editor.org/rfc/rfc2202#section-3 and
# https://www.rfc-editor.org/rfc/rfc4231#section-4.3 (hex there; base64 is the same 20/32/64 bytes).
RFC_KEY, RFC_DATA = "Jefe", b"what do ya want for nothing?"
RFC_VECTORS = {
    "sha1": "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
    "sha256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    "sha512": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
              "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
}
RFC_BASE64 = {  # base64 of the same digests, standard alphabet, padded
    "sha1": "7/zfauXrL6LSdBbV8YTfnCWafHk=",
    "sha256": "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=",
    "sha512": "Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw==",
}


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_given_the_rfc_test_vectors_when_signed_then_the_published_digests_come_out_in_hex_and_base64(algorithm):
    assert hmac_signature(RFC_KEY, RFC_DATA, algorithm) == RFC_VECTORS[algorithm]
    assert hmac_signature(RFC_KEY, RFC_DATA, algorithm, "base64") == RFC_BASE64[algorithm]
    assert bytes.fromhex(RFC_VECTORS[algorithm]) == base64.b64decode(RFC_BASE64[algorithm])


@pytest.mark.parametrize("algorithm", ["sha1", "sha512"])
@pytest.mark.parametrize("spelling", ["standard", "unpadded", "url-safe", "url-safe unpadded"])
def test_given_a_base64_signature_without_padding_or_url_safe_when_verified_then_it_passes(algorithm, spelling):
    signature = RFC_BASE64[algorithm]
    if "url-safe" in spelling:
        signature = signature.replace("+", "-").replace("/", "_")
    if "unpadded" in spelling:
        signature = signature.rstrip("=")

    verify_webhook(HmacInboundAuth(type="hmac", secret=RFC_KEY, algorithm=algorithm, encoding="base64"),
                   api_request(RFC_DATA, {"X-Signature": signature}), NOW)


@pytest.mark.parametrize("signature", ["7/zfauXrL6LSdBbV8YTfnCWafHg=", "7/zfauXrL6LSdBbV8YTfnCWafH", "not base64!",
                                       "7_zfauXrL6LSdBbV8YTfnCWafHg",
                                       # RFC 2202's right digest with a stray character: not base64, not accepted
                                       "7/zfauXrL6LSdBbV8YTfnCWa!fHk=", "7/zfauXrL6LSdBbV8YTfn CWafHk="])
def test_given_a_wrong_or_unreadable_base64_signature_when_verified_then_it_is_403(signature):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(HmacInboundAuth(type="hmac", secret=RFC_KEY, algorithm="sha1", encoding="base64"),
                       api_request(RFC_DATA, {"X-Signature": signature}), NOW)
    assert (refused.value.status, refused.value.reason) == (403, "the X-Signature signature does not match")


def test_given_an_upper_case_hex_signature_with_spaces_when_verified_then_it_passes():
    verify_webhook(HmacInboundAuth(type="hmac", secret=RFC_KEY),
                   api_request(RFC_DATA, {"X-Signature": f"  {RFC_VECTORS['sha256'].upper()} "}), NOW)


def test_given_a_prefix_is_configured_when_the_header_lacks_it_then_it_is_403_naming_the_prefix():
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(HmacInboundAuth(type="hmac", secret=RFC_KEY, prefix="sha256="),
                       api_request(RFC_DATA, {"X-Signature": RFC_VECTORS["sha256"]}), NOW)
    assert (refused.value.status, refused.value.reason) == (403, "the X-Signature header does not start with 'sha256='")


@pytest.mark.parametrize(("stamp", "shown"), [("not a time", "the X-Timestamp header is not a time"),
                                              ("nan", "the X-Timestamp header is not a time")])
def test_given_a_timestamp_that_is_not_a_time_when_verified_then_it_is_403_naming_the_header(stamp, shown):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_hmac_auth(timestamp_header="X-Timestamp"),
                       api_request(b"{}", {"X-Signature": "00", "X-Timestamp": stamp}), NOW)
    assert (refused.value.status, refused.value.reason) == (403, shown)


def test_given_a_missing_signature_header_when_verified_then_it_is_401_naming_the_header():
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_hmac_auth(header="X-Hub-Signature-256"), api_request(b"{}"), NOW)
    assert (refused.value.status, refused.value.reason) == (401, "the X-Hub-Signature-256 header is missing")
