"""The reason carried with a dead letter is text SQS takes: no refused character, at most its byte budget."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smsbridge.adapters.queue import sqs_text

SQS_CHARACTERS = ("\t\n\r", (0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))


def sqs_accepts(text: str) -> bool:
    return all(c in SQS_CHARACTERS[0] or any(low <= ord(c) <= high for low, high in SQS_CHARACTERS[1:]) for c in text)


def test_given_control_characters_and_a_lone_surrogate_then_they_are_replaced_and_the_rest_kept():
    assert sqs_text("a\x00b\x07c\ud800d\ttab", 100) == "a\ufffdb\ufffdc\ufffdd\ttab"


def test_given_multibyte_text_over_the_budget_then_it_is_cut_on_a_character_boundary_and_marked():
    cut = sqs_text("🎉" * 100, 50)
    assert cut == "🎉" * 11 + "…"
    assert len(cut.encode()) <= 50


def test_given_an_empty_reason_then_a_placeholder_is_sent_since_sqs_refuses_empty_attributes():
    assert sqs_text("", 10) == "(none)"


@given(text=st.text(), budget=st.integers(min_value=16, max_value=300))
def test_property_any_text_becomes_sqs_text_within_the_budget(text, budget):
    result = sqs_text(text, budget)
    assert result and sqs_accepts(result)
    assert len(result.encode()) <= budget
