"""Every exit code and its message, as the README's table documents them: the real command in
real folders, one case per kind of failure, and the table checked against what happens."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest

from tests.conftest import POSTS, ROOT, feedsmith, write_post

README = (ROOT / "README.md").read_text(encoding="utf-8")
URL = "https://example.org"


def documented_codes() -> dict[int, str]:
    """The README's exit-code table: code -> the row's text."""
    rows = re.findall(r"^\| `(\d+)` \| (.+) \|$", README, flags=re.MULTILINE)
    return {int(code): text for code, text in rows}


def one_post(tmp_path: Path) -> Path:
    source = tmp_path / "posts"
    write_post(source, "2024-01-02-hello.md", "title: Hello\ntags: [python]")
    return source


def empty_folder(tmp_path: Path) -> list[str | Path]:
    (tmp_path / "empty").mkdir()
    return ["build", tmp_path / "empty", "--url", URL, "-o", tmp_path / "out", "--strict"]


def empty_jekyll_site(tmp_path: Path) -> list[str | Path]:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "_config.yml").write_text(f"url: {URL}\n")
    return ["build", tmp_path / "site", "-o", tmp_path / "out"]


def unknown_setting(tmp_path: Path) -> list[str | Path]:
    source = one_post(tmp_path)
    (source / "feedsmith.toml").write_text(f'url = "{URL}"\nposts_limt = 5\n')
    return ["build", source, "-o", tmp_path / "out"]


def no_url(tmp_path: Path) -> list[str | Path]:
    return ["build", one_post(tmp_path), "-o", tmp_path / "out"]


def not_a_folder(tmp_path: Path) -> list[str | Path]:
    return ["build", tmp_path / "missing", "--url", URL]


def skipped_under_strict(tmp_path: Path) -> list[str | Path]:
    source = one_post(tmp_path)
    (source / "2024-02-30-bad.md").write_text("---\ntitle: x\n---\nbody\n")
    return ["build", source, "--url", URL, "-o", tmp_path / "out", "--strict"]


def stale_check(tmp_path: Path) -> list[str | Path]:
    source = one_post(tmp_path)
    assert feedsmith("build", source, "--url", URL, "-o", tmp_path / "out").returncode == 0
    write_post(source, "2024-03-01-new.md", "title: New")
    return ["build", source, "--url", URL, "-o", tmp_path / "out", "--check"]


def output_is_a_file(tmp_path: Path) -> list[str | Path]:
    (tmp_path / "out.xml").write_text("x")
    return ["build", one_post(tmp_path), "--url", URL, "-o", tmp_path / "out.xml"]


def get_missing(tmp_path: Path) -> list[str | Path]:
    return ["serve", one_post(tmp_path), "--get", "/nothing.xml"]


CASES: list[tuple[str, Callable[[Path], list[str | Path]], int, str]] = [
    ("empty folder", empty_folder, 2, "no posts found (no .md, .markdown, .html or .htm files"),
    ("jekyll site without posts", empty_jekyll_site, 2, "no posts found (the Jekyll site has"),
    ("unknown setting", unknown_setting, 2, "posts_limt: unknown key; did you mean 'posts_limit'?"),
    ("no url", no_url, 2, "configuration error: url: not set"),
    ("source not a folder", not_a_folder, 2, "is not a folder of posts"),
    ("skipped under --strict", skipped_under_strict, 1, "skipped:"),
    ("--check finds a difference", stale_check, 1, "not what a build would write"),
    ("output is a file", output_is_a_file, 1, "is a file, not a folder: give -o a folder"),
    ("serve --get a missing path", get_missing, 1, "HTTP 404"),
]


@pytest.mark.parametrize(("case", "make", "code", "says"), CASES, ids=[c[0] for c in CASES])
def test_each_failure_exits_with_its_documented_code(
    tmp_path: Path, case: str, make: Callable[[Path], list[str | Path]], code: int, says: str
) -> None:
    """The command's exit code and message for each kind of failure; no traceback, and the
    code is one the README's table lists."""
    result = feedsmith(*make(tmp_path), cwd=tmp_path)
    assert result.returncode == code, (case, result.stdout, result.stderr)
    assert says in result.stderr + result.stdout, result.stderr
    assert "Traceback" not in result.stderr
    assert code in documented_codes()


def test_empty_source_writes_nothing_but_allow_empty_writes_empty_feeds(tmp_path: Path) -> None:
    """No posts: nothing is written without --allow-empty; with it, valid feeds without
    entries (feedparser reads them) and exit 0."""
    argv = empty_folder(tmp_path)
    refused = feedsmith(*argv)
    assert refused.returncode == 2
    assert not (tmp_path / "out").exists()
    assert str(tmp_path / "empty") in refused.stderr
    allowed = feedsmith(*argv, "--allow-empty")
    assert allowed.returncode == 0, allowed.stderr
    parsed = feedparser.parse((tmp_path / "out" / "feed.xml").read_bytes())
    assert not parsed.bozo
    assert parsed.entries == []


def test_a_jekyll_site_root_is_the_default_source(tmp_path: Path) -> None:
    """`feedsmith build` with no arguments in a Jekyll site root reads the site's _posts/."""
    site = tmp_path / "site"
    shutil.copytree(POSTS, site / "_posts")
    (site / "_config.yml").write_text(f"url: {URL}\n")
    result = feedsmith("build", cwd=site)
    assert result.returncode == 0, result.stderr
    assert (site / "_site" / "feed.xml").is_file()
    assert "posts: 15 read" in result.stdout


def test_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """A port another program listens on: one line naming it, exit 1 (uvicorn's own exit 3
    and its log lines never reach the user)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = feedsmith("serve", one_post(tmp_path), "--port", str(port), "--no-reload")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"feedsmith: cannot listen on 127.0.0.1:{port}: the port is in use (another server?): "
        "stop it or pass another --port"
    )
    assert "Traceback" not in result.stderr
    assert "ERROR" not in result.stderr


def test_interrupted_build_exits_130_and_says_so(tmp_path: Path) -> None:
    """Ctrl-C during a build (here while it waits for another build's lock): exit 130, one
    line, nothing written."""
    source = one_post(tmp_path)
    state = tmp_path / "state"
    first: list[str | Path] = [
        "build",
        source,
        "--url",
        URL,
        "-o",
        tmp_path / "out",
        "--cache-dir",
        state,
    ]
    assert feedsmith(*first).returncode == 0
    (lock,) = (state / "outputs").glob("*.lock")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'r+b'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        write_post(source, "2024-03-01-new.md", "title: New")
        waiting = subprocess.Popen(
            [sys.executable, "-m", "feedsmith", *map(str, first)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2)  # long enough to be inside the lock wait; the lock is held all along
        waiting.send_signal(signal.SIGINT)
        out, err = waiting.communicate(timeout=30)
    finally:
        holder.kill()
        holder.communicate()
    assert waiting.returncode == 130, (out, err)
    assert err.strip().splitlines()[-1] == (
        "feedsmith: interrupted; the output folder keeps the last complete build"
    )
    assert "New" not in (tmp_path / "out" / "feed.xml").read_text()


def test_the_readme_lists_every_exit_code_the_command_uses() -> None:
    """Each exit code the command can return is a row of the README's table, and no row is
    for a code it never returns."""
    source = (ROOT / "feeds" / "cli.py").read_text(encoding="utf-8")
    (constants,) = re.findall(r"^EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = (.+)$", source, re.M)
    used = {int(n) for n in constants.split(", ")} | {
        int(n) for n in re.findall(r"return (\d+)\b", source)
    }
    assert used == set(documented_codes()) == {0, 1, 2, 130}
