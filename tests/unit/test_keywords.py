"""Keyword matching on inbound SMS (SPEC 5)."""
from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsbridge.core.keywords import (
    DEFAULT_HELP,
    DEFAULT_OPT_IN,
    DEFAULT_OPT_OUT,
    KeywordKind,
    match_keyword,
    normalise_keyword,
)
from smsbridge.models.provider import Keywords

SURROUNDINGS = st.text(alphabet=" \t\n.!?,;:-'\"()…¡¿", max_size=4)
ALL_DEFAULTS = [(w, KeywordKind.OPT_OUT) for w in DEFAULT_OPT_OUT] + \
               [(w, KeywordKind.OPT_IN) for w in DEFAULT_OPT_IN] + [(w, KeywordKind.HELP) for w in DEFAULT_HELP]


@pytest.mark.parametrize("text", ["Stop.", " stop ", "STOP", "stop!!", "¡Stop!", "\tSTOP\n", '"stop"'])
def test_given_stop_written_loosely_when_matched_then_it_is_an_opt_out(text):
    assert match_keyword(text) is KeywordKind.OPT_OUT


@pytest.mark.parametrize(("word", "kind"), ALL_DEFAULTS)
def test_given_a_default_keyword_when_matched_then_its_kind_is_found(word, kind):
    assert match_keyword(word.lower()) is kind


@pytest.mark.parametrize("text", ["stop please", "STOP STOP", "s.t.o.p", "", "   ", "...", "stopp", "opt out"])
def test_given_text_that_is_not_exactly_a_keyword_when_matched_then_it_is_an_ordinary_message(text):
    assert match_keyword(text) is None


def test_given_opt_out_with_inner_hyphen_when_matched_then_the_hyphen_is_kept():
    assert normalise_keyword("  Opt-Out! ") == "opt-out"
    assert match_keyword("Opt-Out!") is KeywordKind.OPT_OUT
    assert match_keyword("optout") is KeywordKind.OPT_OUT


def test_given_custom_lists_when_matched_then_they_replace_the_defaults():
    custom = Keywords(opt_out=["ARRET"], opt_in=["OUI"], help=["AIDE"])
    assert match_keyword("arrêt", custom) is None  # accents are not folded away: ARRET is not ARRÊT
    assert match_keyword("Arret.", custom) is KeywordKind.OPT_OUT
    assert match_keyword("oui", custom) is KeywordKind.OPT_IN
    assert match_keyword("aide", custom) is KeywordKind.HELP
    assert match_keyword("unsubscribe", custom) is None
    assert match_keyword("start", custom) is None
    assert match_keyword("info", custom) is None


def test_given_custom_lists_when_stop_or_help_is_sent_then_they_still_work():
    custom = Keywords(opt_out=["ARRET"], opt_in=["STOP", "HELP"], help=["AIDE"])
    assert match_keyword("Stop.", custom) is KeywordKind.OPT_OUT
    assert match_keyword("help", custom) is KeywordKind.HELP


def test_given_empty_custom_lists_when_matched_then_only_stop_and_help_remain():
    custom = Keywords(opt_out=[], opt_in=[], help=[])
    assert match_keyword("stop", custom) is KeywordKind.OPT_OUT
    assert match_keyword("help", custom) is KeywordKind.HELP
    assert match_keyword("quit", custom) is None
    assert match_keyword("start", custom) is None


@settings(max_examples=200, deadline=None)
@given(pair=st.sampled_from(ALL_DEFAULTS), before=SURROUNDINGS, after=SURROUNDINGS,
       flips=st.lists(st.booleans(), min_size=11, max_size=11))
def test_given_any_default_keyword_in_any_case_with_surrounding_punctuation_then_it_matches(pair, before, after, flips):
    word, kind = pair
    cased = "".join(c.upper() if flip else c.lower() for c, flip in zip(word, flips + [False] * len(word)))
    assert match_keyword(before + cased + after) is kind


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40))
def test_given_any_text_when_matched_then_it_is_a_keyword_only_if_its_normal_form_is_one(text):
    kind = match_keyword(text)
    normal = normalise_keyword(text)
    words = {normalise_keyword(w): k for w, k in reversed(ALL_DEFAULTS)}
    assert kind is words.get(normal)


@settings(max_examples=100, deadline=None)
@given(word=st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=12), before=SURROUNDINGS)
def test_given_a_custom_opt_out_word_when_sent_with_punctuation_then_it_matches(word, before):
    normal = normalise_keyword(word)
    if not normal or normal in ("help",):
        return
    assert match_keyword(before + word.swapcase() + ".", Keywords(opt_out=[word])) is KeywordKind.OPT_OUT
