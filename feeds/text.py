"""Text rules every stage shares: what XML may carry, markup-free text, CJK-aware cutting."""

from __future__ import annotations

import html
import re
import unicodedata

# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
# Everything else (C0 controls, lone surrogates, U+FFFE/U+FFFF) makes a document ill-formed.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TAG = re.compile(r"<[^>]*>")
_SENTENCE_END = "。！？!?．.…"
_CLAUSE_END = "，、；：,;:"


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids: one bad byte must never break a feed."""
    return _XML_ILLEGAL.sub("", text)


def plain_text(text: str) -> str:
    """Markup-free, single-spaced text: tags dropped, entities decoded, XML-safe."""
    if "<" in text or "&" in text:
        text = html.unescape(_TAG.sub(" ", text))
    return " ".join(xml_safe(text).split())


def is_wide(char: str) -> bool:
    """Characters of scripts written without spaces between words (Han, kana, Hangul...)."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters (plus an ellipsis) at a natural break.

    Chinese and Japanese have no spaces: any point between two wide characters is a break, and
    a sentence end or clause mark nearby is preferred. Latin words are never split.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    floor = int(limit * 0.6)
    for marks in (_SENTENCE_END, _CLAUSE_END):
        cut = max(head.rfind(mark) for mark in marks)
        if cut >= floor:
            kept = head[: cut + 1]
            return (
                kept
                if marks is _SENTENCE_END and kept[-1] in "。！？!?…"
                else kept.rstrip(_CLAUSE_END) + "…"
            )
    for i in range(len(head), floor, -1):
        before, after = head[i - 1], text[i] if i < len(text) else " "
        if unicodedata.combining(after):
            continue
        if after.isspace() or before.isspace() or is_wide(before) or is_wide(after):
            return head[:i].rstrip() + "…"
    return head.rstrip() + "…"
