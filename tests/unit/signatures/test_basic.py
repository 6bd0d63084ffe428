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


