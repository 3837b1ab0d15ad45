"""What `feedsmith serve` does when clients would exhaust it: file descriptors, slow request
headers, memory. The limits themselves in process, their effect on the real server process on
127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import posixpath
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from feedsmith import LRU, ConfigError, load_config
from feedsmith.server.limits import AcceptErrors, Throttle
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import SITE_TOML, write_post
from tests.test_serve_process import fetch, serving, wait_for

CODINGS = ("identity", "gzip", "br", "zstd")

# --- the pieces, in process ------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("times", "lines"),
    [
        ([0.0], [1]),
        ([0.0, 1.0, 2.0], [1]),
        ([0.0, 1.0, 2.0, 10.0], [1, 3]),  # the second line counts what the first did not tell
        ([0.0, 9.9, 10.0, 10.1, 25.0], [1, 2, 2]),
    ],
)
def test_throttle_allows_one_line_per_interval_counting_the_events_between(
    times: list[float], lines: list[int]
) -> None:
    """Events at `times` with a 10 s interval give lines standing for `lines` events each."""
    clock = Clock()
    throttle = Throttle(10.0, clock)
    due = []
    for at in times:
        clock.now = at
        held = throttle.event()
        if held is not None:
            due.append(held)
    assert due == lines


def out_of_files() -> dict[str, Any]:
    """What asyncio hands its exception handler when accept() fails with EMFILE."""
    return {
        "message": "socket.accept() out of system resource",
        "exception": OSError(errno.EMFILE, "Too many open files"),
    }


def test_accept_errors_are_logged_once_then_counted_every_10_s(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """10,000 failed accepts in 15 s: one line, then one counting them, not 10,000."""
    clock = Clock()
    handler = AcceptErrors(clock=clock)
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.INFO, logger="feedsmith.serve"):
            for n in range(10_000):
                clock.now = n * 0.0015
                handler(loop, out_of_files())
    finally:
        loop.close()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert "cannot accept new connections: Too many open files" in messages[0]
    assert "ulimit -n" in messages[0]
    assert "failed attempts since the last report" in messages[1]


def test_other_loop_errors_still_reach_the_default_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failure that is not resource exhaustion is logged as asyncio logs it, every time."""
    handler = AcceptErrors(clock=Clock())
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            for _ in range(3):
                handler(loop, {"message": "something else", "exception": ValueError("x")})
    finally:
        loop.close()
    assert [r.getMessage() for r in caplog.records] == ["something else"] * 3


@settings(max_examples=50, deadline=None)
@given(
    bound=st.integers(1, 200),
    puts=st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 120)), max_size=60),
)
def test_lru_weight_never_exceeds_its_bound(bound: int, puts: list[tuple[str, int]]) -> None:
    """Whatever is put: held is the weight of what is kept, never over the bound, and the
    latest value is kept whenever it fits on its own."""
    lru: LRU[str, int] = LRU(weight=bound, weigh=lambda weight: weight)
    for key, weight in puts:
        lru[key] = weight
        assert lru.held == sum(lru[k] for k in lru) <= bound
        assert (key in lru) == (weight <= bound)


def test_lru_parts_share_one_bound_and_evict_the_least_recent_of_all() -> None:
    """Entries, feeds and responses in one LRU: the oldest goes, whichever part it is in."""
    lru: LRU[Any, Any] = LRU(weight=100)
    entries = lru.part("entry", len)
    responses = lru.part("response", len)
    entries["old"] = b"e" * 40
    responses["feed.xml"] = b"r" * 40
    assert entries.get("old") is not None  # used again: now the most recent
    responses["feed.rss"] = b"r" * 40
    assert ("feed.xml" in responses, "old" in entries, "feed.rss" in responses) == (
        False,
        True,
        True,
    )
    assert lru.held == 80
    assert list(entries) == ["old"]


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [
        (1_000_000, 1_000_000),
        ("256MB", 256 * 10**6),
        ("256MiB", 256 * 2**20),
        ("1.5 GiB", 3 * 2**29),
        ("64kb", 64_000),
        ("0", 0),
    ],
)
def test_serve_cache_memory_takes_a_size(site: Path, given_value: object, stored: int) -> None:
    """Bytes as a number, or a string with a decimal or binary unit."""
    config = load_config(site, overrides={"serve_cache_memory": given_value})
    assert config.serve_cache_memory == stored


@pytest.mark.parametrize("value", ["256M", "lots", "-1MB", -1, True, [1]])
def test_serve_cache_memory_refuses_what_is_not_a_size(site: Path, value: object) -> None:
    with pytest.raises(ConfigError, match="serve_cache_memory"):
        load_config(site, overrides={"serve_cache_memory": value})


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), "10", True])
def test_serve_header_timeout_refuses_what_is_not_a_positive_duration(
    site: Path, value: object
) -> None:
    with pytest.raises(ConfigError, match="serve_header_timeout"):
        load_config(site, overrides={"serve_header_timeout": value})


def test_serving_limits_leave_the_build_cache_valid(site: Path) -> None:
    """They change how `serve` holds out, not a byte of output: the fingerprint is the same."""
    plain = load_config(site)
    limited = load_config(
        site, overrides={"serve_cache_memory": "1MB", "serve_header_timeout": 2.5}
    )
    assert limited.fingerprint() == plain.fingerprint()


# --- the real process: file descriptors ------------------------------------------------------


@pytest.fixture
def small_site(tmp_path: Path) -> Path:
    source = tmp_path / "site"
    source.mkdir()
    (source / "feedsmith.toml").write_text(SITE_TOML, encoding="utf-8")
    for day in range(1, 6):
        write_post(
            source,
            f"2022-01-0{day}-post-{day}.md",
            f"title: Post {day}\ncategories: news\ntags: [t{day % 2}]",
        )
    return source


def open_sockets(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]


def test_out_of_file_descriptors_logs_a_few_lines_and_serves_again_once_they_close(
    small_site: Path, tmp_path: Path
) -> None:
    """300 idle connections to a server allowed 256 files: accept() fails for 4 s, which
    gives two or three short lines (not thousands with tracebacks, as before); once they
    close, a normal request is answered again."""
    log = tmp_path / "server.log"
    port_sockets: list[socket.socket] = []
    with serving(
        small_site, "--no-reload", "--header-timeout", "60", log=log, open_files=256
    ) as base:
        port = int(urlsplit(base).port or 0)
        try:
            port_sockets = open_sockets(port, 300)
            time.sleep(4)  # asyncio tries to accept again every second
            during = log.read_text(errors="replace")
        finally:
            for sock in port_sockets:
                sock.close()
        assert len(during.encode()) < 4000, during[-3000:]
        assert during.count("cannot accept new connections") == 1, during[-3000:]
        wait_for(lambda: fetch(f"{base}/feed.xml")[0] == 200, timeout=15)
        wait_for(lambda: "accepting connections again" in log.read_text(), timeout=10)
        after = log.read_text(errors="replace")
    assert "Traceback" not in after
    assert after.count("accept") <= 4, after[-3000:]


# --- the real process: slow request headers --------------------------------------------------


def closed_by_server(sockets: list[socket.socket], timeout: float) -> dict[socket.socket, bytes]:
    """Read every socket until the server closes it (or `timeout` passes): what each got."""
    got: dict[socket.socket, bytes] = dict.fromkeys(sockets, b"")
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, sock)
    deadline = time.monotonic() + timeout
    closed: dict[socket.socket, bytes] = {}
    while len(closed) < len(sockets) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            sock = key.data
            try:
                chunk = sock.recv(4096)
            except (ConnectionResetError, BlockingIOError):
                chunk = b""
            if chunk:
                got[sock] += chunk
            else:
                selector.unregister(sock)
                closed[sock] = got[sock]
    selector.close()
    return closed


@pytest.fixture
def slow_server(small_site: Path, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    log = tmp_path / "server.log"
    with serving(small_site, "--no-reload", "--header-timeout", "2", log=log) as base:
        yield int(urlsplit(base).port or 0), log


def test_300_slowloris_and_idle_connections_are_closed_after_the_header_timeout(
    slow_server: tuple[int, Path],
) -> None:
    """200 clients sending a header byte a second get 408 and are closed, 100 that send
    nothing are closed without a word, all within the 2 s timeout (+10 s of slack); a normal
    client is served meanwhile. Before, all 300 were held for ever."""
    port, log = slow_server
    idle = open_sockets(port, 100)
    dripping = open_sockets(port, 200)
    stop = threading.Event()

    def drip() -> None:
        data = b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 100
        for byte in data:
            for sock in dripping:
                with contextlib.suppress(OSError):  # closed by the server, as it should be
                    sock.send(bytes([byte]))
            if stop.wait(1.0):
                return

    thread = threading.Thread(target=drip)
    thread.start()
    try:
        status, _, body = fetch(f"http://127.0.0.1:{port}/feed.xml")
        assert status == 200
        assert b"<feed" in body
        closed = closed_by_server([*idle, *dripping], timeout=12)
    finally:
        stop.set()
        thread.join()
        for sock in [*idle, *dripping]:
            sock.close()
    assert len(closed) == 300
    assert all(closed[sock] == b"" for sock in idle)
    assert all(closed[sock].startswith(b"HTTP/1.1 408 ") for sock in dripping)
    text = log.read_text(errors="replace")
    assert text.count("request headers") <= 3, text[-3000:]


def test_keep_alive_connection_sending_half_a_request_is_closed_after_the_timeout(
    slow_server: tuple[int, Path],
) -> None:
    """After a response, a client that starts the next request and stalls gets 408 and is
    closed: uvicorn's keep-alive timer stops at its first byte, this one does not."""
    port, _ = slow_server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first or not first.rstrip().endswith(b"}"):
            first += sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: 12")
        closed = closed_by_server([sock], timeout=12)
    assert closed[sock].startswith(b"HTTP/1.1 408 ")


# --- the real process: memory ----------------------------------------------------------------


@pytest.fixture
def large_site(tmp_path: Path) -> Path:
    """36 posts of 20 KB in three categories and two tags: feeds of 3 MB and more in all."""
    source = tmp_path / "large"
    source.mkdir()
    (source / "feedsmith.toml").write_text(SITE_TOML, encoding="utf-8")
    for n in range(36):
        words = " ".join(f"word{n}x{i}" for i in range(2000))
        write_post(
            source,
            f"2022-02-{n % 28 + 1:02d}-post-{n}.md",
            f"title: Post {n}\ncategories: c{n % 3}\ntags: [t{n % 2}]",
            f"{words}\n",
        )
    return source


def test_memory_held_stays_under_the_bound_and_evicted_files_come_back_identical(
    large_site: Path, tmp_path: Path
) -> None:
    """With --cache-memory 1MB, every file in every coding, twice: /healthz never counts more
    than 1 MB held though the files are several times that, and each answer is the one the
    first round got (the identity ones: the files `feedsmith build` writes)."""
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "feedsmith", "build", str(large_site), "-o", str(out), "-q"],
        check=True,
        timeout=120,
    )
    with serving(large_site, "--no-reload", "--cache-memory", "1MB") as base:
        opml = etree.fromstring(fetch(f"{base}/feeds.opml")[2])
        feeds = [urlsplit(url).path for url in opml.xpath("//outline/@xmlUrl")]
        shown = [posixpath.splitext(path)[0] + ".html" for path in feeds]
        paths = [*feeds, *shown, "/feeds.opml", "/feeds.html", "/"]
        rounds: list[dict[tuple[str, str], tuple[str, bytes]]] = []
        held = []
        for _ in range(2):
            answers = {}
            for path in paths:
                for coding in CODINGS:
                    status, headers, body = fetch(f"{base}{path}", {"Accept-Encoding": coding})
                    assert status == 200, (path, coding)
                    answers[(path, coding)] = (headers["ETag"], body)
                    memory = json.loads(fetch(f"{base}/healthz")[2])["memory"]
                    held.append(memory["held"])
                    assert memory["held"] <= memory["limit"] == 10**6
            rounds.append(answers)
    identity = sum(
        len(body) for (_, coding), (_, body) in rounds[0].items() if coding == "identity"
    )
    assert identity > 2 * 10**6  # far more than fits: the second round found most evicted
    assert rounds[0] == rounds[1]
    for path in feeds:
        assert rounds[0][(path, "identity")][1] == (out / path.lstrip("/")).read_bytes(), path
    assert max(held) > 0.5 * 10**6  # the memory is used, not left empty
