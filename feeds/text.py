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


# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
# Everything else (C0 controls, lone surrogates, U+FFFE/U+FFFF) makes a document ill-formed.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Where HTML reads markup: `<` before an ASCII letter (a tag), `/` (an end tag), `!` (a comment or
# declaration) or `?` (a processing instruction). `<蒙特利尔议定书>`, `1 < 2 > 0` and `<3` are text.
_OPENER = re.compile(r"<(?=[A-Za-z/!?])")
# Tags that separate words when markup is removed; inline tags (<b>, <a>, <span>) do not:
# `上海<b>临港</b>` is one word.
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|tr|td|th|table|thead|tbody|blockquote|pre"
    r"|section|article|header|footer|figure|figcaption|center|address)\b[^>]*>",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"<[A-Za-z/!?][^>]*>")  # a tag, a declaration, `<?…>`, `</…>`
_COMMENT_OR_TAG = re.compile(r"<!--.*?-->|<[A-Za-z/!?][^>]*>", re.DOTALL)
# Formatting characters a title, summary or name loses. Bidi embeddings, overrides and isolates
# (U+202A-U+202E, U+2066-U+2069) reorder the letters around them: `\u202egnp.exe` shows as
# `exe.png`; a feed's text is one short run whose direction its reader resolves, so they have
# nothing to do there. Zero-width space, word joiner, the invisible operators, a stray byte
# order mark and the interlinear annotation marks are invisible: all they can do is make two
# texts that look the same differ. Kept: the marks U+200E, U+200F and U+061C (Arabic, Hebrew
# and Persian titles need them to place punctuation and digits, and they cannot move letters),
# and ZWJ/ZWNJ where they join (see _joiner).
_INVISIBLE = re.compile("[\u200b\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]")
# Tag characters spell hidden ASCII text; they belong only inside a subdivision flag emoji
# (🏴 followed by tag letters and CANCEL TAG).
_TAG_CHARS = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)|[\U000e0000-\U000e007f]")
_JOINERS = re.compile("[\u200c\u200d]")
_JOINABLE = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "So", "Sk"})
# Decoding entities and removing tags go on until nothing changes; real text settles in one or
# two rounds, `&amp;amp;lt;` or `<<script>script>` in a few. Past this, what is left is made inert.
MAX_ROUNDS = 8
_WIDE_SENTENCE = "。！？…"
_WIDE_CLAUSE = "，、；："
_OPENERS = "（《「『【〔“‘([{"
_CLOSERS = "）》」』】〕”’)]}，。！？、；：,.!?;:…"


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids: one bad byte must never break a feed."""
    return _XML_ILLEGAL.sub("", text)


def _joiner(match: re.Match[str]) -> str:
    """ZWJ and ZWNJ stay where they join: between letters or marks (ZWNJ in Persian words, ZWJ
    after an Indic virama) and inside emoji sequences (woman + ZWJ + laptop); anywhere else (at
    an edge, beside a space, a digit or another joiner) they are invisible noise."""
    text, start, end = match.string, match.start(), match.end()
    joins = (
        start > 0
        and end < len(text)
        and unicodedata.category(text[start - 1]) in _JOINABLE
        and unicodedata.category(text[end]) in _JOINABLE
    )
    return match.group() if joins else ""


def visible(text: str) -> str:
    """`text` without the formatting characters that reorder it or hide in it (see _INVISIBLE)."""
    if text.isascii():
        return text
    text = _INVISIBLE.sub("", text)
    text = _TAG_CHARS.sub(lambda m: m.group(1) or "", text)
    return _JOINERS.sub(_joiner, text)


def _closed(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    """`pattern.sub` on the part of `text` up to its last `>`: a pattern for a tag retried at
    each of 100,000 `<a` that no `>` follows would cost quadratic time, and there none ends."""
    end = text.rfind(">") + 1
    return pattern.sub(replacement, text[:end]) + text[end:]


def _strip_tags(text: str) -> str:
    """Every tag, comment and declaration removed, block-level ones leaving a space; linear."""
    text = _closed(_BLOCK_TAG, " ", text)
    # Comments are looked for only up to the last `-->`: after it, none could end.
    split = text.rfind("-->") + 3 if "-->" in text else 0
    return _closed(_COMMENT_OR_TAG, "", text[:split]) + _closed(_MARKUP, "", text[split:])


def _settle_round(text: str, *, nfc: bool) -> str:
    text = visible(xml_safe(text))
    if nfc:
        text = unicodedata.normalize("NFC", text)
    if "<" in text:
        text = _strip_tags(text)
    return " ".join(html.unescape(text).split())


def plain_text(text: str, *, nfc: bool = False) -> str:
    """Markup-free, single-spaced, XML-safe text, however the markup was written.

    Tags are removed and entities decoded until nothing changes, so markup that only appears
    once entities are decoded (`&amp;lt;script&amp;gt;`, `&#x3c;b>`) or once tags are removed
    (`<<b>script>`) goes too. What comes out contains no entity left to decode and no `<` that
    opens markup (`a<b` where no `>` follows becomes `a< b`): shown as HTML, decoded once or
    many times, it is still only text. `plain_text(plain_text(s)) == plain_text(s)`.
    `nfc`: NFC-normalised as well (names), inside the same loop, since normalising can make
    markup too (U+212A KELVIN SIGN becomes `K`).
    """
    if not nfc and "<" not in text and "&" not in text:
        # Nothing to decode or remove but characters: one round settles it (most titles).
        return _settle_round(text, nfc=False)
    for _ in range(MAX_ROUNDS):
        settled = _settle_round(text, nfc=nfc)
        if settled == text:
            return _OPENER.sub("< ", text)
        text = settled
    # Encoded or nested deeper than any real text is: what is left is made inert (no `&` left
    # to decode, no `<` that opens markup) and settled again, which now only removes.
    for _ in range(MAX_ROUNDS):
        settled = _settle_round(_OPENER.sub("< ", text.replace("&", "\uff06")), nfc=nfc)
        if settled == text:
            break
        text = settled
    return text


def has_markup(text: str) -> bool:
    """Whether `text` holds markup HTML would read, also once entities are decoded (any number
    of times) or invisible characters removed."""
    for _ in range(MAX_ROUNDS):
        if _OPENER.search(text):
            return True
        decoded = html.unescape(visible(xml_safe(text)))
        if decoded == text:
            return False
        text = decoded
    return True


def plain_name(name: str) -> str:
    """A category, tag or author name as text: NFC, single-spaced, XML-safe, without the
    characters that reorder or hide (`visible`). A name is text (`a&b`, `C++`, `&amp;` stay as
    written); only a name holding markup (`<b>news</b>`, also escaped) is read as HTML
    (`news`), so that no name puts markup into a feed's title, a category or OPML."""
    text = name
    for _ in range(MAX_ROUNDS):
        settled = " ".join(visible(xml_safe(unicodedata.normalize("NFC", text))).split())
        if settled == text:
            break
        text = settled
    return plain_text(text, nfc=True) if has_markup(text) else text


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


UNSAFE_SCHEMES = frozenset({"javascript", "vbscript", "data"})  # URLs that run or carry code


def url_scheme(url: str) -> str | None:
    """The scheme (lower case) a browser reads in `url` written into a feed: XML-illegal
    characters dropped (as the feed drops them), entities decoded (as an `href` would have
    them, any number of times), C0 controls and spaces trimmed and tabs and newlines removed
    (WHATWG URL). None for a relative URL. `Java&#x09;Script:` is `javascript`."""
    text = xml_safe(url)
    for _ in range(MAX_ROUNDS):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = xml_safe(decoded)
    scheme = SCHEME.match(_TAB_NEWLINE.sub("", text.strip(_C0_EDGES)))
    return scheme.group(1).lower() if scheme else None


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
