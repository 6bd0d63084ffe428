"""GSM 03.38 / UCS-2 detection and SMS segment counting."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsbridge.core.encoding import GSM7_BASIC, GSM7_EXTENSION, encoding_of, is_gsm7, segments_for

EMOJI = "🎉"  # outside the Basic Multilingual Plane: a surrogate pair in UTF-16


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)])
def test_given_gsm_text_when_counted_then_160_fit_one_segment_and_153_fit_each_further_part(length, segments):
    assert segments_for("a" * length) == segments


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_given_ucs2_text_when_counted_then_70_fit_one_segment_and_67_fit_each_further_part(length, segments):
    assert segments_for("ú" * length) == segments


def test_given_empty_text_when_counted_then_it_is_one_gsm_segment_of_no_units():
    encoding = encoding_of("")

    assert (encoding.is_unicode, encoding.units, encoding.segments) == (False, 0, 1)


def test_given_euro_signs_when_counted_then_each_costs_two_septets():
    assert encoding_of("€" * 80).units == 160
    assert encoding_of("€" * 80).segments == 1
    assert encoding_of("€" * 81).segments == 2


@pytest.mark.parametrize("char", list("€[]{}\\^~|\f"))
def test_given_an_extension_character_when_counted_then_it_stays_gsm_and_costs_two_septets(char):
    encoding = encoding_of(char)

    assert (encoding.is_unicode, encoding.units) == (False, 2)


def test_given_one_emoji_when_counted_then_text_is_ucs2_and_emoji_costs_two_units():
    encoding = encoding_of("Hello " + EMOJI)

    assert encoding.is_unicode is True
    assert encoding.units == 8


def test_given_u_umlaut_when_checked_then_it_is_in_the_gsm_default_table():
    assert is_gsm7("ü") is True
    assert encoding_of("Grüße").is_unicode is False


def test_given_u_acute_when_checked_then_it_is_not_gsm_and_makes_the_text_ucs2():
    assert is_gsm7("ú") is False
    assert encoding_of("Perú").is_unicode is True


def test_given_an_escape_pair_at_a_part_boundary_when_counted_then_it_moves_whole_to_the_next_part():
    # 152 + 2 + 152 = 306 septets would fit two parts of 153 if the euro sign could be split.
    text = "a" * 152 + "€" + "a" * 152

    assert encoding_of(text).units == 306
    assert segments_for(text) == 3


def test_given_a_surrogate_pair_at_a_part_boundary_when_counted_then_it_moves_whole_to_the_next_part():
    # 66 + 2 + 66 = 134 units would fit two parts of 67 if the emoji could be split.
    text = "ú" * 66 + EMOJI + "ú" * 66

    assert encoding_of(text).units == 134
    assert segments_for(text) == 3


def _cost(char: str, unicode: bool) -> int:
    if unicode:
        return 2 if ord(char) > 0xFFFF else 1
    return 2 if char in GSM7_EXTENSION else 1


gsm_text = st.text(alphabet=GSM7_BASIC + GSM7_EXTENSION, max_size=700)
any_text = st.text(max_size=400) | gsm_text


@given(any_text)
def test_property_units_are_the_sum_of_each_characters_cost(text):
    encoding = encoding_of(text)

    assert encoding.units == sum(_cost(char, encoding.is_unicode) for char in text)


@given(any_text)
def test_property_text_is_unicode_exactly_when_a_character_is_outside_both_gsm_tables(text):
    assert encoding_of(text).is_unicode == any(char not in GSM7_BASIC + GSM7_EXTENSION for char in text)


@given(gsm_text, st.sampled_from(GSM7_BASIC + GSM7_EXTENSION))
def test_property_adding_a_gsm_character_never_lowers_the_segment_count(text, char):
    assert segments_for(text + char) >= segments_for(text)


@given(any_text)
def test_property_segments_hold_the_units_wasting_at_most_one_unit_per_part(text):
    encoding = encoding_of(text)
    single, per_part = (70, 67) if encoding.is_unicode else (160, 153)

    if encoding.units <= single:
        assert encoding.segments == 1
    else:
        assert encoding.segments * per_part >= encoding.units
        assert (encoding.segments - 1) * (per_part - 1) < encoding.units


def test_given_a_unicode_text_when_its_encoding_is_shown_as_json_then_units_and_segments_are_integers() -> None:
    import dataclasses
    import json

    assert json.dumps(dataclasses.asdict(encoding_of("é" * 71 + "😀"))) == '{"is_unicode": true, "units": 73, "segments": 2}'


def test_given_110_euro_signs_when_counted_then_each_takes_two_septets_and_they_fill_two_parts() -> None:
    assert encoding_of("€" * 110).segments == 2  # 76 escape pairs per 153-septet part


def test_given_an_escape_pair_and_text_filling_two_parts_exactly_then_it_is_two_segments() -> None:
    assert encoding_of("€" + "a" * 304).segments == 2  # 2 + 151 septets, then 153


def test_given_u_ffff_beside_an_emoji_when_counted_then_it_is_one_code_unit() -> None:
    assert encoding_of("😀" + "\uffff" * 70).segments == 2  # 72 code units: 67 + 5
