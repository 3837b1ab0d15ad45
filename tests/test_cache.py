"""The build cache: a build that reuses it writes exactly what a cold build without it writes.

Every test builds a generated Jekyll archive into one folder whose cache lives on across the
steps, and after each step compares every published file with a fresh `use_cache=False` build
into a new folder. A few tests also pin that the cache is really used: no post is parsed and
no entry rendered again when nothing changed.
"""

from __future__ import annotations

import difflib
import itertools
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedsmith
import feedsmith.cache
import feedsmith.config
import feedsmith.entry
import feedsmith.render
import feedsmith.state
import feedsmith.write
import pytest
import yaml
from feedsmith import pipeline
from feedsmith import site as reading
from feedsmith.config import Config, load_config
from feedsmith.entry import make_entry
from feedsmith.model import BuildReport, CachedFeed, SourceFile, stamp_of
from feedsmith.parse import parse_post
from feedsmith.state import state_folder

from tests.conftest import NOW

POSTS = 96  # posts 0..95, one every three days of 2025: post 95 is the newest
LIMIT = 20  # posts_limit of the archive: the site feed shows posts 76..95
CATEGORIES = ("emnews", "markets", "tech", "生活")
TAGS = ("东财滚动新闻", "A股", "新能源", "Python", "economy", "AI", "open source", "读书笔记")
ONLY_TAGGED = 50  # the one post tagged `独家`: deleting it removes that tag's feeds
LINKS = {95: 55, 93: 60, 91: 12}  # post -> the post it links to with {% post_url %}
LINK_TAG = (94, 30)  # post 94 links to post 30 with {% link _posts/... %}
EDITED = 90  # a post every step may change; shown in the site feed
RENAMED = 80  # the post whose file gets a new name
BASE_CONFIG: dict[str, Any] = {
    "url": "https://example.org",
    "title": "测试站点 Test Site",
    "description": "新闻与笔记",
    "timezone": "Asia/Shanghai",
    "lang": "zh-CN",
    "feed": {"posts_limit": LIMIT},
}
SENTENCES = (
    "沪指早盘震荡走高，创业板指涨逾百分之一。",
    "新能源板块午后持续活跃，多只个股涨停。",
    "北向资金全天净买入超过五十亿元。",
    "央行开展逆回购操作，维护银行体系流动性合理充裕。",
)


def _published(folder: Path) -> dict[str, bytes]:
    """Every file a build wrote into `folder`, by relative path; feedsmith's own state left out."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not any(part.startswith(".feedsmith") for part in path.relative_to(folder).parts)
    }


def assert_same_files(cached: Path, cold: Path) -> None:
    """The cached build's folder holds the same files, byte for byte, as the cold build's."""
    got, want = _published(cached), _published(cold)
    assert sorted(got) == sorted(want), "the cached and the cold build wrote different files"
    differing = [name for name in sorted(want) if got[name] != want[name]]
    if differing:
        first = differing[0]
        diff = difflib.unified_diff(
            want[first].decode("utf-8", "replace").splitlines(),
            got[first].decode("utf-8", "replace").splitlines(),
            "cold/" + first,
            "cached/" + first,
            lineterm="",
            n=1,
        )
        shown = "\n".join(itertools.islice(diff, 40))
        pytest.fail(f"{len(differing)} file(s) differ: {differing[:5]}\n{shown}")


def _post_date(i: int) -> datetime:
    return datetime(2025, 1, 1, 8, 0) + timedelta(days=3 * i, hours=i % 7, minutes=i % 5)


def _post_name(i: int) -> str:
    slug = f"note-{i:03d}" if i % 3 == 0 else f"news-{i:03d}"
    return f"{_post_date(i):%Y-%m-%d}-{slug}"


def _post_title(i: int) -> str:
    return f"Market note {i:03d}" if i % 3 == 0 else f"滚动新闻 {i:03d}"


def _front(i: int) -> dict[str, Any]:
    """Front matter of post `i`: Chinese or English, categories, tags, four ways to date it."""
    front: dict[str, Any] = {"title": _post_title(i)}
    when = _post_date(i)
    if i % 4 == 1:
        front["date"] = f"{when:%Y-%m-%d %H:%M:%S} +0800"
    elif i % 4 == 2:
        front["date"] = f"{when:%Y-%m-%d %H:%M:%S}"  # no offset: the site's timezone
    elif i % 4 == 3:
        front["date"] = f"{when:%Y-%m-%d %H:%M:%S} +0000"
    front["categories"] = [CATEGORIES[i % len(CATEGORIES)]]
    if i % 9 == 0:
        front["categories"].append(CATEGORIES[(i + 1) % len(CATEGORIES)])
    tags = [TAGS[i % len(TAGS)], TAGS[(i * 3 + 1) % len(TAGS)]]
    if i == ONLY_TAGGED:
        tags.append("独家")
    front["tags"] = sorted(set(tags))
    return front


def _body(i: int) -> str:
    if i % 3 == 0:
        body = (
            f"The equity market moved on day {i}; guidance was unchanged.\n\n"
            f"- yields eased\n- volatility fell\n\n"
            f"See [the source](https://news.example.com/{i}).\n"
        )
    else:
        body = (
            f"> 东财讯，{SENTENCES[i % 4]}\n\n"
            f"{SENTENCES[(i + 1) % 4]}{SENTENCES[(i + 2) % 4]}\n\n"
            f"责任编辑：王{i:03d}\n"
        )
    if i in LINKS:
        body += f"\n相关：[更早的消息]({{% post_url {_post_name(LINKS[i])} %}})\n"
    if i == LINK_TAG[0]:
        body += f"\nSee [an earlier note]({{% link _posts/{_post_name(LINK_TAG[1])}.md %}}).\n"
    return body


def _post_text(front: dict[str, Any], body: str) -> str:
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
    return f"---\n{header}---\n{body}"


@dataclass
class Archive:
    """A generated Jekyll site, the folder its cached builds go to, and a fresh cold folder per call."""

    root: Path
    now: datetime = NOW
    cache_dir: Path | None = None
    colds: Iterator[int] = field(default_factory=itertools.count)

    @property
    def source(self) -> Path:
        return self.root / "site"

    @property
    def out(self) -> Path:
        return self.root / "cached"

    @property
    def state(self) -> Path:
        """Where the build cache lives (feedsmith.state)."""
        return state_folder(self.config(self.out))

    def path(self, i: int) -> Path:
        return self.source / "_posts" / f"{_post_name(i)}.md"

    def rel(self, i: int) -> str:
        return f"_posts/{_post_name(i)}.md"

    def write(self) -> None:
        for i in range(POSTS):
            self.path(i).parent.mkdir(parents=True, exist_ok=True)
            self.path(i).write_text(_post_text(_front(i), _body(i)), encoding="utf-8")
        self.configure()

    def configure(self, **changes: Any) -> None:
        """Write `_config.yml`: the base settings with `changes` laid over them."""
        settings = {**BASE_CONFIG, **changes}
        text = yaml.safe_dump(settings, allow_unicode=True, sort_keys=True)
        (self.source / "_config.yml").write_text(text, encoding="utf-8")

    def edit(self, i: int, body: str | None = None, **front: Any) -> None:
        """Rewrite post `i` with its front matter updated by `front` and, if given, a new body."""
        self.path(i).write_text(
            _post_text({**_front(i), **front}, _body(i) if body is None else body),
            encoding="utf-8",
        )

    def config(self, out: Path) -> Config:
        config = load_config(self.source, output=out)
        return replace(config, cache_dir=self.cache_dir) if self.cache_dir else config

    def build(self) -> BuildReport:
        """A build into the cached folder, reusing its cache."""
        return pipeline.build(self.config(self.out), now=self.now, jobs=1)

    def cold(self) -> Path:
        """A build without cache into a new folder; its folder."""
        out = self.root / f"cold-{next(self.colds)}"
        pipeline.build(self.config(out), now=self.now, jobs=1, use_cache=False)
        return out

    def check(self) -> BuildReport:
        """Build with the cache, build cold, and assert both wrote the same bytes."""
        report = self.build()
        assert_same_files(self.out, self.cold())
        return report

    def feed(self, path: str = "feed.xml") -> str:
        return (self.out / path).read_text(encoding="utf-8")


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    """The archive written and built once, so its cache is warm."""
    site = Archive(tmp_path)
    site.write()
    site.build()
    return site


@dataclass
class Calls:
    """Which post files the build parsed and which posts it rendered into entries."""

    parsed: list[str] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.parsed.clear()
        self.rendered.clear()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Spies on the names reading calls to parse a post and rendering to render its entry."""
    seen = Calls()

    def parse_spy(file: Any, config: Any, *, now: datetime) -> Any:
        seen.parsed.append(file.rel)
        return parse_post(file, config, now=now)

    def entry_spy(post: Any, config: Any, site: Any) -> Any:
        seen.rendered.append(post.rel)
        return make_entry(post, config, site)

    monkeypatch.setattr(reading, "parse_post", parse_spy)
    monkeypatch.setattr(
        feedsmith.entry, "make_entry", entry_spy
    )  # rendering imports it when needed
    return seen


# --- one change between two builds -------------------------------------------------------


def _no_change(site: Archive) -> None:
    """Nothing at all."""


def _edit_body(site: Archive) -> None:
    site.edit(EDITED, body="正文改写了。\n\n> 新的导语。\n\n新的段落，内容不同。\n")


def _edit_title(site: Archive) -> None:
    site.edit(EDITED, title="标题改了 Changed title")


def _edit_tags(site: Archive) -> None:
    site.edit(EDITED, tags=["新标签", "economy"])


def _edit_date(site: Archive) -> None:
    site.edit(EDITED, date="2025-02-14 12:00:00 +0800")


def _edit_same_size(site: Archive) -> None:
    """The last digit of post 85 changes: same size, other bytes."""
    path = site.path(85)
    data = bytearray(path.read_bytes())
    last = max(i for i, byte in enumerate(data) if chr(byte).isdigit())
    data[last] = ord("1") if data[last] != ord("1") else ord("2")
    path.write_bytes(bytes(data))


def _edit_same_size_same_mtime(site: Archive) -> None:
    """Post 85 edited in place, same size, and its modification time put back as it was (as
    `cp -p`, `rsync -t` or an unpacked archive do): only the change time tells."""
    path = site.path(85)
    before = path.stat()
    _edit_same_size(site)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_mtime_ns, after.st_size, after.st_ino) == (
        before.st_mtime_ns,
        before.st_size,
        before.st_ino,
    )


def _add_post(site: Archive) -> None:
    new = site.source / "_posts" / "2025-12-30-year-end.md"
    new.write_text(
        _post_text(
            {"title": "年终总结", "tags": ["A股", "年终"], "categories": ["emnews"]}, "全年回顾。\n"
        ),
        encoding="utf-8",
    )


def _delete_post(site: Archive) -> None:
    site.path(ONLY_TAGGED).unlink()


def _rename_post(site: Archive) -> None:
    site.path(RENAMED).rename(site.source / "_posts" / f"{_post_date(RENAMED):%Y-%m-%d}-renamed.md")


def _move_post_url_target(site: Archive) -> None:
    site.edit(LINKS[95], permalink="/moved/post-url-target/")


def _move_link_target(site: Archive) -> None:
    site.edit(LINK_TAG[1], permalink="/moved/link-target/")


def _touch(site: Archive) -> None:
    stat = site.path(EDITED).stat()
    os.utime(site.path(EDITED), ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def _new_inode(site: Archive) -> None:
    path = site.path(EDITED)
    copy = path.with_name("copy.tmp")
    shutil.copy2(path, copy)  # same bytes, same mtime, another inode
    copy.replace(path)


def _edit_back(site: Archive) -> None:
    """A post changed, built, then restored to its first bytes (a revert)."""
    original = site.path(EDITED).read_bytes()
    _edit_body(site)
    site.build()
    site.path(EDITED).write_bytes(original)


STEPS: dict[str, Callable[[Archive], None]] = {
    "no change": _no_change,
    "body edited": _edit_body,
    "body edited, same size": _edit_same_size,
    "body edited, same size and mtime": _edit_same_size_same_mtime,
    "title edited": _edit_title,
    "tags edited": _edit_tags,
    "date edited": _edit_date,
    "post added": _add_post,
    "post deleted": _delete_post,
    "post file renamed": _rename_post,
    "post_url target moved": _move_post_url_target,
    "link target moved": _move_link_target,
    "file touched": _touch,
    "same bytes, new inode": _new_inode,
    "edit reverted": _edit_back,
}


@pytest.mark.parametrize("step", STEPS.values(), ids=STEPS.keys())
def test_rebuild_after_a_change_equals_a_cold_build(
    archive: Archive, step: Callable[[Archive], None]
) -> None:
    """After each kind of change, the cached build writes what a cold build writes."""
    step(archive)
    archive.check()


def test_every_change_in_one_sequence_equals_a_cold_build_at_each_step(tmp_path: Path) -> None:
    """One cache lives through every change in turn and matches a cold build after each."""
    site = Archive(tmp_path)
    site.write()
    site.check()
    for step in STEPS.values():
        step(site)
        site.check()


def test_added_post_enters_the_feeds_and_pushes_the_oldest_shown_out(archive: Archive) -> None:
    """A new newest post shows in the site feed; the post that was 20th newest leaves it."""
    oldest_shown = _post_title(POSTS - LIMIT)
    assert f">{oldest_shown}<" in archive.feed()
    _add_post(archive)
    archive.check()
    assert ">年终总结<" in archive.feed()
    assert f">{oldest_shown}<" not in archive.feed()
    assert (archive.out / "feed" / "by_tag" / "年终.xml").is_file()


def test_deleted_post_takes_its_tag_feeds_away(archive: Archive) -> None:
    """The feeds of a tag only the deleted post had are removed by the cached build too."""
    gone = tuple(f"feed/by_tag/独家.{ext}" for ext in ("html", "json", "rss", "xml"))
    assert all((archive.out / path).is_file() for path in gone)
    _delete_post(archive)
    report = archive.check()
    assert sorted(report.removed) == sorted(gone)
    assert not any((archive.out / path).exists() for path in gone)


@pytest.mark.parametrize(
    ("step", "linking", "url"),
    [
        (_move_post_url_target, 95, "https://example.org/moved/post-url-target/"),
        (_move_link_target, LINK_TAG[0], "https://example.org/moved/link-target/"),
    ],
    ids=["post_url", "link"],
)
def test_entry_linking_to_a_moved_post_shows_its_new_url(
    archive: Archive, step: Callable[[Archive], None], linking: int, url: str
) -> None:
    """A post that links to another by tag shows the other's new URL after it moves."""
    assert url not in archive.feed()
    step(archive)
    archive.check()
    feed = archive.feed()
    assert url in feed
    assert f">{_post_title(linking)}<" in feed


# --- configuration changes ---------------------------------------------------------------

CONFIG_CHANGES: dict[str, dict[str, Any]] = {
    "posts_limit": {"feed": {"posts_limit": 7}},
    "timezone": {"timezone": "America/New_York"},
    "title": {"title": "Another title"},
    "clean rule": {"feedsmith": {"clean": {"drop_paragraphs": ["^责任编辑"]}}},
    "permalink style": {"permalink": "pretty"},
}


@pytest.mark.parametrize("change", CONFIG_CHANGES.values(), ids=CONFIG_CHANGES.keys())
def test_configuration_change_and_back_equals_a_cold_build(
    archive: Archive, change: dict[str, Any]
) -> None:
    """Changing a setting, and changing it back, each give a cold build's bytes."""
    before = _published(archive.out)
    archive.configure(**change)
    archive.check()
    assert _published(archive.out) != before, "the change should show in the feeds"
    archive.configure()
    archive.check()
    assert _published(archive.out) == before


# --- time, damage and location -----------------------------------------------------------


def test_future_post_is_published_once_now_passes_its_date(archive: Archive) -> None:
    """A post dated after `now` stays out, and enters when a later build's `now` passes it."""
    (archive.source / "_posts" / "2026-01-10-coming-soon.md").write_text(
        _post_text({"title": "即将发布", "tags": ["预告"]}, "稍后发布。\n"), encoding="utf-8"
    )
    archive.check()
    assert ">即将发布<" not in archive.feed()
    archive.now = NOW + timedelta(days=20)
    archive.check()
    assert ">即将发布<" in archive.feed()


def test_corrupted_cache_file_neither_fails_the_build_nor_changes_output(archive: Archive) -> None:
    """Garbage bytes in cache.sqlite: the build succeeds and writes a cold build's bytes."""
    (archive.state / "cache.sqlite").write_bytes(b"not a database \x00\xff" * 64)
    _edit_body(archive)
    report = archive.check()
    assert not report.errors


def test_corrupted_cache_is_rebuilt_for_the_next_build(archive: Archive, calls: Calls) -> None:
    """After a build over a corrupted cache, the next unchanged rebuild parses nothing again."""
    (archive.state / "cache.sqlite").write_bytes(b"not a database \x00\xff" * 64)
    archive.build()
    calls.clear()
    archive.build()
    assert calls.parsed == []
    assert calls.rendered == []


def test_cache_of_another_feedsmith_version_gives_a_cold_builds_output(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache written by another version is not reused: output carries this version's bytes."""
    with monkeypatch.context() as other:
        for module in (
            feedsmith,
            feedsmith.cache,
            feedsmith.config,
            feedsmith.render,
            feedsmith.state,
        ):
            other.setattr(module, "__version__", "0.0.9")
        shutil.rmtree(archive.out)
        archive.build()
        assert 'version="0.0.9"' in archive.feed()
    archive.check()
    assert 'version="0.0.9"' not in archive.feed()


def test_cache_marked_with_another_version_is_not_read(archive: Archive) -> None:
    """Rows of a cache whose `meta` names another version are never served, even if keys match."""
    database = archive.state / "cache.sqlite"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM feeds").fetchone()[0] > 0
        db.execute("UPDATE meta SET value = '1:0.0.9' WHERE key = 'schema'")
        poisoned = feedsmith.cache.encode(
            CachedFeed(b"poisoned", None), feedsmith.cache.FEED, compress=False
        )
        db.execute("UPDATE feeds SET value = ?", (poisoned,))
    db.close()
    archive.check()
    assert "poisoned" not in archive.feed()


def test_another_copy_of_a_rendering_library_starts_the_cache_over(
    archive: Archive, calls: Calls, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Entries made by another installed copy of a library that shapes the output (an
    upgrade) are not reused: the next build parses and renders as a cold one."""
    library = tmp_path / "site-packages" / "renderer_under_test"
    library.mkdir(parents=True)
    (library / "__init__.py").write_text("VERSION = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(library.parent))
    monkeypatch.setattr(feedsmith.cache, "RENDERERS", (*feedsmith.cache.RENDERERS, library.name))
    archive.build()
    calls.clear()
    archive.build()
    assert calls.parsed == [] and calls.rendered == []
    (library / "__init__.py").write_text("VERSION = 2  # upgraded\n", encoding="utf-8")
    calls.clear()
    archive.build()
    assert calls.parsed and calls.rendered
    archive.check()


def test_deleting_the_cache_folder_between_builds_is_safe(archive: Archive) -> None:
    """Without its cache folder, the next build still writes a cold build's bytes."""
    shutil.rmtree(archive.state)
    _edit_title(archive)
    archive.check()
    assert (archive.state / "cache.sqlite").is_file()


def test_cache_dir_keeps_the_cache_out_of_the_output_folder(tmp_path: Path, calls: Calls) -> None:
    """With `cache_dir`, the cache lives there, is reused, and nothing goes to the default place."""
    site = Archive(tmp_path, cache_dir=tmp_path / "elsewhere")
    site.write()
    site.build()
    calls.clear()
    _edit_body(site)
    site.build()
    assert calls.parsed == [site.rel(EDITED)]
    site.check()
    assert (tmp_path / "elsewhere" / "cache.sqlite").is_file()
    assert not (site.out / ".feedsmith-cache").exists()
    assert not (site.source / ".feedsmith-cache").exists()


def test_cache_dir_is_a_setting_of_the_configuration(archive: Archive) -> None:
    """`cache_dir`, which the cache's documentation calls a setting, can be set in _config.yml."""
    folder = archive.root / "elsewhere"
    archive.configure(feedsmith={"cache_dir": str(folder)})
    assert load_config(archive.source, output=archive.out).cache_dir == folder


# --- the cache is used, not only correct ---------------------------------------------------


def test_unchanged_rebuild_writes_parses_and_renders_nothing(
    archive: Archive, calls: Calls
) -> None:
    """No change: no file written, no post parsed, no entry rendered."""
    calls.clear()
    report = archive.build()
    assert report.written == ()
    assert calls.parsed == []
    assert calls.rendered == []


def test_editing_one_post_parses_and_renders_only_that_post(archive: Archive, calls: Calls) -> None:
    """One post edited: exactly that file is parsed again and only its entry rendered."""
    calls.clear()
    _edit_body(archive)
    archive.build()
    assert calls.parsed == [archive.rel(EDITED)]
    assert calls.rendered == [archive.rel(EDITED)]


def test_touched_file_is_not_parsed_again(archive: Archive, calls: Calls) -> None:
    """A new mtime over the same bytes is recognised by content: the post is not parsed again."""
    calls.clear()
    _touch(archive)
    report = archive.build()
    assert calls.parsed == []
    assert report.written == ()


def test_a_stamp_taken_right_after_a_write_is_checked_against_the_bytes(archive: Archive) -> None:
    """Two writes within one tick of the file clock can leave the same stamp (git's "racily
    clean" entries): a stamp taken that soon after the file changed is not trusted and the
    bytes are compared; an older one is trusted."""
    config = archive.config(archive.out)
    path = archive.path(85)
    file = SourceFile(path=str(path), rel=archive.rel(85), stamp=stamp_of(path.stat()))
    state = reading._read_file(file, config, archive.now, time.time_ns())
    assert state.post is not None
    # Other bytes under the very stamp taken above: what a second write in the same tick leaves.
    _edit_same_size(archive)
    assert reading._reuse(state, file, archive.now, time.time_ns()) is None
    settled = max(state.stamp[0], state.stamp[3]) + reading.RACY_NS + 1
    trusted = replace(state, taken=settled)
    assert reading._reuse(trusted, file, archive.now, time.time_ns()) is trusted


# --- what reading a file depends on beyond its bytes ---------------------------------------


def test_touching_an_undated_draft_moves_its_date_as_in_a_cold_build(archive: Archive) -> None:
    """An undated draft is dated by its mtime (as Jekyll does): touching it must move the entry."""
    archive.configure(show_drafts=True)
    draft = archive.source / "_drafts" / "undated-draft.md"
    draft.parent.mkdir()
    draft.write_text(_post_text({"title": "草稿"}, "草稿正文。\n"), encoding="utf-8")
    first = (NOW - timedelta(days=30)).timestamp()
    os.utime(draft, (first, first))
    archive.check()
    later = (NOW - timedelta(days=2)).timestamp()
    os.utime(draft, (later, later))
    archive.check()


def test_setting_change_reaches_a_feed_without_entries(tmp_path: Path) -> None:
    """A site feed with no entry yet (every post in the future) follows a new description."""
    site = Archive(tmp_path, now=datetime(2024, 6, 1, tzinfo=UTC))
    site.write()
    site.check()
    site.configure(description="A new description")
    site.check()
    assert "A new description" in site.feed()


def test_warm_rebuild_reports_the_warnings_of_a_cold_build(archive: Archive) -> None:
    """A post's rendering warnings are still reported when its feeds come from the cache."""
    archive.edit(EDITED, body="正文。\n\n{% include widget.html %}\n")
    archive.build()
    warm = archive.build()
    cold = pipeline.build(
        archive.config(archive.root / "cold-warnings"), now=archive.now, jobs=1, use_cache=False
    )
    assert any("include" in p.reason for p in cold.problems)
    assert sorted(map(repr, warm.problems)) == sorted(map(repr, cold.problems))


def test_cache_holds_no_copy_of_the_feeds_and_survives_them_being_changed(
    archive: Archive, calls: Calls
) -> None:
    """Cached feeds refer to their files in the output folder: a feed file edited or deleted
    by hand is written again with the bytes a cold build gives, from the cached entries."""
    with sqlite3.connect(archive.state / "cache.sqlite") as db:
        stored = db.execute("SELECT SUM(LENGTH(value)) FROM feeds").fetchone()[0]
    feed_bytes = sum(len(p.read_bytes()) for p in archive.out.rglob("*.xml"))
    assert stored < feed_bytes / 10
    site_feed = archive.out / "feed.xml"
    site_feed.write_bytes(site_feed.read_bytes().replace(b"<feed", b"<feed  ", 1))
    a_tag_feed = next((archive.out / "feed" / "by_tag").glob("*.xml"))
    a_tag_feed.unlink()
    calls.clear()
    report = archive.build()
    assert {"feed.xml", a_tag_feed.relative_to(archive.out).as_posix()} <= set(report.written)
    assert calls.parsed == []
    assert calls.rendered == []  # spliced again from cached entries
    assert_same_files(archive.out, archive.cold())
