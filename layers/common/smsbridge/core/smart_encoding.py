"""Smart encoding (SPEC 3 `smart_encoding`): typographic look-alikes replaced by GSM-7 characters when that makes the whole text GSM-7."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from smsbridge.core.encoding import encoding_of, is_gsm7

# The substitution table, written out in docs/encoding.md (tests/unit/test_smart_encoding.py
# holds the two to each other). It follows Twilio's "List of characters replaced by Smart
# Encoding" (https://www.twilio.com/docs/messaging/services/smart-encoding-char-list) for
# quotes, dashes, the ellipsis and spaces, except where Twilio changes a letter or a mark:
# its modifier letters (ʻ ʼ ˈ ʺ...) are letters in Hawaiian and Ukrainian writing, and its
# combining marks belong to the letter before them, so neither is here. Primes and the low
# quotation marks follow Webex Interact's table (https://docs.webexinteract.com/reference/message-encoding);
# the spaces are the Unicode space separators that Unicode itself relates to U+0020
# (https://www.unicode.org/charts/nameslist/n_2000.html).
SUBSTITUTIONS: dict[str, str] = {
    # double quotation marks
    "\u00ab": '"',  # « left-pointing double angle quotation mark
    "\u00bb": '"',  # » right-pointing double angle quotation mark
    "\u201c": '"',  # “ left double quotation mark
    "\u201d": '"',  # ” right double quotation mark
    "\u201e": '"',  # „ double low-9 quotation mark
    "\u201f": '"',  # ‟ double high-reversed-9 quotation mark
    "\u2033": '"',  # ″ double prime
    "\u2036": '"',  # ‶ reversed double prime
    "\u275d": '"',  # ❝ heavy double turned comma quotation mark ornament
    "\u275e": '"',  # ❞ heavy double comma quotation mark ornament
    "\u301d": '"',  # 〝 reversed double prime quotation mark
    "\u301e": '"',  # 〞 double prime quotation mark
    "\u301f": '"',  # 〟 low double prime quotation mark
    "\uff02": '"',  # ＂ fullwidth quotation mark
    # single quotation marks and apostrophes
    "\u2018": "'",  # ‘ left single quotation mark
    "\u2019": "'",  # ’ right single quotation mark
    "\u201a": "'",  # ‚ single low-9 quotation mark
    "\u201b": "'",  # ‛ single high-reversed-9 quotation mark
    "\u2032": "'",  # ′ prime
    "\u2035": "'",  # ‵ reversed prime
    "\u275b": "'",  # ❛ heavy single turned comma quotation mark ornament
    "\u275c": "'",  # ❜ heavy single comma quotation mark ornament
    "\uff07": "'",  # ＇ fullwidth apostrophe
    "\u00b4": "'",  # ´ acute accent (the spacing symbol, not a combining mark)
    "\u0060": "'",  # ` grave accent (ASCII, but not in GSM 03.38)
    # dashes and the minus sign
    "\u2010": "-",  # ‐ hyphen
    "\u2011": "-",  # ‑ non-breaking hyphen
    "\u2012": "-",  # ‒ figure dash
    "\u2013": "-",  # – en dash
    "\u2014": "-",  # — em dash
    "\u2015": "-",  # ― horizontal bar
    "\u2212": "-",  # − minus sign
    "\ufe58": "-",  # ﹘ small em dash
    "\ufe63": "-",  # ﹣ small hyphen-minus
    "\uff0d": "-",  # － fullwidth hyphen-minus
    # the ellipsis
    "\u2026": "...",  # … horizontal ellipsis
    # slashes
    "\u2044": "/",  # ⁄ fraction slash
    "\u2215": "/",  # ∕ division slash
    "\uff0f": "/",  # ／ fullwidth solidus
    # spaces
    "\u00a0": " ",  # no-break space
    "\u2000": " ",  # en quad
    "\u2001": " ",  # em quad
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u2004": " ",  # three-per-em space
    "\u2005": " ",  # four-per-em space
    "\u2006": " ",  # six-per-em space
    "\u2007": " ",  # figure space
    "\u2008": " ",  # punctuation space
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u202f": " ",  # narrow no-break space
    "\u205f": " ",  # medium mathematical space
    "\u3000": " ",  # ideographic space
    # invisible characters, removed: none of them shows or joins anything in a GSM-7 text.
    # The zero width joiner and non-joiner are not here: they shape scripts and emoji.
    "\u00ad": "",  # soft hyphen
    "\u200b": "",  # zero width space
    "\u2060": "",  # word joiner
    "\ufeff": "",  # zero width no-break space (byte order mark)
}

_TABLE = str.maketrans(SUBSTITUTIONS)


@dataclass(frozen=True, slots=True)
class Replacement:
    original: str
    replacement: str
    count: int


@dataclass(frozen=True, slots=True)
class SmartText:
    """The text as it will be sent, and what smart encoding replaced in it (nothing when it left it)."""

    text: str
    replaced: tuple[Replacement, ...] = ()

    def summary(self) -> str | None:
        """The substitutions in a few words for the message's history, e.g. `’→' ×2, …→... ×1`."""
        if not self.replaced:
            return None
        return ", ".join(f"{_shown(r.original)}→{_shown(r.replacement)} ×{r.count}" for r in self.replaced)


def smart_encode(text: str) -> SmartText:
    """`text` with its look-alikes replaced when the result is entirely GSM-7 and takes no more
    segments than `text` (an ellipsis becomes three characters); otherwise `text` unchanged."""
    if is_gsm7(text):
        return SmartText(text)
    substituted = text.translate(_TABLE)
    if not is_gsm7(substituted) or encoding_of(substituted).segments > encoding_of(text).segments:
        return SmartText(text)
    counts = Counter(char for char in text if char in SUBSTITUTIONS)
    return SmartText(substituted, tuple(Replacement(char, SUBSTITUTIONS[char], count)
                                        for char, count in counts.items()))


def text_to_send(text: str, enabled: bool) -> SmartText:
    """The provider's `smart_encoding` applied: smart-encoded when enabled, else the text as given."""
    return smart_encode(text) if enabled else SmartText(text)


def with_substitutions(reason: str | None, text: str, enabled: bool) -> str | None:
    """A `sent` history reason followed by what smart encoding replaced in the text the provider got."""
    substituted = text_to_send(text, enabled).summary()
    if substituted is None:
        return reason
    return f"{reason}; smart encoding: {substituted}" if reason else f"smart encoding: {substituted}"


def _shown(char: str) -> str:
    # Spaces and invisible characters would vanish in a history line: named by code point instead.
    if not char:
        return "(removed)"
    if char.isprintable() and not char.isspace():
        return char
    return " ".join(f"U+{ord(c):04X}" for c in char)
