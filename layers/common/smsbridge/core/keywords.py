"""Keyword matching on inbound SMS (SPEC 5): opt-out, opt-in and help, with the defaults and per-provider lists."""
from __future__ import annotations

import unicodedata
from enum import StrEnum

from smsbridge.models.provider import Keywords

DEFAULT_OPT_OUT = ("STOP", "QUIT", "CANCEL", "END", "UNSUBSCRIBE", "NO",
                   "STOPALL", "OPTOUT", "OPT-OUT", "REVOKE", "REMOVE")
DEFAULT_OPT_IN = ("SUBSCRIBE", "YES", "UNSTOP", "START", "CONTINUE", "RESUME", "BEGIN")
DEFAULT_HELP = ("HELP", "INFO")
# Custom lists replace the defaults, but these two always work: a person must always be able to stop.
ALWAYS_OPT_OUT = "STOP"
ALWAYS_HELP = "HELP"


class KeywordKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


def normalise_keyword(text: str) -> str:
    """The whole message trimmed, case-folded, with surrounding punctuation and spaces removed
    (`Stop.` and ` stop ` both give `stop`); inner characters are kept (`opt-out`)."""
    start, end = 0, len(text)
    while start < end and _ignorable(text[start]):
        start += 1
    while end > start and _ignorable(text[end - 1]):
        end -= 1
    return text[start:end].casefold()


def _ignorable(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def keyword_lists(keywords: Keywords | None) -> dict[KeywordKind, frozenset[str]]:
    """The normalised words of each kind for one provider."""
    keywords = keywords or Keywords()
    opt_out = list(DEFAULT_OPT_OUT if keywords.opt_out is None else keywords.opt_out) + [ALWAYS_OPT_OUT]
    opt_in = DEFAULT_OPT_IN if keywords.opt_in is None else keywords.opt_in
    help_words = list(DEFAULT_HELP if keywords.help is None else keywords.help) + [ALWAYS_HELP]
    return {KeywordKind.OPT_OUT: frozenset(normalise_keyword(w) for w in opt_out),
            KeywordKind.OPT_IN: frozenset(normalise_keyword(w) for w in opt_in),
            KeywordKind.HELP: frozenset(normalise_keyword(w) for w in help_words)}


def match_keyword(text: str | None, keywords: Keywords | None = None) -> KeywordKind | None:
    """The kind of keyword the message is, or None when it is an ordinary message.

    STOP and HELP keep their meaning whatever the lists say; any other word listed under
    several kinds counts as opt-out first (the safe reading), then opt-in, then help."""
    if not text:
        return None
    word = normalise_keyword(text)
    if not word:
        return None
    if word == ALWAYS_OPT_OUT.casefold():
        return KeywordKind.OPT_OUT
    if word == ALWAYS_HELP.casefold():
        return KeywordKind.HELP
    lists = keyword_lists(keywords)
    if word in lists[KeywordKind.OPT_OUT]:
        return KeywordKind.OPT_OUT
    if word in lists[KeywordKind.OPT_IN]:
        return KeywordKind.OPT_IN
    if word in lists[KeywordKind.HELP]:
        return KeywordKind.HELP
    return None
