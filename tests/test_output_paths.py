"""No two outputs meet: whatever the category and tag names and the settings that shape
paths, every file a build writes has a path of its own, and no file stands where another
needs a folder (a category `x` and a category `x.xml` with archives once met at
`feed/x.xml`, a feed and a folder, and the build stopped) — also as a case-insensitive,
normalising file system sees them."""

from __future__ import annotations

import posixpath
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import feedparser
from feedsmith.config import Config, FeedGroup
from feedsmith.errors import ConfigError
from feedsmith.index import build_index, feed_specs
from feedsmith.model import Post
from feedsmith.parse import clean_name
from feedsmith.site import page_routes
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

TIMEOUT = 120  # a guard against hangs, not a speed test

# Names that meet once made into paths: an extension of a feed or of a page, a folder the
# feeds use, case and normalisation twins (Kelvin sign, long s, sharp s, composed é).
TRICKY = [
    "x", "X", "x.xml", "X.XML", "x.rss", "x.json", "x.html", "x.xml.xml", "x-category",
    "x-tag", "archive", "1", "1.xml", "by_tag", "by_tag.xml", "feed", "feed.xml", "feeds",
    "feeds.html", "feeds.opml", "K", "\u212a", "ſ", "s", "ß", "ss", "é", "e\u0301",
]  # fmt: skip
NAME = st.one_of(
    st.sampled_from(TRICKY),
    st.text(alphabet="xX.-_/ kKſs1é\u212a", min_size=1, max_size=8),
    st.text(min_size=1, max_size=12),
)
FOLDERS = ["feed/", "feed/by_tag/", "", "feed/x/", "feed/x.xml/", "FEED/", "feed/archive/"]
FEED_PATHS = ["feed.xml", "atom.xml", "feed/x.xml", "index.xml", "feed", "x.xml", "Feed.XML"]
OPML = [None, "feeds.opml", "feed/x.opml", "feed.rss", "feed/x.xml"]
PAGES = [None, "feeds.html", "feed.html", "feed/x.html", "feed/by_tag/x.html"]
FORMAT_SETS = [("atom",), ("rss",), ("json",), ("atom", "rss"), ("atom", "rss", "json")]

SETTINGS = st.fixed_dictionaries(
    {
        "archive_size": st.sampled_from([0, 1, 2, 3]),
        "formats": st.sampled_from(FORMAT_SETS),
        "preview_pages": st.booleans(),
        "path": st.sampled_from(FEED_PATHS),
        "opml": st.sampled_from(OPML),
        "subscribe_page": st.sampled_from(PAGES),
        "categories": st.sampled_from(FOLDERS),
        "tags": st.sampled_from(FOLDERS),
        "jekyll": st.booleans(),  # listed categories keep jekyll-feed's spelling of their name
    }
)


def _post(n: int, categories: list[str], tags: list[str]) -> Post:
    when = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=n)
    return Post(
        path=f"/site/_posts/p{n}.md",
        rel=f"_posts/p{n}.md",
        digest=str(n),
        markup="markdown",
        title=f"P{n}",
        date=when,
        updated=when,
        url=f"https://paths.example/p{n}/",
        id=f"https://paths.example/p{n}/",
        slug=f"p{n}",
        categories=tuple(dict.fromkeys(c for c in map(clean_name, categories) if c)),
        tags=tuple(dict.fromkeys(t for t in map(clean_name, tags) if t)),
    )


def _config(chosen: dict[str, Any], categories: list[str]) -> Config:
    jekyll = chosen["jekyll"]
    try:
        return Config(
            url="https://paths.example",
            archive_size=chosen["archive_size"],
            formats=chosen["formats"],
            preview_pages=chosen["preview_pages"],
            path=chosen["path"],
            opml=chosen["opml"],
            subscribe_page=chosen["subscribe_page"],
            categories=FeedGroup(
                only=tuple(categories) if jekyll else None, path=chosen["categories"]
            ),
            tags=FeedGroup(path=chosen["tags"]),
            jekyll=jekyll,
        )
    except ConfigError:  # a settings file at a feed folder: refused before any name is read
        assume(False)
        raise


def fold(path: str) -> str:
    return unicodedata.normalize("NFC", path.casefold())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.tuples(st.lists(NAME, max_size=4), st.lists(NAME, max_size=4)), max_size=4),
    SETTINGS,
)
def test_output_paths_never_meet(posts: list[tuple[list[str], list[str]]], chosen: Any) -> None:
    """Each output path is distinct from every other (folded), and none is a folder that
    another path needs: every file the build writes can be written."""
    made = [_post(n, cats, tags) for n, (cats, tags) in enumerate(posts)]
    config = _config(chosen, [c for p in made for c in p.categories])
    index, _ = build_index(made)
    specs, _ = feed_specs(index, config)
    pages = page_routes(specs, config)
    paths = [spec.path for spec in specs] + ([config.opml] if config.opml else []) + list(pages)
    folded = [fold(path) for path in paths]
    assert len(set(folded)) == len(folded), sorted(p for p in folded if folded.count(p) > 1)
    folders = {"/".join(p.split("/")[:n]) for p in folded for n in range(1, p.count("/") + 1)}
    assert not folders & set(folded), sorted(folders & set(folded))
    for path in paths:
        assert path and not path.startswith("/")
        assert all(part not in ("", ".", "..") for part in path.split("/"))
    # Every feed is still published: clashes move feeds, they never drop one.
    shown = {(s.kind, s.name) for s in specs if not s.archive}
    chosen_names = {("category", c) for c in index.categories} | {("tag", t) for t in index.tags}
    assert chosen_names <= shown


# --- end to end --------------------------------------------------------------------------------

CLASHING = ["x", "x.xml", "x.rss", "archive", "by_tag", "1"]


def _build(root: Path) -> subprocess.CompletedProcess[str]:
    posts = root / "_posts"
    posts.mkdir(parents=True)
    (root / "_config.yml").write_text(
        "title: T\nurl: https://paths.example\nfeedsmith:\n  archive_size: 2\n", encoding="utf-8"
    )
    for n in range(5):
        names = ", ".join(f'"{name}"' for name in CLASHING[n % 3 :])
        (posts / f"2024-01-0{n + 1}-p{n}.md").write_text(
            f"---\ntitle: P{n}\ncategories: [{names}]\ntags: [{names}]\n---\nBody {n}.\n",
            encoding="utf-8",
        )
    return subprocess.run(
        [sys.executable, "-m", "feedsmith", "build", str(root), "-o", str(root / "out")],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _file(out: Path, url: str) -> Path:
    return out / unquote(urlsplit(url).path).lstrip("/")


def _history(out: Path, url: str) -> tuple[list[str], list[str]]:
    """The entries of a feed, and those of its archive documents (RFC 5005 `prev-archive`)."""
    documents: list[list[str]] = []
    while url:
        parsed = feedparser.parse(str(_file(out, url)))
        assert not parsed.bozo, (url, parsed.bozo_exception)
        documents.append([entry.title for entry in parsed.entries])
        url = next((link.href for link in parsed.feed.links if link.rel == "prev-archive"), "")
    return documents[0], [title for document in documents[1:] for title in document]


def test_clashing_names_with_archives_build_and_read_back(tmp_path: Path) -> None:
    """Categories and tags `x`, `x.xml`, `x.rss`, `archive`, `by_tag` and `1` with archives
    of two entries: the build succeeds, each feed listed in the OPML reads with feedparser
    under its own name, and its history holds exactly its posts."""
    done = _build(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = tmp_path / "out"
    outlines = etree.parse(str(out / "feeds.opml")).iter("outline")
    feeds = {o.get("title"): str(o.get("xmlUrl")) for o in outlines if o.get("xmlUrl")}
    for kind in ("category", "tag"):
        for name in CLASHING:
            url = feeds[f"T | {kind} {name}"]
            parsed = feedparser.parse(str(_file(out, url)))
            # A Jekyll site's category titles are capitalised, as jekyll-feed's are.
            shown = f"T | {name.capitalize()}" if kind == "category" else f"T | #{name}"
            assert parsed.feed.title == shown
            members = {f"P{n}" for n in range(5) if name in CLASHING[n % 3 :]}
            current, archived = _history(out, url)
            assert set(current) == members, (kind, name, current)
            assert sorted(archived) == sorted(members), (kind, name, archived)
    assert "would clash with" in done.stdout + done.stderr


SEGMENT = st.sampled_from(["a", "b", "feed", "x.xml", "by_tag", "é"])


@given(st.lists(SEGMENT, min_size=1, max_size=4), st.lists(SEGMENT, min_size=1, max_size=4))
def test_links_between_pages_are_relpath(target: list[str], page: list[str]) -> None:
    """A page's link to a file is what posixpath.relpath makes of the two paths."""
    from feedsmith.pages import relative

    to, at = "/".join(target), "/".join(page)
    assume(not at.startswith(to + "/"))  # a file is never a folder of a page
    assert relative(to, at) == posixpath.relpath(to, posixpath.dirname(at) or ".")
