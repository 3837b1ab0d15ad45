"""`stylesheet: builtin`: every Atom and RSS feed names feeds.xsl, written with them, which a
browser that runs XSLT applies. Checked with libxslt (lxml), the XSLT engine Chromium, Safari's
WebKit and libxml-based tools use, on what the real command writes; feedparser still reads the
feeds; the page shows the feed's own title and entries as text (no markup of a post's gets in)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import feedparser
import httpx2
import lxml.etree
import lxml.html
import pytest
from feedsmith.config import load_config
from feedsmith.pipeline import build
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import POSTS, feedsmith, write_post
from tests.test_serve_process import serving


def instruction(out: Path, feed: Path, target: str = "feeds.xsl") -> bytes:
    """The instruction a feed at `feed` carries: `target` by a link relative to the feed."""
    href = os.path.relpath(out / target, feed.parent)
    return f'<?xml-stylesheet type="text/xsl" href="{href}"?>'.encode()


def site_with(tmp_path: Path, settings_toml: str) -> Path:
    source = tmp_path / "posts"
    shutil.copytree(POSTS, source)
    (source / "feedsmith.toml").write_text(
        f'url = "https://example.org"\nbaseurl = "/blog"\n{settings_toml}'
    )
    return source


def as_page(out: Path, feed: Path) -> lxml.html.HtmlElement:
    """The feed as a browser running XSLT shows it: the stylesheet it names, applied."""
    document = lxml.etree.parse(str(feed))
    assert feed.read_bytes().split(b"\n", 2)[1] == instruction(out, feed)
    transform = lxml.etree.XSLT(lxml.etree.parse(str(out / "feeds.xsl")))
    return lxml.html.fromstring(str(transform(document)))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("styled")
    source = site_with(tmp_path, 'stylesheet = "builtin"\narchive_size = 5\n')
    result = feedsmith("build", source, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    return tmp_path / "out"


def test_every_atom_and_rss_feed_names_the_stylesheet_and_still_parses(built: Path) -> None:
    """Site, category, tag and archive feeds in Atom and RSS carry the instruction right after
    the XML declaration; JSON feeds are untouched; feedparser reads every one as before."""
    xml = sorted([*built.rglob("*.xml"), *built.rglob("*.rss")])
    assert len(xml) > 20 and any("/archive/" in str(p) for p in xml)
    for feed in xml:
        lines = feed.read_bytes().split(b"\n", 2)
        assert lines[1] == instruction(built, feed), feed
        parsed = feedparser.parse(feed.read_bytes())
        assert not parsed.bozo, (feed, parsed.get("bozo_exception"))
    for feed in built.rglob("*.json"):
        assert b"xml-stylesheet" not in feed.read_bytes()
    assert (built / "feeds.xsl").is_file()


def test_the_stylesheet_shows_each_feed_as_a_page_of_its_entries(built: Path) -> None:
    """Applied to each feed: the page's title and heading are the feed's title, one article per
    entry with its title linking to the entry's link, its address to subscribe to, no script."""
    checked = 0
    for feed in sorted([*built.rglob("*.xml"), *built.rglob("*.rss")]):
        parsed = feedparser.parse(feed.read_bytes())
        page = as_page(built, feed)
        assert page.findtext(".//title") == parsed.feed.title
        assert page.findtext(".//h1") == parsed.feed.title
        articles = page.findall(".//article")
        assert len(articles) == len(parsed.entries), feed
        for article, entry in zip(articles, parsed.entries, strict=True):
            (link,) = article.findall("./h2/a")
            assert link.text_content() == entry.title
            assert link.get("href") == entry.link
        assert page.findtext(".//p[@class='address']/code") in {
            link.href for link in parsed.feed.links if link.rel == "self"
        }
        assert not page.xpath("//script | //iframe | //@*[starts-with(name(), 'on')]")
        checked += 1
    assert checked > 20


def test_lang_follows_the_site(tmp_path: Path) -> None:
    """`lang: zh-CN` reaches the page, so Chinese is drawn with Chinese glyph forms."""
    source = site_with(tmp_path, 'stylesheet = "builtin"\nlang = "zh-CN"\n')
    out = tmp_path / "out"
    build(load_config(source, output=out))
    for name in ("feed.xml", "feed.rss"):
        assert as_page(out, out / name).get("lang") == "zh-CN"


@settings(max_examples=30, deadline=None)
@given(
    title=st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=40,
    ).filter(lambda t: t.strip() and "\\" not in t and '"' not in t)
)
def test_a_post_title_is_only_ever_text_on_the_page(
    tmp_path_factory: pytest.TempPathFactory, title: str
) -> None:
    """Whatever a title holds (markup, entities, quotes, script), the page shows the feed's
    own text for it and no element of it: XSLT copies values, never markup."""
    tmp_path = tmp_path_factory.mktemp("title")
    source = tmp_path / "posts"
    write_post(source, "2024-01-02-a.md", f'title: "<script>alert(1)</script>{title}"')
    (source / "feedsmith.toml").write_text(
        'url = "https://example.org"\nbaseurl = "/blog"\nstylesheet = "builtin"\n'
    )
    out = tmp_path / "out"
    build(load_config(source, output=out))
    for name in ("feed.xml", "feed.rss"):
        page = as_page(out, out / name)
        # the feed's own text, as an XML parser reads it (feedparser "repairs" some mojibake)
        (written,) = lxml.etree.parse(str(out / name)).xpath(
            "//*[local-name()='entry' or local-name()='item']/*[local-name()='title']/text()"
        )
        assert page.findtext(".//article/h2/a") == written
        assert not page.xpath("//script | //article//*[not(self::h2 or self::a or self::p)]")


def test_without_the_setting_no_feed_names_a_stylesheet(tmp_path: Path) -> None:
    """The default: no instruction, no feeds.xsl (a site's own feed.xslt.xml aside)."""
    out = tmp_path / "out"
    build(load_config(site_with(tmp_path, ""), output=out))
    assert not (out / "feeds.xsl").exists()
    assert not any(b"xml-stylesheet" in p.read_bytes() for p in out.rglob("*.xml"))


def test_a_site_s_own_stylesheet_is_named_and_not_written(tmp_path: Path) -> None:
    """`stylesheet: assets/feed.xsl`: the site's file, named under baseurl; nothing written."""
    out = tmp_path / "out"
    build(load_config(site_with(tmp_path, 'stylesheet = "assets/feed.xsl"\n'), output=out))
    assert not (out / "feeds.xsl").exists()
    for name in ("feed.xml", "feed.rss"):
        lines = (out / name).read_bytes().split(b"\n", 2)
        assert lines[1] == instruction(out, out / name, "assets/feed.xsl")


def test_serve_answers_the_stylesheet_and_the_same_feeds(tmp_path: Path) -> None:
    """The real server: feeds.xsl as text/xsl with the bytes build writes; feeds the same."""
    source = site_with(tmp_path, 'stylesheet = "builtin"\n')
    out = tmp_path / "out"
    build(load_config(source, output=out))
    with serving(source, "--url", "https://example.org") as base:
        answer = httpx2.get(f"{base}/feeds.xsl")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/xsl; charset=utf-8"
        assert answer.content == (out / "feeds.xsl").read_bytes()
        assert (
            httpx2.get(f"{base}/feed/by_tag/东财滚动新闻.rss").content
            == (out / "feed/by_tag/东财滚动新闻.rss").read_bytes()
        )
