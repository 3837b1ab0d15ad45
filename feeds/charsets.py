"""Files that are not UTF-8: which legacy encoding, read only when it is clear.

Scraped archives carry the encodings of their time: GBK/GB18030 and Big5 (Chinese),
Shift_JIS (Japanese), EUC-KR (Korean), windows-1252 (Western European). charset-normalizer
ranks the readings of the bytes; a reading is taken only when it is the one plausible text:
it decodes strictly and encodes back to the very same bytes, holds no control, private-use,
unassigned or replacement character, and is made of the script its encoding is for. Where
two readings stay plausible (short files often are), the file is refused: a post published
as mojibake is worse than one not published. An HTML post's own `<meta charset>` (read by
beautifulsoup4's EncodingDetector) is taken when its reading is plausible.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

# The encodings looked for, as charset-normalizer names them (the supersets: cp932 reads
# Shift_JIS, cp949 reads EUC-KR, gb18030 reads GBK and GB2312, cp1252 reads Latin-1 text).
# encoding -> (its name for a person, the scripts its letters are of, the script some share of
# them must be of with that share): Japanese is never without kana, Korean is mostly Hangul.
_SCRIPTS: dict[str, tuple[str, tuple[str, ...], str, float]] = {
    "gb18030": ("GB18030 (Chinese)", ("CJK", "FULLWIDTH"), "CJK", 0.9),
    "big5": ("Big5 (traditional Chinese)", ("CJK", "FULLWIDTH"), "CJK", 0.9),
    "cp932": (
        "Shift_JIS (Japanese)",
        ("CJK", "HIRAGANA", "KATAKANA", "FULLWIDTH", "HALFWIDTH KATAKANA"),
        "HIRAGANA",
        0.1,
    ),
    "cp949": ("EUC-KR (Korean)", ("HANGUL", "CJK", "FULLWIDTH"), "HANGUL", 0.5),
    "cp1252": ("windows-1252 (Western European)", ("LATIN",), "LATIN", 0.9),
}
# Western European words carry one or two accented letters together, never three: such a
# run is another encoding's text read as windows-1252 (which decodes almost any byte).
_LATIN_RUN = re.compile(r"[^\x00-\x7f\W\d_]{3}")
_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "shift_jis": "cp932", "euc_kr": "cp949"}
# Punctuation and symbols any of these texts may carry besides its letters.
_COMMON = frozenset(["Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sc", "Sk", "Sm", "So", "Zs", "No", "Nd"])
# Below this much lower chaos (charset-normalizer's measure of how garbled a reading looks)
# and this much higher coherence (how much it reads as a language it knows), two plausible
# readings are a tie.
_CLEARER = 0.05


@dataclass(frozen=True, slots=True)
class Reading:
    text: str
    encoding: str  # for a person: "Big5 (traditional Chinese)"


class UndecidedError(ValueError):
    """No reading of the bytes is clearly the right one; the message says why."""


def _canonical(name: str) -> str | None:
    try:
        codec = codecs.lookup(name).name.replace("-", "_")
    except LookupError:
        return None
    codec = _ALIASES.get(codec, codec)
    return codec if codec in _SCRIPTS else None


def _letters_fit(text: str, encoding: str) -> bool:
    """Whether the non-ASCII letters are of the encoding's scripts, in the shares its
    language has (mojibake mixes scripts); some non-ASCII character there must be."""
    _, scripts, required, share = _SCRIPTS[encoding]
    names = [
        unicodedata.name(c, "")
        for c in text
        if ord(c) > 0x7F and unicodedata.category(c) not in _COMMON
    ]
    if not names:
        return any(ord(c) > 0x7F for c in text)
    if not all(any(s in name for s in scripts) for name in names):
        return False
    if encoding == "cp1252" and _LATIN_RUN.search(text):
        return False
    kana = ("HIRAGANA", "KATAKANA") if required == "HIRAGANA" else (required,)
    return sum(1 for name in names if any(k in name for k in kana)) >= share * len(names)


def _plausible(data: bytes, encoding: str) -> str | None:
    """The text `data` reads as in `encoding` (canonical), if it is plausible at all."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if text.encode(encoding) != data:
        return None
    for c in text:
        if c == "\ufffd" or (
            unicodedata.category(c) in ("Cc", "Co", "Cn", "Cs") and c not in "\t\n\r\f"
        ):
            return None
    return text if _letters_fit(text, encoding) else None


def _declared(data: bytes, html: bool) -> str | None:
    if not html:
        return None
    from bs4.dammit import EncodingDetector  # noqa: PLC0415 - only for files not in UTF-8

    found = EncodingDetector.find_declared_encoding(data, is_html=True)
    return _canonical(found) if found else None


def read_legacy(data: bytes, *, html: bool = False) -> Reading:
    """The one plausible reading of `data` in a legacy encoding; UndecidedError otherwise."""
    declared = _declared(data, html)
    if declared is not None:
        text = _plausible(data, declared)
        if text is not None:
            return Reading(text, _SCRIPTS[declared][0])
    import charset_normalizer  # noqa: PLC0415 - its import costs; only for files not in UTF-8

    readings: dict[str, tuple[float, float, str]] = {}  # text -> (chaos, -coherence, codec)
    for match in charset_normalizer.from_bytes(data, cp_isolation=list(_SCRIPTS)):
        encoding = _canonical(match.encoding)
        text = _plausible(data, encoding) if encoding else None
        if encoding is None or text is None:
            continue
        rank = (match.chaos, -match.coherence, encoding)
        if text not in readings or rank < readings[text]:
            readings[text] = rank
    if not readings:
        raise UndecidedError(
            "its bytes read as no text in GB18030, Big5, Shift_JIS, EUC-KR or windows-1252"
        )
    ranked = sorted(readings.items(), key=lambda item: item[1])
    (text, (chaos, coherence, encoding)), rest = ranked[0], ranked[1:]
    if rest and rest[0][1][0] < chaos + _CLEARER and rest[0][1][1] < coherence + _CLEARER:
        other = _SCRIPTS[rest[0][1][2]][0]
        raise UndecidedError(
            f"it reads as {_SCRIPTS[encoding][0]} and as {other}, and nothing tells which"
        )
    return Reading(text, _SCRIPTS[encoding][0])
