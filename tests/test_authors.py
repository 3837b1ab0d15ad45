"""Per-author feeds (`authors: true`): written by the real CLI, served by the real server,
named as tag feeds are, listed in the OPML and on the subscribe page; off by default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import feedparser
from lxml import etree

from tests.conftest import parse_feed, write_post
from tests.test_serve_process import fetch
from tests.test_serve_query import searching

SITE = 'title = "A"\nurl = "https://a.example.org"\n'


def make_site(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "feedsmith.toml").write_text(SITE + extra, encoding="utf-8")
    write_post(folder, "2022-01-01-one.md", "title: One\ndate: 2022-01-01\nauthor: 张三")
    write_post(folder, "2022-01-02-two.md", "title: Two\ndate: 2022-01-02\nauthor: [张三, A/B Lee]")
    write_post(folder, "2022-01-03-three.md", "title: Three\ndate: 2022-01-03\nauthor: A/B Lee")
    write_post(folder, "2022-01-04-four.md", "title: Four\ndate: 2022-01-04")
    return folder


def build(source: Path, out: Path, tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "feedsmith",
            "build",
            str(source),
            "-o",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_author_feeds_are_written_named_as_tags_and_listed(tmp_path: Path) -> None:
    source = make_site(tmp_path / "site", "authors = true\n")
    out = tmp_path / "out"
    build(source, out, tmp_path)
    folder = out / "feed" / "by_author"
    assert sorted(p.name for p in folder.glob("*.xml")) == ["A-B-Lee.xml", "张三.xml"]
    for name in ("张三", "A-B-Lee"):
        for ext in (".rss", ".json", ".html"):
            assert (folder / f"{name}{ext}").is_file()
    parsed = parse_feed(folder / "张三.xml")
    assert [e.title for e in parsed.entries] == ["Two", "One"]
    assert parsed.feed.title == "A | by 张三"
    assert [e.title for e in parse_feed(folder / "A-B-Lee.rss").entries] == ["Three", "Two"]
    opml = etree.parse(str(out / "feeds.opml"))
    authors = opml.xpath("//outline[@text='Authors']/outline/@xmlUrl")
    assert authors == [
        "https://a.example.org/feed/by_author/A-B-Lee.xml",
        "https://a.example.org/feed/by_author/%E5%BC%A0%E4%B8%89.xml",
    ]
    page = (out / "feeds.html").read_text(encoding="utf-8")
    assert "<h2>Authors</h2>" in page and 'href="feed/by_author/A-B-Lee.html"' in page


def test_author_feeds_are_off_by_default(tmp_path: Path) -> None:
    source = make_site(tmp_path / "site")
    out = tmp_path / "out"
    build(source, out, tmp_path)
    assert not (out / "feed" / "by_author").exists()
    assert b"Authors" not in (out / "feeds.opml").read_bytes()


def test_author_feeds_are_served_and_take_queries(tmp_path: Path) -> None:
    source = make_site(tmp_path / "site", "authors = true\n")
    out = tmp_path / "out"
    build(source, out, tmp_path)
    with searching(source, "--no-reload") as base:
        path = "feed/by_author/%E5%BC%A0%E4%B8%89.xml"
        status, _, body = fetch(f"{base}/{path}")
        assert status == 200
        assert body == (out / "feed" / "by_author" / "张三.xml").read_bytes()
        status, _, body = fetch(f"{base}/{path}?q=Two")
        assert status == 200
        assert [e.title for e in feedparser.parse(body).entries] == ["Two"]
        status, _, body = fetch(f"{base}/feed.xml?author=A%2FB+Lee")
        assert [e.title for e in feedparser.parse(body).entries] == ["Three", "Two"]
