"""Inbound webhook verification: Twilio, HMAC with a replay window, Basic, query token, none."""
from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from smsbridge.core.signatures import (
    SignatureRefused,
    WebhookRequest,
    called_urls,
    hmac_signature,
    twilio_signature,
    verify_webhook,
)
from smsbridge.models.provider import (
    BasicInboundAuth,
    HmacInboundAuth,
    NoInboundAuth,
    TokenInboundAuth,
    TwilioInboundAuth,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"
# The worked example of Twilio's "Webhooks security" guide (auth token 12345).
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
                 ("From", "+12349013030"), ("To", "+18005551212")]
TWILIO_EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
API_HOST = "abc123.execute-api.eu-west-1.amazonaws.com"


def _api_request(body: bytes = b"", headers: dict | None = None, query=(), method="POST",
                 path="/inbound/twilio") -> WebhookRequest:
    return WebhookRequest(method=method, path=path, body=body, query=list(query), stage="prod",
                          request_path=f"/prod{path}",
                          headers={"host": API_HOST, "x-forwarded-proto": "https", "x-forwarded-port": "443",
                                   "content-type": FORM, **{k.lower(): v for k, v in (headers or {}).items()}})


# ---------------------------------------------------------------- Twilio

def test_given_twilios_documented_example_when_signed_then_the_documented_signature_comes_out():
    assert twilio_signature("12345", TWILIO_URL, TWILIO_PARAMS) == TWILIO_EXPECTED


def test_given_twilios_documented_example_as_a_request_when_verified_with_its_public_url_then_it_passes():
    request = WebhookRequest(method="POST", path="/myapp.php", body=urlencode(list(reversed(TWILIO_PARAMS))).encode(),
                             query=[("foo", "1"), ("bar", "2")],
                             headers={"host": "internal.example", "x-twilio-signature": TWILIO_EXPECTED,
                                      "content-type": FORM})
    verify_webhook(TwilioInboundAuth(type="twilio", secret="12345"), request, NOW,
                   public_url="https://mycompany.com/myapp.php")


def test_given_twilio_behind_api_gateway_when_the_url_is_rebuilt_then_it_has_scheme_host_and_stage():
    urls = called_urls(_api_request(query=[("a", "1")]), None)
    assert urls[0] == f"https://{API_HOST}/prod/inbound/twilio?a=1"


def test_given_a_public_url_base_when_the_url_is_rebuilt_then_the_path_is_appended():
    urls = called_urls(_api_request(), "https://sms.example.com/hooks")
    assert urls[0] == "https://sms.example.com/hooks/inbound/twilio"


def test_given_a_twilio_form_signed_over_the_execute_api_url_when_verified_then_it_passes():
    params = [("From", "+33612345678"), ("To", "+33700000000"), ("Body", "Stop."), ("MessageSid", "SM1")]
    signature = twilio_signature("token", f"https://{API_HOST}/prod/inbound/twilio", params)
    request = _api_request(urlencode(params).encode(), {"X-Twilio-Signature": signature})
    verify_webhook(TwilioInboundAuth(type="twilio"), request, NOW, fallback_secret="token")


@pytest.mark.parametrize("change", ["body", "secret", "url"])
def test_given_a_twilio_signature_when_anything_signed_changes_then_it_is_refused(change):
    params = [("From", "+33612345678"), ("Body", "hello")]
    url = f"https://{API_HOST}/prod/inbound/twilio"
    signature = twilio_signature("token", "https://evil.example/inbound/twilio" if change == "url" else url, params)
    if change == "body":
        params = [("From", "+33612345678"), ("Body", "STOP")]
    request = _api_request(urlencode(params).encode(), {"X-Twilio-Signature": signature})
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(TwilioInboundAuth(type="twilio", secret="other" if change == "secret" else "token"),
                       request, NOW)
    assert refused.value.status == 403
    assert "token" not in refused.value.reason and signature not in refused.value.reason


def test_given_no_twilio_signature_header_when_verified_then_it_is_401():
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(TwilioInboundAuth(type="twilio", secret="token"), _api_request(b"From=x"), NOW)
    assert refused.value.status == 401


def test_given_a_twilio_get_when_verified_then_the_query_is_signed_with_the_url():
    query = [("From", "+33612345678"), ("Body", "hi there")]
    for spelling in (urlencode(query), urlencode(query).replace("+", "%20")):
        signature = twilio_signature("token", f"https://{API_HOST}/prod/inbound/twilio?{spelling}")
        verify_webhook(TwilioInboundAuth(type="twilio", secret="token"),
                       _api_request(method="GET", query=query, headers={"X-Twilio-Signature": signature}), NOW)


# ---------------------------------------------------------------- HMAC

def _hmac_auth(**kwargs) -> HmacInboundAuth:
    return HmacInboundAuth(type="hmac", secret="s3cret", **kwargs)


@pytest.mark.parametrize(("algorithm", "encoding", "prefix"),
                         [("sha256", "hex", ""), ("sha256", "hex", "sha256="), ("sha1", "base64", ""),
                          ("sha512", "base64", "v1,")])
def test_given_an_hmac_over_the_raw_body_when_verified_then_it_passes(algorithm, encoding, prefix):
    body = b'{"from": "+33612345678", "text": "STOP"}'
    signature = prefix + hmac_signature("s3cret", body, algorithm, encoding)
    verify_webhook(_hmac_auth(algorithm=algorithm, encoding=encoding, prefix=prefix),
                   _api_request(body, {"X-Signature": signature}), NOW)


def test_given_an_hmac_with_a_timestamp_when_fresh_then_it_passes_and_gives_the_signed_time():
    body = b'{"text": "hi"}'
    stamp = str(int(NOW.timestamp()) - 30)
    signature = hmac_signature("s3cret", stamp.encode() + b"." + body)
    signed_at = verify_webhook(_hmac_auth(timestamp_header="X-Timestamp"),
                               _api_request(body, {"X-Signature": signature, "X-Timestamp": stamp}), NOW)
    assert signed_at == NOW - timedelta(seconds=30)


def test_given_a_correctly_signed_but_old_request_when_verified_then_the_replay_is_refused():
    body = b'{"text": "STOP"}'
    stamp = str(int(NOW.timestamp()) - 301)
    signature = hmac_signature("s3cret", stamp.encode() + b"." + body)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_hmac_auth(timestamp_header="X-Timestamp", tolerance_s=300),
                       _api_request(body, {"X-Signature": signature, "X-Timestamp": stamp}), NOW)
    assert refused.value.status == 403 and "replay" in refused.value.reason


def test_given_a_timestamp_changed_after_signing_when_verified_then_it_is_refused():
    body = b'{"text": "STOP"}'
    old = str(int(NOW.timestamp()) - 3600)
    signature = hmac_signature("s3cret", old.encode() + b"." + body)
    with pytest.raises(SignatureRefused):
        verify_webhook(_hmac_auth(timestamp_header="X-Timestamp"),
                       _api_request(body, {"X-Signature": signature, "X-Timestamp": str(int(NOW.timestamp()))}), NOW)


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"X-Signature": "00" * 32}, 403),
                                                 ({"X-Signature": "not hex at all"}, 403)])
def test_given_a_missing_or_wrong_hmac_when_verified_then_it_is_refused(headers, status):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_hmac_auth(), _api_request(b"{}", headers), NOW)
    assert refused.value.status == status


def test_given_a_timestamp_header_is_configured_when_it_is_missing_then_it_is_401():
    body = b"{}"
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(_hmac_auth(timestamp_header="X-Timestamp"),
                       _api_request(body, {"X-Signature": hmac_signature("s3cret", body)}), NOW)
    assert refused.value.status == 401


# ---------------------------------------------------------------- Basic, token, none

def _basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_given_the_right_basic_credentials_when_verified_then_it_passes():
    verify_webhook(BasicInboundAuth(type="basic", username="hook", password="pw"), _api_request(headers=_basic("hook", "pw")), NOW)


@pytest.mark.parametrize(("headers", "status"), [({}, 401), (_basic("hook", "nope"), 403), (_basic("other", "pw"), 403),
                                                 ({"Authorization": "Basic !!!"}, 401), ({"Authorization": "Bearer x"}, 401)])
def test_given_wrong_or_missing_basic_credentials_when_verified_then_it_is_refused(headers, status):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(BasicInboundAuth(type="basic", username="hook", password="pw"), _api_request(headers=headers), NOW)
    assert refused.value.status == status


def test_given_a_query_token_when_it_matches_then_it_passes_and_otherwise_it_is_refused():
    auth = TokenInboundAuth(type="token", param="key", token="t0k")
    verify_webhook(auth, _api_request(query=[("key", "t0k")]), NOW)
    with pytest.raises(SignatureRefused) as missing:
        verify_webhook(auth, _api_request(), NOW)
    with pytest.raises(SignatureRefused) as wrong:
        verify_webhook(auth, _api_request(query=[("key", "t0K")]), NOW)
    assert (missing.value.status, wrong.value.status) == (401, 403)


def test_given_none_chosen_explicitly_when_verified_then_anything_passes():
    assert verify_webhook(NoInboundAuth(type="none"), _api_request(b"whatever"), NOW) is None
