"""One file -> one Post: front matter, dates, names, URLs and ids, and the files that are refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from feedsmith.config import load_config
from feedsmith.errors import PostError
from feedsmith.model import Author, Post, SourceFile
from feedsmith.parse import Parsed, parse_post

from tests.conftest import NOW, write_post

SHANGHAI = timezone(timedelta(hours=8))


def parse(
    site: Path, name: str, front: str | None = None, body: str = "Body\n", **overrides: Any
) -> Parsed:
    """Write one post (unless it exists) and parse it with the site's configuration."""
    path = site / name
    if front is not None:
        write_post(site, name, front, body)
    config = load_config(site, overrides=overrides or None)
    return parse_post(SourceFile(path=str(path), rel=name), config, now=NOW)


def post_of(site: Path, name: str, front: str, **overrides: Any) -> Post:
    parsed = parse(site, name, front, **overrides)
    assert parsed.post is not None, parsed
    return parsed.post


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("date: 2022-01-26 04:35:02 +0800", datetime(2022, 1, 26, 4, 35, 2, tzinfo=SHANGHAI)),
        ("date: 2022-01-25 20:35:02 +0000", datetime(2022, 1, 26, 4, 35, 2, tzinfo=SHANGHAI)),
        ("date: 2022-01-26T04:35:02+08:00", datetime(2022, 1, 26, 4, 35, 2, tzinfo=SHANGHAI)),
        ("date: 2022-01-26 04:35:02", datetime(2022, 1, 26, 4, 35, 2, tzinfo=SHANGHAI)),
        ('date: "2022-01-26 04:35"', datetime(2022, 1, 26, 4, 35, tzinfo=SHANGHAI)),
        ("date: 2022-01-26", datetime(2022, 1, 26, tzinfo=SHANGHAI)),
        ('date: "Jan 26, 2022 4:35 PM +0800"', datetime(2022, 1, 26, 16, 35, tzinfo=SHANGHAI)),
    ],
)
def test_dates_are_aware_and_in_the_site_timezone(
    site: Path, front: str, expected: datetime
) -> None:
    """Offsets are honoured; a date without one is in the site's timezone (Asia/Shanghai here)."""
    post = post_of(site, "2000-01-01-x.md", f"title: X\n{front}")
    assert post.date == expected
    assert post.date.utcoffset() == timedelta(hours=8)


def test_file_name_gives_the_date_when_front_matter_has_none(site: Path) -> None:
    post = post_of(site, "2021-12-08-hello.md", "title: Hello")
    assert post.date == datetime(2021, 12, 8, tzinfo=SHANGHAI)


def test_front_matter_date_wins_over_the_file_name(site: Path) -> None:
    post = post_of(site, "2021-12-08-hello.md", "date: 2021-12-09 10:00:00 +0800")
    assert post.date.day == 9
    assert post.url == "https://example.org/2021/12/09/hello.html"


def test_name_without_date_is_fine_with_a_front_matter_date(site: Path) -> None:
    post = post_of(site, "about-markets.md", "title: About\ndate: 2022-03-01")
    assert post.url == "https://example.org/2022/03/01/about-markets.html"


@pytest.mark.parametrize(
    ("name", "front", "reason"),
    [
        ("notes.md", "title: No date", "no date"),
        ("2022-02-30-x.md", "title: Bad", "2022-02-30 is not a valid date"),
        ("x.md", "date: 2022-02-30", "'2022-02-30' is not a valid date"),
        ("x.md", "date: yesterday", "'yesterday' is not a date"),
        ("x.md", "date: [2022, 1, 1]", "date: expected a date"),
        ("x.md", "title: [a, b]\ndate: 2022-01-01", "title: expected text, got a list"),
        ("x.md", "- a\n- b", "front matter must be 'key: value' lines, not a list"),
        ("x.md", "42", "not int 42"),
        ("x.md", 'title: "unclosed\ndate: 2022-01-01', "front matter is not valid YAML"),
        ("x.md", "title: x\n\tdate: 2022-01-01", "front matter is not valid YAML"),
        (
            "x.md",
            "tags: {a: 1}\ndate: 2022-01-01",
            "tags: expected a name or a list of names, got a mapping",
        ),
    ],
)
def test_unusable_posts_raise_with_the_reason(
    site: Path, name: str, front: str, reason: str
) -> None:
    """Each refused post names what is wrong, so the owner can fix the file."""
    write_post(site, name, front)
    with pytest.raises(PostError, match=None) as caught:
        parse(site, name)
    assert reason in caught.value.reason
    assert caught.value.path == name


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\n", "empty file"),
        (b"---\ntitle: x\ndate: 2022-01-01\nno closing line\n", "front matter is not closed"),
        (b"\x00\x01\x02binary\x00", "binary file"),
        (b"---\ntitle: \xff\xfe\xfd broken\n---\n", "not UTF-8"),
    ],
)
def test_unreadable_files_raise_with_the_reason(site: Path, content: bytes, reason: str) -> None:
    (site / "2022-01-01-x.md").write_bytes(content)
    with pytest.raises(PostError) as caught:
        parse(site, "2022-01-01-x.md")
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    "encoded",
    [
        "\ufeff---\ntitle: 标题\n---\n正文\n".encode(),
        "---\r\ntitle: 标题\r\n---\r\n正文\r\n".encode(),
        "---\rtitle: 标题\r---\r正文\r".encode(),
        "\ufeff---\ntitle: 标题\n---\n正文\n".encode("utf-16-le"),
        "\ufeff---\ntitle: 标题\n---\n正文\n".encode("utf-16-be"),
    ],
    ids=["utf8-bom", "crlf", "lone-cr", "utf16-le", "utf16-be"],
)
def test_byte_order_marks_and_line_ends_are_read(site: Path, encoded: bytes) -> None:
    (site / "2022-01-01-x.md").write_bytes(encoded)
    post = parse(site, "2022-01-01-x.md").post
    assert post is not None and post.title == "标题"


def test_gb18030_chinese_is_decoded_with_a_warning(site: Path) -> None:
    (site / "2022-01-01-x.md").write_bytes(
        "---\ntitle: 商汤科技落户上海临港\n---\n据介绍，这是一个测试。\n".encode("gb18030")
    )
    parsed = parse(site, "2022-01-01-x.md")
    assert parsed.post is not None and parsed.post.title == "商汤科技落户上海临港"
    assert any("GB18030" in p.reason for p in parsed.problems)


@pytest.mark.parametrize(
    ("front", "categories", "tags"),
    [
        ("categories: emnews\ntags: 东财滚动新闻", ("emnews",), ("东财滚动新闻",)),
        ("categories: a b  c\ntags: x y", ("a", "b", "c"), ("x", "y")),
        (
            "categories: [Big Data, b]\ntags: [Hong Kong, 'A股 Market']",
            ("Big Data", "b"),
            ("Hong Kong", "A股 Market"),
        ),
        ("category: Jekyll News\ntag: one tag", ("Jekyll News",), ("one tag",)),
        ("category: release\ncategories: [a]", ("a", "release"), ()),
        ("categories: [a, a, 2022]\ntags: [[n, m], x]", ("a", "2022"), ("n", "m", "x")),
        ("categories: ''\ntags:", (), ()),
    ],
)
def test_categories_and_tags_follow_jekyll(
    site: Path, front: str, categories: tuple[str, ...], tags: tuple[str, ...]
) -> None:
    """Lists as given; strings split on whitespace for plural keys; singular keys kept whole."""
    post = post_of(site, "2022-01-01-x.md", f"title: X\n{front}")
    assert post.categories == categories
    assert post.tags == tags


def test_nfc_and_nfd_spellings_are_one_name(site: Path) -> None:
    post = post_of(site, "2022-01-01-x.md", "title: X\ntags: [Caf\u00e9, Cafe\u0301]")
    assert post.tags == ("Caf\u00e9",)


def test_control_characters_never_reach_names_or_titles(site: Path) -> None:
    post = post_of(
        site, "2022-01-01-x.md", 'title: "A\\x01B\\uFFFE"\ntags: ["t\\x00ag"]\nauthor: "Ann\\x07"'
    )
    assert post.title == "AB"
    assert post.tags == ("tag",)
    assert [a.name for a in post.authors] == ["Ann"]


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("published: false", "published: false"),
        ("draft: true", "draft"),
        ("feed: false", "feed: false"),
        ("date: 2999-01-01", "dated in the future"),
    ],
)
def test_held_back_posts_are_not_published(site: Path, front: str, reason: str) -> None:
    parsed = parse(site, "2022-01-01-x.md", f"title: X\n{front}")
    assert parsed.post is None
    assert parsed.held_back == reason


def test_drafts_and_future_are_published_when_asked(site: Path) -> None:
    assert parse(site, "2022-01-01-x.md", "title: X\ndraft: true", drafts=True).post is not None
    assert parse(site, "2999-01-01-y.md", "title: Y", future=True).post is not None


def test_title_defaults_to_the_titleized_slug(site: Path) -> None:
    """As Jekyll: `2022-01-01-hello-big-world.md` is titled "Hello Big World"."""
    assert post_of(site, "2022-01-01-hello-big-world.md", "layout: post").title == "Hello Big World"


def test_numeric_slug_gives_no_title_so_the_entry_uses_the_lead(site: Path) -> None:
    assert post_of(site, "2022-01-01-202201262261402514.md", "layout: post").title == ""


def test_title_markup_becomes_plain_text(site: Path) -> None:
    post = post_of(site, "2022-01-01-x.md", 'title: "<em>Big</em> &amp; bold"')
    assert post.title == "Big & bold"


def test_id_is_jekyll_feeds_and_front_matter_id_wins(site: Path) -> None:
    plain = post_of(site, "2022-01-26-202201262261402514.md", "categories: emnews")
    assert plain.id == "https://example.org/emnews/2022/01/26/202201262261402514"
    own = post_of(site, "2022-01-27-x.md", "id: tag:example.org,2022:x")
    assert own.id == "tag:example.org,2022:x"
    relative = post_of(site, "2022-01-28-y.md", "id: /old/path/y")
    assert relative.id == "https://example.org/old/path/y"


def test_author_as_string_or_mapping(site: Path) -> None:
    mapped = post_of(
        site,
        "2022-01-01-a.md",
        "author:\n  name: Ann\n  email: ann@example.org\n  url: https://ann.example.org",
    )
    assert [(a.name, a.email, a.uri) for a in mapped.authors] == [
        ("Ann", "ann@example.org", "https://ann.example.org")
    ]
    assert post_of(site, "2022-01-02-b.md", "author: Bob").authors == (Author(name="Bob"),)


@pytest.mark.parametrize(
    "front",
    [
        pytest.param("author: [matt-dole, roop]", id="author-list"),
        pytest.param("authors: [matt-dole, roop]", id="authors-list"),
        pytest.param("author:\n  - matt-dole\n  - name: roop", id="names-and-mappings"),
        pytest.param("author: [matt-dole, roop, matt-dole]", id="each-name-once"),
        pytest.param("author: [matt-dole, roop]\nauthors: [someone-else]", id="author-wins"),
    ],
)
def test_every_author_is_kept_in_order(site: Path, front: str) -> None:
    post = post_of(site, "2022-01-01-a.md", front)
    assert [a.name for a in post.authors] == ["matt-dole", "roop"]


def test_no_author_gives_none(site: Path) -> None:
    assert post_of(site, "2022-01-01-a.md", "title: x").authors == ()
    assert post_of(site, "2022-01-02-a.md", "author: []\nauthors: []").authors == ()


def test_summary_image_lang_and_updated_from_front_matter(site: Path) -> None:
    post = post_of(
        site,
        "2022-01-01-x.md",
        "description: <b>Short</b> summary\nimage: /img/a.png\nlang: en-GB\nlast_modified_at: 2022-02-01 10:00:00 +0800",
    )
    assert post.summary == "Short summary"
    assert post.image == "https://example.org/img/a.png"
    assert post.lang == "en-GB"
    assert post.updated == datetime(2022, 2, 1, 10, tzinfo=SHANGHAI)


def test_updated_never_precedes_published(site: Path) -> None:
    post = post_of(site, "2022-03-01-x.md", "updated: 2020-01-01")
    assert post.updated == post.date


def test_jekyll_reads_unquoted_naive_timestamps_as_utc_for_urls(tmp_path: Path) -> None:
    """Jekyll (Psych) puts `date: 2021-12-08 22:00:00` in Shanghai at 2021-12-09 06:00 in the URL."""
    root = tmp_path / "jekyll"
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(
        "url: https://example.org\ntimezone: Asia/Shanghai\n", encoding="utf-8"
    )
    write_post(root / "_posts", "2021-12-08-late.md", "date: 2021-12-08 22:00:00")
    write_post(root / "_posts", "2021-12-08-quoted.md", 'date: "2021-12-08 22:00:00"')
    config = load_config(root)
    late = parse_post(
        SourceFile(str(root / "_posts/2021-12-08-late.md"), "_posts/2021-12-08-late.md"),
        config,
        now=NOW,
    ).post
    quoted = parse_post(
        SourceFile(str(root / "_posts/2021-12-08-quoted.md"), "_posts/2021-12-08-quoted.md"),
        config,
        now=NOW,
    ).post
    assert late is not None and quoted is not None
    assert late.url == "https://example.org/2021/12/09/late.html"
    assert late.date == datetime(2021, 12, 8, 22, tzinfo=SHANGHAI)
    assert quoted.url == "https://example.org/2021/12/08/quoted.html"


def test_folder_categories_come_from_jekyll_category_folders(tmp_path: Path, run_build) -> None:  # type: ignore[no-untyped-def]
    """`markets/_posts/x.md` is in category `markets`; `_posts/markets/x.md` is not."""
    root = tmp_path / "jekyll"
    (root / "_config.yml").parent.mkdir(parents=True)
    (root / "_config.yml").write_text("url: https://example.org\n", encoding="utf-8")
    write_post(root / "markets" / "_posts", "2022-01-01-a.md", "title: A")
    write_post(root / "_posts" / "archive", "2022-01-02-b.md", "title: B")
    report, out = run_build(root)
    assert report.posts_published == 2
    from tests.conftest import parse_feed

    feed = parse_feed(out / "feed" / "markets.xml")
    assert [e.title for e in feed.entries] == ["A"]
    assert not (out / "feed" / "archive.xml").exists()


def test_alias_bomb_is_refused_quickly(site: Path) -> None:
    """A billion-laughs front matter is refused, not expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(
            f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]"
        )
    lines.append("tags: *i")
    write_post(site, "2022-01-01-bomb.md", "\n".join(lines))
    with pytest.raises(PostError) as caught:
        parse(site, "2022-01-01-bomb.md")
    assert "alias" in caught.value.reason


def test_oversized_post_is_refused(site: Path) -> None:
    write_post(site, "2022-01-01-big.md", "title: Big", "x" * 2000)
    with pytest.raises(PostError) as caught:
        parse(site, "2022-01-01-big.md", max_post_bytes=1000)
    assert "larger than max_post_bytes (1000)" in caught.value.reason
