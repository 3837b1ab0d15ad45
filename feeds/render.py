"""FeedSpec + posts + entries -> bytes. The only module that imports feedgen.

feedgen's traps, each pinned by a test in tests/test_render.py:
- `add_entry()` prepends unless told `order="append"`;
- the RSS channel `<link>` is the *last* link added, so the site link is always added last;
- entry `link()` loses every attribute but `href` (title, type): our extension sets them;
- RSS `<author>` is written only with an e-mail address, once per author: our extension
  writes `dc:creator` instead where there is none or several authors;
- it has no `xml:base`, media thumbnails or `rel="via"` in RSS: our extension adds them;
- its RFC 822 dates swap the process-wide locale (not thread-safe): replaced below;
- naive datetimes and XML-illegal characters raise: we pass only aware datetimes and
  `xml_safe` text.
"""

from __future__ import annotations

import email.utils
import hashlib
import html
import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, quote_plus

import feedgen.entry
import feedgen.feed
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedsmith import permalink
from feedsmith.config import BUILTIN_STYLESHEET, Config
from feedsmith.model import MEDIA_TYPES, Author, Entry, FeedSpec, Format, Index, Post
from feedsmith.site import feed_sets
from feedsmith.text import plain_text, xml_safe
from feedsmith.version import __version__
from lxml import etree

GENERATOR_URI = "https://pypi.org/project/feedsmith/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ATOM = "http://www.w3.org/2005/Atom"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_MEDIA = "http://search.yahoo.com/mrss/"
_DC = "http://purl.org/dc/elements/1.1/"
_FH = "http://purl.org/syndication/history/1.0"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def _rfc822(when: datetime) -> str:
    """RFC 822 date in English whatever the locale, without touching process state."""
    return email.utils.format_datetime(when)


# feedgen formats RSS dates by switching the process locale; that races under threads.
feedgen.entry.formatRFC2822 = _rfc822
feedgen.feed.formatRFC2822 = _rfc822


class _FeedExtension(BaseExtension):  # type: ignore[misc]
    """Feed-level additions: RFC 5005 `fh:archive`, and RSS's `atom:link`s besides `self`."""

    def __init__(self) -> None:
        self.spec: FeedSpec | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"media": _MEDIA, "dc": _DC, "fh": _FH}

    # Added before the first entry, so a feed reads the same whether its entries were rendered
    # with it or spliced in afterwards (see entry_fragments).

    def extend_atom(self, feed: Any) -> Any:
        if self.spec is not None and self.spec.archive:
            _before_entries(feed, "entry", etree.Element(f"{{{_FH}}}archive"))
        return feed

    def extend_rss(self, rss: Any) -> Any:
        channel = rss.find("channel")
        if self.spec is not None and channel is not None:
            for rel, href in self.spec.links:
                _before_entries(
                    channel, "item", etree.Element(f"{{{_ATOM}}}link", href=xml_safe(href), rel=rel)
                )
            if self.spec.archive:
                _before_entries(channel, "item", etree.Element(f"{{{_FH}}}archive"))
        return rss


def _before_entries(parent: Any, tag: str, element: Any) -> None:
    first = parent.find(tag)
    if first is None:
        parent.append(element)
    else:
        first.addprevious(element)


class _EntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Puts back what feedgen cannot express: link attributes, xml:base, via, creator, image."""

    def __init__(self) -> None:
        self.post: Post | None = None
        self.entry: Entry | None = None
        self.authors: tuple[Author, ...] = ()
        self.title = ""

    def extend_atom(self, element: Any) -> Any:
        post, entry = self.post, self.entry
        assert post is not None and entry is not None
        source = xml_safe(entry.source) if entry.source else None
        for link in element.findall(f"{{{_ATOM}}}link") + element.findall("link"):
            if link.get("href") == post.url:
                link.set("rel", "alternate")
                link.set("type", "text/html")
                link.set("title", self.title)
            elif source and link.get("href") == source:
                link.set("rel", "via")
        content = element.find("content")
        if content is not None:
            content.set(_XML_BASE, xml_safe(post.url))
        if post.lang and xml_safe(post.lang):
            element.set(_XML_LANG, xml_safe(post.lang))
        if post.image:
            _image(element, post.image)
        return element

    def extend_rss(self, element: Any) -> Any:
        post, entry = self.post, self.entry
        assert post is not None and entry is not None
        if entry.source:
            etree.SubElement(element, f"{{{_ATOM}}}link", href=xml_safe(entry.source), rel="via")
        # RSS has one <author>, an e-mail address: feedgen writes one for each author with an
        # e-mail. Several authors are each a dc:creator instead (RSS validators refuse two
        # <author>s, or <author> beside dc:creator).
        several = len(self.authors) > 1
        if several:
            for written in element.findall("author"):
                element.remove(written)
        for author in self.authors:
            if several or not author.email:
                etree.SubElement(element, f"{{{_DC}}}creator").text = xml_safe(author.name)
        if post.image:
            _image(element, post.image)
        return element


def _image(element: Any, url: str) -> None:
    """jekyll-feed's two: a thumbnail for readers, media:content for RSS-to-e-mail templates
    (Mailchimp's and others read that one)."""
    etree.SubElement(element, f"{{{_MEDIA}}}thumbnail", url=xml_safe(url))
    etree.SubElement(element, f"{{{_MEDIA}}}content", medium="image", url=xml_safe(url))


def _person(author: Author) -> dict[str, str]:
    person = {"name": xml_safe(author.name)}
    if author.email:
        person["email"] = xml_safe(author.email)
    if author.uri:
        person["uri"] = xml_safe(author.uri)
    return person


def _site_author(config: Config) -> Author:
    """Atom needs an author for the feed; the site's, else the site's own name."""
    return config.author or Author(name=config.site_title or "feedsmith")


def _absolute(ref: str, config: Config) -> str:
    return permalink.site_link(ref, config.url, config.baseurl)


def feed_updated(spec: FeedSpec, index: Index) -> datetime:
    """A feed changes when its newest entry does: never the build time."""
    return max((index.posts[i].updated for i in spec.posts), default=EPOCH)


def render(
    spec: FeedSpec,
    index: Index,
    entries: Mapping[int, Entry],
    config: Config,
    fragments: Mapping[int, bytes] | None = None,
) -> tuple[bytes, tuple[str, ...]]:
    """One feed document in its format, made to fit `max_bytes`; and what fitting it took.

    `entries` must hold an Entry for every post in `spec.posts`; `fragments`, when given, their
    entries already serialised for this format and the spec's `excerpt_only` (entry_fragments).
    """
    if fragments is not None:
        body = splice(spec, index, config, [fragments[i] for i in spec.posts])
    else:
        body = _document(spec, index, entries, config, frozenset())
    limit = config.max_bytes
    if not limit or len(body) <= limit:
        return body, ()
    oldest_first = spec.posts[::-1]
    if config.max_bytes_trim == "summary" or spec.archive:  # archives must stay complete
        # The fewest oldest entries shown as summaries, then, if that is not enough, the oldest go.
        low, high = 1, len(oldest_first)
        all_summaries = _document(spec, index, entries, config, frozenset(oldest_first))
        if len(all_summaries) <= limit:
            while low < high:
                middle = (low + high) // 2
                fits = (
                    len(_document(spec, index, entries, config, frozenset(oldest_first[:middle])))
                    <= limit
                )
                low, high = (low, middle) if fits else (middle + 1, high)
            body = _document(spec, index, entries, config, frozenset(oldest_first[:low]))
            return body, (
                f"{len(body)} bytes after showing the {low} oldest entries as summaries (max_bytes {limit})",
            )
        if spec.archive:
            note = f"{len(all_summaries)} bytes even with summaries only (max_bytes {limit}); an archive keeps every entry"
            return all_summaries, (note,)
        kept, note = _drop_oldest(spec, index, entries, config, frozenset(spec.posts))
        return kept, (f"all entries as summaries and {note}",)
    kept, note = _drop_oldest(spec, index, entries, config, frozenset())
    return kept, (note,)


def _drop_oldest(
    spec: FeedSpec,
    index: Index,
    entries: Mapping[int, Entry],
    config: Config,
    summaries: frozenset[int],
) -> tuple[bytes, str]:
    """The most newest entries that fit `max_bytes` (at least none)."""
    limit = config.max_bytes
    low, high = 0, len(spec.posts)
    while low < high:
        middle = (low + high + 1) // 2
        fits = (
            len(
                _document(
                    replace(spec, posts=spec.posts[:middle]), index, entries, config, summaries
                )
            )
            <= limit
        )
        low, high = (middle, high) if fits else (low, middle - 1)
    body = _document(replace(spec, posts=spec.posts[:low]), index, entries, config, summaries)
    dropped = len(spec.posts) - low
    over = " (still over max_bytes)" if len(body) > limit else ""
    return body, f"the {dropped} oldest entries left out to fit max_bytes {limit}{over}"


def _document(
    spec: FeedSpec,
    index: Index,
    entries: Mapping[int, Entry],
    config: Config,
    summaries: frozenset[int],
) -> bytes:
    if spec.format == "json":
        return render_json(spec, index, entries, config, summaries)
    return render_feed(spec, index, entries, config, summaries)


def render_feed(
    spec: FeedSpec,
    index: Index,
    entries: Mapping[int, Entry],
    config: Config,
    summaries: frozenset[int] = frozenset(),
    *,
    updated: datetime | None = None,
) -> bytes:
    """One Atom or RSS document; the posts in `summaries` get no full content."""
    fg = _generator(spec, config, updated or feed_updated(spec, index))
    for i in spec.posts:
        excerpt_only = spec.excerpt_only or i in summaries
        _add_entry(
            fg, index.posts[i], entries[i], config, excerpt_only=excerpt_only, forced=i in summaries
        )

    body = _serialise(fg, spec.format)
    href, kind = _stylesheet(spec, config)
    if href:
        declaration, _, rest = body.partition(b"\n")
        pi = f'<?xml-stylesheet type="{kind}" href="{html.escape(href)}"?>'
        body = b"\n".join((declaration, pi.encode("utf-8"), rest))
    return body


def _stylesheet(spec: FeedSpec, config: Config) -> tuple[str | None, str]:
    """The XSLT a feed names, and its type: `stylesheet` (builtin or the site's own) by a link
    relative to the feed, so that it resolves under any host and base path, `serve` included
    (a browser applies a stylesheet only from the feed's own origin); else jekyll-feed's hook,
    the site's `feed.xslt.xml` by its URL, in Atom feeds only."""
    if config.stylesheet and spec.format in ("atom", "rss"):
        target = BUILTIN_STYLESHEET if config.stylesheet == "builtin" else config.stylesheet
        return quote(posixpath.relpath(target, posixpath.dirname(spec.path) or ".")), "text/xsl"
    if config.xslt and spec.format == "atom" and not config.stylesheet:
        return config.xslt, "text/xml"
    return None, ""


def _serialise(fg: FeedGenerator, fmt: Format) -> bytes:
    if fmt == "atom":
        return fg.atom_str(pretty=True, encoding="utf-8", xml_declaration=True)  # type: ignore[no-any-return]
    return fg.rss_str(pretty=True, encoding="utf-8", xml_declaration=True)  # type: ignore[no-any-return]


def _generator(spec: FeedSpec, config: Config, updated: datetime) -> FeedGenerator:
    """A FeedGenerator holding everything of the feed but its entries."""
    fg = FeedGenerator()
    fg.register_extension("feedsmith", _FeedExtension, _EntryExtension)
    fg.feedsmith.spec = spec
    fg.id(spec.url)
    fg.title(xml_safe(spec.title) or config.url)
    if spec.format == "rss":  # required there; in Atom, feedgen would copy it to <subtitle>
        fg.description(xml_safe(config.description) or xml_safe(spec.title) or config.url)
    if config.description:
        fg.subtitle(xml_safe(config.description))
    fg.author(_person(_site_author(config)))
    fg.updated(updated)
    fg.lastBuildDate(updated)
    fg.generator("feedsmith", version=__version__, uri=GENERATOR_URI)
    if config.lang:
        fg.language(config.lang)
    if config.icon:
        fg.icon(_absolute(config.icon, config))
    if config.logo:
        fg.logo(_absolute(config.logo, config))
    fg.link(href=spec.url, rel="self", type=MEDIA_TYPES[spec.format].split(";")[0])
    for fmt, url in spec.alternates:
        fg.link(href=url, rel="alternate", type=MEDIA_TYPES[fmt].split(";")[0])
    if spec.format == "atom":  # RSS gets these from the extension (feedgen writes only self)
        for rel, href in spec.links:
            fg.link(href=xml_safe(href), rel=rel)
    # Last, because RSS takes the channel <link> from the last link added.
    home = {"href": config.site_url, "rel": "alternate", "type": "text/html"}
    fg.link(**home, **({"hreflang": config.lang} if config.lang else {}))
    return fg


# Where entries start and where they end, in the pretty-printed documents feedgen writes.
# (A literal first, not `^` with MULTILINE: the regex engine then skips to each candidate
# instead of trying every position of a document of many megabytes.)
_ENTRY_LINE = {
    "atom": re.compile(rb"\n  <entry[ >]"),
    "rss": re.compile(rb"\n    <item[ >]"),
}
_CLOSING = {"atom": b"</feed>\n", "rss": b"  </channel>\n</rss>\n"}
_JSON_ITEM_INDENT = "    "


def entry_fragments(
    formats: Sequence[Format],
    items: Sequence[tuple[Post, Entry]],
    config: Config,
    *,
    excerpt_only: bool,
) -> dict[Format, list[bytes]]:
    """Each entry serialised once per format, exactly as it stands inside every feed of it.

    An entry shown by the site feed, its category's and three tag feeds is rendered here once
    and spliced into each of them (`splice`), instead of being built and serialised five times.
    Atom and RSS are written from one FeedGenerator: feedgen keeps both from the same calls.
    """
    fragments: dict[Format, list[bytes]] = {}
    if "json" in formats:
        author = _site_author(config)
        fragments["json"] = [
            _indent_json(_json_item(post, entry, author, excerpt_only=excerpt_only, forced=False))
            for post, entry in items
        ]
    xml = [fmt for fmt in formats if fmt != "json"]
    if not xml:
        return fragments
    if not items:
        return {**fragments, **{fmt: [] for fmt in xml}}
    spec = FeedSpec(
        kind="site",
        name=None,
        format="rss",  # the head is cut off; an RSS head is valid for both
        path="",
        url=config.site_url,
        title="x",
        posts=(),
        total=0,
    )
    fg = _generator(spec, config, EPOCH)
    for post, entry in items:
        _add_entry(fg, post, entry, config, excerpt_only=excerpt_only)
    for fmt in xml:
        document = _serialise(fg, fmt)
        starts = [match.start() + 1 for match in _ENTRY_LINE[fmt].finditer(document)]
        bounds = [*starts, document.rindex(_CLOSING[fmt])]
        fragments[fmt] = [document[bounds[n] : bounds[n + 1]] for n in range(len(starts))]
    return fragments


def splice(spec: FeedSpec, index: Index, config: Config, fragments: Sequence[bytes]) -> bytes:
    """A feed document from its head and its entries' fragments: the bytes render_feed gives."""
    if spec.format == "json":
        text = _json_head(spec, config)
        items = ",\n".join(fragment.decode("utf-8") for fragment in fragments)
        listed = f"[\n{items}\n  ]" if fragments else "[]"
        return (text[: -len("[]\n}")] + listed + "\n}\n").encode("utf-8")
    head = render_feed(
        replace(spec, posts=()), index, {}, config, updated=feed_updated(spec, index)
    )
    at = head.rindex(_CLOSING[spec.format])
    return head[:at] + b"".join(fragments) + head[at:]


def _indent_json(item: dict[str, Any]) -> bytes:
    text = json.dumps(item, ensure_ascii=False, indent=2)
    return "\n".join(_JSON_ITEM_INDENT + line for line in text.split("\n")).encode("utf-8")


def _add_entry(
    fg: FeedGenerator,
    post: Post,
    entry: Entry,
    config: Config,
    *,
    excerpt_only: bool,
    forced: bool = False,
) -> None:
    fe = fg.add_entry(order="append")
    title = entry_title(post, entry)
    fe.guid(post.id, permalink=post.id == post.url)  # also the Atom id
    fe.title(title)
    fe.link(href=post.url, rel="alternate")
    if entry.source:
        fe.link(href=xml_safe(entry.source), rel="via")
    fe.published(post.date)
    fe.updated(post.updated)
    authors = _entry_authors(post, config)
    if authors:
        fe.author([_person(author) for author in authors])
    if entry.summary:
        fe.summary(xml_safe(entry.summary))  # also the RSS description
    if _shows_content(post, entry, excerpt_only=excerpt_only, forced=forced):
        fe.content(xml_safe(entry.content), type="html")
    names = list(dict.fromkeys([*post.categories, *post.tags]))
    if names:
        fe.category([{"term": xml_safe(name)} for name in names])
    ext = fe.feedsmith
    ext.post, ext.entry, ext.authors, ext.title = post, entry, authors, title


def _entry_authors(post: Post, config: Config) -> tuple[Author, ...]:
    """The post's authors, else the site's (as jekyll-feed), else none."""
    if post.authors:
        return post.authors
    return (config.author,) if config.author is not None else ()


def entry_title(post: Post, entry: Entry) -> str:
    """The title, else one from the body, the slug or the date: never empty (feeds need one)."""
    for candidate in (post.title, entry.title, post.slug):
        title = plain_text(candidate)  # the slug too: a file name can hold markup
        if title:
            return title
    return post.date.date().isoformat()


def _shows_content(post: Post, entry: Entry, *, excerpt_only: bool, forced: bool) -> bool:
    """Full content unless the feed, the post (`feed: {excerpt_only}`) or max_bytes says no."""
    own = post.excerpt_only if post.excerpt_only is not None else excerpt_only
    return bool(entry.content) and not own and not forced


def _iso(when: datetime) -> str:
    return when.isoformat()


def render_json(
    spec: FeedSpec,
    index: Index,
    entries: Mapping[int, Entry],
    config: Config,
    summaries: frozenset[int] = frozenset(),
) -> bytes:
    """A JSON Feed 1.1 document: the same entries and content model as the Atom feed."""
    author = _site_author(config)
    feed = _json_feed(spec, config)
    feed["items"] = [
        _json_item(
            index.posts[i],
            entries[i],
            author,
            excerpt_only=spec.excerpt_only,
            forced=i in summaries,
        )
        for i in spec.posts
    ]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json_feed(spec: FeedSpec, config: Config) -> dict[str, Any]:
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": xml_safe(spec.title) or config.url,
        "home_page_url": config.site_url,
        "feed_url": spec.url,
    }
    if config.description:
        feed["description"] = xml_safe(config.description)
    # Atom's icon is the small square one (JSON Feed's favicon); its logo the larger image.
    if config.logo:
        feed["icon"] = _absolute(config.logo, config)
    if config.icon:
        feed["favicon"] = _absolute(config.icon, config)
    feed["authors"] = [_json_person(_site_author(config))]
    if config.lang:
        feed["language"] = config.lang
    hubs = [href for rel, href in spec.links if rel == "hub"]
    if hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in hubs]
    return feed


def _json_head(spec: FeedSpec, config: Config) -> str:
    """The JSON Feed document with an empty item list, as json.dumps writes it."""
    feed = _json_feed(spec, config)
    feed["items"] = []
    return json.dumps(feed, ensure_ascii=False, indent=2)


def _json_item(
    post: Post, entry: Entry, site_author: Author, *, excerpt_only: bool, forced: bool
) -> dict[str, Any]:
    item: dict[str, Any] = {"id": post.id, "url": post.url}
    if entry.source:
        item["external_url"] = xml_safe(entry.source)
    item["title"] = entry_title(post, entry)
    if _shows_content(post, entry, excerpt_only=excerpt_only, forced=forced):
        item["content_html"] = xml_safe(entry.content)
    else:
        item["content_text"] = xml_safe(entry.summary)
    if entry.summary:
        item["summary"] = xml_safe(entry.summary)
    if post.image:
        item["image"] = post.image
    item["date_published"] = _iso(post.date)
    item["date_modified"] = _iso(post.updated)
    item["authors"] = [_json_person(author) for author in post.authors or (site_author,)]
    names = list(dict.fromkeys([*post.categories, *post.tags]))
    if names:
        item["tags"] = [xml_safe(name) for name in names]
    if post.lang:
        item["language"] = post.lang
    return item


def _json_person(author: Author) -> dict[str, str]:
    person = {"name": xml_safe(author.name)}
    if author.uri:
        person["url"] = xml_safe(author.uri)
    return person


OPML_FORMATS: tuple[Format, ...] = ("atom", "rss", "json")  # preference when a feed lacks one


def opml_feeds(specs: Sequence[FeedSpec], preferred: Format) -> list[FeedSpec]:
    """One spec per feed, the one OPML lists: in `preferred` format, else the feed's first
    format in OPML_FORMATS order. Archives are never listed."""
    chosen: dict[tuple[str, str | None, str | None], FeedSpec] = {}
    order = (preferred, *OPML_FORMATS)
    for spec in specs:
        if spec.archive:
            continue
        key = (spec.kind, spec.name, spec.collection)
        held = chosen.get(key)
        if held is None or order.index(spec.format) < order.index(held.format):
            chosen[key] = spec
    return list(chosen.values())


_OPML_GROUPS = {
    "category": "Categories",
    "tag": "Tags",
    "author": "Authors",
    "collection": "Collections",
}


def feed_group(spec: FeedSpec) -> str:
    """Which list a feed is shown in for people: site, category, tag or collection (a
    collection's category feeds are with their collection)."""
    return "collection" if spec.collection is not None else spec.kind


def feed_label(spec: FeedSpec) -> str:
    """What a feed is called in a list of its group: `emnews`, `docs`, `docs/guides`."""
    if spec.name is None:
        return ""
    if spec.collection is not None and spec.kind == "category":
        return f"{spec.collection}/{spec.name}"
    return spec.name


def opml_title(spec: FeedSpec, config: Config) -> str:
    """How OPML names a feed: distinct for the site, a category and a tag of one name."""
    site = config.site_title
    if spec.name is None:
        return site
    if spec.collection is not None and spec.kind == "category":
        return f"{site} | {spec.collection} category {spec.name}"
    return f"{site} | {spec.kind} {spec.name}"


def render_opml(specs: Sequence[FeedSpec], config: Config) -> bytes:
    """OPML 2.0: one outline per feed (not one per format: importing it subscribes to each
    feed once), the site feed first, then the categories and the tags, each a folder."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = xml_safe(
        f"{config.title} feeds" if config.title else "feeds"
    )
    if config.author is not None:
        etree.SubElement(head, "ownerName").text = xml_safe(config.author.name)
    body = etree.SubElement(root, "body")
    folders: dict[str, Any] = {}
    for spec in opml_feeds(specs, config.opml_format):
        parent = body
        group = feed_group(spec)
        if group in _OPML_GROUPS:
            if group not in folders:
                label = _OPML_GROUPS[group]
                folders[group] = etree.SubElement(body, "outline", text=label, title=label)
            parent = folders[group]
        text = xml_safe(feed_label(spec) or opml_title(spec, config))
        outline = etree.SubElement(parent, "outline", type="rss", text=text)
        outline.set("title", xml_safe(opml_title(spec, config)))
        if spec.format == "rss":
            outline.set("version", "RSS2")  # OPML 2.0 names no version for Atom or JSON Feed
        outline.set("xmlUrl", spec.url)
        outline.set("htmlUrl", config.site_url)
    return etree.tostring(root, pretty_print=True, encoding="utf-8", xml_declaration=True)


def etag_of(body: bytes) -> str:
    """A strong validator from the bytes alone: equal bytes, equal ETag, on every machine."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def link_tag(spec: FeedSpec) -> str:
    """The feed's autodiscovery tag: `<link rel="alternate" type title href>`."""
    media = MEDIA_TYPES[spec.format].split(";")[0]
    title = html.escape(f"{spec.title} ({spec.format.upper()})")
    return f'<link rel="alternate" type="{media}" title="{title}" href="{html.escape(spec.url)}">'


def render_links(specs: Sequence[FeedSpec]) -> str:
    """Autodiscovery `<link rel="alternate">` tags: the site feeds, then each category and tag."""
    lines: list[str] = []
    current: tuple[str, str | None, str | None] | None = None
    for spec in specs:
        if spec.archive:
            continue
        if (spec.kind, spec.name, spec.collection) != current:
            current = (spec.kind, spec.name, spec.collection)
            label = "site" if spec.name is None else f"{feed_group(spec)} {feed_label(spec)}"
            lines.append(f"<!-- {html.escape(label).replace('--', '- -')} -->")
        lines.append(link_tag(spec))
    return "\n".join(lines) + "\n"


def _raw(markup: str) -> str:
    """Link tags kept from Liquid: a title may contain `{{ … }}` (escaped so raw cannot end)."""
    return "{% raw %}" + markup.replace("{%", "&#123;%") + "{% endraw %}"


def render_links_include(specs: Sequence[FeedSpec]) -> str:
    """A Jekyll include (`{% include feedsmith-links.html %}` in the `<head>`): the site feeds
    always, and a category's or tag's feeds on its own page (`page.category` / `page.tag`)."""
    # Each feed's formats in one pass: a name by name scan of every feed would be quadratic
    # (a site of 20,000 tags has 60,000 feeds).
    sets = [formats for formats in feed_sets(specs) if formats[0].collection is None]
    out = [
        "{%- comment -%} Feed autodiscovery, written by feedsmith: do not edit. {%- endcomment -%}"
    ]
    site = [spec for formats in sets if formats[0].kind == "site" for spec in formats]
    out.append(_raw("\n".join(link_tag(spec) for spec in site)))
    for kind, variable in (("category", "page.category"), ("tag", "page.tag")):
        cases = []
        for formats in sets:
            name = formats[0].name
            if formats[0].kind != kind or name is None:
                continue
            tags = "\n".join(link_tag(spec) for spec in formats)
            # Compared URL-encoded: Liquid strings have no escapes, and a name may hold quotes,
            # `%}` or `{{`; `url_encode` (Ruby's CGI.escape) is Python's quote_plus.
            cases.append(f'{{%- when "{quote_plus(name)}" %}}\n{_raw(tags)}')
        if cases:
            out.append(f"{{%- assign feedsmith_name = {variable} | url_encode -%}}")
            out.append("{%- case feedsmith_name -%}\n" + "\n".join(cases) + "\n{%- endcase %}")
    return "\n".join(out) + "\n"
