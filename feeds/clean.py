"""HTML -> clean, safe, absolute HTML, plus a plain-text summary and the source link.

Cleaning is a list of small steps over one parsed tree (CLEANERS), each on or off by name,
followed by URL resolution and an allowlist sanitiser (nh3, i.e. Ammonia). The steps remove
what scraped news carries that readers should not see: stock-quote widgets, empty quote
placeholders, navigation footers, hidden blocks, indent spaces and empty paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

import nh3
from bs4 import BeautifulSoup
from bs4.element import Comment, NavigableString, Tag

from feeds.config import CleanRules
from feeds.text import plain_text, truncate, xml_safe

_BLOCKS = (
    "p",
    "div",
    "li",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "center",
    "section",
    "td",
)
_EMPTYABLE = (
    "p",
    "div",
    "center",
    "span",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "font",
    "section",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
)
_MEDIA = (
    "img",
    "video",
    "audio",
    "picture",
    "iframe",
    "object",
    "embed",
    "svg",
    "table",
    "hr",
    "input",
    "math",
)
_SPACES = " \t\n\r\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff"
_SEPARATORS = re.compile(r"^[\s|｜/·•>»\-–—]*$")
_NAV_TEXT = re.compile(r"^\s*返回")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_LAZY_ATTRS = (
    "data-src",
    "data-original",
    "data-lazy-src",
    "data-actualsrc",
    "data-url",
    "data-echo",
)
_URL_ATTRS = ("href", "src", "poster", "cite")

# The sanitiser's allowlist: structure, text semantics, tables, media with plain attributes.
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "acronym", "address", "article", "aside", "b", "bdi", "bdo", "big",
        "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del", "details",
        "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hgroup", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
        "picture", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section", "small", "source",
        "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
        "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr", "video", "audio", "track",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"lang", "dir", "title"},
    "a": {"href", "hreflang"},
    "img": {"src", "srcset", "alt", "width", "height"},
    "source": {"src", "srcset", "type", "media", "sizes"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "track": {"src", "kind", "srclang", "label"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "q": {"cite"},
    "blockquote": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_MEDIA_SCHEMES = frozenset({"http", "https"})  # what an image or video may load from
# The first pass keeps what the cleaners look at (class, id, style, data-*, web/href on span)
# and drops what must never be seen; the final pass applies ALLOWED_* strictly.
_PASS_TAGS = ALLOWED_TAGS | {"center", "font", "nav", "main", "label", "u", "tt", "big", "small"}
_PASS_ATTRIBUTES = {
    "*": {
        "class", "id", "style", "hidden", "href", "src", "srcset", "alt", "title", "width",
        "height", "lang", "dir", "web", "poster", "cite", "datetime", "colspan", "rowspan",
        "headers", "scope", "start", "reversed", "type", "value", "controls", "media",
        "sizes", "kind", "srclang", "label", "hreflang",
    }
}  # fmt: skip
# Removed together with everything inside them (other unknown tags keep their text).
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object",
        "embed", "applet", "svg", "math", "form", "select", "textarea", "button", "title",
        "head", "meta", "link", "base", "canvas", "dialog",
    }
)  # fmt: skip


@dataclass(slots=True)
class Context:
    """What one post's cleaning knows and collects."""

    base: str  # the post's own URL: relative links resolve against it
    rules: CleanRules
    source: str | None = None
    notes: list[str] = field(default_factory=list)


Cleaner = Callable[[BeautifulSoup, Context], None]


def _is_empty(tag: Tag) -> bool:
    if tag.find(_MEDIA) is not None:
        return False
    return not tag.get_text().strip(_SPACES)


def drop_comments(soup: BeautifulSoup, ctx: Context) -> None:
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()


def drop_hidden(soup: BeautifulSoup, ctx: Context) -> None:
    """Whatever the page hides from its own readers stays hidden."""
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        if tag.has_attr("hidden") or _HIDDEN_STYLE.search(str(tag.get("style", ""))):
            tag.decompose()


def unwrap_stock_widgets(soup: BeautifulSoup, ctx: Context) -> None:
    """Quote widgets: the company name stays as text, the quote link and chart go."""
    for tag in soup.select("a.EmImageRemark"):
        tag.decompose()
    selector = (
        'a.keytip, a.infokey, span.em_stock_key_common, span[web][href], span[id^="stock_"], '
        'span[id^="bk_"], span[id^="Info."]'
    )
    for tag in soup.select(selector):
        tag.unwrap()


def drop_quote_placeholders(soup: BeautifulSoup, ctx: Context) -> None:
    for tag in soup.select('span[id^="quote_"], span[id^="bkquote_"]'):
        if _is_empty(tag):
            tag.decompose()


def drop_nav_footer(soup: BeautifulSoup, ctx: Context) -> None:
    """`[返回…](…)｜[返回首页](…)`: links back to the site's own pages, not article text."""
    for block in soup.find_all(_BLOCKS):
        if block.decomposed:
            continue
        links = block.find_all("a")
        if not links or not all(_NAV_TEXT.match(a.get_text()) for a in links):
            continue
        outside = "".join(
            s
            for s in block.find_all(string=True)
            if s.find_parent("a") is None or s.find_parent("a") not in links
        )
        if _SEPARATORS.match(outside):
            block.decompose()


def _last_element(parent: Tag) -> Tag | None:
    for child in reversed(list(parent.children)):
        if isinstance(child, Tag):
            return child
        if isinstance(child, NavigableString) and child.strip(_SPACES):
            return None
    return None


def _last_block(soup: BeautifulSoup) -> Tag | None:
    """The last paragraph of the body, looking through wrappers (`<center><p>…</p></center>`)."""
    block = _last_element(soup.body or soup)
    while (
        block is not None
        and block.name in ("div", "center", "section")
        and len(block.find_all(True, recursive=False)) == 1
    ):
        block = _last_element(block)
    return block


def take_source_link(soup: BeautifulSoup, ctx: Context) -> None:
    """A trailing bare URL (`<http://source>`) is where the article came from: a link, not text."""
    while (block := _last_block(soup)) is not None and block.name == "p":
        text = block.get_text().strip(_SPACES)
        links = block.find_all("a")
        if text == "<>":
            block.decompose()
            continue
        if len(links) != 1 or not links[0].get("href") or text != links[0].get_text().strip():
            return
        href = str(links[0]["href"]).strip()
        if not re.match(r"^(https?:)?//", href) or href.rstrip("/") != text.rstrip("/"):
            return
        # The last bare URL is the source; bare URLs just before it are more of the same.
        ctx.source = ctx.source or (f"https:{href}" if href.startswith("//") else href)
        block.decompose()


def strip_indent_spaces(soup: BeautifulSoup, ctx: Context) -> None:
    """Full-width indent spaces (U+3000) and stray spaces at the edges of blocks."""
    for block in soup.find_all((*_BLOCKS, "strong", "span")):
        first = block.find(string=True)
        if isinstance(first, NavigableString) and not isinstance(first, Comment):
            stripped = first.lstrip(_SPACES)
            if stripped != first:
                first.replace_with(stripped)
        texts = block.find_all(string=True)
        if texts and isinstance(texts[-1], NavigableString) and not isinstance(texts[-1], Comment):
            last = texts[-1]
            stripped = last.rstrip(_SPACES)
            if stripped != last:
                last.replace_with(stripped)


def drop_empty_paragraphs(soup: BeautifulSoup, ctx: Context) -> None:
    for tag in reversed(soup.find_all(_EMPTYABLE)):
        if not tag.decomposed and _is_empty(tag):
            tag.decompose()
    for br in soup.select("p > br:first-child, p > br:last-child"):
        br.decompose()


def lazy_images(soup: BeautifulSoup, ctx: Context) -> None:
    """Lazy-loaded images carry the real address in data-src: feed readers run no scripts."""
    for img in soup.find_all(["img", "source"]):
        real = next((img[a] for a in _LAZY_ATTRS if img.get(a)), None)
        src = str(img.get("src", ""))
        if real and (
            not src
            or src.startswith("data:")
            or re.search(r"blank|placeholder|loading|lazy|spacer", src)
        ):
            img["src"] = real
        if img.get("data-srcset") and not img.get("srcset"):
            img["srcset"] = img["data-srcset"]


def site_rules(soup: BeautifulSoup, ctx: Context) -> None:
    """The site's own rules: selectors to drop or unwrap, paragraph texts to drop."""
    for selector in ctx.rules.drop:
        for tag in soup.select(selector):
            if not tag.decomposed:
                tag.decompose()
    for selector in ctx.rules.unwrap:
        for tag in soup.select(selector):
            if not tag.decomposed:
                tag.unwrap()
    if ctx.rules.drop_paragraphs:
        patterns = [re.compile(p) for p in ctx.rules.drop_paragraphs]
        for block in soup.find_all(_BLOCKS):
            if not block.decomposed and not block.find(_BLOCKS):
                text = block.get_text()
                if any(p.search(text) for p in patterns):
                    block.decompose()


_C0_EDGES = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def absolute_url(url: str, base: str, schemes: frozenset[str] = URL_SCHEMES) -> str | None:
    """`url` made absolute against `base`, or None when its scheme is not allowed.

    The URL is first read the way browsers read it (WHATWG URL: C0 controls and spaces
    trimmed, tabs and newlines anywhere removed), so `java&#9;script:` is seen as what it is.
    """
    url = _TAB_NEWLINE.sub("", url.strip(_C0_EDGES))
    if url.startswith("//"):
        url = f"https:{url}"
    scheme = _SCHEME.match(url)
    if scheme is None:
        url = urljoin(base, url)
        scheme = _SCHEME.match(url)
    return url if scheme is not None and scheme.group(1).lower() in schemes else None


def srcset_candidates(value: str) -> list[tuple[str, str]]:
    """(URL, descriptor) pairs of a srcset, parsed as HTML does: a URL may contain commas."""
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(value)
    while True:
        while pos < end and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        if pos >= end:
            return pairs
        start = pos
        while pos < end and not value[pos].isspace():
            pos += 1
        url, descriptor = value[start:pos], ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            start, depth = pos, 0
            while pos < end and not (value[pos] == "," and depth == 0):
                depth += {"(": 1, ")": -1 if depth else 0}.get(value[pos], 0)
                pos += 1
            descriptor = value[start:pos].strip()
            pos += 1
        pairs.append((url, descriptor))


def _srcset(value: str, base: str) -> str:
    """A srcset with every candidate URL absolute and http(s); others are dropped."""
    kept = []
    for url, descriptor in srcset_candidates(value):
        absolute = absolute_url(url, base, _MEDIA_SCHEMES)
        if absolute is not None:
            kept.append(f"{absolute} {descriptor}".strip())
    return ", ".join(kept)


def absolutize(soup: BeautifulSoup, ctx: Context) -> None:
    """Every relative, root-relative and protocol-relative URL made absolute; unsafe ones dropped."""
    for tag in soup.find_all(True):
        for attr in _URL_ATTRS:
            value = tag.get(attr)
            if isinstance(value, str):
                schemes = URL_SCHEMES if attr in ("href", "cite") else _MEDIA_SCHEMES
                url = absolute_url(value, ctx.base, schemes)
                if url is None:
                    del tag[attr]
                else:
                    tag[attr] = url
        srcset = tag.get("srcset")
        if isinstance(srcset, str):
            cleaned = _srcset(srcset, ctx.base)
            if cleaned:
                tag["srcset"] = cleaned
            else:
                del tag["srcset"]


CLEANERS: tuple[tuple[str, Cleaner], ...] = (
    ("hidden", drop_hidden),
    ("stock_widgets", unwrap_stock_widgets),
    ("quote_placeholders", drop_quote_placeholders),
    ("comments", drop_comments),
    ("site", site_rules),
    ("nav_footer", drop_nav_footer),
    ("indent_spaces", strip_indent_spaces),
    ("lazy_images", lazy_images),
    ("empty_paragraphs", drop_empty_paragraphs),
    ("source_link", take_source_link),
    ("urls", absolutize),
)
_ALWAYS = frozenset({"site", "urls"})


def sanitize(html: str) -> str:
    """The allowlist pass: nothing executable, no styling, no tracking attributes."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )


@dataclass(frozen=True, slots=True)
class Cleaned:
    html: str
    summary: str  # plain text, not cut
    source: str | None
    notes: tuple[str, ...] = ()


def _lead_text(soup: BeautifulSoup) -> str:
    """The text a summary is made from: the leading blockquote, else the first paragraph."""
    body = soup.body or soup
    first = next((c for c in body.children if isinstance(c, Tag)), None)
    if first is not None and first.name == "blockquote" and first.get_text().strip(_SPACES):
        return plain_text(first.decode_contents())
    for block in body.find_all(["p", "li", "div"]):
        if block.get_text().strip(_SPACES):
            return plain_text(block.decode_contents())
    return plain_text(body.decode_contents())


def _normalise(html: str) -> str:
    """First pass: parse as browsers do and drop what must never be seen (with its text).

    Parsing once with html5ever (inside nh3) before the cleaners means they and the final
    sanitiser see the same tree: `<p><font><p>x</p></font></p>` is split the way a browser
    splits it, and cleaning the cleaned HTML again changes nothing.
    """
    return nh3.clean(
        xml_safe(html),
        tags=set(_PASS_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={k: set(v) for k, v in _PASS_ATTRIBUTES.items()},
        generic_attribute_prefixes={"data-"},
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )


def clean_html(html: str, *, base: str, rules: CleanRules) -> Cleaned:
    """Run every enabled cleaner, resolve URLs, sanitise; also find summary text and source."""
    soup = BeautifulSoup(_normalise(html), "lxml")
    ctx = Context(base=base, rules=rules)
    enabled = set(rules.builtin) | _ALWAYS
    for name, step in CLEANERS:
        if name in enabled:
            step(soup, ctx)
    body = soup.body
    inner = body.decode_contents() if body is not None else ""
    return Cleaned(
        html=xml_safe(sanitize(inner)).strip(),
        summary=_lead_text(soup),
        source=ctx.source,
        notes=tuple(ctx.notes),
    )


def summarize(text: str, limit: int) -> str:
    """A summary from plain text (never markup: `<蒙特利尔议定书>` is text here)."""
    return truncate(text, limit)
