"""SMS character encoding and segment counting (GSM 03.38 default alphabet or UCS-2)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# GSM 03.38 default alphabet, in table order, without 0x1B: that code is the escape to the
# extension table, not a character a message can carry.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnop"
    "qrstuvwxyzäöñüà"
)
# Sent as escape + code, so each costs two septets.
GSM7_EXTENSION = "\f^{}\\[~]|€"

GSM7_SINGLE, GSM7_PER_PART = 160, 153  # a multipart part loses 7 septets to its header
UCS2_SINGLE, UCS2_PER_PART = 70, 67

_NOT_GSM7 = re.compile("[^" + re.escape(GSM7_BASIC + GSM7_EXTENSION) + "]")
_EXTENSION_CHAR = re.compile("[" + re.escape(GSM7_EXTENSION) + "]")
_EXTENSION_SET = frozenset(GSM7_EXTENSION)


@dataclass(frozen=True, slots=True)
class TextEncoding:
    is_unicode: bool
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM 03.38 default or extension table."""
    return _NOT_GSM7.search(text) is None


def encoding_of(text: str) -> TextEncoding:
    """How `text` travels as an SMS: its encoding, its length in that encoding, its segments."""
    if is_gsm7(text):
        doubles = len(_EXTENSION_CHAR.findall(text))
        units = len(text) + doubles
        segments = _segments(text, units, GSM7_SINGLE, GSM7_PER_PART, _EXTENSION_SET.__contains__ if doubles else None)
        return TextEncoding(is_unicode=False, units=units, segments=segments)
    # surrogatepass: a lone surrogate is one code unit on the wire rather than an error here
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    segments = _segments(text, units, UCS2_SINGLE, UCS2_PER_PART, _outside_bmp if units > len(text) else None)
    return TextEncoding(is_unicode=True, units=units, segments=segments)


def segments_for(text: str) -> int:
    """The number of SMS segments (the credits most providers charge) `text` takes."""
    return encoding_of(text).segments


def _outside_bmp(char: str) -> bool:
    return char > "\uffff"


def _segments(text: str, units: int, single: int, per_part: int,
              is_double: Callable[[str], bool] | None) -> int:
    if units <= single:
        return 1
    if is_double is None:
        return -(-units // per_part)
    # An escape pair (GSM-7) or a surrogate pair (UCS-2) cannot be split across two parts,
    # so a part may end one unit short: pack greedily, as handsets and SMSCs do.
    parts, room = 1, per_part
    for char in text:
        cost = 2 if is_double(char) else 1
        if cost > room:
            parts += 1
            room = per_part
        room -= cost
    return parts


def ucs2_characters(text: str) -> list[str]:
    """The characters that make `text` UCS-2 (outside both GSM 03.38 tables), each once, in order."""
    return list(dict.fromkeys(_NOT_GSM7.findall(text)))
