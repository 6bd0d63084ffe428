"""Double opt-in (issue 12): which step an inbound word is, given the number's consent, and the configuration's rules."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from smsbridge.core.consent import ConsentState, consent_block_reason
from smsbridge.core.keywords import OptInStep, confirm_deadline, double_opt_in_step, match_keyword
from smsbridge.models.message import MessageType
from smsbridge.models.provider import ConfirmOptIn, Keywords, ProviderConfig

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CONFIRM = ConfirmOptIn(keywords=["YES", "OUI"], expires_after_h=24)
KEYWORDS = Keywords(opt_in=["JOIN", "START", "YES"], confirm_opt_in=CONFIRM)
PENDING_UNTIL = NOW + timedelta(hours=1)


def step(text: str, state: ConsentState | None, confirm_by: datetime | None = None, at: datetime = NOW):
    return double_opt_in_step(text, match_keyword(text, KEYWORDS), CONFIRM, state, confirm_by, at)


@pytest.mark.parametrize("state", [None, ConsentState.OPTED_OUT, ConsentState.OPT_IN_REQUESTED])
def test_given_a_number_not_opted_in_when_it_sends_an_opt_in_word_then_a_confirmation_is_requested(state):
    assert step("join", state) is OptInStep.REQUEST


def test_given_a_pending_request_when_a_confirm_word_arrives_in_time_then_it_confirms():
    assert step("Oui!", ConsentState.OPT_IN_REQUESTED, PENDING_UNTIL) is OptInStep.CONFIRM
    # YES is both an opt-in and a confirm word: pending, it confirms rather than asking again
    assert step(" yes ", ConsentState.OPT_IN_REQUESTED, PENDING_UNTIL) is OptInStep.CONFIRM


def test_given_a_confirm_word_arriving_at_the_very_deadline_then_it_still_confirms():
    assert step("OUI", ConsentState.OPT_IN_REQUESTED, PENDING_UNTIL, at=PENDING_UNTIL) is OptInStep.CONFIRM


@pytest.mark.parametrize("text", ["Hello, what is this?", "NO", "maybe later"])
def test_given_a_pending_request_when_an_ordinary_reply_arrives_then_it_does_not_confirm(text):
    assert step(text, ConsentState.OPT_IN_REQUESTED, PENDING_UNTIL) is None


def test_given_a_request_past_its_deadline_when_a_confirm_word_arrives_then_it_does_not_confirm():
    late = PENDING_UNTIL + timedelta(seconds=1)

    assert step("OUI", ConsentState.OPT_IN_REQUESTED, PENDING_UNTIL, at=late) is None  # an ordinary message
    assert step("YES", ConsentState.OPT_IN_REQUESTED, PENDING_UNTIL, at=late) is OptInStep.REQUEST  # asks again


def test_given_no_pending_request_when_a_confirm_word_arrives_then_it_confirms_nothing():
    assert step("OUI", None) is None
    assert step("OUI", ConsentState.OPTED_OUT) is None


def test_given_a_number_already_opted_in_when_it_sends_an_opt_in_word_then_no_confirmation_is_asked():
    assert step("START", ConsentState.OPTED_IN) is None


@given(st.sampled_from(["STOP", "stop.", "Help", "HELP!"]),
       st.sampled_from([None, *ConsentState]), st.booleans())
def test_given_stop_or_help_in_any_state_when_received_then_double_opt_in_leaves_them_their_meaning(text, state, pending):
    confirm = ConfirmOptIn(keywords=["STOP", "HELP", "YES"])  # even listed as confirm words

    kind = match_keyword(text, Keywords(confirm_opt_in=confirm))

    assert double_opt_in_step(text, kind, confirm, state, PENDING_UNTIL if pending else None, NOW) is None


def test_given_a_request_when_its_deadline_is_computed_then_it_is_expires_after_h_later():
    assert confirm_deadline(CONFIRM, NOW) == NOW + timedelta(hours=24)


def test_given_a_pending_request_when_marketing_needs_opt_in_then_it_is_blocked_saying_it_is_unconfirmed():
    reason = consent_block_reason(MessageType.MARKETING, ConsentState.OPT_IN_REQUESTED, True)

    assert reason is not None and "not confirmed" in reason
    assert consent_block_reason(MessageType.NOTIFICATION, ConsentState.OPT_IN_REQUESTED, True) is None


def test_given_confirm_opt_in_without_marketing_requires_opt_in_when_saved_then_it_is_refused():
    document = {"id": "acme", "request": {"url": "https://sms.example.com/send", "body": {"to": "{{to}}", "text": "{{text}}"}},
                "inbound": {"auth": {"type": "none"}, "keywords": {"confirm_opt_in": {}}}}

    with pytest.raises(ValidationError, match="needs marketing_requires_opt_in"):
        ProviderConfig.model_validate(document)
    accepted = ProviderConfig.model_validate({**document, "marketing_requires_opt_in": True})
    assert accepted.inbound.keywords.confirm_opt_in == ConfirmOptIn()
