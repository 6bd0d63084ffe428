"""`plivo`: X-Plivo-Signature-V3 with its nonce, checked against the plivo SDK (`validate_v3_signature`, and its
own signing steps `construct_post_url` / `get_signature_v3`)."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from plivo.utils.signature_v3 import construct_get_url, construct_post_url, get_signature_v3, validate_v3_signature

from smsbridge.core.signatures import SignatureRefused, verify_webhook
from smsbridge.core.signatures.plivo import plivo_signature
from smsbridge.models.provider import PlivoInboundAuth

from .support import JSON, NOW, api_request, url_of

TOKEN = "MjA4ZjRhYTgtZGVmZi00YjNkLTkwZmEtMzQ3YTQ0"
NONCE = "05429567804466091622"
INBOUND = {"From": "33612345678", "To": "33757000000", "Text": "STOP", "Type": "sms",
           "MessageUUID": "2a0ce8a2-1b23-11ee-9b4c-0242ac110002", "Units": "1"}


def _sdk_post_signature(url: str, params: dict, token: str = TOKEN, nonce: str = NONCE) -> str:
    base = construct_post_url(url, dict(params)).decode("utf-8")
    return get_signature_v3(token.encode(), base, nonce.encode()).decode("ascii")


def _headers(signature: str, nonce: str = NONCE) -> dict:
    return {"X-Plivo-Signature-V3": signature, "X-Plivo-Signature-V3-Nonce": nonce}


def test_given_a_callback_signed_with_the_sdks_steps_when_verified_with_the_auth_token_then_it_passes():
    signature = _sdk_post_signature(url_of(), INBOUND)

    verify_webhook(PlivoInboundAuth(type="plivo"), api_request(urlencode(INBOUND).encode(), _headers(signature)),
                   NOW, fallback_secret=TOKEN)


def test_given_a_callback_url_with_a_query_when_signed_by_the_sdk_then_it_passes():
    url = url_of() + "?b=2&a=x%20y"
    signature = _sdk_post_signature(url, INBOUND)
    verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN),
                   api_request(urlencode(INBOUND).encode(), _headers(signature), query=[("b", "2"), ("a", "x y")]), NOW)


def test_given_our_signature_when_the_sdk_validates_it_then_it_is_accepted_for_post_get_and_json():
    assert validate_v3_signature("POST", url_of(), NONCE, TOKEN, plivo_signature(TOKEN, "POST", url_of(), NONCE, INBOUND),
                                 dict(INBOUND))
    get_url = url_of() + "?" + urlencode(INBOUND)
    assert validate_v3_signature("GET", get_url, NONCE, TOKEN, plivo_signature(TOKEN, "GET", get_url, NONCE))
    nested = {"Message": {"Text": "STOP", "From": "336"}, "Units": 1}
    assert validate_v3_signature("POST", url_of(), NONCE, TOKEN, plivo_signature(TOKEN, "POST", url_of(), NONCE, nested),
                                 json.loads(json.dumps(nested)))


def test_given_a_get_callback_when_verified_then_the_query_is_what_is_signed():
    get_url = url_of() + "?" + urlencode(INBOUND)
    signature = get_signature_v3(TOKEN.encode(), construct_get_url(get_url, {}).decode(), NONCE.encode()).decode()
    verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN),
                   api_request(method="GET", query=list(INBOUND.items()), headers=_headers(signature)), NOW)


def test_given_a_json_callback_when_verified_then_its_keys_and_values_are_what_is_signed():
    body = {"From": "33612345678", "Text": "STOP", "Units": 1}
    signature = _sdk_post_signature(url_of(), json.loads(json.dumps(body)))
    verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN),
                   api_request(json.dumps(body).encode(), _headers(signature), content_type=JSON), NOW)


def test_given_several_signatures_after_a_token_rotation_when_one_matches_then_it_passes():
    old = _sdk_post_signature(url_of(), INBOUND, token="the-token-before-rotation")
    new = _sdk_post_signature(url_of(), INBOUND)

    assert validate_v3_signature("POST", url_of(), NONCE, TOKEN, f"{old},{new}", dict(INBOUND))
    verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN),
                   api_request(urlencode(INBOUND).encode(), _headers(f"{old},{new}")), NOW)


@pytest.mark.parametrize("change", ["byte", "secret", "nonce"])
def test_given_a_changed_byte_a_wrong_token_or_another_nonce_then_the_sdk_and_the_bridge_both_refuse(change):
    signature = _sdk_post_signature(url_of(), INBOUND)
    params, token, nonce = dict(INBOUND), TOKEN, NONCE
    if change == "byte":
        params["Text"] = "STOQ"
    elif change == "secret":
        token = TOKEN[:-1] + "X"
    else:
        nonce = "05429567804466091623"

    assert not validate_v3_signature("POST", url_of(), nonce, token, signature, dict(params))
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(PlivoInboundAuth(type="plivo", secret=token),
                       api_request(urlencode(params).encode(), _headers(signature, nonce)), NOW)
    assert refused.value.status == 403 and TOKEN not in refused.value.reason


def test_given_no_signature_headers_when_verified_then_it_is_401():
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN), api_request(urlencode(INBOUND).encode()), NOW)
    assert refused.value.status == 401


def test_given_no_secret_and_no_auth_password_when_verified_then_it_is_refused():
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(PlivoInboundAuth(type="plivo"), api_request(urlencode(INBOUND).encode(), _headers("x")), NOW)
    assert refused.value.status == 403


def test_given_a_post_callback_without_parameters_when_signed_by_the_sdk_then_it_passes():
    signature = _sdk_post_signature(url_of(), {})
    verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN), api_request(b"", _headers(signature)), NOW)


@pytest.mark.parametrize(("query", "pairs"), [("a=&b=1", [("a", ""), ("b", "1")]),
                                              ("a=2&a=1&b=x", [("a", "2"), ("a", "1"), ("b", "x")])])
def test_given_a_callback_url_with_a_blank_or_repeated_query_parameter_when_signed_by_the_sdk_then_it_passes(query,
                                                                                                           pairs):
    signature = _sdk_post_signature(url_of() + "?" + query, INBOUND)
    verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN),
                   api_request(urlencode(INBOUND).encode(), _headers(signature), query=pairs), NOW)


def test_given_a_form_callback_with_a_name_repeated_three_times_when_signed_by_the_sdk_then_it_passes():
    media = ["https://media.example/b.jpg", "https://media.example/c.jpg", "https://media.example/a.jpg"]
    pairs = [*INBOUND.items(), *(("Media", url) for url in media)]
    signature = _sdk_post_signature(url_of(), {**INBOUND, "Media": media})

    verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN),
                   api_request(urlencode(pairs).encode(), _headers(signature)), NOW)


def test_given_a_json_callback_with_a_list_of_numbers_when_signed_by_the_sdk_then_they_are_sorted_as_text():
    body = {"From": "33612345678", "Parts": [10, 9, 100]}
    signature = _sdk_post_signature(url_of(), json.loads(json.dumps(body)))
    verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN),
                   api_request(json.dumps(body).encode(), _headers(signature), content_type=JSON), NOW)


def test_given_a_json_callback_whose_list_mixes_null_and_text_when_verified_then_it_is_403_not_a_crash():
    body = {"From": "33612345678", "Parts": [None, "a", {"b": 1}]}
    with pytest.raises(TypeError):  # the SDK cannot sort it either
        construct_post_url(url_of(), json.loads(json.dumps(body)))

    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN),
                       api_request(json.dumps(body).encode(), _headers("c2ln"), content_type=JSON), NOW)
    assert (refused.value.status, refused.value.reason) == (403, "the X-Plivo-Signature-V3 does not match")


def test_given_a_get_callback_that_also_carries_a_form_body_when_verified_then_only_its_url_is_signed():
    get_url = url_of() + "?" + urlencode(INBOUND)
    signature = get_signature_v3(TOKEN.encode(), construct_get_url(get_url, {}).decode(), NONCE.encode()).decode()
    verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN),
                   api_request(b"Extra=1", method="GET", query=list(INBOUND.items()), headers=_headers(signature)),
                   NOW)


def test_given_a_public_url_when_a_callback_signed_for_it_arrives_through_a_proxy_then_it_passes():
    public = "https://sms.example.com/hooks"
    signature = _sdk_post_signature(public + "/inbound/p", INBOUND)
    request = api_request(urlencode(INBOUND).encode(), {**_headers(signature), "Host": "internal.local"})

    verify_webhook(PlivoInboundAuth(type="plivo", secret=TOKEN), request, NOW, public_url=public)


# The reason is what Plivo is answered with and what the operator reads in the log.
@pytest.mark.parametrize(("headers", "secret", "status", "reason"), [
    ({"X-Plivo-Signature-V3": "c2ln"}, TOKEN, 401,
     "the X-Plivo-Signature-V3 or X-Plivo-Signature-V3-Nonce header is missing"),
    ({"X-Plivo-Signature-V3-Nonce": NONCE}, TOKEN, 401,
     "the X-Plivo-Signature-V3 or X-Plivo-Signature-V3-Nonce header is missing"),
    (_headers("c2ln"), None, 403, "no Plivo auth token is configured for this provider"),
    (_headers("c2ln"), TOKEN, 403, "the X-Plivo-Signature-V3 does not match"),
])
def test_given_missing_headers_no_token_or_a_wrong_signature_when_verified_then_the_answer_says_which(headers, secret,
                                                                                                   status, reason):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(PlivoInboundAuth(type="plivo", secret=secret), api_request(urlencode(INBOUND).encode(), headers),
                       NOW)
    assert (refused.value.status, refused.value.reason) == (status, reason)
