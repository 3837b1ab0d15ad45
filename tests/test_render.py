"""render.py: every feedgen trap its docstring lists, pinned on small sites built in tmp_path.

Each test fails if the matching workaround in render.py is removed. Feeds are checked with
lxml's strict parser (XPath) and with feedparser (`parse_feed` fails on bozo).
"""

from __future__ import annotations

import json
import locale
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import feedgen.entry
import feedgen.feed
import feedgen.util
import feedparser
import pytest
from feedsmith.config import Config, load_config
from feedsmith.model import Author, Entry, Post
from feedsmith.outputs import entries_of
from feedsmith.pipeline import build
from feedsmith.render import render_feed
from feedsmith.site import Site, read_site
from lxml import etree

from tests.conftest import NOW, SITE_TOML, BuildFn, parse_feed, write_post

ATOM = "http://www.w3.org/2005/Atom"
NS = {
    "a": ATOM,
    "atom": ATOM,
    "media": "http://search.yahoo.com/mrss/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


def load(path: Path) -> etree._Element:
    """A written feed, well-formed for feedparser (bozo false) and for lxml's strict parser."""
    parse_feed(path)
    return etree.fromstring(path.read_bytes())


def xpath(root: etree._Element, expression: str) -> list[str]:
    """Text or attribute values an XPath selects, as plain strings."""
    return [str(value) for value in root.xpath(expression, namespaces=NS)]


def feed_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.suffix in (".xml", ".rss"))


# --- entry order -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "titles"),
    [
        pytest.param("feed.xml", "/a:feed/a:entry/a:title/text()", id="atom"),
        pytest.param("feed.rss", "/rss/channel/item/title/text()", id="rss"),
    ],
)
def test_entries_are_newest_first(site: Path, run_build: BuildFn, path: str, titles: str) -> None:
    """Entries follow the index (newest first), not feedgen's default of prepending each one."""
    write_post(site, "a.md", "title: Third\ndate: 2024-01-03")
    write_post(site, "b.md", "title: First\ndate: 2024-01-01")
    write_post(site, "c.md", "title: Second\ndate: 2024-01-02")
    _, out = run_build(site)
    assert xpath(load(out / path), titles) == ["Third", "Second", "First"]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_render_feed_keeps_the_order_of_spec_posts(site: Path, fmt: str) -> None:
    """render_feed writes entries exactly in `spec.posts` order, neither reversed nor sorted."""
    for day in (1, 2, 3):
        write_post(site, f"2024-01-0{day}-p{day}.md", f"title: P{day}")
    config = load_config(site)
    data = read_site(config, now=NOW)
    entries = entries_of(data, range(len(data.index.posts)))
    spec = next(s for s in data.specs if s.kind == "site" and s.format == fmt)
    shuffled = replace(spec, posts=(1, 2, 0))
    root = etree.fromstring(render_feed(shuffled, data.index, entries, config))
    ids = "/a:feed/a:entry/a:id/text()" if fmt == "atom" else "/rss/channel/item/guid/text()"
    assert xpath(root, ids) == [data.index.posts[i].id for i in (1, 2, 0)]


# --- links -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["feed.rss", "feed/news.rss", "feed/by_tag/t.rss"])
def test_rss_channel_link_is_the_site_home_page(site: Path, run_build: BuildFn, path: str) -> None:
    """The channel <link> is the site (with baseurl), not the feed's self or alternate URL."""
    write_post(site, "2024-01-02-post.md", "title: Post\ncategories: news\ntags: t")
    _, out = run_build(site, baseurl="/blog")
    assert xpath(load(out / path), "/rss/channel/link/text()") == ["https://example.org/blog/"]


def test_atom_entry_link_keeps_type_and_title(site: Path, run_build: BuildFn) -> None:
    """feedgen drops every link attribute but href; the alternate link gets type and title back."""
    write_post(site, "2024-01-02-post.md", "title: Hello World")
    _, out = run_build(site)
    links = load(out / "feed.xml").xpath("/a:feed/a:entry/a:link[@rel='alternate']", namespaces=NS)
    assert [dict(link.attrib) for link in links] == [
        {
            "href": "https://example.org/2024/01/02/post.html",
            "rel": "alternate",
            "type": "text/html",
            "title": "Hello World",
        }
    ]


def test_atom_content_xml_base_is_the_entry_link(site: Path, run_build: BuildFn) -> None:
    """Each entry's <content> carries xml:base = its own link, so relative URLs resolve there."""
    write_post(site, "2024-01-02-one.md", "title: One\ncategories: news", "See [x](../x/).\n")
    write_post(site, "2024-01-03-two.md", "title: Two")
    _, out = run_build(site, permalink="pretty")
    entries = load(out / "feed.xml").xpath("/a:feed/a:entry", namespaces=NS)
    assert len(entries) == 2
    for entry in entries:
        link = entry.find(f"{{{ATOM}}}link[@rel='alternate']").get("href")
        assert entry.find(f"{{{ATOM}}}content").get(XML_BASE) == link


@pytest.mark.parametrize(
    ("path", "via"),
    [
        pytest.param("feed.xml", "/a:feed/a:entry/a:link[@rel='via']/@href", id="atom"),
        pytest.param("feed.rss", "/rss/channel/item/atom:link[@rel='via']/@href", id="rss"),
    ],
)
def test_trailing_source_url_is_a_via_link(
    site: Path, run_build: BuildFn, path: str, via: str
) -> None:
    """A trailing bare URL becomes rel="via": an Atom link, an atom:link inside the RSS item."""
    write_post(
        site, "2024-01-02-post.md", "title: Post", "Text.\n\n<http://source.example.com/a>\n"
    )
    _, out = run_build(site)
    assert xpath(load(out / path), via) == ["http://source.example.com/a"]


def test_rss_item_link_is_the_post_not_its_source(site: Path, run_build: BuildFn) -> None:
    """feedgen takes the item <link> from the last alternate link: the via link must not be one."""
    write_post(
        site, "2024-01-02-post.md", "title: Post", "Text.\n\n<http://source.example.com/a>\n"
    )
    _, out = run_build(site)
    assert xpath(load(out / "feed.rss"), "/rss/channel/item/link/text()") == [
        "https://example.org/2024/01/02/post.html"
    ]


@pytest.mark.parametrize(
    ("path", "thumbnail"),
    [
        pytest.param("feed.xml", "/a:feed/a:entry/media:thumbnail/@url", id="atom"),
        pytest.param("feed.rss", "/rss/channel/item/media:thumbnail/@url", id="rss"),
    ],
)
def test_image_is_a_media_thumbnail(
    site: Path, run_build: BuildFn, path: str, thumbnail: str
) -> None:
    """Front matter `image:` becomes an absolute media:thumbnail in both formats."""
    write_post(site, "2024-01-02-post.md", "title: Post\nimage: /img/cover.png")
    _, out = run_build(site)
    assert xpath(load(out / path), thumbnail) == ["https://example.org/img/cover.png"]


# --- authors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("author", "rss_author", "creator"),
    [
        pytest.param("author: Ann", [], ["Ann"], id="name-only"),
        pytest.param(
            "author: {name: Bob, email: bob@example.org}",
            ["bob@example.org (Bob)"],
            [],
            id="with-email",
        ),
    ],
)
def test_rss_item_author_is_author_with_email_else_dc_creator(
    site: Path, run_build: BuildFn, author: str, rss_author: list[str], creator: list[str]
) -> None:
    """RSS <author> needs an e-mail; a name alone is written as dc:creator instead of lost."""
    write_post(site, "2024-01-02-post.md", f"title: Post\n{author}")
    _, out = run_build(site)
    root = load(out / "feed.rss")
    assert xpath(root, "/rss/channel/item/author/text()") == rss_author
    assert xpath(root, "/rss/channel/item/dc:creator/text()") == creator


@pytest.mark.parametrize(
    ("site_author", "rss_author", "creator"),
    [
        pytest.param("Site Owner", [], ["Site Owner"], id="name-only"),
        pytest.param(
            {"name": "Site Owner", "email": "owner@example.org"},
            ["owner@example.org (Site Owner)"],
            [],
            id="with-email",
        ),
    ],
)
def test_rss_item_of_a_post_naming_no_author_credits_the_site_author(
    site: Path,
    run_build: BuildFn,
    site_author: object,
    rss_author: list[str],
    creator: list[str],
) -> None:
    """The site `author` is used where a post names none, in RSS as in Atom."""
    write_post(site, "2024-01-02-post.md", "title: Post")
    _, out = run_build(site, author=site_author)
    assert xpath(load(out / "feed.xml"), "/a:feed/a:entry/a:author/a:name/text()") == ["Site Owner"]
    root = load(out / "feed.rss")
    assert xpath(root, "/rss/channel/item/author/text()") == rss_author
    assert xpath(root, "/rss/channel/item/dc:creator/text()") == creator


def test_every_author_of_a_post_is_in_every_format(site: Path, run_build: BuildFn) -> None:
    """`author: [...]` credits each author: Atom <author> each, RSS dc:creator each (RSS has
    room for one <author>, an e-mail), JSON Feed `authors`; feedparser sees all of them."""
    write_post(
        site,
        "2024-01-02-post.md",
        """
        title: Post
        author:
          - matt-dole
          - name: Roop
            email: roop@example.org
          - name: Kim
            uri: https://kim.example.org/
        """,
    )
    _, out = run_build(site, author="Site Owner")
    atom = load(out / "feed.xml")
    assert xpath(atom, "/a:feed/a:entry/a:author/a:name/text()") == ["matt-dole", "Roop", "Kim"]
    assert xpath(atom, "/a:feed/a:entry/a:author/a:email/text()") == ["roop@example.org"]
    assert xpath(atom, "/a:feed/a:entry/a:author/a:uri/text()") == ["https://kim.example.org/"]
    parsed = parse_feed(out / "feed.xml").entries[0]
    assert [a.get("name") for a in parsed.authors] == ["matt-dole", "Roop", "Kim"]
    rss = load(out / "feed.rss")
    assert xpath(rss, "/rss/channel/item/author/text()") == []
    assert xpath(rss, "/rss/channel/item/dc:creator/text()") == ["matt-dole", "Roop", "Kim"]
    rss_entry = parse_feed(out / "feed.rss").entries[0]
    assert [a.get("name") for a in rss_entry.authors] == ["matt-dole", "Roop", "Kim"]
    document = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    assert document["items"][0]["authors"] == [
        {"name": "matt-dole"},
        {"name": "Roop"},
        {"name": "Kim", "url": "https://kim.example.org/"},
    ]


# --- RFC 822 dates -----------------------------------------------------------------------

NON_ENGLISH_LOCALES = ("zh_CN.UTF-8", "de_DE.UTF-8", "fr_FR.UTF-8", "ja_JP.UTF-8")


@pytest.fixture
def non_english_time_locale() -> Iterator[str]:
    """LC_TIME switched to an installed non-English locale for the test, then restored."""
    saved = locale.setlocale(locale.LC_TIME)
    names: list[str] = []
    for name in NON_ENGLISH_LOCALES:
        names += [name, locale.locale_alias.get(name.split(".")[0].lower(), name)]
    for name in dict.fromkeys(names):
        try:
            locale.setlocale(locale.LC_TIME, name)
        except locale.Error:
            continue
        if datetime(2024, 3, 5).strftime("%a %b") != "Tue Mar":
            break
        locale.setlocale(locale.LC_TIME, saved)
    else:
        pytest.skip(f"no non-English locale installed (tried {', '.join(dict.fromkeys(names))})")
    try:
        yield name
    finally:
        locale.setlocale(locale.LC_TIME, saved)


def test_rss_dates_are_english_under_a_non_english_locale(
    site: Path, run_build: BuildFn, non_english_time_locale: str
) -> None:
    """pubDate and lastBuildDate are RFC 822 in English, and the process locale is left alone."""
    write_post(site, "post.md", "title: Post\ndate: 2024-03-05 09:30:00 +0800")
    _, out = run_build(site)
    root = load(out / "feed.rss")
    expected = ["Tue, 05 Mar 2024 09:30:00 +0800"]
    assert xpath(root, "/rss/channel/item/pubDate/text()") == expected
    assert xpath(root, "/rss/channel/lastBuildDate/text()") == expected
    assert locale.setlocale(locale.LC_TIME) == non_english_time_locale


def test_feedgen_rfc2822_formatter_is_never_called(
    site: Path, run_build: BuildFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """feedgen.util.formatRFC2822 swaps the process-wide locale; render.py must not use it."""
    original = feedgen.util.formatRFC2822

    def refuse(date: datetime) -> str:
        raise AssertionError(f"feedgen's formatRFC2822 called for {date}")

    for module in (feedgen.util, feedgen.entry, feedgen.feed):
        if getattr(module, "formatRFC2822", None) is original:
            monkeypatch.setattr(module, "formatRFC2822", refuse)
    write_post(site, "2024-01-02-post.md", "title: Post")
    _, out = run_build(site)
    assert xpath(load(out / "feed.rss"), "/rss/channel/item/pubDate/text()") == [
        "Tue, 02 Jan 2024 00:00:00 +0800"
    ]


def test_rendering_never_switches_the_process_locale(
    site: Path, run_build: BuildFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building RSS feeds calls locale.setlocale not once (it is not thread-safe)."""
    write_post(site, "2024-01-02-post.md", "title: Post\ntags: t")
    calls: list[tuple[object, ...]] = []
    real = locale.setlocale

    def spy(*args: object) -> str:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(locale, "setlocale", spy)
    _, out = run_build(site)
    assert (out / "feed/by_tag/t.rss").is_file()
    assert calls == []


# --- characters XML forbids --------------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "body"),
    [
        pytest.param('title: "Ti\\x01tle\\x1f"', "Body.\n", id="title"),
        pytest.param('title: Post\nbad: "\\x02"', "Bo\x01d\x0by \x1f{{ page.bad }}.\n", id="body"),
        pytest.param('title: Post\ntags: ["ta\\x03g"]', "Body.\n", id="tag"),
        pytest.param('title: Post\ncategories: ["ca\\x04t"]', "Body.\n", id="category"),
        pytest.param('title: Post\nauthor: "A\\x05nn"', "Body.\n", id="author"),
        pytest.param(
            'title: Post\nauthor: {name: Ann, email: "a\\x06@example.org"}', "Body.\n", id="email"
        ),
        pytest.param('title: Post\nexcerpt: "Ex\\x07cerpt"', "Body.\n", id="excerpt"),
    ],
)
def test_control_characters_in_a_post_give_well_formed_feeds(
    site: Path, run_build: BuildFn, front: str, body: str
) -> None:
    """C0 controls in front matter (YAML escapes) or the body never make a feed ill-formed."""
    write_post(site, "2024-01-02-post.md", front, body)
    report, out = run_build(site)
    assert report.posts_published == 1
    files = feed_files(out)
    assert files
    for path in files:
        load(path)
    assert len(load(out / "feed.xml").xpath("/a:feed/a:entry", namespaces=NS)) == 1


def test_post_file_name_that_is_not_utf8_gives_well_formed_feeds(
    site: Path, run_build: BuildFn
) -> None:
    """A Latin-1 file name decodes to a lone surrogate (title, URL, {{ page.name }}): no crash."""
    name = os.fsdecode(b"2024-01-02-caf\xe9.md")
    try:
        write_post(site, name, "tags: [t]", "Name: {{ page.name }}\n")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses file names that are not UTF-8")
    write_post(site, "2024-01-03-fine.md", "title: Fine\ntags: [t]")
    _, out = run_build(site)
    for path in feed_files(out):
        load(path)
    assert "Fine" in xpath(load(out / "feed.xml"), "/a:feed/a:entry/a:title/text()")


BAD = "A\x01\x0b\x1f\ud800\udfffZ"  # C0 controls and lone surrogates around "A…Z"
Change = Callable[[Post, Entry], tuple[Post, Entry]]
FIELDS: dict[str, Change] = {
    "post_title": lambda p, e: (replace(p, title=BAD), e),
    "body_title": lambda p, e: (replace(p, title=""), replace(e, title=BAD)),
    "content": lambda p, e: (p, replace(e, content=f"<p>{BAD}</p>")),
    "summary": lambda p, e: (p, replace(e, summary=BAD)),
    "source": lambda p, e: (p, replace(e, source=f"https://source.example.com/{BAD}")),
    "tag": lambda p, e: (replace(p, tags=(BAD,)), e),
    "category": lambda p, e: (replace(p, categories=(BAD,)), e),
    "author_name": lambda p, e: (replace(p, authors=(Author(name=BAD),)), e),
    "author_email": lambda p, e: (
        replace(p, authors=(Author(name="Ann", email=f"{BAD}@x.org"),)),
        e,
    ),
}


@pytest.fixture
def one_post(site: Path) -> tuple[Config, Site, dict[int, Entry]]:
    """A read site with one post and its rendered entry, for calling render_feed directly."""
    write_post(site, "2024-01-02-post.md", "title: Post\nauthor: Ann\ntags: t")
    config = load_config(site)
    data = read_site(config, now=NOW)
    entries = entries_of(data, [0])
    assert not entries[0].problems
    return config, data, entries


@pytest.mark.parametrize("fmt", ["atom", "rss"])
@pytest.mark.parametrize("field", FIELDS)
def test_render_feed_drops_characters_xml_forbids(
    one_post: tuple[Config, Site, dict[int, Entry]], field: str, fmt: str
) -> None:
    """Controls and lone surrogates in any post or entry string are dropped, the rest kept."""
    config, data, entries = one_post
    post, entry = FIELDS[field](data.index.posts[0], entries[0])
    index = replace(data.index, posts=(post,))
    spec = next(s for s in data.specs if s.kind == "site" and s.format == fmt)
    body = render_feed(spec, index, {0: entry}, config)
    etree.fromstring(body)
    assert not feedparser.parse(body).bozo
    assert b"AZ" in body


# --- feed dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "updated", "expected"),
    [
        pytest.param(
            "feed.xml", "/a:feed/a:updated/text()", "2024-03-01T10:00:00+08:00", id="atom"
        ),
        pytest.param(
            "feed.rss",
            "/rss/channel/lastBuildDate/text()",
            "Fri, 01 Mar 2024 10:00:00 +0800",
            id="rss",
        ),
    ],
)
def test_feed_updated_is_the_latest_entry_update(
    site: Path, run_build: BuildFn, path: str, updated: str, expected: str
) -> None:
    """<updated> / lastBuildDate come from the entries (here an older post's later edit)."""
    write_post(site, "2024-01-02-old.md", "title: Old\nlast_modified_at: 2024-03-01 10:00:00 +0800")
    write_post(site, "2024-01-05-new.md", "title: New")
    _, out = run_build(site)
    assert xpath(load(out / path), updated) == [expected]


def test_build_time_never_reaches_the_feeds(site: Path, tmp_path: Path) -> None:
    """Two builds a year apart (and at different wall-clock moments) write identical bytes."""
    write_post(site, "2024-01-02-post.md", "title: Post\ncategories: news\ntags: t")
    outputs = []
    for n, now in enumerate((NOW, NOW + timedelta(days=400, seconds=7))):
        out = tmp_path / f"out{n}"
        build(load_config(site, output=out), now=now)
        outputs.append({str(p.relative_to(out)): p.read_bytes() for p in feed_files(out)})
    assert len(outputs[0]) == 6
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(
    ("path", "updated", "expected"),
    [
        pytest.param(
            "feed.xml", "/a:feed/a:updated/text()", "1970-01-01T00:00:00+00:00", id="atom"
        ),
        pytest.param(
            "feed.rss",
            "/rss/channel/lastBuildDate/text()",
            "Thu, 01 Jan 1970 00:00:00 +0000",
            id="rss",
        ),
    ],
)
def test_empty_site_gives_valid_feeds_dated_1970(
    site: Path, run_build: BuildFn, path: str, updated: str, expected: str
) -> None:
    """No posts, and asked for anyway (allow_empty): the site feeds still exist, parse cleanly
    and are dated at the epoch."""
    out = site.parent / "out"
    build(load_config(site, output=out), now=NOW, allow_empty=True)
    root = load(out / path)
    assert xpath(root, updated) == [expected]
    assert not root.xpath("//a:entry | //item", namespaces=NS)


# --- entry fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "permalink"),
    [
        pytest.param("", "false", id="jekyll-id"),
        pytest.param("id: https://example.org/2024/01/02/post.html", "true", id="the-link"),
        pytest.param("id: /2024/01/02/post.html", "true", id="site-relative-link"),
        pytest.param("id: https://example.org/elsewhere.html", "false", id="another-url"),
        pytest.param("id: urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "false", id="urn"),
    ],
)
def test_guid_is_permalink_only_when_the_id_is_the_link(
    site: Path, run_build: BuildFn, front: str, permalink: str
) -> None:
    """isPermaLink="true" exactly when the entry id (front matter `id`) equals the post URL."""
    write_post(site, "2024-01-02-post.md", f"title: Post\n{front}")
    _, out = run_build(site)
    assert xpath(load(out / "feed.rss"), "/rss/channel/item/guid/@isPermaLink") == [permalink]


FULL_AND_SUMMARY = [
    pytest.param(
        "feed.xml", "/a:feed/a:entry/a:content", "/a:feed/a:entry/a:summary/text()", id="atom"
    ),
    pytest.param(
        "feed.rss",
        "/rss/channel/item/content:encoded",
        "/rss/channel/item/description/text()",
        id="rss",
    ),
]


@pytest.mark.parametrize(("path", "content", "summary"), FULL_AND_SUMMARY)
def test_excerpt_only_config_keeps_summaries_and_drops_content(
    site: Path, run_build: BuildFn, path: str, content: str, summary: str
) -> None:
    """`excerpt_only: true` leaves content/content:encoded out of every entry, summary stays."""
    write_post(site, "2024-01-02-post.md", "title: Post\nexcerpt: Short.", "Long body.\n")
    _, out = run_build(site, excerpt_only=True)
    root = load(out / path)
    assert xpath(root, content) == []
    assert xpath(root, summary) == ["Short."]


@pytest.mark.parametrize(("path", "content", "summary"), FULL_AND_SUMMARY)
def test_post_feed_excerpt_only_drops_only_its_own_content(
    site: Path, run_build: BuildFn, path: str, content: str, summary: str
) -> None:
    """A post's `feed: {excerpt_only: true}` hides its content; other posts keep theirs."""
    write_post(site, "2024-01-02-short.md", "title: Short\nfeed:\n  excerpt_only: true", "Lead.\n")
    write_post(site, "2024-01-01-full.md", "title: Full", "Everything.\n")
    _, out = run_build(site)
    root = load(out / path)
    assert xpath(root, f"{content}/text()") == ["<p>Everything.</p>"]
    assert xpath(root, summary) == ["Lead.", "Everything."]


@pytest.mark.parametrize(("path", "content", "summary"), FULL_AND_SUMMARY)
def test_post_feed_excerpt_only_false_overrides_the_site_setting(
    site: Path, run_build: BuildFn, path: str, content: str, summary: str
) -> None:
    """A post's `feed: {excerpt_only: false}` shows its content in an excerpt-only site."""
    write_post(site, "2024-01-02-full.md", "title: Full\nfeed:\n  excerpt_only: false", "All.\n")
    _, out = run_build(site, excerpt_only=True)
    assert len(xpath(load(out / path), content)) == 1


@pytest.mark.parametrize(("limit", "expected"), [(1, 1), (3, 3), (5, 5), (50, 5), (0, 5)])
@pytest.mark.parametrize("path", ["feed.xml", "feed.rss", "feed/c.xml", "feed/by_tag/t.rss"])
def test_posts_limit_keeps_the_newest_entries_of_every_feed(
    site: Path, run_build: BuildFn, path: str, limit: int, expected: int
) -> None:
    """`posts_limit` caps each feed at the newest N entries; 0 means all of them."""
    for day in range(1, 6):
        write_post(site, f"2024-01-0{day}-p{day}.md", f"title: P{day}\ncategories: c\ntags: t")
    _, out = run_build(site, posts_limit=limit)
    titles = "//a:entry/a:title/text() | //item/title/text()"
    assert xpath(load(out / path), titles) == [f"P{day}" for day in range(5, 5 - expected, -1)]


@pytest.mark.parametrize("lang", ["zh-CN", "de", "en-US"])
def test_feed_language_comes_from_config_lang(site: Path, run_build: BuildFn, lang: str) -> None:
    """Config `lang` is the Atom root's xml:lang and the RSS channel's <language>."""
    write_post(site, "2024-01-02-post.md", "title: Post")
    _, out = run_build(site, lang=lang)
    assert load(out / "feed.xml").get(XML_LANG) == lang
    assert xpath(load(out / "feed.rss"), "/rss/channel/language/text()") == [lang]


def test_feed_without_lang_declares_no_language(site: Path, run_build: BuildFn) -> None:
    """No `lang`: no xml:lang and no <language> rather than a guessed one."""
    write_post(site, "2024-01-02-post.md", "title: Post")
    _, out = run_build(site, lang="")
    assert load(out / "feed.xml").get(XML_LANG) is None
    assert xpath(load(out / "feed.rss"), "/rss/channel/language") == []


@pytest.mark.parametrize(
    ("path", "terms"),
    [
        pytest.param("feed.xml", "/a:feed/a:entry/a:category/@term", id="atom"),
        pytest.param("feed.rss", "/rss/channel/item/category/text()", id="rss"),
    ],
)
def test_every_category_and_tag_is_an_entry_category(
    site: Path, run_build: BuildFn, path: str, terms: str
) -> None:
    """Categories and tags, Chinese and spaced ones included, each appear once per entry."""
    write_post(
        site,
        "2024-01-02-post.md",
        "title: Post\ncategories: [news, 市场]\ntags: [A股 Market, 东财滚动新闻, news]",
    )
    _, out = run_build(site)
    found = xpath(load(out / path), terms)
    assert sorted(found) == sorted(["news", "市场", "A股 Market", "东财滚动新闻"])


# --- OPML --------------------------------------------------------------------------------


@pytest.fixture
def opml_site(site: Path, run_build: BuildFn) -> tuple[etree._Element, Path]:
    """A site with a category and two tags, built: its OPML root and output folder."""
    write_post(site, "2024-01-02-post.md", "title: Post\ncategories: news\ntags: [t, 东财滚动新闻]")
    _, out = run_build(site)
    return etree.fromstring((out / "feeds.opml").read_bytes()), out


def test_opml_lists_each_feed_once_in_atom_grouped(opml_site: tuple[etree._Element, Path]) -> None:
    """One outline per feed (not per format), the Atom one; the site feed, then a Categories
    and a Tags folder; each outline's title tells a category and a tag apart."""
    root, out = opml_site
    assert root.tag == "opml" and root.get("version") == "2.0"
    body = root.find("body")
    assert body is not None
    top = list(body)
    assert [o.get("text") for o in top] == ["Test Site", "Categories", "Tags"]
    assert top[0].get("xmlUrl") == "https://example.org/feed.xml"
    assert [(o.get("text"), o.get("title")) for o in top[1]] == [
        ("news", "Test Site | category news")
    ]
    assert [(o.get("text"), o.get("title")) for o in top[2]] == [
        ("t", "Test Site | tag t"),
        ("东财滚动新闻", "Test Site | tag 东财滚动新闻"),
    ]
    listed = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    atom = {
        next(link.href for link in parse_feed(p).feed.links if link.rel == "self")
        for p in feed_files(out)
        if p.suffix == ".xml"
    }
    assert len(listed) == len(set(listed)) == 4
    assert set(listed) == atom


@pytest.mark.parametrize(("chosen", "suffix"), [("rss", ".rss"), ("json", ".json")])
def test_opml_format_chooses_the_listed_format(
    site: Path, run_build: BuildFn, chosen: str, suffix: str
) -> None:
    """`opml_format` lists every feed in that format instead, still once each."""
    write_post(site, "2024-01-02-post.md", "title: Post\ncategories: news\ntags: [t]")
    _, out = run_build(site, opml_format=chosen)
    root = etree.fromstring((out / "feeds.opml").read_bytes())
    listed = [str(o.get("xmlUrl")) for o in root.iter("outline") if o.get("xmlUrl")]
    assert len(listed) == 3 and all(url.endswith(suffix) for url in listed)


def test_opml_lists_a_feed_without_the_chosen_format_in_its_own(
    site: Path, run_build: BuildFn
) -> None:
    """A tag written in RSS only (`feeds.tags.t.formats`) is listed in RSS, the rest in Atom."""
    (site / "feedsmith.toml").write_text(
        SITE_TOML + '[feeds.tags.t]\nformats = ["rss"]\n', encoding="utf-8"
    )
    write_post(site, "2024-01-02-post.md", "title: Post\ntags: [t, u]")
    _, out = run_build(site)
    root = etree.fromstring((out / "feeds.opml").read_bytes())
    listed = sorted(str(o.get("xmlUrl")) for o in root.iter("outline") if o.get("xmlUrl"))
    assert listed == [
        "https://example.org/feed.xml",
        "https://example.org/feed/by_tag/t.rss",
        "https://example.org/feed/by_tag/u.xml",
    ]


def test_opml_marks_rss_outlines_version_rss2(site: Path, run_build: BuildFn) -> None:
    """RSS outlines say version="RSS2"; Atom ones name no version (OPML 2.0 has none for it)."""
    write_post(site, "2024-01-02-post.md", "title: Post\ncategories: news\ntags: [t]")
    for chosen, expected in (("rss", "RSS2"), ("atom", None)):
        _, out = run_build(site, opml_format=chosen)
        root = etree.fromstring((out / "feeds.opml").read_bytes())
        versions = [o.get("version") for o in root.iter("outline") if o.get("xmlUrl")]
        assert versions == [expected] * 3
