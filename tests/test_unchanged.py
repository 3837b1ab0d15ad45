"""A rebuild with nothing to do is known without reading a post (feedsmith.unchanged), and any
change to what the output depends on still gives exactly the output a build from scratch gives.

The real command on real folders. Stamps younger than three seconds prove nothing (a file can
change again within one tick of the file clock), so each case waits that long before the build
whose record the next one may use.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feedsmith.config import load_config
from feedsmith.pipeline import build

from tests.conftest import POSTS, feedsmith, write_post

SETTLE = 3.2  # seconds: older than feedsmith.unchanged.RACY_NS


def make_site(root: Path) -> Path:
    """posts/ as a Jekyll site with an include one post uses and data the feeds read."""
    site = root / "site"
    shutil.copytree(POSTS, site / "_posts")
    (site / "_config.yml").write_text("url: https://example.org\ntitle: Site\n")
    (site / "_includes").mkdir()
    (site / "_includes" / "note.html").write_text("<p>an included note</p>\n")
    write_post(
        site / "_posts",
        "2020-01-01-with-include.md",
        "title: With include",
        "Before.\n\n{% include note.html %}\n",
    )
    return site


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run(site: Path, out: Path, *extra: str) -> str:
    result = feedsmith("build", site, "-o", out, "--cache-dir", site.parent / "state", *extra)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def record(site: Path) -> Path:
    (found,) = (site.parent / "state" / "outputs").glob("*.done.json")
    return found


def settled_build(tmp_path: Path) -> tuple[Path, Path]:
    site = make_site(tmp_path)
    out = tmp_path / "out"
    run(site, out)
    time.sleep(SETTLE)
    run(site, out)  # the stamps are old enough now: this build keeps its record
    assert record(site).is_file()
    return site, out


def test_a_rebuild_with_nothing_changed_reads_no_post_and_reports_the_same(
    tmp_path: Path,
) -> None:
    """Nothing changed: the same summary, every file unchanged, and the build cache not even
    opened (removed, it is not made again, as any build that reads posts would)."""
    site, out = settled_build(tmp_path)
    before = files(out)
    cache = site.parent / "state" / "cache.sqlite"
    cache.unlink()
    summary = run(site, out)
    assert summary.splitlines()[0] == (
        "posts: 16 read, 13 published, 3 held back (draft 1, feed: false 1, "
        "published: false 1), 0 skipped, 0 warnings"
    )
    assert "0 written, 82 unchanged, 0 removed" in summary
    assert not cache.exists()
    assert files(out) == before


def _edit_post_keeping_its_time(site: Path, out: Path) -> None:
    post = site / "_posts" / "2020-01-01-with-include.md"
    info = post.stat()
    post.write_text(post.read_text().replace("Before.", "Edited."))
    os.utime(post, ns=(info.st_atime_ns, info.st_mtime_ns))  # as `cp -p` or `rsync -t` do


def _edit_include(site: Path, out: Path) -> None:
    (site / "_includes" / "note.html").write_text("<p>another note</p>\n")


def _add_post(site: Path, out: Path) -> None:
    write_post(site / "_posts", "2024-06-01-new.md", "title: New one\ntags: [fresh]")


def _remove_post(site: Path, out: Path) -> None:
    (site / "_posts" / "2020-01-01-with-include.md").unlink()


def _change_settings(site: Path, out: Path) -> None:
    (site / "_config.yml").write_text("url: https://example.org\ntitle: Another title\n")


def _damage_output(site: Path, out: Path) -> None:
    (out / "feed.xml").write_bytes(b"<feed>tampered</feed>")


def _delete_output(site: Path, out: Path) -> None:
    (out / "feed" / "emnews.rss").unlink()


def _damage_record(site: Path, out: Path) -> None:
    record(site).write_text(json.dumps({"shape": 1, "key": None, "files": "x"}))


def _replace_record_by_symlink(site: Path, out: Path) -> None:
    path = record(site)
    elsewhere = site.parent / "elsewhere.json"
    elsewhere.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(elsewhere)
    _edit_include(site, out)


CHANGES: dict[str, Callable[[Path, Path], None]] = {
    "post edited, its modification time restored": _edit_post_keeping_its_time,
    "include edited": _edit_include,
    "post added": _add_post,
    "post removed": _remove_post,
    "settings changed": _change_settings,
    "output file changed": _damage_output,
    "output file deleted": _delete_output,
    "record damaged": _damage_record,
    "record a symlink": _replace_record_by_symlink,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_builds_what_a_build_from_scratch_builds(tmp_path: Path, change: str) -> None:
    """After each kind of change, the output is byte for byte what `--no-cache` into an empty
    folder gives, and a file the change touched was written again."""
    site, out = settled_build(tmp_path)
    CHANGES[change](site, out)
    summary = run(site, out)
    fresh = tmp_path / "fresh"
    run(site, fresh, "--no-cache")
    assert files(out) == files(fresh)
    if change not in ("record damaged",):
        assert " 0 written" not in summary, summary


def test_a_post_held_back_for_its_date_appears_when_its_day_comes(tmp_path: Path) -> None:
    """A build that held a post back for its future date keeps no record: the clock alone,
    with no file changed, publishes the post at the next build."""
    site = make_site(tmp_path)
    write_post(site / "_posts", "2030-01-01-later.md", "title: Later")
    time.sleep(SETTLE)
    config = load_config(
        site, output=tmp_path / "out", overrides={"cache_dir": str(tmp_path / "s")}
    )
    early = build(config, now=datetime(2029, 12, 31, tzinfo=UTC))
    assert early.held_back.get("dated in the future") == 1
    assert not list((tmp_path / "s" / "outputs").glob("*.done.json"))
    late = build(config, now=datetime(2030, 1, 1, tzinfo=UTC) + timedelta(hours=1))
    assert "feed.xml" in late.written
    assert "Later" in (tmp_path / "out" / "feed.xml").read_text()


def test_a_build_that_skipped_a_post_or_met_fresh_stamps_keeps_no_record(tmp_path: Path) -> None:
    """A skipped post, or a file changed a moment before the build: no record (the next build
    reads the posts)."""
    site = make_site(tmp_path)
    out = tmp_path / "out"
    run(site, out)  # every file was written a moment ago
    assert not list((site.parent / "state" / "outputs").glob("*.done.json"))
    (site / "_posts" / "2022-02-30-bad.md").write_text("---\ntitle: x\n---\nbody\n")
    time.sleep(SETTLE)
    assert "1 skipped" in run(site, out)
    assert not list((site.parent / "state" / "outputs").glob("*.done.json"))


def _odd_site(root: Path) -> Path:
    """A Jekyll site with most kinds of files discovery tells apart: posts in nested folders
    (with folder categories), a draft, a document of another collection, an undated name, an
    excluded file, a hidden file, a symlink out of the source, a name that is no UTF-8."""
    site = make_site(root)
    (site / "_config.yml").write_text(
        "url: https://example.org\nexclude: [_posts/skip-me.md]\n"
        "collections: {docs: {output: true}}\nfeed: {collections: {docs: {}}}\n"
    )
    for folder, name in (
        ("news/_posts", "2021-02-03-nested.md"),
        ("news/world/_posts", "2021-02-04-deeper.md"),
        ("_drafts", "a-draft.md"),
        ("_docs", "guide.md"),
        ("_posts", "undated.md"),
        ("_posts", "skip-me.md"),
        ("_posts", ".hidden.md"),
    ):
        write_post(site / folder, name, f"title: {name}", "Body.\n")
    outside = root / "elsewhere.md"
    outside.write_text("---\ntitle: outside\n---\nx\n")
    (site / "_posts" / "2021-05-05-link.md").symlink_to(outside)
    (site / "_posts" / os.fsdecode(b"2021-05-06-\xff.md")).write_text("---\ntitle: b\n---\nx\n")
    return site


def test_the_walk_does_not_depend_on_the_order_folders_list_their_files_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order os.scandir gives is the file system's own (it changes as files come and go):
    the digest of an unchanged source must not, nor what discovery finds."""
    import feedsmith.discover as discovery
    from feedsmith.unchanged import walk

    site = _odd_site(tmp_path)
    config = load_config(site)
    before = walk(config, frozenset())
    found = discovery.discover(site, jekyll=True, exclude=config.jekyll_exclude)
    assert before is not None
    assert "news/world/_posts/2021-02-04-deeper.md" in {file.rel for file in found[0]}
    assert {p.where for p in found[1]} >= {"_posts/undated.md", "_posts/2021-05-05-link.md"}
    real = os.scandir

    class Reversed:
        def __init__(self, path: str) -> None:
            with real(path) as listing:
                self.entries = list(listing)[::-1]

        def __enter__(self) -> list[os.DirEntry[str]]:
            return self.entries

        def __exit__(self, *exc: object) -> None:
            pass

        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(self.entries)

    monkeypatch.setattr(os, "scandir", Reversed)
    assert walk(config, frozenset()) == before
    assert discovery.discover(site, jekyll=True, exclude=config.jekyll_exclude) == found
