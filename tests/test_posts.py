"""The bundled posts/: every feed agrees with what each post's front matter says."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup
from feedsmith.config import load_config
from feedsmith.pipeline import build

from tests.conftest import NOW, POSTS, parse_feed

SHANGHAI = timezone(timedelta(hours=8))


def front_matter(path: Path) -> dict[str, Any]:
    """Read a post's front matter independently of feedsmith (plain PyYAML)."""
    text = path.read_text(encoding="utf-8")
    front: dict[str, Any] = yaml.safe_load(text.split("---", 2)[1])
    return front


def expected_date(front: dict[str, Any]) -> datetime:
    value = front["date"]
    if isinstance(value, datetime):  # PyYAML: naive, i.e. in the site's zone
        return value.replace(tzinfo=SHANGHAI)
    return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S %z")


def names(value: Any) -> list[str]:
    return value.split() if isinstance(value, str) else list(value or [])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("posts")
    report = build(load_config(POSTS, output=out), now=NOW)
    assert not report.problems, report.problems
    return out


@pytest.fixture(scope="module")
def published() -> dict[str, dict[str, Any]]:
    """slug -> front matter, for the posts that should be published."""
    result = {}
    for path in sorted(POSTS.glob("*.*")):
        if path.suffix not in (".md", ".html"):
            continue
        front = front_matter(path)
        if front.get("published") is False or front.get("draft") or front.get("feed") is False:
            continue
        result[path.stem.split("-", 3)[3]] = front
    return result


def test_site_feed_has_every_published_post_newest_first(
    built: Path, published: dict[str, dict[str, Any]]
) -> None:
    """Count and order follow the front matter dates; held-back posts are absent."""
    entries = parse_feed(built / "feed.xml").entries
    assert len(entries) == len(published) == 12
    dates = [datetime.fromisoformat(e.published) for e in entries]
    assert dates == sorted(dates, reverse=True)
    expected = sorted(published.values(), key=expected_date, reverse=True)
    assert [e.title for e in entries] == [f["title"] for f in expected]


def test_entry_dates_links_ids_and_categories_match_front_matter(
    built: Path, published: dict[str, dict[str, Any]]
) -> None:
    for entry in parse_feed(built / "feed.xml").entries:
        slug = next(s for s in published if s in entry.link)
        front = published[slug]
        when = expected_date(front)
        assert datetime.fromisoformat(entry.published) == when
        assert entry.published.endswith("+08:00")
        categories, tags = names(front.get("categories")), names(front.get("tags"))
        assert [t.term for t in entry.tags] == list(dict.fromkeys([*categories, *tags]))
        if "permalink" in front:
            assert entry.link == f"https://finews.example.com/notes/{slug}/"
        else:
            folders = "/".join(dict.fromkeys(c.lower() for c in categories))
            assert entry.link == f"https://finews.example.com/{folders}/{when:%Y/%m/%d}/{slug}.html"
        assert entry.id == entry.link.removesuffix(".html").rstrip("/")


def test_rss_matches_atom_item_for_item(built: Path) -> None:
    atom = parse_feed(built / "feed.xml").entries
    rss = parse_feed(built / "feed.rss").entries
    assert [(e.id, e.link, e.title) for e in rss] == [(e.id, e.link, e.title) for e in atom]
    assert [e.published_parsed for e in rss] == [e.published_parsed for e in atom]


def test_each_category_and_tag_feed_holds_exactly_its_posts(
    built: Path, published: dict[str, dict[str, Any]]
) -> None:
    from feedsmith import names as feed_names

    for key, folder in (("categories", "feed"), ("tags", "feed/by_tag")):
        groups: dict[str, set[str]] = {}
        for front in published.values():
            for name in names(front.get(key)):
                groups.setdefault(name, set()).add(front["title"])
        segments, _ = feed_names.assign(groups)
        for name, titles in groups.items():
            for ext in ("xml", "rss"):
                feed = parse_feed(built / folder / f"{segments[name]}.{ext}")
                assert {e.title for e in feed.entries} == titles, (name, ext)


def test_sample_content_is_clean_and_absolute(built: Path) -> None:
    for path in [built / "feed.xml", built / "feed.rss"]:
        for entry in parse_feed(path).entries:
            html = entry.content[0].value
            soup = BeautifulSoup(html, "html.parser")
            assert not soup.select("script, [class], [id], [style], [onclick], span[web]")
            assert not re.search(r"返回\S*新闻|返回首页", soup.get_text())
            for tag in soup.find_all(["a", "img"]):
                url = str(tag.get("href") or tag.get("src"))
                assert re.match(r"^https?://", url), url
            assert "{{" not in html and "{%" not in html


def test_liquid_site_url_resolves_in_a_markdown_post(built: Path) -> None:
    entry = next(
        e for e in parse_feed(built / "feed.xml").entries if "quarterly-market-review" in e.link
    )
    assert "https://finews.example.com/about/" in entry.content[0].value
    assert "<table>" in entry.content[0].value and "<del>The spring rally" in entry.content[0].value


def test_lazy_and_protocol_relative_images_get_real_https_sources(built: Path) -> None:
    entry = next(
        e for e in parse_feed(built / "feed.xml").entries if "202204122339508724" in e.link
    )
    html = entry.content[0].value
    assert 'src="https://dfscdn.dfcfw.com/download/lazy_w800h400.jpg"' in html
    assert 'src="https://finews.example.com/assets/img/chart-2022-03.png"' in html
    assert "data:image" not in html


def test_updated_comes_from_last_modified_at(built: Path) -> None:
    entry = next(
        e for e in parse_feed(built / "feed.xml").entries if "hk-chipmakers-notes" in e.link
    )
    assert entry.updated == "2022-04-05T10:00:00+08:00"
    assert entry.published == "2022-04-03T09:00:00+08:00"
