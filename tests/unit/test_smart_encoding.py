"""Smart encoding (SPEC 3 `smart_encoding`, issue 12 Must-show 3): what it replaces, what it never touches, and its table in docs/encoding.md."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from smsbridge.core.encoding import GSM7_BASIC, GSM7_EXTENSION, encoding_of, is_gsm7
from smsbridge.core.smart_encoding import SUBSTITUTIONS, smart_encode, text_to_send, with_substitutions

DOC = Path(__file__).resolve().parents[2] / "docs" / "encoding.md"

GSM7_TEXT = st.text(alphabet=GSM7_BASIC + GSM7_EXTENSION, max_size=400)
LOOK_ALIKES = st.sampled_from(sorted(SUBSTITUTIONS))
# Any text mixing GSM-7 characters, look-alikes from the table and anything else Unicode has
# (letters, emoji, controls), so that every branch is reached often.
MIXED_TEXT = st.lists(st.one_of(st.sampled_from(GSM7_BASIC + GSM7_EXTENSION), LOOK_ALIKES,
                                st.characters(codec="utf-8")), max_size=300).map("".join)
# Texts of GSM-7 characters and look-alikes only: smart encoding can make all of them GSM-7.
CONVERTIBLE_TEXT = st.lists(st.one_of(st.sampled_from(GSM7_BASIC), LOOK_ALIKES), min_size=1, max_size=300).map("".join)


def test_given_the_issue_sentence_when_smart_encoded_then_it_is_one_gsm7_segment():
    text = "Don’t “panic” – it’s fine…"
    assert encoding_of(text).is_unicode

    result = smart_encode(text)

    assert result.text == "Don't \"panic\" - it's fine..."
    assert (encoding_of(result.text).is_unicode, encoding_of(result.text).segments) == (False, 1)
    assert result.summary() == "’→' ×2, “→\" ×1, ”→\" ×1, –→- ×1, …→... ×1"


@given(GSM7_TEXT)
def test_given_a_text_already_gsm7_when_smart_encoded_then_it_is_unchanged(text):
    result = smart_encode(text)

    assert result.text == text
    assert result.replaced == ()


@given(MIXED_TEXT)
@example("…" * 70)  # 70 UCS-2 units, one segment; 210 septets as dots: three would be worse
@example("’" * 71)
def test_given_any_text_when_smart_encoded_then_it_never_takes_more_segments(text):
    assert encoding_of(smart_encode(text).text).segments <= encoding_of(text).segments


def test_given_seventy_ellipses_when_smart_encoded_then_they_stay_as_written():
    assert smart_encode("…" * 70).text == "…" * 70


@given(MIXED_TEXT)
def test_given_any_text_when_smart_encoded_then_it_is_gsm7_after_or_left_exactly_as_written(text):
    result = smart_encode(text)

    assert is_gsm7(result.text) or result.text == text
    assert (result.text != text) == bool(result.replaced)


@given(CONVERTIBLE_TEXT)
def test_given_only_gsm7_characters_and_look_alikes_when_smart_encoded_then_the_text_is_gsm7_unless_longer(text):
    result = smart_encode(text)

    if encoding_of(text.translate(str.maketrans(SUBSTITUTIONS))).segments <= encoding_of(text).segments:
        assert not encoding_of(result.text).is_unicode
    else:
        assert result.text == text


@given(MIXED_TEXT)
def test_given_any_text_when_smart_encoded_then_letters_marks_and_controls_are_kept_in_order(text):
    def kept(value: str) -> list[str]:
        return [c for c in value if unicodedata.category(c)[0] in "LMC" and c not in SUBSTITUTIONS]

    assert kept(smart_encode(text).text) == kept(text)


@pytest.mark.parametrize("text", [
    "Ça coûte 5 € – c’est ça",  # ç and û are letters outside GSM 03.38
    "Perú: “hola”",
    "Tab\tand a “quote”",  # the tab is not GSM-7 and is never changed
    "Łódź — “miasto”",
    "ok 👍 it’s done",
    "e\u0301 “acute as a combining mark”",
])
def test_given_a_letter_tab_or_emoji_outside_gsm7_when_smart_encoded_then_nothing_is_replaced(text):
    assert smart_encode(text).text == text


@pytest.mark.parametrize("char", sorted(SUBSTITUTIONS))
def test_given_the_table_when_read_then_no_entry_changes_a_letter_mark_or_control_and_each_gives_gsm7(char):
    assert unicodedata.category(char)[0] not in "LMN"
    assert unicodedata.category(char) != "Cc"
    assert not is_gsm7(char)
    assert is_gsm7(SUBSTITUTIONS[char])
    assert not any(c.isalpha() for c in SUBSTITUTIONS[char])


def test_given_the_provider_turned_it_off_when_the_text_is_chosen_then_it_is_sent_as_written():
    assert text_to_send("it’s", False).text == "it’s"
    assert text_to_send("it’s", True).text == "it's"


def test_given_a_space_replaced_when_summarised_then_the_space_is_named_by_code_point():
    assert smart_encode("10\u00a0km\u200b").summary() == "U+00A0→U+0020 ×1, U+200B→(removed) ×1"


@pytest.mark.parametrize(("reason", "text", "enabled", "line"), [
    ("HTTP 200", "it’s", True, "HTTP 200; smart encoding: ’→' ×1"),
    (None, "it’s…", True, "smart encoding: ’→' ×1, …→... ×1"),
    ("HTTP 200", "it’s", False, "HTTP 200"),
    ("HTTP 200", "plain", True, "HTTP 200"),
    (None, "plain", True, None),
])
def test_given_a_sent_message_when_its_history_reason_is_written_then_it_adds_what_smart_encoding_replaced(
        reason, text, enabled, line):
    assert with_substitutions(reason, text, enabled) == line


def test_given_docs_encoding_md_when_its_table_is_read_then_it_is_the_modules_table():
    rows = re.findall(r"^\| U\+([0-9A-F]{4,6}) \|[^|]*\|([^|]*)\| (.+?) \|$", DOC.read_text(encoding="utf-8"), re.M)
    documented = {}
    for code, name, sent_as in rows:
        char = chr(int(code, 16))
        assert name.strip() == unicodedata.name(char).lower()
        documented[char] = {"(removed)": "", "space": " "}.get(sent_as, sent_as.strip("`"))

    assert documented == SUBSTITUTIONS
