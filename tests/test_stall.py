"""One post can never stall, crash or empty a build: each case is built by the real CLI in a
subprocess, with a timeout far above what the build needs (the old code took minutes or ran
out of memory on these posts)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import feedparser

TIMEOUT = 60  # a guard against hangs, not a speed test
MEMORY = 3 * 1024**3  # the build runs out of memory rather than taking the machine's


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _site(root: Path, hostile: dict[str, str], *, ordinary: int = 20) -> Path:
    posts = root / "_posts"
    posts.mkdir(parents=True)
    (root / "_config.yml").write_text(
        "title: T\nurl: https://stall.example\nfeedsmith:\n  posts_limit: 50\n", encoding="utf-8"
    )
    for n in range(ordinary):
        (posts / f"2024-01-{n + 1:02d}-ok{n}.md").write_text(
            f"---\ntitle: OK {n}\n---\nHello {n}.\n", encoding="utf-8"
        )
    for n, (name, body) in enumerate(hostile.items()):
        (posts / f"2023-01-{n + 1:02d}-{name}").write_text(
            f"---\ntitle: hostile {n}\n---\n{body}\n", encoding="utf-8"
        )
    return root


def _build(site: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsmith", "build", str(site), "-o", str(site / "out"), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # the report and its warnings, in the order printed
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_limit_memory,
        check=False,
    )


def _titles(site: Path) -> set[str]:
    return {e.title for e in feedparser.parse(str(site / "out" / "feed.xml")).entries}


AMPLIFIERS = {
    "chained-replace.md": '{{ "xxxxxxxxxx"' + ' | replace: "x", "xxxxxxxxxx"' * 10 + " }}",
    "join.md": '{% assign s = "' + "y" * 90_000 + '" %}{{ (1..10000) | join: s }}',
    "doubling.md": (
        '{% assign a = "x" %}{% for i in (1..10000) %}{% assign a = a | append: a %}{% endfor %}'
    ),
    "prepend.md": '{% assign a = "' + "z" * 60_000 + '" %}{{ a | prepend: a | prepend: a }}',
}


def test_liquid_amplification_costs_only_its_post(tmp_path: Path) -> None:
    """Liquid that grows a string exponentially is stopped before the string is made: the
    build succeeds with every ordinary post, and says which filter it stopped."""
    site = _site(tmp_path, AMPLIFIERS)
    done = _build(site)
    assert done.returncode == 0, done.stdout
    assert "Traceback" not in done.stdout
    assert "`replace` would make a string of more than 2,000,000 characters" in done.stdout
    assert "chained-replace.md" in done.stdout
    assert {f"OK {n}" for n in range(20)} <= _titles(site)


def test_liquid_amplification_fails_strict(tmp_path: Path) -> None:
    """Under --strict the same site exits 1, still without a traceback."""
    site = _site(tmp_path, AMPLIFIERS)
    done = _build(site, "--strict")
    assert done.returncode == 1
    assert "Traceback" not in done.stdout


def test_unclosed_tags_are_read_in_linear_time(tmp_path: Path) -> None:
    """Hundreds of thousands of unclosed `<a `, `<p ` and `<!--` (each once scanned to the
    end of the post by the nesting guard and the text maker) build like any post."""
    bodies = {
        "unclosed-a.html": "<a " * 200_000,
        "unclosed-p.html": "x<p " * 150_000,
        "unclosed-comment.html": "y<!--" * 150_000,
        "unclosed-escaped.html": "z&lt;b " * 150_000,
    }
    site = _site(tmp_path, bodies, ordinary=3)
    done = _build(site)
    assert done.returncode == 0, done.stdout
    assert "Traceback" not in done.stdout
    titles = _titles(site)
    assert {"OK 0", "OK 1", "OK 2"} <= titles
    assert {f"hostile {n}" for n in range(len(bodies))} <= titles


def test_unclosed_liquid_and_kramdown_build_in_linear_time(tmp_path: Path) -> None:
    """Liquid delimiters, raw and highlight blocks and kramdown attribute lists left unclosed
    by the ten thousand (each once scanned to the end of the post from every opener: the old
    code took minutes) build, the other posts with them."""
    bodies = {
        "tag-open.md": "{% " * 60_000,
        "output-open.md": "{{ x {% " * 40_000,
        "raw-open.md": "{%raw%}" * 40_000,
        "highlight-open.md": "{% highlight py %}x\n" * 30_000,
        "ial-open.md": "a {:" * 100_000 + "}",
    }
    site = _site(tmp_path, bodies, ordinary=3)
    done = _build(site)
    assert done.returncode == 0, done.stdout
    assert "Traceback" not in done.stdout
    assert {"OK 0", "OK 1", "OK 2"} | {f"hostile {n}" for n in range(len(bodies))} <= _titles(site)


def test_huge_pathological_markdown_is_bounded(tmp_path: Path) -> None:
    """A body of 1,200,000 unclosed links with a tab (which markdown-it-py would read, each
    link scanned ahead from: far past a minute) is rendered, linearly, by pulldown-cmark."""
    site = _site(tmp_path, {"links.md": "[a](" * 1_200_000 + "\n\nlast\tword"}, ordinary=3)
    done = _build(site)
    assert done.returncode == 0, done.stdout
    assert "hostile 0" in _titles(site)


DEEP = {
    "nested-list.md": "- " * 24_000 + "deepest",
    "div-p.html": "<div><p>" * 49_000 + "deepest",
    "tables.html": "<table><tr><td>" * 30_000 + "deepest",
    "self-closed.html": "<div/>" * 20_000 + "deepest",
    "commented.html": "<div><!--</div>-->" * 20_000 + "deepest",
}


def test_deep_implied_nesting_is_shown_as_text(tmp_path: Path) -> None:
    """Elements nested by the parser's rules rather than as written (an unclosed `<p>` closed
    by the `<div>` after it, cells that imply their rows, list items in list items) are
    caught by the nesting guard: each post is its text, the deepest word included (the parser
    would have dropped it), with the guard's warning."""
    site = _site(tmp_path, DEEP, ordinary=3)
    done = _build(site)
    assert done.returncode == 0, done.stdout
    assert done.stdout.count("markup nested more than 200 levels deep") == len(DEEP), done.stdout
    entries = feedparser.parse(str(site / "out" / "feed.xml")).entries
    hostile = [e for e in entries if e.title.startswith("hostile")]
    assert len(hostile) == len(DEEP)
    assert all("deepest" in e.content[0].value for e in hostile)
