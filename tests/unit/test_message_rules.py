"""SPEC 2's bad-input rules for an outbound message: text, sender, finite numbers; each refused with a reason."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from smsbridge.models.message import OutboundMessage, sender_problem

TO = "+33612345678"


def refusal(**fields) -> str:
    """The validation error's text for a message with these fields (it must be refused)."""
    with pytest.raises(ValidationError) as caught:
        OutboundMessage(**{"to": TO, "text": "hello", **fields})
    return str(caught.value)


# ---------------------------------------------------------------- text

@pytest.mark.parametrize("text", ["code\x001234", "\x00", "bell\x07", "esc\x1b[31m", "del\x7f", "c1\x85", "nul at end\x00"])
def test_given_a_control_character_in_text_then_it_is_refused_naming_the_character(text):
    reason = refusal(text=text)
    assert "text" in reason and "control character U+" in reason


def test_given_newline_carriage_return_and_tab_in_text_then_the_message_is_accepted():
    assert OutboundMessage(to=TO, text="line 1\r\nline 2\tend").text == "line 1\r\nline 2\tend"


@pytest.mark.parametrize("text", [" ", "\n\t\r ", "\u00a0\u2009", "   \n   "])
def test_given_text_of_only_white_space_then_it_is_refused(text):
    assert "only white space" in refusal(text=text)


def test_given_text_with_emoji_and_non_latin_letters_then_it_is_accepted():
    assert OutboundMessage(to=TO, text="Привет 🎉 ‍👩‍💻").text.startswith("Привет")


# ---------------------------------------------------------------- sender

@pytest.mark.parametrize("sender", ["ACME", "A", "Acme Shop", "ACME-1", "a.b_c&d+e", "SMSBridge", "Shop 24 7 x",
                                    "+33757000000", "33757000000", "12345", "+123456789012345", "1"])
def test_given_an_alphanumeric_sender_or_a_number_or_short_code_then_the_message_is_accepted(sender):
    assert OutboundMessage(to=TO, text="hi", sender=sender).sender == sender
    assert sender_problem(sender) is None


@pytest.mark.parametrize("sender", [
    "ACME SHOP LTD",       # 13 characters
    "123456789012345678",  # a number longer than 15 digits
    "+1234567890123456",   # 16 digits after the +
    "",                    # nothing
    "ÄCME",                # not ASCII
    "ACME!",               # not in the allowed punctuation
    "+ 33 6 12",           # a number with spaces has no letter: neither form
    "12-34",               # digits and a dash: no letter, not a number
    "++33612345678",
])
def test_given_a_sender_networks_would_refuse_then_the_message_is_refused_with_the_rule(sender):
    reason = refusal(sender=sender)
    assert "sender" in reason
    assert "alphanumeric" in reason or "at least 1 character" in reason


@pytest.mark.parametrize("sender", ["AC\x00ME", "ACME\n", "\t1234"])
def test_given_a_control_character_in_sender_then_it_is_refused_naming_the_character(sender):
    assert "control character U+" in refusal(sender=sender)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=20))
def test_given_any_text_as_sender_then_it_is_accepted_exactly_when_it_follows_the_rules(sender):
    ascii_rules = (sender.isascii() and 1 <= len(sender) <= 11 and any(c.isalpha() for c in sender)
                   and all(c.isalnum() or c in " -._&+" for c in sender))
    number_rules = sender.lstrip("+").isascii() and sender.lstrip("+").isdigit() and \
        len(sender.removeprefix("+")) <= 15 and sender.count("+") <= 1 and not sender.endswith("+")
    assert (sender_problem(sender) is None) == (ascii_rules or number_rules)


# ---------------------------------------------------------------- finite numbers

@pytest.mark.parametrize(("field", "value"), [
    ("vars", {"amount": float("nan")}),
    ("vars", {"nested": {"deeper": [1, 2, float("inf")]}}),
    ("vars", {"list": [[[-float("inf")]]]}),
    ("template_variables", float("nan")),
    ("template_variables", {"a": {"b": {"c": float("-inf")}}}),
    ("template_variables", [0, {"x": float("nan")}]),
])
def test_given_nan_or_infinity_anywhere_in_vars_or_template_variables_then_it_is_refused(field, value):
    reason = refusal(**{field: value})
    assert field in reason and "finite" in reason


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_given_a_queue_body_with_a_nan_or_infinity_literal_then_it_is_refused(literal):
    body = '{"to": "%s", "text": "hi", "vars": {"a": {"b": [%s]}}}' % (TO, literal)
    with pytest.raises(ValidationError, match="finite"):
        OutboundMessage.model_validate_json(body)


def test_given_finite_numbers_nested_deeply_then_the_message_is_accepted():
    nested: object = 1.5
    for _ in range(150):
        nested = {"n": [nested, 2, -3e300]}
    assert OutboundMessage(to=TO, text="hi", vars={"deep": nested}).vars["deep"]["n"][1] == 2


def test_given_a_huge_nesting_in_vars_built_in_python_then_the_check_does_not_exhaust_the_stack():
    nested: object = float("nan")
    for _ in range(50_000):
        nested = [nested]
    assert "finite" in refusal(vars={"deep": nested})


# DynamoDB's numbers: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
@pytest.mark.parametrize("number", [1.7976931348623155e+308, -1e126, 1e-131, 10**38 + 1, 10**60, -(2**200), float("nan")])
def test_given_metadata_holding_a_number_dynamodb_cannot_store_then_the_message_is_refused_naming_where(number):
    reason = refusal(metadata={"order": {"amounts": [1, number]}})
    assert "metadata" in reason and "order.amounts[1]" in reason and "38 significant digits" in reason


@pytest.mark.parametrize("number", [9.9999e125, -9.99e125, 1e-130, 1e60, 10**37, 0.1, 0, -0.0, True, 2**64])
def test_given_metadata_numbers_dynamodb_stores_then_the_message_is_accepted_as_given(number):
    assert OutboundMessage(to=TO, text="hi", metadata={"n": number}).metadata == {"n": number}


# ---------------------------------------------------------------- other bounds that protect storage

def test_given_a_provider_id_that_no_provider_can_have_then_the_message_is_refused():
    assert "provider" in refusal(provider="x" * 100_000)


@pytest.mark.parametrize(("field", "limit"), [("campaign_id", 128), ("template_id", 256)])
def test_given_an_id_field_longer_than_storage_takes_then_the_message_is_refused(field, limit):
    assert OutboundMessage(to=TO, text="hi", **{field: "c" * limit})
    assert field in refusal(**{field: "c" * (limit + 1)})


def test_given_the_refusal_of_a_bad_value_then_the_reason_does_not_echo_the_input():
    error = None
    try:
        OutboundMessage.model_validate_json(json.dumps({"to": TO, "text": "secret-ish\x00"}))
    except ValidationError as exc:
        error = exc
    assert error is not None
    messages = [e["msg"] for e in error.errors(include_input=False)]
    assert all("secret-ish" not in m for m in messages)
