"""`twilio`: X-Twilio-Signature, checked against the twilio SDK's RequestValidator and Twilio's documented example."""
from __future__ import annotations

from functools import partial
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from smsbridge.core.signatures import SignatureRefused, WebhookRequest, called_urls, twilio_signature, verify_webhook
from smsbridge.models.provider import TwilioInboundAuth

from .support import API_HOST, FORM, NOW, api_request as _any_request

# The worked example of Twilio's "Webhooks security" guide (auth token 12345):
# https://www.twilio.com/docs/usage/webhooks/webhooks-security
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
                 ("From", "+12349013030"), ("To", "+18005551212")]
TWILIO_EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
api_request = partial(_any_request, path="/inbound/twilio")


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
    urls = called_urls(api_request(query=[("a", "1")]), None)
    assert urls[0] == f"https://{API_HOST}/prod/inbound/twilio?a=1"


def test_given_a_public_url_base_when_the_url_is_rebuilt_then_the_path_is_appended():
    urls = called_urls(api_request(), "https://sms.example.com/hooks")
    assert urls[0] == "https://sms.example.com/hooks/inbound/twilio"


def test_given_a_twilio_form_signed_over_the_execute_api_url_when_verified_then_it_passes():
    params = [("From", "+33612345678"), ("To", "+33700000000"), ("Body", "Stop."), ("MessageSid", "SM1")]
    signature = twilio_signature("token", f"https://{API_HOST}/prod/inbound/twilio", params)
    request = api_request(urlencode(params).encode(), {"X-Twilio-Signature": signature})
    verify_webhook(TwilioInboundAuth(type="twilio"), request, NOW, fallback_secret="token")


@pytest.mark.parametrize("change", ["body", "secret", "url"])
def test_given_a_twilio_signature_when_anything_signed_changes_then_it_is_refused(change):
    params = [("From", "+33612345678"), ("Body", "hello")]
    url = f"https://{API_HOST}/prod/inbound/twilio"
    signature = twilio_signature("token", "https://evil.example/inbound/twilio" if change == "url" else url, params)
    if change == "body":
        params = [("From", "+33612345678"), ("Body", "STOP")]
    request = api_request(urlencode(params).encode(), {"X-Twilio-Signature": signature})
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(TwilioInboundAuth(type="twilio", secret="other" if change == "secret" else "token"),
                       request, NOW)
    assert refused.value.status == 403
    assert "token" not in refused.value.reason and signature not in refused.value.reason


def test_given_no_twilio_signature_header_when_verified_then_it_is_401():
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(TwilioInboundAuth(type="twilio", secret="token"), api_request(b"From=x"), NOW)
    assert refused.value.status == 401


def test_given_a_twilio_get_when_verified_then_the_query_is_signed_with_the_url():
    query = [("From", "+33612345678"), ("Body", "hi there")]
    for spelling in (urlencode(query), urlencode(query).replace("+", "%20")):
        signature = twilio_signature("token", f"https://{API_HOST}/prod/inbound/twilio?{spelling}")
        verify_webhook(TwilioInboundAuth(type="twilio", secret="token"),
                       api_request(method="GET", query=query, headers={"X-Twilio-Signature": signature}), NOW)



# ---------------------------------------------------------------- against the twilio SDK

def test_given_a_webhook_signed_by_the_twilio_sdk_when_verified_then_it_passes():
    url = f"https://{API_HOST}/prod/inbound/twilio"
    params = {"From": "+33612345678", "To": "+33700000000", "Body": "STOP", "MessageSid": "SM1"}
    signature = RequestValidator("auth-token").compute_signature(url, params)

    verify_webhook(TwilioInboundAuth(type="twilio"), api_request(urlencode(params).encode(),
                                                                 {"X-Twilio-Signature": signature}),
                   NOW, fallback_secret="auth-token")


@pytest.mark.parametrize("change", ["byte", "secret"])
def test_given_a_changed_byte_or_a_wrong_secret_when_checked_then_the_sdk_and_the_bridge_both_refuse(change):
    url = f"https://{API_HOST}/prod/inbound/twilio"
    params = {"From": "+33612345678", "Body": "STOP"}
    signature = RequestValidator("auth-token").compute_signature(url, params)
    if change == "byte":
        params = {"From": "+33612345679", "Body": "STOP"}
    secret = "auth-tokeN" if change == "secret" else "auth-token"

    assert not RequestValidator(secret).validate(url, params, signature)
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(TwilioInboundAuth(type="twilio", secret=secret),
                       api_request(urlencode(params).encode(), {"X-Twilio-Signature": signature}), NOW)
    assert refused.value.status == 403


# ---------------------------------------------------------------- JSON webhooks (bodySHA256) and empty parameters

# Twilio's JSON-webhook example (api-snippets, security/signature_validation_json): this body and
# the bodySHA256 its URL carries (the hex SHA-256 of the body, which the test checks too):
# https://www.twilio.com/docs/usage/webhooks/webhooks-security#validating-signatures-from-twilio
JSON_BODY = b'{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}'
JSON_BODY_SHA256 = "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9"


def _json_webhook(body: bytes, body_hash: str = JSON_BODY_SHA256) -> WebhookRequest:
    """A JSON webhook to https://example.com/myapp?bodySHA256=..., signed by the twilio SDK over its URL."""
    url = f"https://example.com/myapp?bodySHA256={body_hash}"
    signature = RequestValidator("12345").compute_signature(url, {})
    return WebhookRequest(method="POST", path="/myapp", body=body, query=[("bodySHA256", body_hash)],
                          headers={"host": "example.com", "x-forwarded-proto": "https",
                                   "content-type": "application/json", "x-twilio-signature": signature})


def test_given_twilios_json_example_when_its_body_is_hashed_then_the_documented_body_sha256_comes_out():
    assert RequestValidator("12345").compute_hash(JSON_BODY.decode()) == JSON_BODY_SHA256


def test_given_a_json_webhook_with_its_body_sha256_when_verified_then_it_passes_as_the_sdk_says():
    request = _json_webhook(JSON_BODY)

    assert RequestValidator("12345").validate(f"https://example.com/myapp?bodySHA256={JSON_BODY_SHA256}",
                                              JSON_BODY.decode(), request.header("x-twilio-signature"))
    verify_webhook(TwilioInboundAuth(type="twilio", secret="12345"), request, NOW)


def test_given_a_json_webhook_whose_body_was_changed_when_verified_then_it_is_refused_as_the_sdk_does():
    tampered = JSON_BODY.replace(b"+12349013030", b"+12349013031")
    request = _json_webhook(tampered)

    assert not RequestValidator("12345").validate(f"https://example.com/myapp?bodySHA256={JSON_BODY_SHA256}",
                                                  tampered.decode(), request.header("x-twilio-signature"))
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(TwilioInboundAuth(type="twilio", secret="12345"), request, NOW)
    assert (refused.value.status, refused.value.reason) == (403, "the body does not match bodySHA256")


def test_given_a_json_webhook_with_an_upper_case_body_sha256_when_verified_then_it_passes():
    verify_webhook(TwilioInboundAuth(type="twilio", secret="12345"),
                   _json_webhook(JSON_BODY, JSON_BODY_SHA256.upper()), NOW)


def test_given_a_form_post_with_empty_parameters_when_signed_by_the_sdk_then_the_bridge_verifies_it():
    url = f"https://{API_HOST}/prod/inbound/twilio"
    params = {"From": "+33612345678", "Body": "", "MediaUrl0": "", "NumMedia": "0"}
    signature = RequestValidator("auth-token").compute_signature(url, params)

    verify_webhook(TwilioInboundAuth(type="twilio", secret="auth-token"),
                   api_request(urlencode(params).encode(), {"X-Twilio-Signature": signature}), NOW)


def test_given_no_auth_token_configured_when_a_signed_webhook_arrives_then_it_is_403():
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(TwilioInboundAuth(type="twilio"), api_request(b"From=x", {"X-Twilio-Signature": "c2ln"}), NOW)
    assert (refused.value.status, refused.value.reason) == (403, "no Twilio auth token is configured for this provider")


def test_given_twilios_json_example_without_a_content_type_when_verified_then_only_the_url_is_signed_as_the_sdk_does():
    # The SDK decides by bodySHA256 in the URL, not by the Content-Type: the body is never read as a form.
    signed = _json_webhook(JSON_BODY)
    request = WebhookRequest(method="POST", path="/myapp", body=JSON_BODY, query=signed.query,
                             headers={k: v for k, v in signed.headers.items() if k != "content-type"})

    assert RequestValidator("12345").validate(f"https://example.com/myapp?bodySHA256={JSON_BODY_SHA256}",
                                              JSON_BODY.decode(), request.header("x-twilio-signature"))
    verify_webhook(TwilioInboundAuth(type="twilio", secret="12345"), request, NOW)


@pytest.mark.parametrize(("headers", "status", "reason"), [
    ({}, 401, "the X-Twilio-Signature header is missing"),
    ({"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}, 403, "the X-Twilio-Signature does not match"),
])
def test_given_a_missing_or_wrong_twilio_signature_when_verified_then_the_answer_says_which(headers, status, reason):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(TwilioInboundAuth(type="twilio", secret="12345"), api_request(b"From=x", headers), NOW)
    assert (refused.value.status, refused.value.reason) == (status, reason)
