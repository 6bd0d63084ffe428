"""`none`: no check, when chosen explicitly."""
from __future__ import annotations

from smsbridge.core.signatures import verify_webhook
from smsbridge.models.provider import NoInboundAuth

from .support import NOW, api_request


def test_given_none_chosen_explicitly_when_verified_then_anything_passes():
    assert verify_webhook(NoInboundAuth(type="none"), api_request(b"whatever"), NOW) is None
