"""The pure rules of the send path: message type, consent, backoff."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from smsbridge.core.consent import ConsentState, consent_block_reason
from smsbridge.models.message import MessageType, OutboundMessage
from smsbridge.services.send import Backoff


def test_given_no_sender_and_no_default_sender_then_the_message_is_marketing():
    message = OutboundMessage(to="+33612345678", text="hi", type="NOTIFICATION")
    assert message.effective_type(default_sender=None) is MessageType.MARKETING


def test_given_a_default_sender_then_an_untyped_message_is_a_notification():
    message = OutboundMessage(to="+33612345678", text="hi")
    assert message.effective_type(default_sender="ACME") is MessageType.NOTIFICATION


def test_given_a_number_with_spaces_or_00_prefix_then_it_is_normalised_to_e164():
    assert OutboundMessage(to="0033 6 12 34 56 78", text="hi").to == "+33612345678"
    assert OutboundMessage(to="+1 (415) 555-2671", text="hi").to == "+14155552671"


@pytest.mark.parametrize("number", ["hello", "+12", "", "+999999999999999999"])
def test_given_an_unparseable_number_then_the_message_is_rejected(number):
    with pytest.raises(ValidationError, match="to"):
        OutboundMessage(to=number, text="hi")


def test_given_an_unknown_field_then_the_message_is_rejected():
    with pytest.raises(ValidationError, match="colour"):
        OutboundMessage(to="+33612345678", text="hi", colour="red")


@pytest.mark.parametrize(("kind", "state", "requires_opt_in", "blocked"), [
    (MessageType.MARKETING, ConsentState.OPTED_OUT, False, True),
    (MessageType.NOTIFICATION, ConsentState.OPTED_OUT, False, False),
    (MessageType.MARKETING, None, False, False),
    (MessageType.MARKETING, None, True, True),
    (MessageType.MARKETING, ConsentState.OPTED_IN, True, False),
    (MessageType.NOTIFICATION, None, True, False),
    (MessageType.MARKETING, ConsentState.OPT_IN_REQUESTED, False, False),
    (MessageType.MARKETING, ConsentState.OPT_IN_REQUESTED, True, True),
])
def test_consent_rule(kind, state, requires_opt_in, blocked):
    assert (consent_block_reason(kind, state, requires_opt_in) is not None) is blocked


def test_given_repeated_failures_then_the_backoff_grows_and_stops_at_its_cap():
    backoff = Backoff(first_s=10, factor=2, cap_s=900, jitter=0)
    assert [backoff.delay_s(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff.delay_s(30) == 900


def test_given_jitter_then_delays_stay_within_its_bounds():
    backoff = Backoff(first_s=100, jitter=0.2)
    assert all(80 <= backoff.delay_s(1) <= 120 for _ in range(200))


@pytest.mark.parametrize(("state", "requires_opt_in", "reason"), [
    (ConsentState.OPTED_OUT, False, "the number opted out of marketing messages"),
    (ConsentState.OPTED_OUT, True, "the number opted out of marketing messages"),
    (ConsentState.OPT_IN_REQUESTED, True,
     "marketing to this number needs an explicit opt-in: it asked for one and has not confirmed it yet"),
    (None, True, "marketing to this number needs an explicit opt-in, and there is none"),
])
def test_given_a_blocked_marketing_message_when_checked_then_the_reason_says_which_consent_is_missing(
        state, requires_opt_in, reason):
    assert consent_block_reason(MessageType.MARKETING, state, requires_opt_in) == reason
