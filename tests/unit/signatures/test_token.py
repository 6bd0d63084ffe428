"""`token`: a shared token in the query string."""
from __future__ import annotations

import pytest

from smsbridge.core.signatures import SignatureRefused, verify_webhook
from smsbridge.models.provider import TokenInboundAuth

from .support import NOW, api_request


def test_given_a_query_token_when_it_matches_then_it_passes_and_otherwise_it_is_refused():
    auth = TokenInboundAuth(type="token", param="key", token="t0k")
    verify_webhook(auth, api_request(query=[("key", "t0k")]), NOW)
    with pytest.raises(SignatureRefused) as missing:
        verify_webhook(auth, api_request(), NOW)
    with pytest.raises(SignatureRefused) as wrong:
        verify_webhook(auth, api_request(query=[("key", "t0K")]), NOW)
    assert (missing.value.status, wrong.value.status) == (401, 403)




def test_given_a_missing_or_wrong_query_token_when_verified_then_the_answer_names_the_parameter():
    auth = TokenInboundAuth(type="token", param="key", token="t0k")

    with pytest.raises(SignatureRefused) as missing:
        verify_webhook(auth, api_request(query=[("key", "")]), NOW)
    with pytest.raises(SignatureRefused) as wrong:
        verify_webhook(auth, api_request(query=[("key", "t0k0")]), NOW)

    assert missing.value.reason == "the `key` query parameter is missing"
    assert wrong.value.reason == "the `key` query parameter does not match"
