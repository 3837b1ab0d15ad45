"""The features beyond plain Atom and RSS: JSON Feed 1.1, RFC 5005 archives, WebSub,
autodiscovery, stable entry ids, the size budget, per-feed settings and their validation.

Every test builds a small site in tmp_path. Feeds are read with lxml (what a reader sees) and
JSON Feeds with `json`; the WebSub hub is a real HTTP server on 127.0.0.1 run by the test.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import liquid
import pytest
import yaml
from bs4 import BeautifulSoup
from feedsmith import create_app
from feedsmith.cli import main
from feedsmith.config import load_config
from feedsmith.errors import ConfigError
from feedsmith.pipeline import build
from feedsmith.server.store import FeedStore
from lxml import etree
from starlette.testclient import TestClient

from tests.conftest import NOW, SITE_TOML, BuildFn, parse_feed, write_post

BASE = "https://example.org/"
ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
JSON_FEED = "application/feed+json; charset=utf-8"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
MEDIA = {
    ".xml": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".json": "application/feed+json",
}


# --- reading feeds ------------------------------------------------------------------------


def load(path: Path) -> etree._Element:
    return etree.fromstring(path.read_bytes())


def channel(root: etree._Element) -> etree._Element:
    """The element that holds a feed's links and entries: Atom `feed`, RSS `channel`."""
    found = root if root.tag == f"{{{ATOM}}}feed" else root.find("channel")
    assert found is not None
    return found


def links(root: etree._Element) -> dict[str, list[str]]:
    """Feed-level links by rel: Atom `<link>`, RSS `<atom:link>`."""
    found: dict[str, list[str]] = {}
    for link in channel(root).findall(f"{{{ATOM}}}link"):
        found.setdefault(link.get("rel", "alternate"), []).append(link.get("href", ""))
    return found


def only_link(root: etree._Element, rel: str) -> str | None:
    hrefs = links(root).get(rel, [])
    assert len(hrefs) <= 1, f"{rel}: {hrefs}"
    return hrefs[0] if hrefs else None


@dataclass(frozen=True)
class Item:
    id: str
    url: str
    title: str
    has_content: bool


def items(root: etree._Element) -> list[Item]:
    """Every entry of an Atom or RSS document, in document order."""
    if root.tag == f"{{{ATOM}}}feed":
        return [
            Item(
                id=entry.findtext(f"{{{ATOM}}}id", ""),
                url=next(
                    link.get("href", "")
                    for link in entry.findall(f"{{{ATOM}}}link")
                    if link.get("rel") == "alternate"
                ),
                title=entry.findtext(f"{{{ATOM}}}title", ""),
                has_content=entry.find(f"{{{ATOM}}}content") is not None,
            )
            for entry in root.findall(f"{{{ATOM}}}entry")
        ]
    return [
        Item(
            id=item.findtext("guid", ""),
            url=item.findtext("link", ""),
            title=item.findtext("title", ""),
            has_content=item.find(f"{{{CONTENT}}}encoded") is not None,
        )
        for item in channel(root).findall("item")
    ]


def titles(path: Path) -> list[str]:
    return [item.title for item in items(load(path))]


def json_doc(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_bytes())
    assert isinstance(document, dict)
    return document


def file_of(out: Path, url: str) -> Path:
    """The file in OUT that a feed URL of the site names."""
    assert url.startswith(BASE), url
    return out / unquote(url.removeprefix(BASE))


def url_of(out: Path, path: Path) -> str:
    return BASE + quote(path.relative_to(out).as_posix())


def feed_files(out: Path) -> list[Path]:
    """Every subscription feed OUT holds (archive documents and bookkeeping left out)."""
    return sorted(
        path
        for path in out.rglob("*")
        if path.suffix in MEDIA
        and not path.name.startswith(".")
        and "archive" not in path.relative_to(out).parts
    )


def opml_urls(out: Path) -> list[str]:
    root = load(out / "feeds.opml")
    return [str(o.get("xmlUrl")) for o in root.iter("outline") if o.get("xmlUrl")]


def is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def cli(*argv: str) -> tuple[int, str, str]:
    """`feedsmith ARGV` in process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def set_toml(site: Path, extra: str) -> None:
    (site / "feedsmith.toml").write_text(SITE_TOML + extra, encoding="utf-8")


# --- 1. JSON Feed 1.1 ---------------------------------------------------------------------

JSON_FEEDS = ("feed.json", "feed/news.json", "feed/by_tag/t.json", "feed/by_tag/东财.json")


@pytest.fixture
def json_site(site: Path, run_build: BuildFn) -> Path:
    """Three posts in a category and two tags (one Chinese), built: the output folder."""
    write_post(
        site,
        "2024-01-01-first.md",
        "title: First\ncategories: news\ntags: [t, 东财]\nauthor: Alice\nlang: zh-CN",
        "First **bold** text with a [link](/elsewhere/).\n\n<http://source.example.com/x>\n",
    )
    write_post(site, "2024-01-02-second.md", "title: Second\ntags: [t]", "Second post.\n")
    write_post(
        site,
        "2024-01-03-third.md",
        "title: Third\ncategories: news\ntags: 东财\nfeed:\n  excerpt_only: true",
        "Third post, summary only.\n",
    )
    _, out = run_build(site)
    return out


def test_every_feed_has_a_json_feed_beside_it(json_site: Path) -> None:
    """Site, category and tag feeds each have a `.json` next to their `.xml` and `.rss`."""
    stems = {path.with_suffix("") for path in feed_files(json_site)}
    assert {p.relative_to(json_site).as_posix() for p in stems} == {
        "feed",
        "feed/news",
        "feed/by_tag/t",
        "feed/by_tag/东财",
    }
    for stem in stems:
        assert {ext: stem.with_suffix(ext).is_file() for ext in MEDIA} == dict.fromkeys(MEDIA, True)


@pytest.mark.parametrize("path", JSON_FEEDS)
def test_json_feed_top_level_follows_the_spec(json_site: Path, path: str) -> None:
    """version, title, items, absolute home_page_url/feed_url, authors and language are valid."""
    document = json_doc(json_site / path)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str) and document["title"]
    assert isinstance(document["items"], list) and document["items"]
    assert is_http_url(document["home_page_url"])
    assert document["feed_url"] == url_of(json_site, json_site / path)
    authors = document["authors"]
    assert isinstance(authors, list) and authors
    assert all(isinstance(a, dict) and isinstance(a.get("name"), str) for a in authors)
    assert document["language"] == "en"


@pytest.mark.parametrize("path", JSON_FEEDS)
def test_json_feed_items_follow_the_spec(json_site: Path, path: str) -> None:
    """Each item: string id, content, RFC 3339 dates with offset, absolute url, authors, tags."""
    for item in json_doc(json_site / path)["items"]:
        assert isinstance(item["id"], str) and item["id"]
        content = [item.get(key) for key in ("content_html", "content_text") if key in item]
        assert content and all(isinstance(c, str) for c in content)
        for key in ("date_published", "date_modified"):
            assert RFC3339.match(item[key]), (key, item[key])
        assert is_http_url(item["url"])
        assert all(isinstance(a, dict) and isinstance(a["name"], str) for a in item["authors"])
        assert isinstance(item["tags"], list)
        assert all(isinstance(tag, str) for tag in item["tags"])
        assert isinstance(item["title"], str)


def test_json_summary_is_plain_text(json_site: Path) -> None:
    """`summary` carries the lead text without markup."""
    first = next(i for i in json_doc(json_site / "feed.json")["items"] if i["title"] == "First")
    assert first["summary"] == "First bold text with a link."


def test_json_external_url_is_the_trailing_source_link(json_site: Path) -> None:
    """A body ending in a bare `<http://source…>` gives the item its `external_url`."""
    found = {i["title"]: i.get("external_url") for i in json_doc(json_site / "feed.json")["items"]}
    assert found == {"First": "http://source.example.com/x", "Second": None, "Third": None}


def test_json_item_keeps_the_post_author_and_language(json_site: Path) -> None:
    """A post's own author and `lang` become the item's `authors` and `language`."""
    first = next(i for i in json_doc(json_site / "feed.json")["items"] if i["title"] == "First")
    assert first["authors"] == [{"name": "Alice"}]
    assert first["language"] == "zh-CN"


def test_json_excerpt_only_post_has_text_content_and_no_html(json_site: Path) -> None:
    """`feed: {excerpt_only: true}` gives `content_text` (the summary) instead of content_html."""
    third = next(i for i in json_doc(json_site / "feed.json")["items"] if i["title"] == "Third")
    assert "content_html" not in third
    assert third["content_text"] == "Third post, summary only."


@pytest.mark.parametrize("path", JSON_FEEDS)
def test_json_feed_has_the_atom_feeds_entries_in_order(json_site: Path, path: str) -> None:
    """The same ids, links and titles as the Atom feed beside it, in the same order."""
    atom = [(i.id, i.url, i.title) for i in items(load((json_site / path).with_suffix(".xml")))]
    listed = [(i["id"], i["url"], i["title"]) for i in json_doc(json_site / path)["items"]]
    assert listed == atom


def test_json_favicon_is_the_small_feed_icon(site: Path, run_build: BuildFn) -> None:
    """The site's `icon` (Atom's small square icon) is JSON Feed's `favicon`, not the logo."""
    set_toml(site, 'icon = "/favicon.png"\nlogo = "/logo.png"\n')
    write_post(site, "2024-01-01-a.md", "title: A")
    _, out = run_build(site)
    document = json_doc(out / "feed.json")
    assert document["favicon"] == f"{BASE}favicon.png"


@pytest.mark.parametrize("path", JSON_FEEDS)
def test_json_feed_is_served_as_feed_json(json_site: Path, site: Path, path: str) -> None:
    """`serve` answers the built bytes as `application/feed+json; charset=utf-8`."""
    with TestClient(create_app(load_config(site))) as client:
        response = client.get("/" + quote(path), headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_FEED
    assert response.content == (json_site / path).read_bytes()


def test_json_feeds_are_listed_in_the_opml_when_chosen(
    site: Path, json_site: Path, run_build: BuildFn, tmp_path: Path
) -> None:
    """feeds.opml lists the Atom feeds by default, and every JSON Feed with `opml_format`."""
    assert not [url for url in opml_urls(json_site) if not url.endswith(".xml")]
    set_toml(site, 'opml_format = "json"\n')
    _, out = run_build(site, out=tmp_path / "json-out")
    listed = set(opml_urls(out))
    assert listed == {url_of(out, out / path) for path in JSON_FEEDS}


def test_json_feeds_are_on_the_index_page(json_site: Path, site: Path) -> None:
    """`/` links every JSON Feed, and announces the site's with `<link rel="alternate">` (only
    the site's: a big blog has a thousand others)."""
    with TestClient(create_app(load_config(site))) as client:
        page = BeautifulSoup(client.get("/").text, "html.parser")
    discovered = {
        link["href"]
        for link in page.find_all("link", rel="alternate")
        if link.get("type") == "application/feed+json"
    }
    anchors = {a["href"] for a in page.find_all("a")}
    assert discovered == {url_of(json_site, json_site / "feed.json")}
    assert set(JSON_FEEDS) <= {unquote(str(a)) for a in anchors}


def test_formats_setting_turns_json_feeds_off(site: Path, run_build: BuildFn) -> None:
    """`formats: [atom, rss]` writes no `.json` file and lists none."""
    set_toml(site, 'formats = ["atom", "rss"]\n')
    write_post(site, "2024-01-01-a.md", "title: A\ncategories: news\ntags: t")
    _, out = run_build(site)
    assert not [p for p in out.rglob("*.json") if not p.name.startswith(".")]
    assert (out / "feed.xml").is_file() and (out / "feed/by_tag/t.rss").is_file()
    assert not any(url.endswith(".json") for url in opml_urls(out))


# --- 2. RFC 5005 archives -----------------------------------------------------------------

ARCHIVE_SIZE = 3
# feed stem -> the posts (by number) it holds; see `write_archive_posts`
ARCHIVED = {
    "feed": list(range(1, 11)),
    "feed/news": list(range(5, 11)),
    "feed/by_tag/t": list(range(1, 8)),
    "feed/by_tag/东财": [2, 4, 6, 8, 10],
}
ARCHIVE_CASES = [(stem, ext) for stem in ARCHIVED for ext in (".xml", ".rss")]


def archive_post(
    site: Path, n: int, *, tags: tuple[str, ...] | None = None, news: bool | None = None
) -> None:
    """Post n, dated January n: in `news` from 5 on, tag t up to 7, tag 东财 when even."""
    if tags is None:
        tags = tuple(t for t, member in (("t", n <= 7), ("东财", n % 2 == 0)) if member)
    category = "categories: news\n" if (n >= 5 if news is None else news) else ""
    write_post(
        site,
        f"2024-01-{n:02d}-post-{n}.md",
        f"title: Post {n}\n{category}tags: [{', '.join(tags)}]",
        f"Body of post {n}.\n",
    )


def write_archive_posts(site: Path, count: int = 10) -> None:
    set_toml(site, f"archive_size = {ARCHIVE_SIZE}\n")
    for n in range(1, count + 1):
        archive_post(site, n)


@pytest.fixture
def archived(site: Path, run_build: BuildFn) -> Path:
    """Ten posts (a category of 6, tags of 7 and 5) with `archive_size: 3`, built."""
    write_archive_posts(site)
    _, out = run_build(site)
    return out


def archive_paths(out: Path, stem: str, ext: str) -> list[Path]:
    """Pages of ARCHIVE_SIZE, oldest first; the newest page is never full (it may be empty),
    so every full page links its successor from the start and never changes."""
    pages = len(ARCHIVED[stem]) // ARCHIVE_SIZE + 1
    return [out / f"{stem}/archive/{n}{ext}" for n in range(1, pages + 1)]


@pytest.mark.parametrize(("stem", "ext"), ARCHIVE_CASES)
def test_archive_documents_exist_for_every_feed(archived: Path, stem: str, ext: str) -> None:
    """Each Atom and RSS feed has archive pages of `archive_size` entries and one newest page that is not full."""
    expected = archive_paths(archived, stem, ext)
    found = sorted((archived / stem / "archive").glob(f"*{ext}"))
    assert sorted(found) == sorted(expected)
    sizes = [len(items(load(path))) for path in expected]
    total = len(ARCHIVED[stem])
    assert sizes == [min(ARCHIVE_SIZE, total - i) for i in range(0, total + 1, ARCHIVE_SIZE)]


def test_archive_documents_are_well_formed_feeds(archived: Path) -> None:
    """feedparser reads every archive page without complaint, entries and all."""
    pages = sorted(archived.rglob("archive/*"))
    assert len(pages) == 2 * (4 + 3 + 3 + 2)  # news (6 posts) ends in an empty newest page
    for page in pages:
        feed = parse_feed(page)
        assert feed.entries or page.stem == "3", page


def test_json_feeds_have_no_archive_documents(archived: Path) -> None:
    """RFC 5005 speaks Atom (and RSS through atom:link): no JSON archive pages."""
    assert not [p for p in archived.rglob("*.json") if "archive" in p.parts]


@pytest.mark.parametrize(("stem", "ext"), ARCHIVE_CASES)
def test_archive_documents_are_marked_fh_archive(archived: Path, stem: str, ext: str) -> None:
    """Every archive document carries `<fh:archive/>`; the subscription feed does not."""
    for path in archive_paths(archived, stem, ext):
        assert channel(load(path)).find(f"{{{FH}}}archive") is not None, path
    assert channel(load(archived / f"{stem}{ext}")).find(f"{{{FH}}}archive") is None


@pytest.mark.parametrize(("stem", "ext"), ARCHIVE_CASES)
def test_archive_documents_link_current_to_the_subscription_feed(
    archived: Path, stem: str, ext: str
) -> None:
    """`rel="current"` of every archive page is the feed's own subscription URL."""
    subscription = url_of(archived, archived / f"{stem}{ext}")
    for path in archive_paths(archived, stem, ext):
        assert only_link(load(path), "current") == subscription, path


@pytest.mark.parametrize(("stem", "ext"), ARCHIVE_CASES)
def test_archive_pages_chain_oldest_first(archived: Path, stem: str, ext: str) -> None:
    """Page 1 holds the oldest posts and has no prev-archive; each page links its neighbours."""
    paths = archive_paths(archived, stem, ext)
    for n, path in enumerate(paths):
        root = load(path)
        previous = url_of(archived, paths[n - 1]) if n > 0 else None
        following = url_of(archived, paths[n + 1]) if n + 1 < len(paths) else None
        assert only_link(root, "prev-archive") == previous, path
        assert only_link(root, "next-archive") == following, path
    numbers = [int(t.split()[-1]) for path in paths for t in reversed(titles(path))]
    assert numbers == ARCHIVED[stem]


@pytest.mark.parametrize(("stem", "ext"), ARCHIVE_CASES)
def test_subscription_feed_links_prev_archive_to_the_newest_page(
    archived: Path, stem: str, ext: str
) -> None:
    """The feed itself points `prev-archive` at the newest archive page, and has no next."""
    root = load(archived / f"{stem}{ext}")
    newest = archive_paths(archived, stem, ext)[-1]
    assert only_link(root, "prev-archive") == url_of(archived, newest)
    assert only_link(root, "next-archive") is None


def read_complete_history(out: Path, feed: Path) -> tuple[list[str], list[str]]:
    """An RFC 5005 reader: from the subscription feed, follow prev-archive to the end.

    Returns the subscription feed's entry ids and every id met in the archive documents.
    """
    subscription = load(feed)
    seen_pages: list[Path] = []
    history: list[str] = []
    href = only_link(subscription, "prev-archive")
    while href is not None:
        page = file_of(out, href)
        assert page not in seen_pages, f"prev-archive loops back to {page}"
        assert page.is_file(), href
        seen_pages.append(page)
        root = load(page)
        history += [item.id for item in items(root)]
        href = only_link(root, "prev-archive")
    return [item.id for item in items(subscription)], history


@pytest.mark.parametrize(("stem", "ext"), ARCHIVE_CASES)
def test_reader_following_prev_archive_finds_every_post_once(
    archived: Path, stem: str, ext: str
) -> None:
    """The archive documents reached from the feed hold each of its posts exactly once."""
    current, history = read_complete_history(archived, archived / f"{stem}{ext}")
    numbers = {int(i.title.split()[-1]): i.id for i in items(load(archived / f"feed{ext}"))}
    assert len(numbers) == 10
    assert Counter(history) == Counter(numbers[n] for n in ARCHIVED[stem])
    assert set(current) <= set(history)


def full_archive_pages(out: Path) -> dict[Path, bytes]:
    """The bytes of every archive page that holds `archive_size` entries."""
    return {
        path: path.read_bytes()
        for path in out.rglob("archive/*")
        if len(items(load(path))) == ARCHIVE_SIZE
    }


def test_full_archive_documents_never_change_when_a_post_is_added(
    site: Path, run_build: BuildFn
) -> None:
    """A post that fills the partial pages leaves every full page byte-identical."""
    write_archive_posts(site, 10)
    _, out = run_build(site)
    full = full_archive_pages(out)
    assert len(full) == 2 * (3 + 2 + 2 + 1)  # site, t, news, 东财; Atom and RSS
    archive_post(site, 11, tags=("t",), news=False)  # site: 10 -> 11, t: 7 -> 8
    run_build(site)
    changed = sorted(str(p.relative_to(out)) for p, body in full.items() if p.read_bytes() != body)
    assert changed == []


def test_full_archive_documents_never_change_when_a_new_page_opens(
    site: Path, run_build: BuildFn
) -> None:
    """A post that opens a new archive page leaves the older full pages byte-identical."""
    write_archive_posts(site, 9)
    _, out = run_build(site)
    older = {out / f"feed/archive/{n}{ext}" for n in (1, 2) for ext in (".xml", ".rss")}
    before = {path: path.read_bytes() for path in older}
    archive_post(site, 10, tags=(), news=False)  # site: 9 -> 10 posts, a 4th page
    run_build(site)
    assert (out / "feed/archive/4.xml").is_file()
    changed = sorted(
        str(p.relative_to(out)) for p, body in before.items() if p.read_bytes() != body
    )
    assert changed == []


@pytest.mark.parametrize("ext", [".xml", ".rss"])
def test_full_archive_page_has_its_final_links_before_the_next_page_exists(
    site: Path, run_build: BuildFn, ext: str
) -> None:
    """A full page, served as immutable, keeps the same links when the page after it opens."""
    write_archive_posts(site, 9)
    _, out = run_build(site)
    page = out / f"feed/archive/3{ext}"
    before = links(load(page))
    archive_post(site, 10, tags=(), news=False)
    run_build(site)
    assert links(load(page)) == before


def test_the_newest_archive_page_takes_a_new_post(site: Path, run_build: BuildFn) -> None:
    """Adding a post changes the partial newest page, which then holds it."""
    write_archive_posts(site, 10)
    _, out = run_build(site)
    before = (out / "feed/archive/4.xml").read_bytes()
    archive_post(site, 11)
    run_build(site)
    assert (out / "feed/archive/4.xml").read_bytes() != before
    assert titles(out / "feed/archive/4.xml") == ["Post 11", "Post 10"]
    assert not (out / "feed/archive/5.xml").exists()


def test_max_bytes_never_leaves_posts_out_of_the_archives(site: Path, run_build: BuildFn) -> None:
    """With `max_bytes_trim: oldest`, the subscription feed may shrink but the history stays complete."""
    write_archive_posts(site, 10)
    (site / "feedsmith.toml").write_text(
        SITE_TOML + f'archive_size = {ARCHIVE_SIZE}\nmax_bytes = 2000\nmax_bytes_trim = "oldest"\n',
        encoding="utf-8",
    )
    _, out = run_build(site)
    assert len(items(load(out / "feed.xml"))) < 10  # the budget does bite
    _, history = read_complete_history(out, out / "feed.xml")
    assert len(history) == 10


@pytest.fixture
def archive_client(site: Path, archived: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load_config(site))) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "feed/archive/1.xml",
        "feed/archive/3.rss",
        "feed/by_tag/t/archive/2.xml",
        "feed/news/archive/2.rss",
    ],
)
def test_served_full_archive_is_cacheable_for_a_year(
    archive_client: TestClient, archived: Path, path: str
) -> None:
    """A full archive page is `Cache-Control: max-age=31536000, immutable`."""
    response = archive_client.get("/" + quote(path))
    assert response.status_code == 200
    assert response.content == (archived / path).read_bytes()
    assert response.headers["cache-control"] == "max-age=31536000, immutable"


@pytest.mark.parametrize(
    "path", ["feed/archive/4.xml", "feed/by_tag/t/archive/3.rss", "feed/by_tag/东财/archive/2.xml"]
)
def test_served_partial_archive_has_the_normal_max_age(
    archive_client: TestClient, path: str
) -> None:
    """The newest, not yet full page may still change: the usual `max-age`."""
    response = archive_client.get("/" + quote(path))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "max-age=300"


def test_archives_are_not_listed_in_the_opml(archived: Path) -> None:
    """feeds.opml lists subscription feeds only."""
    urls = opml_urls(archived)
    assert urls and not [url for url in urls if "/archive/" in url]
    atom = {url_of(archived, path) for path in feed_files(archived) if path.suffix == ".xml"}
    assert set(urls) == atom


def test_archives_are_not_on_the_index_page(archive_client: TestClient) -> None:
    """`/` neither links nor announces archive pages."""
    page = BeautifulSoup(archive_client.get("/").text, "html.parser")
    hrefs = [tag["href"] for tag in page.find_all(["a", "link"], href=True)]
    assert hrefs and not [href for href in hrefs if "archive" in href]


def test_no_archives_without_the_setting(site: Path, run_build: BuildFn) -> None:
    """Without `archive_size`, no archive folder, no fh:archive, no prev-archive link."""
    for n in range(1, 11):
        archive_post(site, n)
    _, out = run_build(site)
    assert not [p for p in out.rglob("*") if "archive" in p.relative_to(out).parts]
    for path in feed_files(out):
        if path.suffix != ".json":
            root = load(path)
            assert channel(root).find(f"{{{FH}}}archive") is None
            assert "prev-archive" not in links(root)


# --- 3. WebSub ----------------------------------------------------------------------------


@dataclass
class Hub:
    """A WebSub hub on 127.0.0.1 that records every POSTed form and answers `status`."""

    url: str
    status: int
    received: list[dict[str, list[str]]] = field(default_factory=list)

    def published(self) -> list[str]:
        assert all(form["hub.mode"] == ["publish"] for form in self.received), self.received
        return [url for form in self.received for url in form["hub.url"]]


@contextmanager
def running_hub(status: int = 204) -> Iterator[Hub]:
    hub = Hub(url="", status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            hub.received.append(parse_qs(self.rfile.read(length).decode("ascii")))
            self.send_response(hub.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}/hub"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    """A hub URL on 127.0.0.1 where nothing listens."""
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        port = server.server_address[1]
    return f"http://127.0.0.1:{port}/hub"


def write_websub_site(site: Path, hub: str) -> None:
    """Two posts in separate category and tag feeds, and a hub."""
    set_toml(site, f'hub = "{hub}"\n')
    write_post(site, "2024-01-01-a.md", "title: A\ncategories: news\ntags: [t, 东财]")
    write_post(site, "2024-01-02-b.md", "title: B\ncategories: misc\ntags: other")


def feeds_of_post_a() -> set[str]:
    """The URLs of every feed post A is in: the site's, news, t and 东财, each format."""
    stems = ("feed", "feed/news", "feed/by_tag/t", "feed/by_tag/东财")
    return {BASE + quote(f"{stem}{ext}") for stem in stems for ext in MEDIA}


def build_and_ping(site: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsmith", "build", str(site), "-o", str(out), "--ping"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


HUB = "http://127.0.0.1:9/hub"


@pytest.fixture
def hub_site(site: Path, run_build: BuildFn) -> Path:
    write_websub_site(site, HUB)
    _, out = run_build(site)
    return out


@pytest.mark.parametrize("ext", [".xml", ".rss"])
def test_every_xml_feed_links_its_hub_and_itself(hub_site: Path, ext: str) -> None:
    """Atom `<link rel="hub">` and `rel="self"`; RSS the same as `atom:link`."""
    paths = [p for p in feed_files(hub_site) if p.suffix == ext]
    assert len(paths) == 6
    for path in paths:
        root = load(path)
        assert links(root)["hub"] == [HUB], path
        assert links(root)["self"] == [url_of(hub_site, path)], path


def test_every_json_feed_names_its_hub(hub_site: Path) -> None:
    """JSON Feed `hubs: [{type: "WebSub", url}]`."""
    paths = [p for p in feed_files(hub_site) if p.suffix == ".json"]
    assert len(paths) == 6
    for path in paths:
        assert json_doc(path)["hubs"] == [{"type": "WebSub", "url": HUB}], path


@pytest.mark.parametrize("path", ["feed.xml", "feed/news.rss", "feed/by_tag/东财.json"])
def test_served_feed_sends_a_link_header(site: Path, hub_site: Path, path: str) -> None:
    """`Link: <hub>; rel="hub", <self>; rel="self"` on every served feed."""
    with TestClient(create_app(load_config(site))) as client:
        response = client.get("/" + quote(path))
    assert response.status_code == 200
    own = url_of(hub_site, hub_site / path)
    assert response.headers["link"] == f'<{HUB}>; rel="hub", <{own}>; rel="self"'


def test_no_hub_no_link_header(site: Path) -> None:
    """Without `hub`, feeds carry no hub link and responses no `Link` header."""
    write_post(site, "2024-01-01-a.md", "title: A")
    with TestClient(create_app(load_config(site))) as client:
        response = client.get("/feed.xml")
    assert "link" not in response.headers
    assert "hub" not in links(etree.fromstring(response.content))


def test_ping_publishes_every_feed_on_the_first_build(site: Path, tmp_path: Path) -> None:
    """`build --ping` sends one `hub.mode=publish` per feed written, all of them the first time."""
    out = tmp_path / "out"
    with running_hub() as hub:
        write_websub_site(site, hub.url)
        result = build_and_ping(site, out)
    assert result.returncode == 0, result.stderr
    published = hub.published()
    assert sorted(published) == sorted(set(published))
    feeds = [p for p in out.rglob("*") if p.suffix in (".xml", ".rss", ".json")]
    written = {unquote(url_of(out, path)) for path in feeds if not path.name.startswith(".")}
    assert {unquote(url) for url in published} == written
    assert len(published) == 18


def test_ping_publishes_only_the_feeds_of_an_edited_post(site: Path, tmp_path: Path) -> None:
    """After one post changes, the hub hears about exactly that post's feeds, every format."""
    out = tmp_path / "out"
    with running_hub() as hub:
        write_websub_site(site, hub.url)
        assert build_and_ping(site, out).returncode == 0
        hub.received.clear()
        write_post(site, "2024-01-01-a.md", "title: A\ncategories: news\ntags: [t, 东财]", "New!\n")
        result = build_and_ping(site, out)
    assert result.returncode == 0, result.stderr
    published = hub.published()
    assert sorted(published) == sorted(feeds_of_post_a())


def test_ping_publishes_nothing_after_an_unchanged_rebuild(site: Path, tmp_path: Path) -> None:
    """A rebuild that changes no file sends no request at all."""
    out = tmp_path / "out"
    with running_hub() as hub:
        write_websub_site(site, hub.url)
        assert build_and_ping(site, out).returncode == 0
        hub.received.clear()
        result = build_and_ping(site, out)
    assert result.returncode == 0, result.stderr
    assert hub.received == []


def test_ping_to_a_hub_that_is_down_is_reported_and_exits_0(site: Path, tmp_path: Path) -> None:
    """A hub nobody listens on gives a warning on stderr; the build still succeeds."""
    hub = closed_port_url()
    write_websub_site(site, hub)
    result = build_and_ping(site, tmp_path / "out")
    assert result.returncode == 0
    assert f"{hub}: warning: hub not reached" in result.stderr
    assert (tmp_path / "out" / "feed.xml").is_file()


def test_ping_to_a_hub_answering_500_is_reported_and_exits_0(site: Path, tmp_path: Path) -> None:
    """A hub error is a warning naming the hub and the status; the build still succeeds."""
    with running_hub(status=500) as hub:
        write_websub_site(site, hub.url)
        result = build_and_ping(site, tmp_path / "out")
    assert result.returncode == 0
    assert f"{hub.url}: warning: hub refused" in result.stderr
    assert "HTTP 500" in result.stderr
    assert len(hub.received) == 18


@pytest.fixture
def pinging_store(site: Path) -> tuple[FeedStore, list[tuple[tuple[str, ...], list[str]]]]:
    """A FeedStore for a site with a hub, and the (hubs, urls) its pinger is called with."""
    write_websub_site(site, HUB)
    calls: list[tuple[tuple[str, ...], list[str]]] = []
    store = FeedStore(load_config(site), pinger=lambda hubs, urls: calls.append((hubs, urls)))
    return store, calls


def test_serve_pings_the_feeds_of_an_edited_post(
    site: Path,
    tmp_path: Path,
    pinging_store: tuple[FeedStore, list[tuple[tuple[str, ...], list[str]]]],
) -> None:
    """A live change notifies the hub of exactly the edited post's feeds, all formats."""
    store, calls = pinging_store
    write_post(site, "2024-01-01-a.md", "title: A\ncategories: news\ntags: [t, 东财]", "Edited!\n")
    store.reload()
    assert len(calls) == 1
    hubs, urls = calls[0]
    assert hubs == (HUB,)
    assert sorted(urls) == sorted(feeds_of_post_a())


def test_serve_pings_nothing_when_nothing_changed(
    pinging_store: tuple[FeedStore, list[tuple[tuple[str, ...], list[str]]]],
) -> None:
    """A reload that changes no feed calls no hub."""
    store, calls = pinging_store
    store.reload()
    assert calls == []


# --- 4. Autodiscovery ---------------------------------------------------------------------


@pytest.fixture
def named_site(site: Path) -> Path:
    """Posts in a category and in tags whose names hold quotes, spaces and Chinese."""
    write_post(site, "2024-01-01-a.md", 'title: A\ncategories: news\ntags: ["it\'s", 东财]')
    write_post(
        site, "2024-01-02-b.md", "title: B\ncategories: misc\ntags: ['say \"hi\"', A股 Market]"
    )
    return site


def test_links_prints_a_link_tag_for_every_feed(named_site: Path, run_build: BuildFn) -> None:
    """`feedsmith links` gives rel=alternate, absolute https href, type and title per feed."""
    code, stdout, _ = cli("links", str(named_site))
    assert code == 0
    _, out = run_build(named_site)
    tags = BeautifulSoup(stdout, "html.parser").find_all("link")
    hrefs = sorted(unquote(str(tag["href"])) for tag in tags)
    assert hrefs == sorted(unquote(url_of(out, p)) for p in feed_files(out))
    assert len(tags) == 3 * 7
    for tag in tags:
        href = str(tag["href"])
        assert tag["rel"] == ["alternate"]
        assert href.startswith(BASE)
        assert tag["type"] == MEDIA[Path(urlsplit(href).path).suffix]
        assert str(tag["title"]).startswith("Test Site")


def test_links_titles_name_the_feed(named_site: Path) -> None:
    """Each tag's title names its category or tag, quotes included."""
    _, stdout, _ = cli("links", str(named_site))
    found = {tag["title"] for tag in BeautifulSoup(stdout, "html.parser").find_all("link")}
    assert 'Test Site | #say "hi" (RSS)' in found
    assert "Test Site | #it's (JSON)" in found
    assert "Test Site | #东财 (ATOM)" in found
    assert "Test Site | news (ATOM)" in found


@pytest.fixture
def include(named_site: Path, tmp_path: Path) -> str:
    """The Jekyll include `build --links-include` writes."""
    target = tmp_path / "_includes" / "feedsmith-links.html"
    code, _, err = cli(
        "build", str(named_site), "-o", str(tmp_path / "out"), "--links-include", str(target)
    )
    assert code == 0, err
    return target.read_text(encoding="utf-8")


def rendered_tags(template: str, **page: str) -> list[Any]:
    """The `<link>` tags the include gives on a page with these variables."""
    html = liquid.Environment().from_string(template).render(page=page)
    return BeautifulSoup(html, "html.parser").find_all("link")


def rendered_links(template: str, **page: str) -> list[str]:
    """The (percent-decoded) feed URLs the include announces on a page with these variables."""
    return [unquote(tag["href"]) for tag in rendered_tags(template, **page)]


SITE_LINKS = [f"{BASE}feed.xml", f"{BASE}feed.rss", f"{BASE}feed.json"]


def group_links(folder: str, name: str) -> list[str]:
    return [f"{BASE}{folder}{name}{ext}" for ext in MEDIA]


@pytest.mark.parametrize("page", [{}, {"title": "About"}, {"category": "nothing"}, {"tag": "none"}])
def test_include_gives_the_site_feeds_on_any_page(include: str, page: dict[str, str]) -> None:
    """On a page that is no category's or tag's, only the site feeds are announced."""
    assert rendered_links(include, **page) == SITE_LINKS


def test_include_adds_a_categorys_feeds_on_its_page(include: str) -> None:
    """`page.category` adds that category's feeds, in every format."""
    assert rendered_links(include, category="news") == SITE_LINKS + group_links("feed/", "news")


@pytest.mark.parametrize(
    ("tag", "file"),
    [("东财", "东财"), ("A股 Market", "A股-Market"), ("it's", "it's"), ('say "hi"', "say-hi")],
)
def test_include_adds_a_tags_feeds_on_its_page(include: str, tag: str, file: str) -> None:
    """`page.tag` adds that tag's feeds, names with quotes and spaces too."""
    assert rendered_links(include, tag=tag) == SITE_LINKS + group_links("feed/by_tag/", file)


@pytest.mark.parametrize("tag", ["{{ version }}", "50 %} off"])
def test_include_survives_a_tag_name_that_looks_like_liquid(
    site: Path, tmp_path: Path, tag: str
) -> None:
    """A tag named with `{{` or `%}` neither breaks the include for every page nor loses its feeds."""
    write_post(site, "2024-01-01-a.md", f"title: A\ntags: [{json.dumps(tag)}]")
    target = tmp_path / "feedsmith-links.html"
    code, _, err = cli(
        "build", str(site), "-o", str(tmp_path / "out"), "--links-include", str(target)
    )
    assert code == 0, err
    template = target.read_text(encoding="utf-8")
    assert rendered_links(template) == SITE_LINKS
    on_its_page = rendered_links(template, tag=tag)
    assert on_its_page[:3] == SITE_LINKS
    assert len(on_its_page) == 6
    assert all(href.startswith(f"{BASE}feed/by_tag/") for href in on_its_page[3:])
    shown = [link["title"] for link in rendered_tags(template, tag=tag)[3:]]
    assert shown == [f"Test Site | #{tag} ({fmt})" for fmt in ("ATOM", "RSS", "JSON")]


def test_links_leaves_archive_documents_out(site: Path) -> None:
    """With `archive_size`, `feedsmith links` still announces subscription feeds only."""
    write_archive_posts(site, 4)
    code, stdout, _ = cli("links", str(site))
    assert code == 0
    hrefs = [tag["href"] for tag in BeautifulSoup(stdout, "html.parser").find_all("link")]
    assert len(hrefs) == 3 * 3  # site, t, 东财
    assert not [href for href in hrefs if "/archive/" in href]


# --- 5. Stable entry ids ------------------------------------------------------------------

OLD_CONFIG = {"title": "Moving", "url": "http://old.example.com", "permalink": "date"}
MOVED = {"url": "https://new.example.com", "baseurl": "/blog", "permalink": "pretty"}


@pytest.fixture
def jekyll_site(tmp_path: Path) -> Path:
    """A Jekyll site at http://old.example.com with date permalinks, categories included."""
    root = tmp_path / "jekyll"
    (root / "_posts").mkdir(parents=True)
    write_config(root, OLD_CONFIG)
    write_post(root, "_posts/2024-01-01-plain.md", "title: Plain")
    write_post(root, "_posts/2024-01-02-in-news.md", "title: In news\ncategories: [news, 市场]")
    write_post(root, "_posts/2024-01-03-中文标题.md", "title: Chinese\ntags: 东财")
    return root


def write_config(root: Path, data: dict[str, Any]) -> None:
    (root / "_config.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def entry_ids(root: Path, out: Path) -> dict[str, dict[str, str]]:
    """{format: {title: entry id}} of the site feed, after building `root` into `out`."""
    build(load_config(root, output=out), now=NOW)
    found = {
        fmt: {item.title: item.id for item in items(load(out / f"feed{ext}"))}
        for fmt, ext in (("atom", ".xml"), ("rss", ".rss"))
    }
    found["json"] = {i["title"]: i["id"] for i in json_doc(out / "feed.json")["items"]}
    return found


def entry_links(out: Path) -> set[str]:
    return {item.url for item in items(load(out / "feed.xml"))}


def test_id_base_keeps_every_id_across_a_host_and_baseurl_move(
    jekyll_site: Path, tmp_path: Path
) -> None:
    """New host and baseurl with `id_base` set to the old host: every entry id is unchanged."""
    before = entry_ids(jekyll_site, tmp_path / "before")
    write_config(
        jekyll_site,
        {
            **OLD_CONFIG,
            "url": MOVED["url"],
            "baseurl": MOVED["baseurl"],
            "feedsmith": {"id_base": "http://old.example.com"},
        },
    )
    after = entry_ids(jekyll_site, tmp_path / "after")
    assert after == before
    assert len(before["atom"]) == 3
    assert all(
        link.startswith("https://new.example.com/blog/") for link in entry_links(tmp_path / "after")
    )


def test_ids_file_keeps_every_id_across_a_permalink_change(
    jekyll_site: Path, tmp_path: Path
) -> None:
    """`feedsmith ids` before the move, `ids: <that file>` after: no id changes, links do."""
    before = entry_ids(jekyll_site, tmp_path / "before")
    code, stdout, err = cli("ids", str(jekyll_site))
    assert code == 0, err
    ids_file = tmp_path / "ids.yml"
    ids_file.write_text(stdout, encoding="utf-8")
    write_config(jekyll_site, {**OLD_CONFIG, **MOVED, "feedsmith": {"ids": str(ids_file)}})
    after = entry_ids(jekyll_site, tmp_path / "after")
    assert after == before
    assert entry_links(tmp_path / "after").isdisjoint(entry_links(tmp_path / "before"))


def test_ids_output_maps_every_post_file_to_its_id(jekyll_site: Path, tmp_path: Path) -> None:
    """`feedsmith ids` is YAML of post file -> the entry id the feeds use."""
    before = entry_ids(jekyll_site, tmp_path / "before")
    _, stdout, _ = cli("ids", str(jekyll_site))
    mapping = yaml.safe_load(stdout)
    assert set(mapping) == {f"_posts/{p.name}" for p in (jekyll_site / "_posts").iterdir()}
    assert set(mapping.values()) == set(before["atom"].values())


@pytest.mark.parametrize(
    "moved",
    [
        {"url": "https://new.example.com"},
        {**MOVED},
        {**MOVED, "feedsmith": {"id_base": "http://elsewhere.example.com"}},
    ],
    ids=["host", "host-baseurl-permalink", "with-id-base"],
)
def test_front_matter_id_survives_any_move(
    jekyll_site: Path, tmp_path: Path, moved: dict[str, Any]
) -> None:
    """A post's own `id` (a URI) is its entry id before and after every kind of move."""
    own = "tag:example.com,2024:plain"
    write_post(jekyll_site, "_posts/2024-01-01-plain.md", f"title: Plain\nid: '{own}'")
    before = entry_ids(jekyll_site, tmp_path / "before")
    write_config(jekyll_site, {**OLD_CONFIG, **moved})
    after = entry_ids(jekyll_site, tmp_path / "after")
    assert {fmt: ids["Plain"] for fmt, ids in after.items()} == dict.fromkeys(after, own)
    assert {fmt: ids["Plain"] for fmt, ids in before.items()} == dict.fromkeys(before, own)


def test_relative_front_matter_id_survives_a_move_with_id_base(
    jekyll_site: Path, tmp_path: Path
) -> None:
    """A site-relative front matter `id` keeps its value when `id_base` names the old site."""
    write_post(jekyll_site, "_posts/2024-01-01-plain.md", "title: Plain\nid: /custom/plain")
    before = entry_ids(jekyll_site, tmp_path / "before")
    assert before["atom"]["Plain"] == "http://old.example.com/custom/plain"
    write_config(
        jekyll_site, {**OLD_CONFIG, **MOVED, "feedsmith": {"id_base": "http://old.example.com"}}
    )
    after = entry_ids(jekyll_site, tmp_path / "after")
    assert after == before


def test_ids_mapping_keyed_by_the_new_url_sets_the_id(jekyll_site: Path, tmp_path: Path) -> None:
    """An `ids` entry keyed by the post's (new) URL gives that post the mapped id."""
    new_url = "https://new.example.com/blog/news/%E5%B8%82%E5%9C%BA/2024/01/02/in-news/"
    write_config(
        jekyll_site,
        {
            **OLD_CONFIG,
            **MOVED,
            "feedsmith": {"ids": {new_url: "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"}},
        },
    )
    after = entry_ids(jekyll_site, tmp_path / "after")
    assert new_url in entry_links(tmp_path / "after")
    assert {fmt: ids["In news"] for fmt, ids in after.items()} == dict.fromkeys(
        after, "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    )


# --- 6. Size budget -----------------------------------------------------------------------

LONG = "\n\n".join(
    f"Paragraph {n} of a long article. " + "Markets moved and analysts wrote at length. " * 14
    for n in range(5)
)


@pytest.fixture
def big_site(site: Path) -> Path:
    """Six long posts (tag big) and one short newer one (tag small)."""
    for n in range(1, 7):
        write_post(site, f"2024-01-0{n}-long-{n}.md", f"title: Long {n}\ntags: big", LONG)
    write_post(site, "2024-02-01-short.md", "title: Short\ntags: small", "A short note.\n")
    return site


@dataclass(frozen=True)
class Sizes:
    full: int  # feed.xml as built without a limit
    summaries: int  # feed.xml with every entry as a summary
    out: Path  # the build without a limit


@pytest.fixture
def sizes(big_site: Path, tmp_path: Path) -> Sizes:
    full = build(load_config(big_site, output=tmp_path / "plain"), now=NOW)
    assert not full.problems
    summaries = tmp_path / "summaries"
    build(load_config(big_site, output=summaries, overrides={"excerpt_only": True}), now=NOW)
    return Sizes(
        full=(tmp_path / "plain/feed.xml").stat().st_size,
        summaries=(summaries / "feed.xml").stat().st_size,
        out=tmp_path / "plain",
    )


def build_with_budget(site: Path, out: Path, limit: int, trim: str) -> tuple[Any, Path]:
    config = load_config(site, output=out, overrides={"max_bytes": limit, "max_bytes_trim": trim})
    return build(config, now=NOW), out


@pytest.fixture
def summary_trimmed(big_site: Path, sizes: Sizes, tmp_path: Path) -> tuple[Any, Path, int]:
    """Built with a budget between the all-summaries size and the full size, trim `summary`."""
    limit = (sizes.full + sizes.summaries) // 2
    report, out = build_with_budget(big_site, tmp_path / "budget", limit, "summary")
    return report, out, limit


def test_summary_trim_fits_the_budget(summary_trimmed: tuple[Any, Path, int]) -> None:
    """Every feed file is at most `max_bytes`."""
    _, out, limit = summary_trimmed
    for path in feed_files(out):
        assert path.stat().st_size <= limit, path


def test_summary_trim_keeps_every_entry_when_summaries_suffice(
    summary_trimmed: tuple[Any, Path, int],
) -> None:
    """No entry is left out when showing some as summaries is enough."""
    _, out, _ = summary_trimmed
    assert len(items(load(out / "feed.xml"))) == 7
    assert len(json_doc(out / "feed.json")["items"]) == 7


@pytest.mark.parametrize("name", ["feed.xml", "feed.rss"])
def test_summary_trim_takes_content_from_the_oldest_first(
    summary_trimmed: tuple[Any, Path, int], name: str
) -> None:
    """The newest entries keep their content; those without it are the oldest ones."""
    _, out, _ = summary_trimmed
    shown = [item.has_content for item in items(load(out / name))]
    kept = shown.count(True)
    assert 0 < kept < len(shown)
    assert shown == [True] * kept + [False] * (len(shown) - kept)


def test_summary_trim_is_a_warning_naming_the_feed(summary_trimmed: tuple[Any, Path, int]) -> None:
    """The build warns about each trimmed feed by its path, and not about the others."""
    report, _, _ = summary_trimmed
    where = {p.where for p in report.warnings if "max_bytes" in p.reason}
    assert {"feed.xml", "feed.rss", "feed.json", "feed/by_tag/big.xml"} <= where
    assert "feed/by_tag/small.xml" not in where


def test_summary_trim_leaves_out_the_oldest_when_summaries_are_too_big(
    big_site: Path, sizes: Sizes, tmp_path: Path
) -> None:
    """Below the all-summaries size, the oldest entries go and the feed still fits."""
    limit = sizes.summaries - 500
    _, out = build_with_budget(big_site, tmp_path / "tight", limit, "summary")
    found = items(load(out / "feed.xml"))
    assert (out / "feed.xml").stat().st_size <= limit
    assert 0 < len(found) < 7
    assert [i.title for i in found] == titles(sizes.out / "feed.xml")[: len(found)]
    assert not any(i.has_content for i in found)


def test_oldest_trim_leaves_out_the_oldest_entries(
    big_site: Path, sizes: Sizes, tmp_path: Path
) -> None:
    """`max_bytes_trim: oldest` keeps the newest entries whole and drops the rest."""
    limit = (sizes.full + sizes.summaries) // 2
    _, out = build_with_budget(big_site, tmp_path / "oldest", limit, "oldest")
    found = items(load(out / "feed.xml"))
    assert (out / "feed.xml").stat().st_size <= limit
    assert 0 < len(found) < 7
    assert [i.title for i in found] == titles(sizes.out / "feed.xml")[: len(found)]
    assert all(i.has_content for i in found)


@pytest.mark.parametrize("trim", ["summary", "oldest"])
def test_feeds_under_the_budget_are_unchanged(
    big_site: Path, sizes: Sizes, tmp_path: Path, trim: str
) -> None:
    """A feed that fits is byte-identical to a build without `max_bytes`."""
    limit = (sizes.full + sizes.summaries) // 2
    _, out = build_with_budget(big_site, tmp_path / trim, limit, trim)
    for ext in MEDIA:
        name = f"feed/by_tag/small{ext}"
        assert (out / name).read_bytes() == (sizes.out / name).read_bytes()


def test_cli_reports_a_trimmed_feed_as_a_warning(
    big_site: Path, sizes: Sizes, tmp_path: Path
) -> None:
    """`feedsmith build` prints `feed.xml: warning: …max_bytes…` and exits 0."""
    (big_site / "feedsmith.toml").write_text(
        SITE_TOML + f"max_bytes = {(sizes.full + sizes.summaries) // 2}\n", encoding="utf-8"
    )
    code, _, err = cli("build", str(big_site), "-o", str(tmp_path / "cli"))
    assert code == 0
    assert re.search(r"^feed\.xml: warning: .*max_bytes", err, re.MULTILINE), err


def test_cli_strict_fails_on_a_trimmed_feed(big_site: Path, sizes: Sizes, tmp_path: Path) -> None:
    """Under `--strict`, a feed trimmed to fit is a problem: exit 1."""
    (big_site / "feedsmith.toml").write_text(
        SITE_TOML + f"max_bytes = {(sizes.full + sizes.summaries) // 2}\n", encoding="utf-8"
    )
    code, _, _ = cli("build", str(big_site), "-o", str(tmp_path / "cli"), "--strict")
    assert code == 1


# --- 7. Per-feed settings -----------------------------------------------------------------

PER_FEED_TOML = """\
posts_limit = 3

[feeds.site]
posts_limit = 5

[feeds.categories.news]
posts_limit = 2
excerpt_only = true
formats = ["atom"]

[feeds.tags.t]
posts_limit = 0

[feeds.tags."东财"]
posts_limit = 1
"""


@pytest.fixture
def per_feed(site: Path, run_build: BuildFn) -> Path:
    """Eight posts, all in tag t, with per-feed settings in feedsmith.toml; built."""
    set_toml(site, PER_FEED_TOML)
    for n in range(1, 9):
        category = "news" if n % 2 else "misc"
        tags = ["t", "东财", "other"] if n > 2 else ["t"]
        write_post(
            site,
            f"2024-01-0{n}-post-{n}.md",
            f"title: Post {n}\ncategories: {category}\ntags: [{', '.join(tags)}]",
            f"Full body {n}.\n",
        )
    _, out = run_build(site)
    return out


def test_category_with_formats_atom_has_only_an_atom_feed(per_feed: Path) -> None:
    """`formats: [atom]` for one category: its .rss and .json are not written."""
    assert (per_feed / "feed/news.xml").is_file()
    assert not (per_feed / "feed/news.rss").exists()
    assert not (per_feed / "feed/news.json").exists()
    assert (per_feed / "feed/misc.rss").is_file() and (per_feed / "feed/misc.json").is_file()


def test_category_override_limits_and_strips_content(per_feed: Path) -> None:
    """The category shows its 2 newest entries, summaries only."""
    found = items(load(per_feed / "feed/news.xml"))
    assert [i.title for i in found] == ["Post 7", "Post 5"]
    assert not any(i.has_content for i in found)


def test_tag_posts_limit_0_shows_every_entry(per_feed: Path) -> None:
    """`posts_limit: 0` on a tag shows all its posts despite the site-wide limit of 3."""
    for ext in MEDIA:
        path = per_feed / f"feed/by_tag/t{ext}"
        count = len(json_doc(path)["items"]) if ext == ".json" else len(items(load(path)))
        assert count == 8, path


def test_chinese_tag_override_applies(per_feed: Path) -> None:
    """A TOML table keyed by a Chinese tag name limits that tag's feed."""
    assert titles(per_feed / "feed/by_tag/东财.rss") == ["Post 8"]


def test_site_override_applies_to_the_site_feed(per_feed: Path) -> None:
    """`feeds.site.posts_limit` gives the site feed 5 entries, in every format, with content."""
    assert titles(per_feed / "feed.xml") == [f"Post {n}" for n in range(8, 3, -1)]
    assert len(json_doc(per_feed / "feed.json")["items"]) == 5
    assert all(i.has_content for i in items(load(per_feed / "feed.rss")))


@pytest.mark.parametrize("stem", ["feed/misc", "feed/by_tag/other"])
def test_feeds_without_an_override_keep_the_site_settings(per_feed: Path, stem: str) -> None:
    """Other feeds keep the site-wide posts_limit (3), full content and every format."""
    for ext in (".xml", ".rss"):
        found = items(load(per_feed / f"{stem}{ext}"))
        assert len(found) == 3 and all(i.has_content for i in found)
    assert len(json_doc(per_feed / f"{stem}.json")["items"]) == 3


def test_unknown_key_in_a_feed_override_exits_2_naming_it(site: Path, tmp_path: Path) -> None:
    """A misspelt key inside `feeds.categories.news` is refused before anything is written."""
    set_toml(site, "[feeds.categories.news]\nposts_limt = 2\n")
    write_post(site, "2024-01-01-a.md", "title: A\ncategories: news")
    code, _, err = cli("build", str(site), "-o", str(tmp_path / "out"))
    assert code == 2
    assert "feeds.categories.news.posts_limt: unknown key" in err
    assert not (tmp_path / "out").exists()


# --- 8. Bad values of the new settings ----------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("archive_size", -1, "archive_size"),
        ("archive_size", "3", "archive_size"),
        ("hub", "ftp://x", "hub"),
        ("hub", ["http://ok.example.com/hub", "not a url"], "hub"),
        ("id_base", "nope", "id_base"),
        ("ids", "MISSING", "ids"),
        ("ids", ["a", "b"], "ids"),
        ("max_bytes", "big", "max_bytes"),
        ("max_bytes", -5, "max_bytes"),
        ("max_bytes_trim", "x", "max_bytes_trim"),
        ("feeds", {"categories": 3}, "feeds.categories"),
        ("feeds", {"channels": {}}, "feeds.channels"),
        ("feeds", {"tags": {"t": {"posts_limit": -1}}}, "feeds.tags.t.posts_limit"),
        ("feeds", {"site": {"formats": ["atom", "yaml"]}}, "feeds.site.formats"),
    ],
)
def test_bad_value_of_a_new_setting_is_refused_naming_it(
    site: Path, tmp_path: Path, key: str, value: Any, named: str
) -> None:
    """A wrong value raises ConfigError whose key and message name the setting."""
    if value == "MISSING":
        value = str(tmp_path / "missing-ids.yml")
    with pytest.raises(ConfigError) as raised:
        load_config(site, overrides={key: value})
    assert raised.value.key == named
    assert named in str(raised.value)
    assert raised.value.reason


def test_bad_value_in_feedsmith_toml_exits_2(site: Path, tmp_path: Path) -> None:
    """From the command line, a bad new setting is a configuration error: exit 2."""
    set_toml(site, 'max_bytes_trim = "newest"\n')
    code, _, err = cli("build", str(site), "-o", str(tmp_path / "out"))
    assert code == 2
    assert "max_bytes_trim: expected one of summary, oldest" in err
