"""The file system as it really is: FIFOs and devices, unreadable folders and files, symlinks
planted in the output folder, a full or read-only disk. Builds run as the real CLI."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from feedsmith import write
from feedsmith.config import load_config
from feedsmith.errors import OutputError, SourceError
from feedsmith.pipeline import build
from feedsmith.write import _atomic_write

from tests.conftest import POSTS
from tests.test_serve_process import fetch, serving

HANG_GUARD = 60  # seconds: a build of posts/ takes about one; a FIFO once meant forever
FIRST = "2022-03-14-202203142314567890.md"


def run_build(
    source: Path, out: Path, *extra: str, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    # Unprivileged: without the capabilities that let root read and search any file (a root
    # process reads a folder of mode 000 all the same), though still able to run this
    # checkout's interpreter wherever it lies (a user such as nobody may not reach it).
    dropped = "-dac_override,-dac_read_search"
    prefix = ["setpriv", "--bounding-set", dropped, "--"] if user and os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "feedsmith", "build", str(source), "-o", str(out),
         "--cache-dir", str(source.parent / "state"), *extra],
        capture_output=True, text=True, timeout=HANG_GUARD, check=False,
    )  # fmt: skip


def titles(feed: Path) -> list[str]:
    return [entry.title for entry in feedparser.parse(feed.read_bytes()).entries]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def source(tmp_path: Path) -> Path:
    copy = tmp_path / "src"
    shutil.copytree(POSTS, copy)
    return copy


# --- FIFOs, sockets, devices ---------------------------------------------------------------


def test_a_fifo_among_the_posts_is_named_and_the_build_finishes(source: Path) -> None:
    """Nobody writes to the FIFO: the build neither waits on it nor forgets to say so."""
    os.mkfifo(source / "2022-05-01-fifo.md")
    result = run_build(source, source.parent / "out")
    assert result.returncode == 0, result.stderr
    assert "2022-05-01-fifo.md: skipped: not a regular file (a FIFO)" in result.stderr
    assert "Q1 2022 Market Review" in " ".join(titles(source.parent / "out" / "feed.xml"))


def test_a_post_swapped_for_a_fifo_after_discovery_is_refused_not_waited_on(
    source: Path,
) -> None:
    """The race a check before opening loses: reading what is now a FIFO returns at once."""
    post = source / FIRST
    post.unlink()
    os.mkfifo(post)
    code = (
        "from feedsmith.parse import read_source\n"
        "from feedsmith.errors import PostError\n"
        f"try:\n    read_source({str(post)!r}, 'x.md', max_bytes=1000)\n"
        "except PostError as exc:\n    print(exc.reason)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    assert done.stdout.strip() == "not a regular file (a FIFO)", done.stderr


def test_fifo_include_and_config_files_are_refused_by_name(source: Path) -> None:
    """A FIFO as a Jekyll include warns and is left out; as _data/authors.yml it is refused."""
    site = source.parent / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: T\nurl: https://example.org\n")
    (site / "_includes").mkdir()
    os.mkfifo(site / "_includes" / "x.html")
    (site / "_posts" / "2022-05-02-inc.md").write_text(
        "---\ntitle: With include\n---\nhello {% include x.html %}\n"
    )
    result = run_build(site, site / "_site")
    assert result.returncode == 0, result.stderr
    assert "_includes/x.html: not a regular file (a FIFO); removed" in result.stderr
    (site / "_data").mkdir()
    os.mkfifo(site / "_data" / "authors.yml")
    result = run_build(site, site / "_site")
    assert result.returncode == 2
    assert "authors.yml: cannot read: not a regular file (a FIFO)" in result.stderr


def test_serve_answers_feeds_while_a_fifo_sits_in_the_posts(source: Path) -> None:
    """One FIFO at start, one swapped in for a post before its feed is rendered."""
    os.mkfifo(source / "2022-05-01-fifo.md")
    with serving(source, "--no-reload") as base:
        post = source / FIRST
        post.unlink()
        os.mkfifo(post)
        status, _, body = fetch(f"{base}/feed.xml")
        assert status == 200
        assert feedparser.parse(body).entries
        assert fetch(f"{base}/feed.json")[0] == 200


# --- unreadable folders and files ----------------------------------------------------------


def _unprivileged() -> str:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to build without root's file capabilities")
    return "unprivileged"


@pytest.fixture
def owned() -> Iterator[tuple[Path, Path, str]]:
    """posts/ with three posts in a folder of their own, built once by a process that cannot
    read past file modes (root reads a folder of mode 000 all the same; see run_build)."""
    user = _unprivileged()
    root = Path(tempfile.mkdtemp(prefix="feedsmith-nobody-"))
    try:
        root.chmod(0o755)
        source = root / "src"
        shutil.copytree(POSTS, source)
        (source / "old").mkdir()
        for post in sorted(source.glob("2022-03-1*.md"))[:3]:
            post.rename(source / "old" / post.name)
        first = run_build(source, root / "out", user=user)
        assert first.returncode == 0, first.stderr
        yield source, root / "out", user
    finally:
        for folder in [root, *root.rglob("*")]:
            if folder.is_dir() and not folder.is_symlink():
                folder.chmod(0o755)
        shutil.rmtree(root)


@pytest.mark.parametrize("folder", ["old", "."])
def test_an_unreadable_folder_stops_the_build_and_removes_nothing(
    owned: tuple[Path, Path, str], folder: str
) -> None:
    """No feed loses the posts of a folder it cannot read: exit 1, the folder named, OUT as
    it was (the build once said '0 removed' and published feeds without them)."""
    source, out, user = owned
    before = snapshot(out)
    (source / folder).chmod(0)
    try:
        result = run_build(source, out, user=user)
    finally:
        (source / folder).chmod(0o755)
    if folder == "old":
        assert result.returncode == 1
        assert "old: cannot read this folder: Permission denied" in result.stderr
        assert "Nothing was written" in result.stderr
    else:  # its configuration cannot even be looked for: refused before anything is read
        assert result.returncode == 2
        assert "cannot read: Permission denied" in result.stderr
    assert snapshot(out) == before


@pytest.mark.parametrize("mode", [0o000, 0o644])
def test_an_unreadable_post_stops_the_build_and_removes_nothing(
    owned: tuple[Path, Path, str], mode: int
) -> None:
    """A post without read permission (0o000), or in a folder that can be listed but not
    entered (0o644): named, exit 1, OUT unchanged."""
    source, out, user = owned
    before = snapshot(out)
    victim = sorted((source / "old").iterdir())[0]
    target = victim if mode == 0o000 else victim.parent
    target.chmod(mode)
    try:
        result = run_build(source, out, user=user)
    finally:
        target.chmod(0o755 if target.is_dir() else 0o644)
    assert result.returncode == 1
    assert f"old/{victim.name}: cannot read: Permission denied" in result.stderr
    assert snapshot(out) == before


def test_an_unreadable_folder_in_process_as_any_user(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rule where no unprivileged user exists: os.scandir failing with EACCES."""
    (source / "old").mkdir()
    real = os.scandir

    def scandir(path: str) -> object:
        if Path(path).name == "old":
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path)

    config = load_config(source, output=tmp_path / "out")
    monkeypatch.setattr(os, "scandir", scandir)

    with pytest.raises(SourceError, match="old: cannot read this folder: Permission denied"):
        build(config)
    assert not (tmp_path / "out").exists()


# --- symlinks planted in OUT ----------------------------------------------------------------


@pytest.fixture
def built(source: Path) -> Path:
    out = source.parent / "out"
    result = run_build(source, out)
    assert result.returncode == 0, result.stderr
    return out


def _tag_folder(out: Path) -> Path:
    return next(p for p in sorted(out.iterdir()) if p.is_dir())


def test_a_folder_of_out_made_a_symlink_outside_is_refused_by_name(
    source: Path, built: Path, tmp_path: Path
) -> None:
    """Nothing is written through it, nothing outside OUT created or changed."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    folder = _tag_folder(built)
    shutil.rmtree(folder)
    folder.symlink_to(elsewhere, target_is_directory=True)
    (source / FIRST).write_text((source / FIRST).read_text() + "\nChanged.\n")
    result = run_build(source, built)
    assert result.returncode == 1
    assert f"{folder}: refused: it is a symlink" in result.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]
    assert (elsewhere / "keep.txt").read_text() == "mine"


def test_a_symlinked_folder_inside_out_is_refused_too(source: Path, built: Path) -> None:
    """Even pointing inside OUT: the feed's link must name where its file really is."""
    folder = _tag_folder(built)
    real = built / "real-folder"
    folder.rename(real)
    folder.symlink_to(real, target_is_directory=True)
    result = run_build(source, built)
    assert result.returncode == 1
    assert f"{folder}: refused: it is a symlink" in result.stderr


def test_a_feed_made_a_symlink_is_refused_and_its_target_untouched(
    source: Path, built: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    (built / "feed.xml").unlink()
    (built / "feed.xml").symlink_to(victim)
    result = run_build(source, built)
    assert result.returncode == 1
    assert "feed.xml: refused: it is a symlink" in result.stderr
    assert victim.read_text() == "untouched"


def test_stale_feeds_are_never_removed_through_a_symlinked_folder(
    source: Path, built: Path, tmp_path: Path
) -> None:
    """A tag feed no longer produced, its folder now a symlink to files elsewhere that
    carry the same names: those files stay."""
    folder = _tag_folder(built)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(folder, elsewhere)
    shutil.rmtree(folder)
    folder.symlink_to(elsewhere, target_is_directory=True)
    names = sorted(p.name for p in elsewhere.iterdir())
    for post in source.glob("*.md"):
        post.unlink()  # every tag feed goes stale
    result = run_build(source, built)
    assert sorted(p.name for p in elsewhere.iterdir()) == names, result.stderr


def test_a_temporary_name_planted_as_a_symlink_is_passed_over(tmp_path: Path) -> None:
    """The next temporary name is taken; the planted link's target is never written."""
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    upcoming = next(write._counter) + 1
    (out / f".feed.xml.{os.getpid()}.{upcoming}.tmp").symlink_to(victim)
    _atomic_write(out / "feed.xml", b"<feed/>", out)
    assert (out / "feed.xml").read_bytes() == b"<feed/>"
    assert victim.read_text() == "untouched"


def test_a_folder_swapped_for_a_symlink_mid_write_is_not_written_through(
    tmp_path: Path,
) -> None:
    """The write opens each folder below OUT without following a symlink: a check made
    earlier (by `target`) cannot be raced."""
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "tag").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match="refused: it is a symlink"):
        _atomic_write(out / "tag" / "feed.xml", b"<feed/>", out)
    assert list(elsewhere.iterdir()) == []


def test_a_symlink_at_the_cache_database_is_not_followed(source: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.sqlite"
    victim.write_bytes(b"not a database of ours")
    state = source.parent / "state"
    state.mkdir()
    (state / "cache.sqlite").symlink_to(victim)
    result = run_build(source, source.parent / "out")
    assert result.returncode == 0, result.stderr
    assert victim.read_bytes() == b"not a database of ours"


# --- a disk that is full or read-only ------------------------------------------------------


def test_a_full_disk_while_saving_the_manifest_is_one_message_and_whole_feeds(
    source: Path, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC on the state folder after the feeds were written: one error naming the file,
    every feed in OUT whole (no temporary file left), none removed."""
    (source / FIRST).write_text((source / FIRST).read_text() + "\nChanged.\n")
    before = set(snapshot(built))
    real = write._atomic_write

    def full(path: Path, body: bytes, root: Path | None = None) -> None:
        if path.suffix == ".json":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, body, root)

    monkeypatch.setattr(write, "_atomic_write", full)
    config = load_config(
        source, output=built, overrides={"cache_dir": str(source.parent / "state")}
    )
    with pytest.raises(OutputError, match=r"\.json: cannot write it: No space left on device"):
        build(config)
    assert set(snapshot(built)) == before
    assert feedparser.parse((built / "feed.xml").read_bytes()).bozo == 0


def test_an_unchanged_rebuild_on_a_read_only_out_succeeds(
    owned: tuple[Path, Path, str],
) -> None:
    """Nothing changed, nothing to write: a read-only OUT is no error."""
    source, out, user = owned
    for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
        folder.chmod(0o555)
    result = run_build(source, out, user=user)
    assert result.returncode == 0, result.stderr
    assert " 0 written" in result.stdout
