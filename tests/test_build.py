"""`feedsmith build` end to end: the real command on real folders, its files, output and exit codes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from feedsmith import OutputError

from tests.conftest import POSTS, feedsmith, parse_feed, write_post


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every published file under `folder` (not feedsmith's own state) with bytes and mtime."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).parts[0].startswith(".feedsmith")
    }


def test_sample_posts_build_into_valid_feeds(tmp_path: Path) -> None:
    """The README's first command: every feed of posts/ is written and parses cleanly."""
    out = tmp_path / "_site"
    result = feedsmith("build", POSTS, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "12 published" in result.stdout and "0 skipped" in result.stdout
    feeds = sorted(p for p in out.rglob("*") if p.suffix in (".xml", ".rss"))
    assert len(feeds) == 40
    for path in feeds:
        assert parse_feed(path).entries, path
    assert (out / "feeds.opml").is_file()


def test_second_build_is_identical_and_rewrites_nothing(tmp_path: Path) -> None:
    """Same input, same bytes: a rebuild touches no file (mtimes included)."""
    out = tmp_path / "_site"
    assert feedsmith("build", POSTS, "-o", out).returncode == 0
    before = snapshot(out)
    again = feedsmith("build", POSTS, "-o", out)
    assert again.returncode == 0
    assert "0 written" in again.stdout
    assert snapshot(out) == before


def test_two_fresh_builds_give_identical_bytes(tmp_path: Path) -> None:
    """Deterministic output: no build time or randomness in any file."""
    first, second = tmp_path / "a", tmp_path / "b"
    assert feedsmith("build", POSTS, "-o", first).returncode == 0
    assert feedsmith("build", POSTS, "-o", second).returncode == 0
    assert {k: v[0] for k, v in snapshot(first).items()} == {
        k: v[0] for k, v in snapshot(second).items()
    }


def test_check_passes_on_a_fresh_build_and_fails_on_a_changed_feed(tmp_path: Path) -> None:
    """--check writes nothing and exits 1 naming the file that differs."""
    out = tmp_path / "_site"
    assert feedsmith("build", POSTS, "-o", out).returncode == 0
    assert feedsmith("build", POSTS, "-o", out, "--check").returncode == 0
    (out / "feed.rss").write_bytes(b"stale")
    before = snapshot(out)
    result = feedsmith("build", POSTS, "-o", out, "--check")
    assert result.returncode == 1
    assert "feed.rss: differs" in result.stderr
    assert snapshot(out) == before


def test_other_files_in_the_output_folder_are_never_touched(tmp_path: Path) -> None:
    """A Jekyll _site/ keeps its pages; only feedsmith's own files change."""
    out = tmp_path / "_site"
    page = out / "index.html"
    page.parent.mkdir()
    page.write_text("<h1>home</h1>", encoding="utf-8")
    own_feed_folder_file = out / "feed" / "notes.txt"
    own_feed_folder_file.parent.mkdir()
    own_feed_folder_file.write_text("mine", encoding="utf-8")
    assert feedsmith("build", POSTS, "-o", out).returncode == 0
    assert page.read_text(encoding="utf-8") == "<h1>home</h1>"
    assert own_feed_folder_file.read_text(encoding="utf-8") == "mine"


def test_feeds_that_no_longer_exist_are_removed(site: Path, tmp_path: Path) -> None:
    """Removing a post's only tag removes that tag's feeds, and only them."""
    post = write_post(site, "2024-01-02-hello.md", "title: Hello\ntags: [old-tag, kept]")
    out = tmp_path / "out"
    assert feedsmith("build", site, "-o", out).returncode == 0
    assert (out / "feed/by_tag/old-tag.xml").is_file()
    post.write_text("---\ntitle: Hello\ntags: [kept]\n---\nBody\n", encoding="utf-8")
    result = feedsmith("build", site, "-o", out, "-v")
    assert result.returncode == 0
    assert "removed feed/by_tag/old-tag.xml" in result.stdout
    assert not (out / "feed/by_tag/old-tag.xml").exists()
    assert not (out / "feed/by_tag/old-tag.rss").exists()
    assert (out / "feed/by_tag/kept.xml").is_file()


def test_bad_post_is_reported_and_the_others_build(site: Path, tmp_path: Path) -> None:
    """Broken YAML: one line naming the file and the reason; exit 0; --strict makes it exit 1."""
    write_post(site, "2024-01-02-good.md", "title: Good\ncategories: news")
    (site / "2024-01-03-bad.md").write_text(
        '---\ntitle: "unclosed\ndate: 2024-01-03\n---\nx\n', encoding="utf-8"
    )
    out = tmp_path / "out"
    result = feedsmith("build", site, "-o", out)
    assert result.returncode == 0
    assert "2024-01-03-bad.md: skipped: front matter is not valid YAML" in result.stderr
    assert [e.title for e in parse_feed(out / "feed.xml").entries] == ["Good"]
    assert parse_feed(out / "feed/news.xml").entries
    assert feedsmith("build", site, "-o", out, "--strict").returncode == 1


def test_configuration_error_exits_2_and_writes_nothing(site: Path, tmp_path: Path) -> None:
    """A wrong key is refused before any file is written, naming the file and the key."""
    write_post(site, "2024-01-02-good.md", "title: Good")
    (site / "feedsmith.toml").write_text(
        'url = "https://example.org"\nposts_limt = 5\n', encoding="utf-8"
    )
    out = tmp_path / "out"
    result = feedsmith("build", site, "-o", out)
    assert result.returncode == 2
    assert "posts_limt: unknown key; did you mean 'posts_limit'?" in result.stderr
    assert "feedsmith.toml" in result.stderr
    assert not out.exists()


def test_usage_error_exits_2(tmp_path: Path) -> None:
    result = feedsmith("build", "--no-such-option")
    assert result.returncode == 2


def test_source_that_is_not_a_folder_is_a_configuration_error(tmp_path: Path) -> None:
    result = feedsmith("build", tmp_path / "missing", "-o", tmp_path / "out")
    assert result.returncode == 2
    assert "is not a folder of posts" in result.stderr


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    """Writes go through a temporary name and a rename; none survive the build."""
    out = tmp_path / "_site"
    assert feedsmith("build", POSTS, "-o", out).returncode == 0
    assert not list(out.rglob("*.tmp"))


def test_written_feeds_are_world_readable(tmp_path: Path) -> None:
    """A web server running as another user must be able to read the feeds."""
    out = tmp_path / "_site"
    assert feedsmith("build", POSTS, "-o", out).returncode == 0
    assert (out / "feed.xml").stat().st_mode & 0o044 == 0o044


def test_chinese_tag_gets_its_own_feed_with_percent_encoded_self_link(tmp_path: Path) -> None:
    """Tags jekyll-feed drops (non-ASCII) get feeds; the link in the feed matches the file."""
    out = tmp_path / "_site"
    assert feedsmith("build", POSTS, "-o", out).returncode == 0
    path = out / "feed" / "by_tag" / "东财滚动新闻.xml"
    feed = parse_feed(path)
    self_link = next(link.href for link in feed.feed.links if link.rel == "self")
    assert (
        self_link
        == "https://finews.example.com/feed/by_tag/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB.xml"
    )
    assert all("东财滚动新闻" in [t.term for t in e.tags] for e in feed.entries)


def test_future_and_draft_flags_publish_held_back_posts(site: Path, tmp_path: Path) -> None:
    """--future publishes a post dated ahead; --drafts publishes `draft: true`."""
    write_post(site, "2999-01-01-ahead.md", "title: Ahead")
    write_post(site, "2024-01-01-sketch.md", "title: Sketch\ndraft: true")
    plain = feedsmith("build", site, "-o", tmp_path / "a")
    assert (
        "0 published" in plain.stdout
        and "held back (dated in the future 1, draft 1)" in plain.stdout
    )
    both = feedsmith("build", site, "-o", tmp_path / "b", "--future", "--drafts")
    assert "2 published" in both.stdout
    assert {e.title for e in parse_feed(tmp_path / "b" / "feed.xml").entries} == {"Ahead", "Sketch"}


def test_quiet_prints_only_errors(site: Path, tmp_path: Path) -> None:
    write_post(site, "2024-01-02-good.md", "title: Good")
    (site / "2024-01-03-empty.md").write_text("", encoding="utf-8")
    result = feedsmith("build", site, "-o", tmp_path / "out", "-q")
    assert result.stdout == ""
    assert result.stderr.strip() == "2024-01-03-empty.md: skipped: empty file"


def test_console_script_is_installed(tmp_path: Path) -> None:
    """`feedsmith` on PATH is the same program as `python -m feeds`."""
    script = Path(sys.executable).parent / "feedsmith"
    if not script.exists():
        pytest.skip("console script not installed in this environment (not a pip install)")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("feedsmith ")


def test_default_source_and_output_are_posts_and_site(tmp_path: Path) -> None:
    """Run from a checkout with no arguments: posts/ in, _site/ out."""
    (tmp_path / "posts").symlink_to(POSTS)
    result = feedsmith("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "_site" / "feed.xml").is_file()


def test_interrupted_write_keeps_previous_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing fails midway, every feed of the last good build is still there and complete."""
    from feedsmith.config import load_config
    from feedsmith.pipeline import build

    out = tmp_path / "_site"
    build(load_config(POSTS, output=out))
    before = snapshot(out)
    calls = {"n": 0}
    real = os.fdopen

    def failing_fdopen(fd: int, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            os.close(fd)
            raise OSError(28, "No space left on device")
        return real(fd, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "fdopen", failing_fdopen)
    changed = tmp_path / "posts"
    import shutil

    shutil.copytree(POSTS, changed)
    for post in changed.glob("*.md"):
        post.write_text(
            post.read_text(encoding="utf-8").replace("title:", "title: X", 1), encoding="utf-8"
        )
    with pytest.raises(OutputError, match=r"cannot write it: No space"):
        build(load_config(changed, output=out))
    after = snapshot(out)
    assert set(after) == set(before)
    for rel, (body, _) in after.items():
        if body != before[rel][0]:  # rewritten: then it is a complete new document
            if rel.endswith(".html"):
                assert body.endswith(b"</html>\n"), rel
            else:
                assert json.loads(body) if rel.endswith(".json") else parse_feed(out / rel), rel
    assert not list(out.rglob("*.tmp"))


# --- an output folder that cannot be written --------------------------------------------------


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `folder`: a disk that fills up, or that can be made
    read-only for root too. Skipped where this process may not mount (not root, or a
    container without the capability)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def remount_read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


def test_output_that_is_a_file_is_refused_in_one_sentence(tmp_path: Path) -> None:
    target = tmp_path / "out.xml"
    target.write_text("not a folder", encoding="utf-8")
    result = feedsmith("build", POSTS, "-o", target)
    assert result.returncode == 1
    assert (
        result.stderr.strip() == f"feedsmith: {target}: is a file, not a folder: give -o a folder"
    )
    assert target.read_text(encoding="utf-8") == "not a folder"


def test_output_under_a_file_is_refused_in_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    result = feedsmith("build", POSTS, "-o", tmp_path / "file" / "out")
    assert result.returncode == 1
    assert "cannot make this folder: Not a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_read_only_output_unchanged_rebuild_succeeds_and_a_change_says_why(
    tmp_path: Path,
) -> None:
    """Nothing to write: a rebuild on a read-only disk succeeds. Something to write: one clear
    line naming the file, exit 1, the published files as they were."""
    source = tmp_path / "posts"
    shutil.copytree(POSTS, source)
    with small_disk(tmp_path / "disk", "8m") as out:
        assert feedsmith("build", source, "-o", out).returncode == 0
        before = snapshot(out)
        remount_read_only(out)
        again = feedsmith("build", source, "-o", out)
        assert again.returncode == 0, again.stderr
        assert "0 written" in again.stdout
        write_post(source, "2022-05-01-new.md", "title: New\ncategories: emnews")
        changed = feedsmith("build", source, "-o", out)
        assert changed.returncode == 1
        assert "Read-only file system" in changed.stderr and "Traceback" not in changed.stderr
        assert snapshot(out) == before


def test_full_disk_keeps_the_last_good_feeds(tmp_path: Path) -> None:
    """ENOSPC halfway: one clear line, exit 1, every published file as it was, no temporary
    file left visible."""
    source = tmp_path / "posts"
    shutil.copytree(POSTS, source)
    with small_disk(tmp_path / "disk", "700k") as out:
        assert feedsmith("build", source, "-o", out, "--no-cache").returncode == 0
        before = snapshot(out)
        for n in range(3):  # posts large enough that their feeds no longer fit
            write_post(
                source,
                f"2022-05-0{n + 1}-big.md",
                "title: Big\ncategories: emnews\ntags: [a, b, c, d]",
                "长文。" * 40_000,
            )
        full = feedsmith("build", source, "-o", out, "--no-cache")
        assert full.returncode == 1
        assert "No space left on device" in full.stderr and "Traceback" not in full.stderr
        assert snapshot(out) == before
        assert not list(out.rglob("*.tmp"))


# --- what feedsmith keeps for itself ----------------------------------------------------------


def test_nothing_feedsmith_keeps_for_itself_is_in_the_output(tmp_path: Path) -> None:
    """No cache, lock or manifest in OUT (it is what a site publishes): they live in
    `.feedsmith-cache/` in the source by default, and a second build still rewrites nothing."""
    source = tmp_path / "posts"
    shutil.copytree(POSTS, source)
    out = tmp_path / "_site"
    env = {k: v for k, v in os.environ.items() if k != "FEEDSMITH_CACHE_DIR"}
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "feedsmith", "build", str(source), "-o", str(out)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    assert "0 written" in result.stdout
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]
    state = source / ".feedsmith-cache"
    assert (state / "cache.sqlite").is_file()
    assert len(list((state / "outputs").glob("*.json"))) == 1


def test_what_an_older_build_kept_in_the_output_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    assert feedsmith("build", POSTS, "-o", out).returncode == 0
    (out / ".feedsmith-manifest.json").write_text('{"files": {}}', encoding="utf-8")
    (out / ".feedsmith.lock").write_bytes(b"")
    (out / ".feedsmith-cache").mkdir()
    (out / ".feedsmith-cache" / "cache.sqlite").write_bytes(b"old")
    (out / "keep.html").write_text("the site's own", encoding="utf-8")
    assert feedsmith("build", POSTS, "-o", out).returncode == 0
    assert sorted(p.name for p in out.iterdir() if p.name.startswith((".", "keep"))) == [
        "keep.html"
    ]


def test_an_output_folder_inside_a_plain_source_is_never_read(tmp_path: Path) -> None:
    """`feedsmith build posts -o posts/out`: what is in out/ is not a post, then or later."""
    source = tmp_path / "posts"
    shutil.copytree(POSTS, source)
    out = source / "out"
    out.mkdir()
    write_post(out, "2022-05-01-not-a-post.md", "title: Not a post")
    first = feedsmith("build", source, "-o", out)
    assert first.returncode == 0, first.stderr
    assert "12 published" in first.stdout
    again = feedsmith("build", source, "-o", out)
    assert "12 published" in again.stdout and "0 written" in again.stdout


def test_a_plain_source_built_into_itself_reads_only_its_posts(tmp_path: Path) -> None:
    """`-o` the source itself: the files feedsmith wrote there are never posts."""
    source = tmp_path / "posts"
    shutil.copytree(POSTS, source)
    for _ in range(2):
        result = feedsmith("build", source, "-o", source)
        assert result.returncode == 0, result.stderr
        assert "15 read, 12 published" in result.stdout
    assert "0 written" in result.stdout
    assert (source / "feed.xml").is_file()


def test_settings_naming_a_missing_tag_or_category_warn_with_the_closest_name(
    tmp_path: Path,
) -> None:
    """`tags.only`, `categories.except` and `feeds.tags` naming what no published post has:
    a warning each, with the closest existing name (by case first); names that exist are
    silent; `--strict` fails on them."""
    source = tmp_path / "posts"
    write_post(source, "2024-01-02-a.md", "title: A\ntags: [python, 商汤科技]\ncategories: Markets")
    (source / "feedsmith.toml").write_text(
        'url = "https://example.org"\n'
        '[tags]\nonly = ["pyhton", "商汤科技", "zzz-nothing-like-it"]\n'
        '[categories]\nexcept = ["markets"]\n'
        '[feeds.tags."商汤"]\nposts_limit = 5\n'
    )
    result = feedsmith("build", source, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    warnings = sorted(line for line in result.stderr.splitlines() if ": warning: " in line)
    assert warnings == [
        "categories.except: warning: no published post has the category 'markets'; did you mean 'Markets'?",
        "feeds.tags: warning: no published post has the tag '商汤'; did you mean '商汤科技'?",
        "tags.only: warning: no published post has the tag 'pyhton'; did you mean 'python'?",
        "tags.only: warning: no published post has the tag 'zzz-nothing-like-it'",
    ]
    assert "3 warnings" not in result.stdout and "4 warnings" in result.stdout
    assert feedsmith("build", source, "-o", tmp_path / "out", "--strict").returncode == 1
