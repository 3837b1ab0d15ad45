"""The real `feedsmith serve` process on 127.0.0.1: HTTP, live reload, clean shutdown."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path

import feedparser

from tests.conftest import POSTS

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """(status, headers looked up case-insensitively, body) of one GET."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


@contextmanager
def serving(source: Path, *extra: str) -> Iterator[str]:
    """`feedsmith serve SOURCE` on a free port; yields its base URL; stops it with SIGINT."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feeds",
            "serve",
            str(source),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if fetch(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"server did not start: {output}")
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        output = process.stdout.read().decode() if process.stdout else ""
        if process.stdout:
            process.stdout.close()
        assert code == 0, output


def wait_for(check: object, timeout: float = 5.0) -> float:
    """Poll `check()` until true; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout} s")


def test_real_server_serves_feeds_reloads_posts_and_stops_cleanly(tmp_path: Path) -> None:
    """Over HTTP: a feed, a 304 for its ETag, a new post in its feeds within 2 s, a clean stop."""
    source = tmp_path / "posts"
    shutil.copytree(POSTS, source)
    with serving(source) as base:
        status, headers, body = fetch(f"{base}/feed.xml")
        assert status == 200
        assert headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        titles = [e.title for e in feedparser.parse(body).entries]
        assert "Brand-new post" not in titles

        status, _, body304 = fetch(f"{base}/feed.xml", {"If-None-Match": headers["ETag"]})
        assert (status, body304) == (304, b"")

        (source / "2022-05-01-brand-new.md").write_text(
            "---\ntitle: Brand-new post\ndate: 2022-05-01 10:00:00 +0800\ncategories: fresh\ntags: 新标签\n---\nHello.\n",
            encoding="utf-8",
        )

        def appeared() -> bool:
            entries = feedparser.parse(fetch(f"{base}/feed.xml")[2]).entries
            return bool(entries) and entries[0].title == "Brand-new post"

        assert wait_for(appeared) < 2.5
        assert fetch(f"{base}/feed/fresh.xml")[0] == 200
        assert fetch(f"{base}/feed/by_tag/%E6%96%B0%E6%A0%87%E7%AD%BE.rss")[0] == 200
        status, _, _ = fetch(f"{base}/feed.xml", {"If-None-Match": headers["ETag"]})
        assert status == 200  # the feed changed, so the old ETag no longer matches

        (source / "2022-05-01-brand-new.md").unlink()
        wait_for(lambda: fetch(f"{base}/feed/fresh.xml")[0] == 404)


def test_two_servers_started_separately_agree_on_bytes_and_etags(tmp_path: Path) -> None:
    """Deterministic output: replicas need no shared state to give the same ETags."""
    paths = ["/feed.xml", "/feed.rss", "/feed/emnews.xml", "/feeds.opml"]
    seen = []
    for _ in range(2):
        with serving(POSTS, "--no-reload") as base:
            seen.append(
                {
                    path: (
                        fetch(f"{base}{path}", {"Accept-Encoding": coding})[1]["ETag"],
                        fetch(f"{base}{path}")[2],
                    )
                    for path in paths
                    for coding in ("identity", "gzip")
                }
            )
    assert seen[0] == seen[1]


def test_workers_answer_with_identical_bytes(tmp_path: Path) -> None:
    """With --workers 2 every answer carries the same ETag, whichever worker gives it."""
    with serving(POSTS, "--workers", "2", "--no-reload") as base:
        etags = {fetch(f"{base}/feed.xml")[1]["ETag"] for _ in range(20)}
        assert len(etags) == 1


def test_serve_without_url_uses_its_own_address(tmp_path: Path) -> None:
    """A folder with no configured url is served with links to the server itself."""
    source = tmp_path / "plain"
    source.mkdir()
    (source / "2024-01-02-hello.md").write_text("---\ntitle: Hello\n---\nHi\n", encoding="utf-8")
    with serving(source, "--no-reload") as base:
        feed = feedparser.parse(fetch(f"{base}/feed.xml")[2])
        assert feed.entries[0].link == f"{base}/2024/01/02/hello.html"


def test_serve_refuses_a_bad_configuration_with_exit_2(tmp_path: Path) -> None:
    source = tmp_path / "bad"
    source.mkdir()
    (source / "feedsmith.toml").write_text(
        'url = "https://example.org"\nposts_limt = 3\n', encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "serve", str(source), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "posts_limt: unknown key" in result.stderr


def test_get_answers_one_request_without_a_port(tmp_path: Path) -> None:
    """`feedsmith serve --get /feed.xml` prints exactly what `build` writes."""
    from feeds.config import load_config
    from feeds.pipeline import build

    out = tmp_path / "out"
    build(load_config(POSTS, output=out))
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "serve", str(POSTS), "--get", "/feed.rss"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout == (out / "feed.rss").read_bytes()
    assert b"HTTP 200" in result.stderr
