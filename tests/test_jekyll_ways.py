"""The three ways a Jekyll site is built, each with real Jekyll 4.3 and the minima theme.

a. plugins allowed: `feedsmith init` writes `_plugins/feedsmith.rb`; plain `jekyll build`
   and `jekyll serve` then give feedsmith's feeds and `{% feed_meta %}` links them;
b. safe mode (GitHub Pages' builder): `feedsmith init` sets up committed feeds; Jekyll copies
   them, jekyll-feed leaves them alone; `feedsmith build --check` tells when they are stale;
c. build, then feeds, in CI: `jekyll build`, then `feedsmith build . -o _site`.

Each way must put feedsmith's feeds at jekyll-feed's URLs, survive a second build, show a
new post after the next one, and publish nothing of feedsmith's own (cache, lock, manifest).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from tests.clients import need
from tests.conftest import feedsmith
from tests.jekyll import ENV, jekyll, write
from tests.test_serve_process import free_port, wait_for

# The plugin runs the command FEEDSMITH names: this checkout's, as the tests run it.
FEEDSMITH = {"FEEDSMITH": f"{sys.executable} -m feedsmith"}


def minima_site(root: Path, *, safe: bool) -> Path:
    """A blog on the minima theme, whose head calls {% feed_meta %}, as `jekyll new` makes."""
    site = root / "site"
    # GitHub Pages' builder has a whitelist of its own; a local safe build is told it.
    extra = "safe: true\nwhitelist: [jekyll-feed, jekyll-seo-tag]\n" if safe else ""
    write(
        site / "_config.yml",
        'title: "Pat\'s Blog"\nurl: https://example.org\ntheme: minima\n'
        "plugins: [jekyll-feed, jekyll-seo-tag]\n" + extra,
    )
    write(site / "Gemfile", 'source "https://rubygems.org"\ngem "jekyll"\ngem "jekyll-feed"\n')
    write(site / "index.md", "---\nlayout: home\n---\n")
    write(site / "news.md", "---\nlayout: page\ntitle: News\ncategory: news\n---\nThe news.\n")
    write(
        site / "_posts/2024-01-01-first.md",
        "---\nlayout: post\ntitle: First post\ncategories: [news]\ntags: [ruby, 东财]\n---\n"
        'Hello {% include note.html text="there" %}.\n',
    )
    write(site / "_includes/note.html", "<em>{{ include.text }}</em>")
    return site


def add_post(site: Path) -> None:
    write(
        site / "_posts/2024-01-02-second.md", "---\nlayout: post\ntitle: Second post\n---\nTwo.\n"
    )


def feed_titles(path: Path) -> list[str]:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.generator == "feedsmith", path
    return [entry.title for entry in parsed.entries]


def nothing_of_feedsmiths_own(published: Path) -> None:
    own = [p for p in published.rglob("*") if "feedsmith" in p.name and p.suffix != ".xml"]
    own += list(published.rglob(".*"))
    assert own == [], own


def feeds_are_there(published: Path) -> None:
    for rel in (
        "feed.xml",
        "feed.rss",
        "feed.json",
        "feed/news.xml",
        "feed/by_tag/ruby.xml",
        "feed/by_tag/东财.xml",
        "feeds.opml",
    ):
        assert (published / rel).is_file(), rel


# --- a. plugins allowed ----------------------------------------------------------------------


@pytest.fixture
def plugin_site(tmp_path: Path) -> Path:
    need("jekyll")
    site = minima_site(tmp_path, safe=False)
    result = feedsmith("init", site)
    assert result.returncode == 0, result.stderr
    assert "wrote  _plugins/feedsmith.rb" in result.stdout
    assert "_config.yml: `plugins:` lists jekyll-feed" in result.stdout
    assert 'Gemfile line 3: gem "jekyll-feed"' in result.stdout
    again = feedsmith("init", site)
    assert "unchanged  _plugins/feedsmith.rb" in again.stdout
    return site


def test_a_plain_jekyll_build_writes_feedsmiths_feeds(plugin_site: Path) -> None:
    jekyll(plugin_site, "build", env=FEEDSMITH)
    published = plugin_site / "_site"
    feeds_are_there(published)
    assert feed_titles(published / "feed.xml") == ["First post"]
    entry = feedparser.parse((published / "feed.xml").read_bytes()).entries[0]
    assert "<em>there</em>" in entry.content[0].value  # Jekyll's own rendering
    nothing_of_feedsmiths_own(published)
    # {% feed_meta %} in minima's head: the site feeds everywhere, a category's on its page.
    home = (published / "index.html").read_text(encoding="utf-8")
    assert (
        'href="https://example.org/feed.xml"' in home
        and 'href="https://example.org/feed.json"' in home
    )
    assert "feed/news.xml" not in home
    assert 'href="https://example.org/feed/news.xml"' in (published / "news.html").read_text(
        encoding="utf-8"
    )


def test_a_feed_meta_is_feedsmiths_where_plugins_still_lists_jekyll_feed(tmp_path: Path) -> None:
    """No theme: jekyll-feed, listed in `plugins:`, loads after _plugins/ (minima's loads it
    before), and its own {% feed_meta %} (the Atom feed alone) must not win."""
    need("jekyll")
    site = tmp_path / "site"
    write(site / "_config.yml", "title: Blog\nurl: https://example.org\nplugins: [jekyll-feed]\n")
    write(site / "_layouts/default.html", "<head>{% feed_meta %}</head>{{ content }}")
    write(site / "index.html", "---\nlayout: default\n---\nHome\n")
    write(site / "_posts/2024-01-01-first.md", "---\ntitle: First post\n---\nOne.\n")
    assert feedsmith("init", site, "--plugin").returncode == 0
    jekyll(site, "build", env=FEEDSMITH)
    home = (site / "_site/index.html").read_text(encoding="utf-8")
    assert 'href="https://example.org/feed.json"' in home, home
    assert feed_titles(site / "_site/feed.xml") == ["First post"]


def test_a_second_build_keeps_the_feeds_and_a_new_post_shows(plugin_site: Path) -> None:
    jekyll(plugin_site, "build", env=FEEDSMITH)
    published = plugin_site / "_site"
    tag_feed = published / "feed/by_tag/东财.xml"
    before = tag_feed.stat().st_mtime_ns
    jekyll(plugin_site, "build", env=FEEDSMITH)
    feeds_are_there(published)
    assert tag_feed.stat().st_mtime_ns == before  # kept through Jekyll's clean-up, not rewritten
    add_post(plugin_site)
    jekyll(plugin_site, "build", env=FEEDSMITH)
    assert feed_titles(published / "feed.xml") == ["Second post", "First post"]
    nothing_of_feedsmiths_own(published)


@pytest.fixture
def served(plugin_site: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [need("jekyll"), "serve", "--watch", "--host", "127.0.0.1", "--port", str(port)],
        cwd=plugin_site,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **ENV, **FEEDSMITH},
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/feed.xml", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    try:
        wait_for(up, timeout=60)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_jekyll_serve_regenerates_with_the_new_post_and_never_loses_a_feed(
    plugin_site: Path, served: str
) -> None:
    """The feed of a tag is there all along while `jekyll serve` regenerates the site."""

    def titles() -> list[str]:
        with urllib.request.urlopen(f"{served}/feed.xml", timeout=5) as response:
            return [e.title for e in feedparser.parse(response.read()).entries]

    assert titles() == ["First post"]
    add_post(plugin_site)
    deadline = time.monotonic() + 30
    while titles() != ["Second post", "First post"]:
        with urllib.request.urlopen(f"{served}/feed/by_tag/%E4%B8%9C%E8%B4%A2.xml", timeout=5) as r:
            assert r.status == 200
        assert time.monotonic() < deadline, "the new post never showed"
        time.sleep(0.2)
    nothing_of_feedsmiths_own(plugin_site / "_site")


# --- b. safe mode: committed feeds -------------------------------------------------------------


@pytest.fixture
def safe_site(tmp_path: Path) -> Path:
    need("jekyll")
    site = minima_site(tmp_path, safe=True)
    result = feedsmith("init", site)
    assert result.returncode == 0, result.stderr
    assert "safe mode" in result.stdout and "updated  _config.yml" in result.stdout
    # 12 feeds, the OPML list, the list of feeds and a page for each of the 4 feeds
    assert "built the feeds into the site: 18 written" in result.stdout
    again = feedsmith("init", site)
    assert "unchanged  _config.yml" in again.stdout and "0 written, 18 unchanged" in again.stdout
    return site


def test_b_jekyll_in_safe_mode_publishes_the_committed_feeds(safe_site: Path) -> None:
    jekyll(safe_site, "build", "--safe")
    published = safe_site / "_site"
    feeds_are_there(published)
    assert feed_titles(published / "feed.xml") == ["First post"]  # not jekyll-feed's
    nothing_of_feedsmiths_own(published)
    home = (published / "index.html").read_text(encoding="utf-8")
    assert 'href="https://example.org/feed.xml"' in home  # jekyll-feed's feed_meta, kept


def test_b_a_new_post_makes_check_fail_until_the_feeds_are_built(safe_site: Path) -> None:
    assert feedsmith("build", "--check", cwd=safe_site).returncode == 0
    add_post(safe_site)
    stale = feedsmith("build", "--check", cwd=safe_site)
    assert stale.returncode == 1
    assert "feed.xml: differs from what a build would write" in stale.stderr
    built = feedsmith("build", cwd=safe_site)  # in the site root, no arguments
    assert built.returncode == 0, built.stderr
    assert feedsmith("build", cwd=safe_site).stdout.count(" 0 written") == 1  # a no-op now
    assert feedsmith("build", "--check", cwd=safe_site).returncode == 0
    jekyll(safe_site, "build", "--safe")
    assert feed_titles(safe_site / "_site/feed.xml") == ["Second post", "First post"]
    nothing_of_feedsmiths_own(safe_site / "_site")


# --- c. build, then feeds, in CI ---------------------------------------------------------------


def test_c_jekyll_build_then_feedsmith_build(tmp_path: Path) -> None:
    """As the README's Actions recipe: a runner that starts empty, twice, a post between."""
    need("jekyll")
    site = minima_site(tmp_path, safe=False)
    for expected in (["First post"], ["Second post", "First post"]):
        shutil.rmtree(site / "_site", ignore_errors=True)
        shutil.rmtree(site / ".feedsmith-cache", ignore_errors=True)
        jekyll(site, "build")
        result = feedsmith("build", site, "-o", site / "_site", "--strict")
        assert result.returncode == 0, result.stderr
        feeds_are_there(site / "_site")
        assert feed_titles(site / "_site/feed.xml") == expected
        nothing_of_feedsmiths_own(site / "_site")
        add_post(site)
