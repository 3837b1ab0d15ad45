"""The pages for people: the list of feeds (`feeds.html`) and a page beside every feed
(`feed.html` beside `feed.xml`), written by `build` and answered by `serve` alike.

Links are read the way a browser resolves them (relative to the page's own URL), and each
must lead to the file the build wrote; what the pages say is checked against the feeds as
feedparser reads them. tests/test_browser.py loads the same pages in headless Chromium.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin

import feedparser
import pytest
from bs4 import BeautifulSoup, Tag
from feedsmith import create_app
from feedsmith.config import load_config
from feedsmith.pipeline import build
from starlette.testclient import TestClient

from tests.conftest import POSTS, write_post

BASE = "https://pages.test/"  # where the output folder is published, as a browser sees it


def built(source: Path, out: Path, **overrides: Any) -> Path:
    build(load_config(source, output=out, overrides=overrides or None))
    return out


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built(POSTS, tmp_path_factory.mktemp("pages") / "_site")


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def resolve(page: str, href: str) -> str:
    """The output path a link on the page at `page` leads to."""
    return unquote(urljoin(BASE + page, href).removeprefix(BASE))


def feed_at(out: Path, path: str) -> Any:
    parsed = feedparser.parse((out / path).read_bytes())
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    return parsed


def subscription_feeds(out: Path) -> list[str]:
    return sorted(
        str(p.relative_to(out))
        for p in out.rglob("*")
        if p.suffix in (".xml", ".rss", ".json") and "archive" not in p.parts
    )


def test_build_writes_the_list_and_a_page_beside_every_feed(out: Path) -> None:
    assert (out / "feeds.html").is_file()
    for path in subscription_feeds(out):
        assert (out / (posixpath.splitext(path)[0] + ".html")).is_file(), path


def test_the_list_links_every_feed_and_its_page_and_says_what_it_holds(out: Path) -> None:
    page = soup(out / "feeds.html")
    linked = {resolve("feeds.html", str(a["href"])) for a in page.find_all("a", href=True)}
    for path in subscription_feeds(out):
        assert path in linked, path
        preview = posixpath.splitext(path)[0] + ".html"
        assert preview in linked, preview
    for item in page.select("ul.feeds > li"):
        name = item.find("a", class_="name")
        assert isinstance(name, Tag)
        formats = [resolve("feeds.html", str(a["href"])) for a in item.select(".formats a")]
        held = len(feed_at(out, formats[0]).entries)
        said = item.get_text(" ", strip=True)
        assert re.search(rf"\b{held} entr(y|ies)\b", said), said
        for path in formats:  # the copy button holds the address a reader subscribes to
            button = item.find("button", attrs={"data-copy": feed_self(out, path)})
            assert isinstance(button, Tag), (path, said)
    assert page.find("a", href="feeds.opml") is not None


def feed_self(out: Path, path: str) -> str:
    if path.endswith(".json"):
        import json

        return str(json.loads((out / path).read_bytes())["feed_url"])
    parsed = feed_at(out, path)
    return str(next(link.href for link in parsed.feed.links if link.rel == "self"))


def test_the_list_says_the_newest_n_of_m_where_the_feed_is_cut(site: Path, tmp_path: Path) -> None:
    for day in (1, 2, 3):
        write_post(site, f"2024-01-0{day}-p{day}.md", f"title: P{day}\ntags: [t]")
    out = built(site, tmp_path / "out", posts_limit=2)
    text = soup(out / "feeds.html").get_text(" ", strip=True)
    assert "the newest 2 entries of 3" in text


def test_the_lists_head_names_the_site_feeds_only(out: Path) -> None:
    """A blog of a thousand tags must not put a thousand <link> tags in one page's head."""
    head = soup(out / "feeds.html").find("head")
    assert isinstance(head, Tag)
    hrefs = {str(link["href"]) for link in head.find_all("link", rel="alternate")}
    assert hrefs == {feed_self(out, p) for p in ("feed.xml", "feed.rss", "feed.json")}


@pytest.mark.parametrize("path", ["feed.xml", "feed/emnews.rss", "feed/by_tag/东财滚动新闻.xml"])
def test_a_feeds_page_gives_every_address_and_every_entry(out: Path, path: str) -> None:
    parsed = feed_at(out, path)
    stem = posixpath.splitext(path)[0]
    page_path = stem + ".html"
    page = soup(out / page_path)
    heading = page.find("h1")
    assert heading is not None and heading.get_text() == parsed.feed.title
    addresses = {code.get_text() for code in page.select("p.address code")}
    formats = [f"{stem}{ext}" for ext in (".xml", ".rss", ".json")]
    assert addresses == {feed_self(out, p) for p in formats}
    for link in page.select("p.address a"):
        assert resolve(page_path, str(link["href"])) in formats
    assert [h2.get_text() for h2 in page.select("article h2")] == [e.title for e in parsed.entries]
    back = page.find("a", string="all feeds")
    assert isinstance(back, Tag) and resolve(page_path, str(back["href"])) == "feeds.html"


def test_pages_say_the_sites_language(out: Path) -> None:
    """Without lang, Chinese is drawn with Japanese glyph forms where the locale is another."""
    for path in ("feeds.html", "feed.html", "feed/by_tag/东财滚动新闻.html"):
        html = soup(out / path).find("html")
        assert isinstance(html, Tag) and html.get("lang") == "zh-CN", path


def test_pages_allow_no_script_but_their_own(out: Path) -> None:
    """The policy in each page names the one script by its hash: nothing else can run."""
    for path in ("feeds.html", "feed.html"):
        page = soup(out / path)
        meta = page.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
        assert isinstance(meta, Tag)
        policy = str(meta["content"])
        assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy
        assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+';", policy)
        assert len(page.find_all("script")) == 1
        assert not page.find_all(src=True)  # no external asset of any kind


def test_serve_answers_the_same_pages_and_the_list_at_the_root(
    out: Path, served_posts: Path
) -> None:
    with TestClient(create_app(load_config(served_posts))) as client:
        for path in ("feeds.html", "feed.html", "feed/emnews.html"):
            response = client.get("/" + path, headers={"Accept-Encoding": "identity"})
            assert response.status_code == 200
            assert response.content == (out / path).read_bytes(), path
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        root = client.get("/", headers={"Accept-Encoding": "identity"})
        assert b'<form method=get action="search.xml" role=search>' in root.content
    # Without search, `/` is the list `build` writes, byte for byte.
    plain = load_config(served_posts, overrides={"serve_search": False})
    with TestClient(create_app(plain)) as client:
        root = client.get("/", headers={"Accept-Encoding": "identity"})
        assert root.content == (out / "feeds.html").read_bytes()


def test_the_pages_can_be_moved_or_turned_off(site: Path, tmp_path: Path) -> None:
    write_post(site, "2024-01-01-p.md", "title: P\ntags: [t]")
    moved = built(site, tmp_path / "moved", subscribe_page="subscribe/index.html")
    page = soup(moved / "subscribe/index.html")
    assert {resolve("subscribe/index.html", str(a["href"])) for a in page.select(".formats a")} >= {
        "feed.xml"
    }
    assert not (moved / "feeds.html").exists()
    off = built(site, tmp_path / "off", subscribe_page=False, preview_pages=False)
    assert sorted(p.suffix for p in off.rglob("*.html")) == []


def test_a_page_never_takes_another_files_path(site: Path, tmp_path: Path) -> None:
    """The OPML list named feed.html: the site feed's page gives way, the list is kept."""
    write_post(site, "2024-01-01-p.md", "title: P\ncategories: [news]")
    out = built(site, tmp_path / "out", opml="feed.html")
    assert (out / "feed.html").read_bytes().startswith(b"<?xml")
    assert (out / "feed/news.html").is_file()


def test_an_unchanged_rebuild_writes_no_page(site: Path, tmp_path: Path) -> None:
    write_post(site, "2024-01-01-p.md", "title: P\ntags: [t]")
    config = load_config(site, output=tmp_path / "out")
    first = build(config)
    assert "feeds.html" in first.written
    again = build(config)
    assert again.written == () and "feeds.html" in again.unchanged
    write_post(site, "2024-01-02-q.md", "title: Q\ntags: [t]")
    third = build(config)
    assert {"feeds.html", "feed.html", "feed/by_tag/t.html"} <= set(third.written)


# --- hostile values ---------------------------------------------------------------------------

EVIL = '<script>alert(1)</script>"onmouseover="alert(2)'


def test_hostile_values_are_text_on_every_page(tmp_path: Path) -> None:
    source = tmp_path / "evil"
    source.mkdir()
    (source / "feedsmith.toml").write_text(
        f"title = '{EVIL}'\ndescription = '{EVIL}'\nurl = 'https://example.org'\n",
        encoding="utf-8",
    )
    front = f"title: '{EVIL}'\ncategories: ['{EVIL}']\ntags: ['{EVIL}', plain]"
    write_post(source, "2022-01-01-evil.md", front, f"Body {EVIL} text.\n")
    out = built(source, tmp_path / "out")
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == 5, pages  # the list; the site, its category and its two tags
    own = soup(out / "feeds.html").find("script")
    assert isinstance(own, Tag)
    for path in pages:
        page = soup(path)
        scripts = page.find_all("script")
        assert [s.string for s in scripts] == [own.string], path
        for element in page.find_all(True):
            handlers = [name for name in element.attrs if name.lower().startswith("on")]
            assert handlers == [], (path, element.name)
        assert EVIL in page.get_text(), path


def test_a_page_shows_an_entry_again_when_a_file_it_included_changed(tmp_path: Path) -> None:
    """A post made of an include: edit the included file and rebuild; the feed's page shows
    the new text, as the feed does (the page's cached copy knows what its entries included)."""
    site = tmp_path / "site"
    (site / "_includes").mkdir(parents=True)
    (site / "_includes" / "note.html").write_text("<p>The first note.</p>\n")
    (site / "_config.yml").write_text("url: https://example.org\n")
    (site / "_posts").mkdir()
    (site / "_posts" / "2024-01-02-noted.md").write_text(
        "---\ntitle: Noted\n---\n{% include note.html %}\n"
    )
    out = tmp_path / "out"
    config = load_config(site, output=out)
    build(config)
    assert "The first note." in (out / "feed.html").read_text()
    (site / "_includes" / "note.html").write_text("<p>The second note.</p>\n")
    build(config)
    assert "The second note." in (out / "feed.xml").read_text()
    page = (out / "feed.html").read_text()
    assert "The second note." in page and "The first note." not in page
