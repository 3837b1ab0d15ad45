"""The real `feedsmith serve` process on 127.0.0.1: HTTP, live reload, clean shutdown."""

from __future__ import annotations

import contextlib
import json
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path

import feedparser
import pytest

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
def serving(
    source: Path,
    *extra: str,
    port: int | None = None,
    log: Path | None = None,
    open_files: int | None = None,
) -> Iterator[str]:
    """`feedsmith serve SOURCE` on a free port (or `port`); yields its base URL; stops it
    with SIGINT. Its output (the access log among it) goes to `log`, else a temporary file:
    never a pipe, which a server writing a line per request would fill and block on.
    `open_files`: the most file descriptors the server may have open (RLIMIT_NOFILE)."""
    port = port or free_port()
    with contextlib.ExitStack() as stack:
        output = (
            stack.enter_context(log.open("w+b"))
            if log is not None
            else stack.enter_context(tempfile.TemporaryFile())
        )
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "feedsmith",
                "serve",
                str(source),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *extra,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        if open_files is not None:  # Linux: on the running process, before it starts serving
            resource.prlimit(process.pid, resource.RLIMIT_NOFILE, (open_files, open_files))

        def printed() -> str:
            output.flush()
            output.seek(0)
            return output.read().decode("utf-8", "replace")

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
                    raise AssertionError(f"server did not start: {printed()}")
                time.sleep(0.1)
            yield base
        finally:
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
            assert code == 0, printed()


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
    """Deterministic output: replicas (each with its own copy) give the same ETags."""
    paths = ["/feed.xml", "/feed.rss", "/feed/emnews.xml", "/feeds.opml"]
    seen = []
    for replica in ("a", "b"):
        shutil.copytree(POSTS, tmp_path / replica)
        with serving(tmp_path / replica, "--no-reload") as base:
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


def test_workers_answer_with_identical_bytes(served_posts: Path) -> None:
    """With --workers 2 every answer carries the same ETag, whichever worker gives it."""
    with serving(served_posts, "--workers", "2", "--no-reload") as base:
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
        [sys.executable, "-m", "feedsmith", "serve", str(source), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "posts_limt: unknown key" in result.stderr


def test_get_answers_one_request_without_a_port(tmp_path: Path, served_posts: Path) -> None:
    """`feedsmith serve --get /feed.xml` prints exactly what `build` writes."""
    from feedsmith.config import load_config
    from feedsmith.pipeline import build

    out = tmp_path / "out"
    build(load_config(POSTS, output=out))
    result = subprocess.run(
        [sys.executable, "-m", "feedsmith", "serve", str(served_posts), "--get", "/feed.rss"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout == (out / "feed.rss").read_bytes()
    assert b"HTTP 200" in result.stderr


def _request(base: str, path: str, headers: dict[str, str]) -> int:
    return fetch(f"{base}{path}", headers)[0]


def _access_lines(log: Path) -> list[str]:
    """The access log lines of a server's output, but for the test's own /healthz polls."""
    lines = log.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if '"/' in line and '"/healthz"' not in line]


def test_access_log_has_a_line_per_request_with_what_it_was(
    tmp_path: Path, served_posts: Path
) -> None:
    """Time, client, method, path, status, bytes, duration, user agent, and a 304 marked;
    what the client sent (quotes, backslashes, non-ASCII) escaped onto one line."""
    log = tmp_path / "serve.log"
    with serving(served_posts, "--no-reload", log=log) as base:
        status, headers, body = fetch(f"{base}/feed.xml", {"User-Agent": 'probe/1 "x" \\\\'})
        assert status == 200
        assert _request(base, "/feed.xml", {"If-None-Match": headers["ETag"]}) == 304
        assert _request(base, "/nothing%0a-here", {"User-Agent": "caf\u00e9\tx"}) == 404
    lines = _access_lines(log)
    assert len(lines) == 3, lines
    first, second, third = lines
    assert re.fullmatch(
        r'\S+Z 127\.0\.0\.1 GET "/feed\.xml" 200 '
        + str(len(body))
        + r' [\d.]+ms "probe/1 \\"x\\" \\\\\\\\"',
        first,
    ), first
    assert second.endswith(" not-modified") and " 304 0 " in second
    assert '"/nothing%0a-here" 404' in third and '"caf\u00e9\\tx"' in third


def test_access_log_in_json_and_off(tmp_path: Path, served_posts: Path) -> None:
    """`--log-format json`: one JSON object per request; `--no-access-log`: none at all."""
    log = tmp_path / "json.log"
    with serving(served_posts, "--no-reload", "--log-format", "json", log=log) as base:
        assert _request(base, "/feed.rss", {"User-Agent": "probe"}) == 200
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    access = [r for r in records if "status" in r and r["path"] != "/healthz"]
    assert [(r["method"], r["path"], r["status"], r["user_agent"]) for r in access] == [
        ("GET", "/feed.rss", 200, "probe")
    ]
    assert all({"time", "client", "bytes", "duration_ms", "not_modified"} <= set(r) for r in access)
    assert all("message" in r for r in records if "status" not in r)  # the server's own lines
    quiet = tmp_path / "quiet.log"
    with serving(served_posts, "--no-reload", "--no-access-log", log=quiet) as base:
        assert _request(base, "/feed.rss", {}) == 200
    assert not _access_lines(quiet)


@pytest.mark.parametrize(
    ("trusted", "logged"),
    [("127.0.0.1", "203.0.113.7"), ("10.9.9.9", "127.0.0.1")],
    ids=["from-a-trusted-proxy", "from-anyone-else"],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    tmp_path: Path, served_posts: Path, trusted: str, logged: str
) -> None:
    log = tmp_path / "serve.log"
    extra = ("--no-reload", "--forwarded-allow-ips", trusted)
    with serving(served_posts, *extra, log=log) as base:
        assert _request(base, "/feed.xml", {"X-Forwarded-For": "203.0.113.7"}) == 200
    line = next(line for line in _access_lines(log) if '"/feed.xml"' in line)
    assert line.split(" ")[1] == logged


def test_serve_without_url_is_a_preview_said_loudly_and_kept_from_caches(tmp_path: Path) -> None:
    """No url: a warning when it starts, a banner on `/`, and feeds no cache may keep."""
    source = tmp_path / "plain"
    source.mkdir()
    (source / "2024-01-02-hello.md").write_text("---\ntitle: Hello\n---\nHi\n", encoding="utf-8")
    log = tmp_path / "serve.log"
    with serving(source, "--no-reload", log=log) as base:
        status, headers, _ = fetch(f"{base}/feed.xml")
        assert status == 200 and headers["Cache-Control"] == "no-store"
        page = fetch(f"{base}/")[2].decode("utf-8")
        assert "Preview only." in page and f"{base}" in page
    assert "no url is configured" in log.read_text(encoding="utf-8")


def test_serve_without_url_on_a_public_address_is_refused(tmp_path: Path) -> None:
    """Binding anything but loopback without a url would publish throw-away ids: exit 2."""
    source = tmp_path / "plain"
    source.mkdir()
    (source / "2024-01-02-hello.md").write_text("---\ntitle: Hello\n---\nHi\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "feedsmith", "serve", str(source), "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "url: not set" in result.stderr and "0.0.0.0" in result.stderr


@pytest.mark.parametrize(
    "target",
    [
        "/feed/by_tag/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB.xml",
        "/feed/by_tag/东财滚动新闻.xml",
    ],
    ids=["as-the-feed-advertises-it", "as-typed"],
)
def test_get_finds_a_feed_by_its_encoded_or_plain_path(
    served_posts: Path, tmp_path: Path, target: str
) -> None:
    """`--get` decodes the path as a real server does: the URL a feed gives as its own works."""
    import io

    from feedsmith.cli import main

    out, err = io.StringIO(), io.StringIO()
    assert main(["serve", str(served_posts), "--get", target], out=out, err=err) == 0
    assert "HTTP 200" in err.getvalue()
    feed = feedparser.parse(out.getvalue().encode("utf-8"))
    own = next(link.href for link in feed.feed.links if link.rel == "self")
    assert own.endswith("/feed/by_tag/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB.xml")
