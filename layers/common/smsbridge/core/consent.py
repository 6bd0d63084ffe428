"""The consent rule applied before sending (SPEC 5)."""
from __future__ import annotations

from enum import StrEnum

from smsbridge.models.message import MessageType


class ConsentState(StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"


def consent_block_reason(message_type: MessageType, state: ConsentState | None,
                         marketing_requires_opt_in: bool) -> str | None:
    """Why this message may not be sent to this number, or None when it may.

    Notifications always go out; marketing needs the number not to have opted out and, when
    the provider says so, to have opted in explicitly."""
    if message_type is not MessageType.MARKETING:
        return None
    if state is ConsentState.OPTED_OUT:
        return "the number opted out of marketing messages"
    if marketing_requires_opt_in and state is not ConsentState.OPTED_IN:
        return "marketing to this number needs an explicit opt-in, and there is none"
    return None
