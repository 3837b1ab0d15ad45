"""Text rules every stage shares: what XML may carry, markup-free text, CJK-aware cutting."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urljoin

Kind = tuple["re.Pattern[str]", "re.Pattern[str]"]  # (opener, closer) of one kind of span


def spans(text: str, *kinds: Kind) -> Iterator[tuple[int, int]]:
    """(start, end) of each `opener.*?closer` span in `text`, as one regex alternating the
    kinds in this order would find them (leftmost first, dot matching newlines), in time
    linear in `text`.

    A regex tries every opener again and scans to the end from each when no closer follows
    (`<a ` × 20,000 took 29 s); here the kind is dropped instead: no later opener of it can
    close either.
    """
    pos = 0
    nexts: list[re.Match[str] | None] = [None] * len(kinds)  # each kind's next opener
    live = set(range(len(kinds)))
    while live:
        best: tuple[int, re.Match[str]] | None = None
        for n in sorted(live):
            found = nexts[n]
            if found is None or found.start() < pos:
                found = nexts[n] = kinds[n][0].search(text, pos)
            if found is None:
                live.discard(n)
            elif best is None or found.start() < best[1].start():
                best = (n, found)
        if best is None:
            return
        n, opener = best
        closer = kinds[n][1].search(text, opener.end())
        if closer is None:
            live.discard(n)
            continue
        yield opener.start(), closer.end()
        pos = closer.end()


def replace_spans(
    text: str, found: Iterable[tuple[int, int]], replacement: Callable[[str], str]
) -> str:
    """`text` with each span of `found` (in order, not overlapping) replaced."""
    parts: list[str] = []
    last = 0
    for start, end in found:
        parts += (text[last:start], replacement(text[start:end]))
        last = end
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


def _dropped(_: str) -> str:
    return ""


def _spaced(_: str) -> str:
    return " "


# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
# Everything else (C0 controls, lone surrogates, U+FFFE/U+FFFF) makes a document ill-formed.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A tag starts with a letter, `/`, `!` or `?`: `<蒙特利尔议定书>` and `1 < 2 > 0` are text.
_TAG = (
    (re.compile(r"<[/!?]?[A-Za-z]"), re.compile(">")),
    (re.compile("<!--"), re.compile("-->")),
)
# Tags that separate words when markup is removed; inline tags (<b>, <a>, <span>) do not:
# `上海<b>临港</b>` is one word.
_ESCAPED_TAG = ((re.compile(r"&(?:amp;)*lt;[/!?]?[A-Za-z]"), re.compile(r"&(?:amp;)*gt;")),)
_BLOCK_TAG = (
    (
        re.compile(
            r"<(?:/?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|tr|td|th|table|thead|tbody|blockquote"
            r"|pre|section|article|header|footer|figure|figcaption|center|address)\b)",
            re.IGNORECASE,
        ),
        re.compile(">"),
    ),
)
_WIDE_SENTENCE = "。！？…"
_WIDE_CLAUSE = "，、；："
_OPENERS = "（《「『【〔“‘([{"
_CLOSERS = "）》」』】〕”’)]}，。！？、；：,.!?;:…"


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids: one bad byte must never break a feed."""
    return _XML_ILLEGAL.sub("", text)


def plain_text(text: str) -> str:
    """Markup-free, single-spaced text: tags dropped, entities decoded, XML-safe."""
    if "<" in text or "&" in text:
        text = replace_spans(text, spans(text, *_BLOCK_TAG), _spaced)
        text = html.unescape(replace_spans(text, spans(text, *_TAG), _dropped))
        # `&lt;script&gt;` decodes to a tag and `&amp;lt;script&amp;gt;` to escaped markup: both
        # go, so no markup a reader might render survives in any encoding. `1 &lt; 2` stays.
        text = replace_spans(text, spans(text, *_TAG), _dropped)
        text = replace_spans(text, spans(text, *_ESCAPED_TAG), _dropped)
    return " ".join(xml_safe(text).split())


def is_wide(char: str) -> bool:
    """Characters of scripts written without spaces between words (Han, kana, Hangul...)."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def _mark(text: str, i: int) -> str | None:
    """Whether text[i] ends a sentence or a clause. `1.25` and `1,234` end neither."""
    char = text[i]
    if char in _WIDE_SENTENCE:
        return "sentence"
    if char in _WIDE_CLAUSE:
        return "clause"
    following = text[i + 1] if i + 1 < len(text) else " "
    if not (following.isspace() or is_wide(following)):
        return None
    if char in ".!?":
        return "sentence"
    if char in ",;:":
        return "clause"
    return None


def _can_break(text: str, i: int) -> bool:
    """Whether text may be cut before text[i] without splitting a word or a character."""
    before, after = text[i - 1], text[i]
    if unicodedata.combining(after) or after in _CLOSERS or before in _OPENERS:
        return False
    return after.isspace() or before.isspace() or is_wide(before) or is_wide(after)


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters (plus an ellipsis) at a natural break.

    Chinese and Japanese have no spaces: any point between two wide characters is a break, and
    a sentence end or clause mark in the last 40% is preferred. Latin words, numbers like
    `1.25` and accented letters are never split.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    floor = int(limit * 0.6)
    for kind in ("sentence", "clause"):
        for i in range(limit - 1, max(floor, 1) - 1, -1):
            if _mark(text, i) == kind:
                kept = text[: i + 1]
                if kind == "sentence":
                    return kept if kept[-1] in "。！？!?…" else kept + "…"
                return kept[:-1].rstrip() + "…"
    cut = next((i for i in range(limit, 0, -1) if _can_break(text, i)), None)
    if cut is None:  # one unbroken word longer than the limit: cut it, but not its accents
        cut = limit
        while cut > 0 and unicodedata.combining(text[cut]):
            cut -= 1
    return text[:cut].rstrip() + "…"


URL_SCHEMES = frozenset({"http", "https", "mailto"})
_C0_EDGES = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")  # a URI's scheme (RFC 3986 3.1)


def has_scheme(text: str) -> bool:
    """Whether `text` starts with a URI scheme (`https:`, `mailto:`, `tag:`): it is absolute."""
    return SCHEME.match(text) is not None


def absolute_url(url: str, base: str, schemes: frozenset[str] = URL_SCHEMES) -> str | None:
    """`url` made absolute against `base`, or None when its scheme is not allowed.

    The URL is first read the way browsers read it (WHATWG URL: C0 controls and spaces
    trimmed, tabs and newlines anywhere removed), so `java&#9;script:` is seen as what it is.
    """
    url = _TAB_NEWLINE.sub("", url.strip(_C0_EDGES))
    if url.startswith("//"):
        url = f"https:{url}"
    scheme = SCHEME.match(url)
    if scheme is None:
        url = urljoin(base, url)
        scheme = SCHEME.match(url)
    return url if scheme is not None and scheme.group(1).lower() in schemes else None


_DECADE = re.compile(r"(?<!\w)'(?=\d{2}s)")  # '90s: an apostrophe, even at the start


def smartify(text: str) -> str:
    """Typographic quotes, dashes and ellipses, as Jekyll's `smartify` (kramdown) makes them:
    `Pat's Site` -> `Pat’s Site`, `--` -> `–`, `---` -> `—`, `...` -> `…`. Plain text in,
    plain text out."""
    if not any(c in text for c in "'\"-.`"):
        return text
    import smartypants  # noqa: PLC0415 - loaded only for a title that has something to change

    attributes = smartypants.Attr.q | smartypants.Attr.D | smartypants.Attr.e | smartypants.Attr.u
    # smartypants reads HTML: the text's own `<` and `&` must stay text.
    escaped = html.escape(_DECADE.sub("\u2019", text), quote=False)
    return html.unescape(smartypants.smartypants(escaped, attributes))
