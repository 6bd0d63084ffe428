"""`basic`: HTTP Basic credentials sent with each webhook."""
from __future__ import annotations

import base64

import pytest

from smsbridge.core.signatures import SignatureRefused, verify_webhook
from smsbridge.models.provider import BasicInboundAuth

from .support import NOW, api_request


def _basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_given_the_right_basic_credentials_when_verified_then_it_passes():
    verify_webhook(BasicInboundAuth(type="basic", username="hook", password="pw"), api_request(headers=_basic("hook", "pw")), NOW)


@pytest.mark.parametrize(("headers", "status"), [({}, 401), (_basic("hook", "nope"), 403), (_basic("other", "pw"), 403),
                                                 ({"Authorization": "Basic !!!"}, 401), ({"Authorization": "Bearer x"}, 401)])
def test_given_wrong_or_missing_basic_credentials_when_verified_then_it_is_refused(headers, status):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(BasicInboundAuth(type="basic", username="hook", password="pw"), api_request(headers=headers), NOW)
    assert refused.value.status == status




# The reason is what the provider's request is answered with (and what the operator reads in the log).
@pytest.mark.parametrize(("headers", "status", "reason"), [
    ({}, 401, "Basic credentials are missing"),
    ({"Authorization": "Bearer aG9vazpwdw=="}, 401, "Basic credentials are missing"),
    ({"Authorization": "Basic "}, 401, "Basic credentials are missing"),
    ({"Authorization": "Basic !!!"}, 401, "the Basic credentials are not readable"),
    ({"Authorization": "Basic " + base64.b64encode(b"\xff:pw").decode()}, 401, "the Basic credentials are not readable"),
    ({"Authorization": "Basic " + base64.b64encode(b"hookpw").decode()}, 403, "the Basic credentials do not match"),
    (_basic("hook", "nope"), 403, "the Basic credentials do not match"),
])
def test_given_missing_unreadable_or_wrong_basic_credentials_when_verified_then_the_answer_says_which(headers, status,
                                                                                                      reason):
    with pytest.raises(SignatureRefused) as refused:
        verify_webhook(BasicInboundAuth(type="basic", username="hook", password="pw"), api_request(headers=headers), NOW)
    assert (refused.value.status, refused.value.reason) == (status, reason)


def test_given_a_password_holding_colons_and_a_lower_case_scheme_when_verified_then_it_passes():
    # RFC 7617 section 2: the user-id ends at the first colon; the password may hold more.
    verify_webhook(BasicInboundAuth(type="basic", username="hook", password="p:w:d"),
                   api_request(headers={"Authorization": "basic  " + _basic("hook", "p:w:d")["Authorization"][6:]}),
                   NOW)
