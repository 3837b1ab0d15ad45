"""The real `feedsmith serve` process under hostile or careless clients, on 127.0.0.1.

Requests an HTTP client library would refuse or normalise (raw bytes in the request line,
`..`, backslashes, unknown methods, oversized headers, half-sent requests) go out through plain
sockets; ordinary traffic uses http.client. Whatever arrives, the server must answer a 4xx or a
correct 200/304 (never a 500), close the connection at worst, keep serving everyone else, and
keep its memory bounded. A socket timeout is the failure signal for a hang.

The server's output goes to a file, not a pipe: thousands of access-log lines would fill a pipe
nobody reads and block the server mid-test.
"""

from __future__ import annotations

import gzip
import http.client
import itertools
import posixpath
import random
import signal
import socket
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from lxml import etree

START_TIMEOUT = 30.0
ANSWER_TIMEOUT = 10.0  # seconds a raw exchange may take before it counts as a hang
PROMPT_TIMEOUT = 3.0  # seconds a normal client waits while slow clients hold connections
MEMORY_GROWTH_LIMIT_KIB = 60 * 1024
CODINGS = ("identity", "gzip", "br", "zstd")


@dataclass(frozen=True)
class Server:
    port: int
    pid: int
    log: Path


@dataclass(frozen=True)
class Answer:
    """What the server sent on one raw connection; status None when it closed without a word."""

    status: int | None
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Feed:
    etag: str
    body: bytes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    method: str = "GET",
    timeout: float = ANSWER_TIMEOUT,
) -> tuple[int, http.client.HTTPResponse, bytes]:
    """One well-formed request on a fresh connection: (status, response, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response, response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, served_posts: Path) -> Iterator[Server]:
    """`feedsmith serve` of the bundled posts; stopped with SIGINT, it must exit 0 cleanly."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve-abuse") / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "feedsmith",
                "serve",
                str(served_posts),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-reload",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if get(port, "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start: {log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield Server(port, process.pid, log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    text = log.read_text(errors="replace")
    assert code == 0, text[-5000:]
    assert "Traceback" not in text, text[-5000:]


@pytest.fixture(scope="module")
def feed(server: Server) -> Feed:
    """/feed.xml as a well-behaved client gets it: the reference for every answer below."""
    status, response, body = get(server.port, "/feed.xml")
    assert status == 200
    return Feed(response.headers["ETag"], body)


def exchange(
    port: int, data: bytes, *, half_close: bool = False, timeout: float = ANSWER_TIMEOUT
) -> Answer:
    """Send raw bytes on a new connection and read until the server closes it."""
    chunks: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it read everything: its answer may still be waiting
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return parse(b"".join(chunks))


def parse(raw: bytes) -> Answer:
    if not raw:
        return Answer(None, {}, b"")
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    version, status, *_ = status_line.split(" ", 2)
    assert version.startswith("HTTP/1."), raw[:200]
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status), headers, body)


def request(target: bytes, *headers: bytes, method: bytes = b"GET") -> bytes:
    """A request as bytes, exactly as given: nothing is encoded, normalised or checked."""
    lines = [
        method + b" " + target + b" HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Connection: close",
        *headers,
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def assert_still_serving(server: Server, feed: Feed) -> None:
    status, _, body = get(server.port, "/feed.xml")
    assert (status, body) == (200, feed.body)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


# --- conditional headers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        b"not a date",
        b"",
        b"0",
        b"-1",
        b"1649766374",
        b"2022-04-12T12:26:14Z",
        b"Tue, 32 Apr 2022 25:61:61 GMT",
        b"Mon, 01 Jan 10000 00:00:00 GMT",
        b"Thu, 01 Jan 1970 00:00:00 +9999",
        b"Tue, 12 Apr 2022 12:26:14 GMT" * 100,
        b"x" * 7 * 1024,
    ],
    ids=[
        "words",
        "empty",
        "zero",
        "negative",
        "epoch-seconds",
        "iso-8601",
        "impossible-fields",
        "year-10000",
        "offset-out-of-range",
        "date-repeated",
        "7KB",
    ],
)
def test_if_modified_since_that_is_not_a_date_is_ignored(
    server: Server, feed: Feed, value: bytes
) -> None:
    """An If-Modified-Since that is not an HTTP-date gets the full feed."""
    answer = exchange(server.port, request(b"/feed.xml", b"If-Modified-Since: " + value))
    assert (answer.status, answer.body) == (200, feed.body)


def ten_thousand_etags() -> list[str]:
    """10,000 distinct short entity-tags (about 55 KB as a list), none a real feed's."""
    alphabet = string.ascii_letters + string.digits
    tags = itertools.chain(
        itertools.product(alphabet, repeat=2), itertools.product(alphabet, repeat=3)
    )
    return [f'"{"".join(tag)}"' for tag in itertools.islice(tags, 10_000)]


def test_if_none_match_with_10000_tags_is_refused_as_too_large(server: Server, feed: Feed) -> None:
    """A 10,000-item If-None-Match list (60 KB) is over the 16 KiB header budget: 431, not 500."""
    value = ",".join(ten_thousand_etags()).encode()
    answer = exchange(server.port, request(b"/feed.xml", b"If-None-Match: " + value))
    assert answer.status == 431


def test_if_none_match_with_1000_other_tags_gets_the_feed(server: Server, feed: Feed) -> None:
    """A 1,000-item If-None-Match list without the current ETag is answered 200."""
    value = ",".join(ten_thousand_etags()[:1000]).encode()
    answer = exchange(server.port, request(b"/feed.xml", b"If-None-Match: " + value))
    assert (answer.status, answer.body) == (200, feed.body)


def test_if_none_match_with_1000_tags_led_by_the_current_one_gets_304(
    server: Server, feed: Feed
) -> None:
    """A 1,000-item If-None-Match list whose first item is the current ETag is answered 304."""
    value = ",".join([feed.etag, *ten_thousand_etags()[1:1000]]).encode()
    answer = exchange(server.port, request(b"/feed.xml", b"If-None-Match: " + value))
    assert (answer.status, answer.body) == (304, b"")
    assert answer.headers["etag"] == feed.etag


# --- oversized requests --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        (b"Cookie: " + b"a" * 100 * 1024,),
        tuple(b"X-Filler-%d: " % i + b"b" * 1024 for i in range(200)),
        (b"X-Long: " + b"c" * 20 * 1024,),
    ],
    ids=["cookie-100KB", "200-headers-of-1KB", "one-20KB-line"],
)
def test_oversized_request_headers_are_refused_and_the_server_goes_on(
    server: Server, feed: Feed, headers: tuple[bytes, ...]
) -> None:
    """Oversized headers get a 400/431 or a closed connection; the next client gets 200."""
    answer = exchange(server.port, request(b"/feed.xml", *headers))
    assert answer.status in (None, 400, 431), (answer.status, answer.headers)
    assert_still_serving(server, feed)


# --- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"/" + b"a" * 8 * 1024,
        b"/" + b"a" * 64 * 1024,
        b"/feed/by_tag/" + b"x" * 8 * 1024 + b".xml",
        b"/%ff%fe",
        b"/%C0%AE%C0%AE/feed.xml",
        b"/%C0%AE%C0%AE/%C0%AE%C0%AE/etc/passwd",
        b"/feed.xml%00",
        b"/feed.xml%00.html",
        b"/..%2f..%2fetc%2fpasswd",
        b"/%2e%2e/%2e%2e/etc/passwd",
        b"/../../etc/passwd",
        b"/feed%2fby_tag%2fx.xml",
        b"/feed%5cemnews.xml",
        b"/feed.xml;x",
        b"/feed\\emnews.xml",
        b"/..\\..\\etc\\passwd",
        b"\\feed.xml",
        b"xfeed.xml",
        b"/feed\xff.xml",
        b"/feed/by_tag/\xe6\x96\xb0\xe6\xa0\x87\xe7\xad\xbe.xml",
    ],
    ids=[
        "8KB",
        "64KB",
        "8KB-tag",
        "invalid-utf8",
        "overlong-utf8-dots",
        "overlong-utf8-passwd",
        "nul",
        "nul-then-suffix",
        "encoded-slashes",
        "encoded-dots",
        "dot-dot",
        "encoded-slash-in-feed",
        "encoded-backslash",
        "semicolon-param",
        "backslashes",
        "backslash-traversal",
        "backslash-instead-of-leading-slash",
        "no-leading-slash",
        "raw-0xff-byte",
        "raw-utf8-bytes",
    ],
)
def test_long_or_strangely_encoded_paths_reach_nothing(server: Server, target: bytes) -> None:
    """Long, encoded, traversing or malformed paths get 400, 404 or 414, never a file."""
    answer = exchange(server.port, request(target))
    assert answer.status in (400, 404, 414), (answer.status, answer.body[:200])
    assert b"root:" not in answer.body


def test_query_string_on_a_feed_path_names_no_other_file(server: Server, feed: Feed) -> None:
    """`/feed.xml?x=../../` is a query on /feed.xml with an unknown parameter: refused with
    the known ones, never read as a path; `?q=../../` searches for the text `../../`."""
    answer = exchange(server.port, request(b"/feed.xml?x=../../"))
    assert answer.status == 400
    assert b"unknown parameter 'x'" in answer.body and b"known parameters:" in answer.body
    searched = exchange(server.port, request(b"/feed.xml?q=../../"))
    assert searched.status == 200 and searched.body != feed.body


@pytest.mark.parametrize("target", [b"/./feed.xml", b"/feed/../feed.xml", b"/feed/./../feed.xml"])
def test_dot_segments_lead_to_nothing_or_to_the_feed_they_name(
    server: Server, feed: Feed, target: bytes
) -> None:
    """Dot segments resolving to /feed.xml give 404/400 (not normalised) or exactly that feed."""
    answer = exchange(server.port, request(target))
    assert answer.status in (200, 400, 404), answer.status
    if answer.status == 200:
        assert answer.body == feed.body


# --- methods and malformed requests --------------------------------------------------------


@pytest.mark.parametrize("path", [b"/feed.xml", b"/no-such-feed.xml", b"/healthz"])
@pytest.mark.parametrize(
    "method", [b"FOO", b"PROPFIND", b"DELETE", b"OPTIONS", b"TRACE", b"CONNECT"]
)
def test_other_methods_get_405_allowing_get_and_head(
    server: Server, method: bytes, path: bytes
) -> None:
    """Methods other than GET and HEAD get 405 with an Allow header naming GET and HEAD."""
    answer = exchange(server.port, request(path, method=method))
    assert answer.status == 405, answer.status
    # Allow is a list: its order carries no meaning (RFC 9110 10.2.1).
    assert sorted(m.strip() for m in answer.headers["allow"].split(",")) == ["GET", "HEAD"]


@pytest.mark.parametrize(
    "data",
    [
        b"GET  /feed.xml  HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /feed.xml\tHTTP/1.1\r\nHost: x\r\n\r\n",
        b" GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /feed.xml HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        b"GET /feed.xml HTTP/1.x\r\nHost: x\r\n\r\n",
        b"/feed.xml HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /fe ed.xml HTTP/1.1\r\nHost: x\r\n\r\n",
        b"G\x00T /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /feed.xml HTTP/1.1\r\nConnection: close\r\n\r\n",
        b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
        b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
        b"GET /feed.xml HTTP/1.1\r\n Host: x\r\n\r\n",
        b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n: no-name\r\n\r\n",
        b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"\x00\x01\x02garbage\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(32)),
    ],
    ids=[
        "double-spaces",
        "tab-separator",
        "leading-space",
        "extra-field",
        "bad-version",
        "no-method",
        "method-only",
        "space-in-target",
        "nul-in-method",
        "no-host",
        "two-hosts",
        "space-in-header-name",
        "folded-first-header",
        "empty-header-name",
        "negative-content-length",
        "unknown-transfer-coding",
        "blank-lines-only",
        "binary-garbage",
        "tls-client-hello",
    ],
)
def test_malformed_requests_get_400_or_a_closed_connection(
    server: Server, feed: Feed, data: bytes
) -> None:
    """A malformed request gets 400 or a closed connection, and the server goes on serving."""
    answer = exchange(server.port, data)
    assert answer.status in (None, 400), (answer.status, answer.body[:200])
    assert_still_serving(server, feed)


@pytest.mark.parametrize(
    ("data", "half_close"),
    [(b"GET /feed.xml\r\n\r\n", False), (b"GET /feed.xml\r\n", True), (b"GET /\r\n\r\n", False)],
    ids=["line-and-blank-line", "line-then-eof", "root"],
)
def test_http09_requests_get_400_or_a_closed_connection(
    server: Server, feed: Feed, data: bytes, half_close: bool
) -> None:
    """An HTTP/0.9-style request (no version) gets 400 or a closed connection, never a feed."""
    answer = exchange(server.port, data, half_close=half_close)
    assert answer.status in (None, 400), (answer.status, answer.body[:200])
    assert_still_serving(server, feed)


# --- load ----------------------------------------------------------------------------------


def test_64_concurrent_keep_alive_clients_all_get_correct_answers(
    server: Server, feed: Feed
) -> None:
    """64 threads x 25 keep-alive requests (200, gzip, 304, 404, HEAD): every answer is right."""
    rss_status, _, rss_body = get(server.port, "/feed.rss")
    assert rss_status == 200
    # (method, path, request headers) -> whether (status, response, body) is the right answer
    kinds: list[tuple[str, str, dict[str, str], Callable[[int, Any, bytes], bool]]] = [
        ("GET", "/feed.xml", {}, lambda s, r, b: (s, b) == (200, feed.body)),
        (
            "GET",
            "/feed.xml",
            {"Accept-Encoding": "gzip"},
            lambda s, r, b: s == 200 and gzip.decompress(b) == feed.body,
        ),
        ("GET", "/feed.xml", {"If-None-Match": feed.etag}, lambda s, r, b: (s, b) == (304, b"")),
        ("GET", "/feed/no-such-feed.xml", {}, lambda s, r, b: s == 404),
        (
            "HEAD",
            "/feed.rss",
            {},
            lambda s, r, b: (s, b, r.headers["Content-Length"]) == (200, b"", str(len(rss_body))),
        ),
    ]
    start = threading.Barrier(64)

    def client(number: int) -> list[str]:
        wrong: list[str] = []
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=ANSWER_TIMEOUT)
        start.wait(timeout=ANSWER_TIMEOUT)
        try:
            for i in range(25):
                method, path, headers, right = kinds[(number + i) % len(kinds)]
                conn.request(method, path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                if not right(response.status, response, body):
                    wrong.append(
                        f"client {number}, request {i}: {method} {path} {headers}: {response.status}"
                    )
        finally:
            conn.close()
        return wrong

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(client, range(64)))
    assert [problem for wrong in results for problem in wrong] == []


def test_stalled_and_dripping_clients_do_not_delay_a_normal_client(
    server: Server, feed: Feed
) -> None:
    """20 stalled half-requests and 5 one-byte-per-100-ms clients leave /feed.xml prompt."""
    stop = threading.Event()
    sockets: list[socket.socket] = []
    drippers: list[threading.Thread] = []

    def drip(sock: socket.socket) -> None:
        data = b"GET /feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 1000
        for byte in data:
            if stop.is_set():
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return
            stop.wait(0.1)

    try:
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=ANSWER_TIMEOUT)
            sockets.append(sock)
            sock.sendall(b"GET /feed.x")
        for _ in range(5):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=ANSWER_TIMEOUT)
            sockets.append(sock)
            thread = threading.Thread(target=drip, args=(sock,))
            thread.start()
            drippers.append(thread)
        for _ in range(5):
            status, _, body = get(server.port, "/feed.xml", timeout=PROMPT_TIMEOUT)
            assert (status, body) == (200, feed.body)
            stop.wait(0.3)
    finally:
        stop.set()
        for thread in drippers:
            thread.join()
        for sock in sockets:
            sock.close()


def served_files(server: Server) -> list[str]:
    """Every feed the OPML list names, its page for people, the OPML list and the index pages."""
    status, _, body = get(server.port, "/feeds.opml")
    assert status == 200
    feeds = [urlsplit(url).path for url in etree.fromstring(body).xpath("//outline/@xmlUrl")]
    assert len(feeds) >= 4
    shown = [posixpath.splitext(path)[0] + ".html" for path in feeds]
    return [*feeds, *shown, "/feeds.opml", "/feeds.html", "/"]


def test_memory_stays_bounded_under_distinct_request_data(server: Server) -> None:
    """3,000 distinct 404 paths, 1,000 distinct queries, every file in every coding: < 60 MB."""
    files = served_files(server)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=ANSWER_TIMEOUT)

    def fetch(path: str, coding: str) -> int:
        conn.request("GET", path, headers={"Accept-Encoding": coding})
        response = conn.getresponse()
        response.read()
        return response.status

    try:
        # First renders fill the per-file cache, which is bounded by the number of files.
        assert {fetch(path, coding) for path in files for coding in CODINGS} == {200}
        before = rss_kib(server.pid)
        rng = random.Random(20260101)
        prefixes = ["/", "/feed/", "/feed/by_tag/", "/feeds/"]
        statuses = {
            fetch(
                f"{prefixes[i % 4]}{rng.randbytes(700).hex()}.xml",
                f"{CODINGS[i % 4]}, x-{i};q=0.{i % 10}",
            )
            for i in range(3000)
        }
        assert statuses == {404}
        # Request data that reaches a real feed: a cache keyed by the raw query string or the
        # raw Accept-Encoding value, unbounded, would keep a body per request here; answers to
        # queries are kept in the bounded memory.
        statuses = {
            fetch(f"/feed.xml?q={rng.randbytes(16).hex()}", f"{CODINGS[i % 4]}, x-{i}")
            for i in range(1000)
        }
        assert statuses == {200}
        for _ in range(3):
            assert {fetch(path, coding) for path in files for coding in CODINGS} == {200}
        after = rss_kib(server.pid)
    finally:
        conn.close()
    assert after - before < MEMORY_GROWTH_LIMIT_KIB, (before, after)
