"""Routing rules (SPEC 12): the first rule whose every condition holds chooses the provider and the sender."""
from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from smsbridge.core.routing import describe, region_of, route
from smsbridge.models.message import OutboundMessage
from smsbridge.models.routing import RoutingRule, RoutingRules

UK, FRANCE, INDIA = "+447400123456", "+33612345678", "+919812345678"


def rules(*documents: dict) -> list[RoutingRule]:
    return RoutingRules.model_validate({"rules": list(documents)}).rules


def message(**fields) -> OutboundMessage:
    return OutboundMessage.model_validate({"to": UK, "text": "hi", "sender": "ACME", **fields})


def test_given_a_rule_for_plus_44_when_a_uk_number_is_routed_then_the_rule_chooses_and_says_so() -> None:
    chosen = route(message(), rules({"match": {"prefixes": ["+44"]}, "provider": "uk"}), {})

    assert (chosen.provider, chosen.rule) == ("uk", 1)
    assert chosen.reason == "routed by rule 1: +44 → uk"


def test_given_a_rule_for_plus_44_when_a_french_number_is_routed_then_the_default_is_used() -> None:
    chosen = route(message(to=FRANCE), rules({"match": {"prefixes": ["+44"]}, "provider": "uk"}), {})

    assert chosen.provider is None and chosen.rule is None
    assert chosen.reason == "no routing rule matched: default provider"


def test_given_a_message_naming_its_provider_when_routed_then_the_rules_are_skipped() -> None:
    chosen = route(message(provider="acme"), rules({"provider": "uk"}), {})

    assert chosen.provider == "acme" and chosen.rule is None
    assert chosen.reason == "provider named by the message"


def test_given_no_rules_when_routed_then_the_default_is_used_without_a_reason() -> None:
    assert route(message(), [], {}).reason is None


def test_given_two_matching_rules_when_routed_then_the_first_wins() -> None:
    chosen = route(message(), rules({"match": {"countries": ["GB"]}, "provider": "first"},
                                    {"match": {"prefixes": ["+44"]}, "provider": "second"}), {})

    assert chosen.provider == "first"


def test_given_a_rule_with_country_and_type_when_only_the_country_holds_then_it_does_not_match() -> None:
    given_rules = rules({"match": {"countries": ["IN"], "type": "MARKETING"}, "provider": "msg91"})

    assert route(message(to=INDIA, type="NOTIFICATION"), given_rules, {}).provider is None
    assert route(message(to=INDIA, type="MARKETING"), given_rules, {}).provider == "msg91"


def test_given_a_rule_with_a_sender_when_the_message_has_none_then_it_takes_the_rules_sender() -> None:
    given_rules = rules({"match": {"countries": ["GB"]}, "provider": "uk", "sender": "ACMEUK"})

    assert route(message(sender=None), given_rules, {}).sender == "ACMEUK"
    assert route(message(sender="OWN"), given_rules, {}).sender is None  # the message's own sender stays


def test_given_no_sender_anywhere_when_a_notification_rule_is_tried_then_the_message_counts_as_marketing() -> None:
    # SPEC 2: no sender and no default sender of the rule's provider: the message is MARKETING.
    given_rules = rules({"match": {"type": "NOTIFICATION"}, "provider": "otp"},
                        {"match": {"type": "MARKETING"}, "provider": "bulk"})

    assert route(message(sender=None, type="NOTIFICATION"), given_rules, {}).provider == "bulk"


def test_given_the_rules_provider_has_a_default_sender_when_tried_then_the_message_keeps_its_type() -> None:
    given_rules = rules({"match": {"type": "NOTIFICATION"}, "provider": "otp"},
                        {"match": {"type": "MARKETING"}, "provider": "bulk"})

    chosen = route(message(sender=None, type="NOTIFICATION"), given_rules, {"otp": "OTPSENDER"})

    assert chosen.provider == "otp"


def test_given_a_catch_all_rule_when_described_then_it_reads_any_message() -> None:
    assert route(message(), rules({"provider": "all"}), {}).reason == "routed by rule 1: any message → all"


def test_given_a_number_of_no_country_when_routed_by_country_then_no_rule_matches() -> None:
    assert region_of("+80012345678") is None
    assert route(message(to="+80012345678"), rules({"match": {"countries": ["GB"]}, "provider": "uk"}),
                 {}).provider is None


@pytest.mark.parametrize(("document", "where"), [
    ({"match": {"countries": ["UK"]}, "provider": "uk"}, "rules.0.match.countries"),
    ({"match": {"prefixes": ["44"]}, "provider": "uk"}, "rules.0.match.prefixes"),
    ({"match": {"prefixes": ["+4a"]}, "provider": "uk"}, "rules.0.match.prefixes"),
    ({"match": {"type": "PROMO"}, "provider": "uk"}, "rules.0.match.type"),
    ({"match": {"countries": []}, "provider": "uk"}, "rules.0.match.countries"),
    ({"match": {"country": ["GB"]}, "provider": "uk"}, "rules.0.match.country"),
    ({"provider": "Not An Id"}, "rules.0.provider"),
    ({"provider": "uk", "sender": "TOO LONG A SENDER"}, "rules.0.sender"),
])
def test_given_a_bad_rule_when_validated_then_the_error_names_its_field(document: dict, where: str) -> None:
    with pytest.raises(ValidationError) as raised:
        RoutingRules.model_validate({"rules": [document]})

    locations = {".".join(str(p) for p in e["loc"]) for e in raised.value.errors()}
    assert any(loc.startswith(where) for loc in locations), locations


def test_given_lower_case_countries_when_validated_then_they_are_upper_case() -> None:
    assert rules({"match": {"countries": ["gb"]}, "provider": "uk"})[0].match.countries == ["GB"]


NUMBERS = st.sampled_from([UK, FRANCE, INDIA, "+14155550123", "+4915112345678", "+61412345678"])
PREFIXES = st.sampled_from(["+1", "+33", "+44", "+447", "+49", "+61", "+91", "+9198"])
REGIONS = st.sampled_from(["GB", "FR", "IN", "US", "DE", "AU", "CA"])
RULES = st.lists(st.fixed_dictionaries({}, optional={
    "countries": st.lists(REGIONS, min_size=1, max_size=3), "prefixes": st.lists(PREFIXES, min_size=1, max_size=3),
    "type": st.sampled_from(["NOTIFICATION", "MARKETING"])}), max_size=6)


@given(number=NUMBERS, matches=RULES, message_type=st.sampled_from(["NOTIFICATION", "MARKETING"]))
def test_given_any_rules_when_routed_then_the_chosen_rule_is_the_first_whose_conditions_all_hold(
        number: str, matches: list[dict], message_type: str) -> None:
    given_rules = rules(*({"match": m, "provider": f"p{i}"} for i, m in enumerate(matches)))
    region = phonenumbers.region_code_for_number(phonenumbers.parse(number))

    def holds(m: dict) -> bool:
        return (region in m.get("countries", [region]) and any(number.startswith(p) for p in m.get("prefixes", ["+"]))
                and m.get("type", message_type) == message_type)

    expected = next((i + 1 for i, m in enumerate(matches) if holds(m)), None)

    chosen = route(message(to=number, type=message_type), given_rules, {})

    assert chosen.rule == expected
    assert chosen.provider == (f"p{expected - 1}" if expected else None)


def test_given_a_number_outside_known_ranges_when_its_code_has_one_region_then_that_is_its_country() -> None:
    assert region_of("+33999999999") == "FR"
    assert region_of("+447700900123") is None  # +44 is shared by GB, GG, IM and JE: not told apart


def test_given_a_number_outside_known_ranges_of_a_code_two_regions_share_then_it_has_no_country() -> None:
    assert region_of("+390000000") is None  # +39 is Italy's and the Vatican's


def test_given_a_message_naming_its_provider_and_no_rules_when_routed_then_no_reason_is_written() -> None:
    assert route(message(provider="acme"), [], {}).reason is None


def test_given_a_message_with_its_own_sender_when_a_notification_rule_is_tried_then_its_sender_keeps_it_a_notification() -> None:
    given_rules = rules({"match": {"type": "NOTIFICATION"}, "provider": "otp"},
                        {"match": {"type": "MARKETING"}, "provider": "bulk"})

    assert route(message(sender="OWN", type="NOTIFICATION"), given_rules, {}).provider == "otp"


def test_given_a_rule_with_several_countries_prefixes_and_a_type_when_described_then_each_list_reads_with_or() -> None:
    match = rules({"match": {"countries": ["GB", "IE"], "prefixes": ["+4477", "+353"], "type": "MARKETING"},
                   "provider": "bulk"})[0].match

    assert describe(match) == "GB or IE +4477 or +353 MARKETING"
    assert describe(rules({"match": {"prefixes": ["+44"]}, "provider": "uk"})[0].match) == "+44"
