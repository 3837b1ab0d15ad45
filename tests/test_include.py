"""`{% include %}` and `{% include_relative %}` as Jekyll renders them, bounded and cached right."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import feedparser
import pytest
from feedsmith import build, load_config
from feedsmith.pipeline import build as build_with

from tests.conftest import NOW
from tests.jekyll import jekyll, write

POST = """
---
title: With includes
widget: figure
---
Before.

{% include figure.html src="/img/a.png" caption='A "quoted" caption' %}

{% include {{ page.widget }}.html src="/b.png" caption=page.title %}

{% include_relative snippet.md %}

After.
"""


def _site(root: Path) -> Path:
    site = root / "site"
    write(site / "_config.yml", "title: T\nurl: https://example.org\n")
    write(
        site / "_includes/figure.html",
        '<figure><img src="{{ include.src }}" alt="{{ include.alt | default: "x" }}">'
        "<figcaption>{{ include.caption }} — {{ page.title }}</figcaption></figure>\n"
        "{% include parts/note.html text=include.caption %}\n",
    )
    write(site / "_includes/parts/note.html", '<p class="note">Note: {{ include.text }}</p>\n')
    write(site / "_posts/snippet.md", "Snippet from beside the post.\n")
    write(site / "_posts/2024-01-01-a.md", POST)
    return site


def _text(html: str) -> list[str]:
    """The text of each block and the address of each image, in order: what a reader sees."""
    found = []
    for match in re.finditer(r'<(p|figcaption)[^>]*>(.*?)</\1>|<img[^>]*src="([^"]+)"', html, re.S):
        if match.group(3):
            found.append(match.group(3).removeprefix("https://example.org"))
        else:
            found.append(re.sub(r"<[^>]+>", "", match.group(2)).strip())
    return found


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return _site(tmp_path)


def _entry(out: Path) -> str:
    return str(feedparser.parse((out / "feed.xml").read_bytes()).entries[0].content[0].value)


def test_an_entry_shows_what_jekyll_renders(site: Path, tmp_path: Path) -> None:
    """Parameters (quoted, from a variable), a nested include passing its own parameter on,
    a name made of a variable, include_relative: the same text and images as Jekyll's page."""
    jekyll(site, "build", "--destination", str(tmp_path / "_site"))
    page = (tmp_path / "_site/2024/01/01/a.html").read_text(encoding="utf-8")
    theirs = _text(page[page.index("Before.") - 3 : page.index("After.") + 10])
    report = build(site, tmp_path / "out")
    assert not report.warnings and not report.errors
    assert _text(_entry(tmp_path / "out")) == theirs
    assert theirs[:4] == [
        "Before.",
        "/img/a.png",
        'A "quoted" caption — With includes',
        'Note: A "quoted" caption',
    ]


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("{% include missing.html %}", "no such file (_includes/missing.html)"),
        ("{% include ../../../etc/passwd %}", "is not a file name Jekyll includes"),
        ("{% include_relative ../feedsmith.toml %}", "is not a file name Jekyll includes"),
        ("{% include {{ page.nothing }} %}", "is not a file name Jekyll includes"),
    ],
)
def test_what_cannot_be_included_is_removed_with_a_warning(
    site: Path, tmp_path: Path, tag: str, reason: str
) -> None:
    write(site / "_posts/2024-01-02-b.md", f"---\ntitle: B\n---\nText {tag} more.\n")
    report = build(site, tmp_path / "out")
    warnings = [str(p) for p in report.warnings]
    assert any(w.startswith("_posts/2024-01-02-b.md:") and reason in w for w in warnings), warnings
    entries = feedparser.parse((tmp_path / "out/feed.xml").read_bytes()).entries
    assert "Text  more." in next(e for e in entries if e.title == "B").content[0].value


def test_a_symlink_out_of_the_source_is_not_included(site: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text("SECRET", encoding="utf-8")
    (site / "_includes/leak.html").symlink_to(secret)
    write(site / "_posts/2024-01-02-b.md", "---\ntitle: B\n---\n{% include leak.html %}\n")
    report = build(site, tmp_path / "out")
    assert "SECRET" not in (tmp_path / "out/feed.xml").read_text(encoding="utf-8")
    assert any("leak.html" in str(p) for p in report.warnings)


def test_an_include_of_itself_ends_with_a_warning(site: Path, tmp_path: Path) -> None:
    write(site / "_includes/loop.html", "x{% include loop.html %}")
    write(site / "_posts/2024-01-02-b.md", "---\ntitle: B\n---\n{% include loop.html %}\n")
    report = build(site, tmp_path / "out")
    assert any("Liquid error" in str(p) for p in report.warnings)
    assert (tmp_path / "out/feed.xml").is_file()


def test_a_changed_include_renders_its_entries_again(site: Path, tmp_path: Path) -> None:
    """The build cache knows what each entry included: a changed include is a changed entry,
    in the entry cache and in the feed cache alike (the cached build equals a cold one)."""
    out = tmp_path / "out"
    build_with(load_config(site, output=out), now=NOW)
    (site / "_includes/parts/note.html").write_text("<p>Changed note: {{ include.text }}</p>\n")
    build_with(load_config(site, output=out), now=NOW)
    assert "Changed note" in _entry(out)
    cold = tmp_path / "cold"
    build_with(load_config(site, output=cold), now=NOW, use_cache=False)
    assert (out / "feed.xml").read_bytes() == (cold / "feed.xml").read_bytes()
    shutil.rmtree(cold)
