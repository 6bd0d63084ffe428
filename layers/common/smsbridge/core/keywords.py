"""Keyword matching on inbound SMS (SPEC 5): opt-out, opt-in and help, with the defaults and per-provider lists."""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from enum import StrEnum

from smsbridge.core.consent import ConsentState
from smsbridge.models.provider import ConfirmOptIn, Keywords

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


class OptInStep(StrEnum):
    """The two steps of double opt-in (`inbound.keywords.confirm_opt_in`)."""

    REQUEST = "request"  # an opt-in keyword: ask for a confirmation, the number is not opted in yet
    CONFIRM = "confirm"  # a confirm keyword answering a pending request: now it is


def is_confirm_word(text: str | None, confirm: ConfirmOptIn) -> bool:
    return bool(text) and normalise_keyword(text) in {normalise_keyword(word) for word in confirm.keywords}


def double_opt_in_step(text: str | None, kind: KeywordKind | None, confirm: ConfirmOptIn,
                       state: ConsentState | None, confirm_by: datetime | None, event_at: datetime) -> OptInStep | None:
    """What an inbound message does under double opt-in, given the number's consent now; None when
    it does what it would do without double opt-in (opt-out, help, an ordinary message, an opt-in
    keyword from a number already opted in).

    Opt-out and help words keep their meaning even when also listed as confirm words; a confirm
    word counts only while a request is pending and not past `confirm_by` (by the message's time)."""
    if kind in (KeywordKind.OPT_OUT, KeywordKind.HELP):
        return None
    pending = state is ConsentState.OPT_IN_REQUESTED and confirm_by is not None and event_at <= confirm_by
    if pending and is_confirm_word(text, confirm):
        return OptInStep.CONFIRM
    if kind is KeywordKind.OPT_IN and state is not ConsentState.OPTED_IN:
        return OptInStep.REQUEST
    return None


def confirm_deadline(confirm: ConfirmOptIn, requested_at: datetime) -> datetime:
    """Until when a request made at `requested_at` can be confirmed."""
    return requested_at + timedelta(hours=confirm.expires_after_h)
