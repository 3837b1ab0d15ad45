"""feedsmith says what real jekyll-feed 0.17 says, on a site made of jekyll-feed's behaviours.

The site is built twice: by real Jekyll with jekyll-feed, and by feedsmith. Every feed
jekyll-feed writes is written by feedsmith at the same path, with the same entries: ids,
links, dates, titles, authors, summaries, categories, images. What differs on purpose is
said where it is checked (and in the README's "Switching from jekyll-feed").
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import feedparser
import pytest
from feedsmith import build
from lxml import etree

from tests.jekyll import jekyll, write

ATOM = "{http://www.w3.org/2005/Atom}"


def _site(root: Path) -> Path:
    site = root / "site"
    write(
        site / "_config.yml",
        """
        title: "Pat's Site"
        url: https://example.org
        baseurl: /blog
        lang: en-GB
        author: garthdb
        plugins: [jekyll-feed]
        collections:
          docs:
            output: true
        feed:
          categories: [news, "A股 Market"]
          tags:
            path: "../../escape/"
          collections:
            docs:
              categories: [howto]
            posts:
              path: /atom.xml
        """,
    )
    write(
        site / "_data/authors.yml",
        """
        garthdb:
          name: Garth DB
          email: g@example.org
          uri: https://garth.example.org
        """,
    )
    posts = {
        "2024-01-01-first.md": """
            ---
            title: "First -- post, it's here..."
            categories: [news]
            tags: [python, rust]
            description: "The <b>description</b>"
            excerpt: "The excerpt, not used"
            image: /img/a.png
            ---
            Hello *world*.

            Second paragraph.
            """,
        "2024-01-02-no-summary.md": """
            ---
            title: No summary
            excerpt: ""
            tags: [python]
            ---
            Body here.
            """,
        "2024-01-03-front-only.md": """
            ---
            title: Front matter only
            date: 2024-01-03 10:00:00 +0000
            categories: ["A股 Market"]
            ---
            """,
        "2024-01-04-excerpt.md": """
            ---
            title: An excerpt
            excerpt: "Only the excerpt"
            author: someone
            last_modified_at: 2024-02-01 08:00:00 +0000
            ---
            The body.
            """,
        "2024-01-05-image-path.md": """
            ---
            title: Image as a mapping
            image:
              path: https://cdn.example.org/b.png
            ---
            Body.
            """,
    }
    for name, text in posts.items():
        write(site / "_posts" / name, text)
    write(
        site / "_docs/guides/install.md",
        "---\ntitle: Install\ndate: 2024-02-01\ncategories: [howto]\n---\nRun it.\n",
    )
    write(site / "_docs/about.md", "---\ntitle: About\ndate: 2024-02-02\n---\nAbout.\n")
    write(
        site / "feed.xslt.xml",
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>\n',
    )
    return site


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(jekyll-feed's _site, feedsmith's output) of the same site."""
    root = tmp_path_factory.mktemp("jekyll-feed")
    site = _site(root)
    jekyll(site, "build", "--destination", str(root / "_site"))
    out = root / "feedsmith"
    report = build(site, out)
    assert not report.errors
    assert not report.warnings
    assert [p.reason for p in report.notices] == [
        "feed.tags.path: '../../escape/' leads outside the site; using 'escape' inside it, as Jekyll does"
    ]
    shutil.rmtree(site)  # what follows compares what was published
    return root / "_site", out


def _feeds(folder: Path) -> dict[str, Any]:
    return {
        str(p.relative_to(folder)): feedparser.parse(p.read_bytes())
        for p in sorted(folder.rglob("*.xml"))
        if p.name != "feed.xslt.xml" and "<feed" in p.read_text(encoding="utf-8")
    }


def test_every_feed_of_jekyll_feed_is_written_at_its_path(built: tuple[Path, Path]) -> None:
    ours = _feeds(built[1])
    theirs = _feeds(built[0])
    assert set(theirs) == {
        "atom.xml",
        "feed/news.xml",
        "feed/A股 Market.xml",
        "feed/docs.xml",
        "feed/docs/howto.xml",
        "escape/python.xml",
        "escape/rust.xml",
    }
    # The same paths: a listed category keeps its name, space and all, as jekyll-feed has it.
    assert set(theirs) <= set(ours)


def _by_path(built: tuple[Path, Path], path: str) -> tuple[Any, Any]:
    theirs, ours = _feeds(built[0]), _feeds(built[1])
    return theirs[path], ours[path]


@pytest.mark.parametrize(
    "path",
    ["atom.xml", "feed/news.xml", "feed/A股 Market.xml", "feed/docs.xml", "feed/docs/howto.xml"],
)
def test_feed_titles_and_entries_are_jekyll_feeds(built: tuple[Path, Path], path: str) -> None:
    theirs, ours = _by_path(built, path)
    assert ours.feed.title == theirs.feed.title  # smartify and capitalize, as jekyll-feed
    assert ours.feed.id == theirs.feed.id
    assert [e.id for e in ours.entries] == [e.id for e in theirs.entries]
    for mine, jekylls in zip(ours.entries, theirs.entries, strict=True):
        assert mine.title == jekylls.title
        assert mine.link == jekylls.link
        assert mine.published == jekylls.published
        assert mine.updated == jekylls.updated
        assert sorted(t.term for t in mine.get("tags", [])) == sorted(
            t.term for t in jekylls.get("tags", [])
        )
        assert [m["url"] for m in mine.get("media_thumbnail", [])] == [
            m["url"] for m in jekylls.get("media_thumbnail", [])
        ]
        assert [m["url"] for m in mine.get("media_content", [])] == [
            m["url"] for m in jekylls.get("media_content", [])
        ]


def _summaries(path: Path) -> dict[str, str | None]:
    """Each entry's <summary> text by id, as written (feedparser would fill one in from the
    content where there is none)."""
    root = etree.fromstring(path.read_bytes())
    found = {}
    for entry in root.iter(f"{ATOM}entry"):
        summary = entry.find(f"{ATOM}summary")
        found[entry.findtext(f"{ATOM}id") or ""] = None if summary is None else summary.text
    return found


def test_summaries_are_jekyll_feeds(built: tuple[Path, Path]) -> None:
    """`description` over `excerpt`; `excerpt: ""` and an empty body give none; else the
    first paragraph. (jekyll-feed wraps it in CDATA as HTML, and writes an empty one for an
    empty body; feedsmith writes the text, and none where there is none.)"""
    theirs, ours = _summaries(built[0] / "atom.xml"), _summaries(built[1] / "atom.xml")
    assert set(ours) == set(theirs)
    for entry_id, summary in theirs.items():
        assert ours[entry_id] == ((summary or "").strip() or None), entry_id
    assert theirs["https://example.org/blog/2024/01/02/no-summary"] is None


def test_authors_are_jekyll_feeds(built: tuple[Path, Path]) -> None:
    """By key from `_data/authors.yml`, else the name; the site's author by key too."""
    theirs, ours = _by_path(built, "atom.xml")

    def people(feed: Any) -> dict[str, list[tuple[Any, ...]]]:
        return {
            e.id: [(a.get("name"), a.get("email"), a.get("href")) for a in e.get("authors", [])]
            for e in feed.entries
        }

    assert people(ours) == people(theirs)
    assert people(ours)["https://example.org/blog/2024/01/04/excerpt"] == [("someone", None, None)]


def test_every_atom_feed_names_the_sites_stylesheet(built: tuple[Path, Path]) -> None:
    for name in ("atom.xml", "feed/news.xml", "feed/docs.xml"):
        for folder in built:
            head = (folder / name).read_text(encoding="utf-8")[:200]
            assert 'href="https://example.org/blog/feed.xslt.xml"?>' in head, (folder, name)


def test_every_entry_links_to_a_page_jekyll_wrote(built: tuple[Path, Path]) -> None:
    """No feed links to a page that 404s: each entry's link is a file of Jekyll's _site."""
    site = built[0]
    for path, feed in _feeds(built[1]).items():
        for entry in feed.entries:
            local = unquote(entry.link.removeprefix("https://example.org/blog/"))
            assert (site / local).is_file() or (site / local / "index.html").is_file(), (
                path,
                entry.link,
            )


@pytest.fixture(scope="module")
def defaults_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A site of front matter defaults (by path, by type, a glob) and an excerpt separator."""
    root = tmp_path_factory.mktemp("jekyll-defaults")
    site = root / "site"
    write(
        site / "_config.yml",
        """
        title: Defaults
        url: https://example.org
        plugins: [jekyll-feed]
        excerpt_separator: <!--more-->
        defaults:
          - scope: {path: ""}
            values: {image: /img/everyone.png, author: Everyone}
          - scope: {path: "_posts/news", type: posts}
            values: {author: Newsdesk, categories: [news]}
          - scope: {path: "_posts/*/deep"}
            values: {image: /img/deep.png}
        """,
    )
    write(
        site / "_posts/2024-01-01-plain.md", "---\ntitle: Plain\n---\nOne.\n\n<!--more-->\n\nTwo.\n"
    )
    write(
        site / "_posts/news/2024-01-02-news.md", "---\ntitle: News\n---\nNo separator.\n\nAt all.\n"
    )
    write(site / "_posts/x/deep/2024-01-03-deep.md", "---\ntitle: Deep\nauthor: Own\n---\nDeep.\n")
    jekyll(site, "build", "--destination", str(root / "_site"))
    build(site, root / "out")
    return root / "_site", root / "out"


def test_front_matter_defaults_and_the_excerpt_separator_are_jekylls(
    defaults_built: tuple[Path, Path],
) -> None:
    theirs, ours = (
        feedparser.parse((folder / "feed.xml").read_bytes()) for folder in defaults_built
    )
    assert [e.id for e in ours.entries] == [e.id for e in theirs.entries]
    for mine, jekylls in zip(ours.entries, theirs.entries, strict=True):
        assert mine.link == jekylls.link  # a default category is in the URL
        assert [a.get("name") for a in mine.authors] == [a.get("name") for a in jekylls.authors]
        assert mine.media_thumbnail == jekylls.media_thumbnail
        assert mine.summary == jekylls.summary
    assert [e.summary for e in ours.entries] == ["Deep.", "No separator. At all.", "One."]


def test_exclude_patterns_leave_out_the_posts_jekyll_leaves_out(tmp_path: Path) -> None:
    """`exclude:` globs (`*` crossing `/`), prefixes (`_posts/old` also leaves out
    `_posts/older-…`), folders and Jekyll's own defaults (vendor/bundle/): the entries of
    feedsmith's site feed are exactly the posts real Jekyll writes pages for."""
    site = tmp_path / "site"
    write(
        site / "_config.yml",
        """
        url: https://example.org
        permalink: /:year/:title.html
        exclude: ["_posts/2024-01-0*-draft*", "_posts/old", "archive", "*.markdown"]
        """,
    )
    names = [
        "_posts/2024-01-02-kept.md",
        "_posts/2024-01-03-draft-one.md",
        "_posts/2024-01-04-draftish.md",
        "_posts/old/2023-05-01-gone.md",
        "_posts/older/2023-05-02-gone-too.md",
        "_posts/2024-02-01-kept-two.md",
        "_posts/2024-02-02-markdown.markdown",
        "archive/_posts/2022-01-01-archived.md",
        "news/_posts/2024-03-01-news.md",
        "vendor/bundle/_posts/2024-03-02-vendored.md",
    ]
    for n, name in enumerate(names):
        write(site / name, f"---\ntitle: post {n}\n---\nbody {n}\n")
    jekyll(site, "build", "--quiet")
    pages = {
        p.relative_to(site / "_site").as_posix()
        for p in (site / "_site").rglob("*.html")
        if p.parent != site / "_site"
    }
    out = tmp_path / "feeds"
    build(site, out, posts_limit=0)
    linked = {
        unquote(entry.link).removeprefix("https://example.org/")
        for entry in feedparser.parse((out / "feed.xml").read_bytes()).entries
    }
    assert linked == pages
    assert linked == {
        "2024/kept.html",
        "2024/kept-two.html",
        "2024/news.html",
    }
