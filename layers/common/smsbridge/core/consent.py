"""The consent rule applied before sending (SPEC 5)."""
from __future__ import annotations

from enum import StrEnum

from smsbridge.models.message import MessageType


class ConsentState(StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    # Double opt-in: the number sent an opt-in keyword and has not confirmed it yet.
    OPT_IN_REQUESTED = "opt_in_requested"


def consent_block_reason(message_type: MessageType, state: ConsentState | None,
                         marketing_requires_opt_in: bool) -> str | None:
    """Why this message may not be sent to this number, or None when it may.

    Notifications always go out; marketing needs the number not to have opted out and, when
    the provider says so, to have opted in explicitly."""
    if message_type is not MessageType.MARKETING:
        return None
    if state is ConsentState.OPTED_OUT:
        return "the number opted out of marketing messages"
    if marketing_requires_opt_in and state is ConsentState.OPT_IN_REQUESTED:
        return "marketing to this number needs an explicit opt-in: it asked for one and has not confirmed it yet"
    if marketing_requires_opt_in and state is not ConsentState.OPTED_IN:
        return "marketing to this number needs an explicit opt-in, and there is none"
    return None
