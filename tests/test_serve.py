"""The ASGI app of `feedsmith serve`, in process: bytes, headers, conditional GET, pages, reload.

Most requests go through Starlette's TestClient. httpx2 normalises `..` segments and reads `//x`
as a host, so the path-traversal tests send their request target through `asgi_request`,
which builds the scope the way uvicorn does (raw_path as sent, path percent-decoded, nothing
normalised). server.asgi.request_once is not used for them because it leaves `path` encoded,
which would hide the decoded `../` a real server hands to the app. HEAD bodies are also checked
there: the TestClient drops any HEAD body itself, so it could not see one the app sent.
"""

from __future__ import annotations

import gzip
import math
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import brotli  # type: ignore[import-untyped]
import feedparser
import httpx2
import pytest
import zstandard
from bs4 import BeautifulSoup
from feedsmith import create_app, state_folder
from feedsmith.config import load_config
from feedsmith.pipeline import build
from feedsmith.server.asgi import request_once
from feedsmith.state import read_manifest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.conftest import POSTS

BOOKKEEPING = (".feedsmith-manifest.json", ".feedsmith.lock", ".feedsmith-cache/cache.sqlite")
CODINGS = ("identity", "gzip", "br", "zstd")
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
OPML = "text/x-opml; charset=utf-8"
HTML = "text/html; charset=utf-8"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
SAMPLE_FEEDS = ("feed.xml", "feed/emnews.rss", "feed/by_tag/东财滚动新闻.xml")


def _zstd_decompress(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


DECODE: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda data: data,
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": _zstd_decompress,
}


def url_of(path: str) -> str:
    """The request path for a file of the build: `/` plus the percent-encoded UTF-8 path."""
    return "/" + quote(path)


def get(client: TestClient, path: str, coding: str = "identity", **headers: str) -> httpx2.Response:
    """GET a file of the build with one Accept-Encoding (and any extra request headers)."""
    fields = {"Accept-Encoding": coding, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return client.get(url_of(path), headers=fields)


def get_raw(client: TestClient, path: str, coding: str) -> tuple[httpx2.Response, bytes]:
    """GET a file and return the response with its body exactly as sent, not decoded."""
    with client.stream("GET", url_of(path), headers={"Accept-Encoding": coding}) as response:
        raw = b"".join(response.iter_raw())
    return response, raw


def asgi_request(
    app: Starlette, method: str, target: bytes, headers: dict[str, str] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request as uvicorn hands it to the app: (status, headers in order, body as sent)."""
    return request_once(app, method, target, headers or {})


def feed_of(body: bytes) -> Any:
    """feedparser's reading of a feed document, failing on a malformed one."""
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def self_url(parsed: Any) -> str:
    """The feed's rel=self address: what a reader subscribes to."""
    return str(next(link.href for link in parsed.feed.links if link.rel == "self"))


def newest_entry_update(atom: bytes) -> datetime:
    """The latest <updated> of the entries of an Atom document."""
    root = ElementTree.fromstring(atom)
    stamps = [e.findtext(f"{ATOM_NS}updated") or "" for e in root.iter(f"{ATOM_NS}entry")]
    return max(datetime.fromisoformat(s) for s in stamps)


def soup_of(response: httpx2.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def shift(http_date: str, seconds: int) -> str:
    """An HTTP-date `seconds` later (or earlier) than `http_date`."""
    return format_datetime(
        parsedate_to_datetime(http_date) + timedelta(seconds=seconds), usegmt=True
    )


@dataclass(frozen=True)
class Built:
    """What `feedsmith build posts/` wrote: the folder and every output file its manifest lists."""

    out: Path
    files: tuple[str, ...]

    def bytes_of(self, path: str) -> bytes:
        return (self.out / path).read_bytes()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """posts/ built into a temporary folder by the library, as `feedsmith build` does."""
    out = tmp_path_factory.mktemp("built") / "_site"
    config = load_config(POSTS, output=out)
    build(config)
    files = tuple(sorted(read_manifest(state_folder(config), out)))
    assert all((out / path).is_file() for path in files)
    return Built(out, files)


@pytest.fixture(scope="module")
def app(served_posts: Path) -> Starlette:
    """The app serving posts/, as `feedsmith serve posts/` creates it (without reload)."""
    return create_app(load_config(served_posts))


@pytest.fixture(scope="module")
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


# --- bytes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
def test_every_built_file_is_served_with_its_exact_bytes(
    client: TestClient, built: Built, coding: str
) -> None:
    """Every file `build` writes is served at its percent-encoded path; decoded, the same bytes."""
    assert len(built.files) >= 41  # 40 feeds and the OPML list: never vacuously true
    wrong = []
    for path in built.files:
        response, raw = get_raw(client, path, coding)
        if response.status_code != 200 or DECODE[coding](raw) != built.bytes_of(path):
            wrong.append(f"{path}: {response.status_code}")
    assert wrong == []


@pytest.mark.parametrize("coding", CODINGS)
def test_content_encoding_names_the_coding_sent(
    client: TestClient, built: Built, coding: str
) -> None:
    """Content-Encoding names the coding chosen from Accept-Encoding; identity sends none."""
    for path in built.files:
        response, _ = get_raw(client, path, coding)
        expected = None if coding == "identity" else coding
        assert response.headers.get("content-encoding") == expected, path


@pytest.mark.parametrize("coding", CODINGS)
def test_content_length_is_the_length_of_the_bytes_sent(
    client: TestClient, built: Built, coding: str
) -> None:
    """Content-Length counts the (compressed) bytes on the wire, not the file's."""
    for path in built.files:
        response, raw = get_raw(client, path, coding)
        assert int(response.headers["content-length"]) == len(raw), path


@pytest.mark.parametrize("path", BOOKKEEPING)
def test_build_bookkeeping_files_are_not_served(client: TestClient, path: str) -> None:
    """What builds keep for themselves (older ones kept it in OUT) is never served."""
    assert get(client, path).status_code == 404


# --- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("feed.xml", ATOM),
        ("feed/emnews.xml", ATOM),
        ("feed/by_tag/东财滚动新闻.xml", ATOM),
        ("feed.rss", RSS),
        ("feed/by_tag/A股-Market.rss", RSS),
        ("feeds.opml", OPML),
        ("", HTML),
        ("feed.html", HTML),
        ("feeds.html", HTML),
    ],
)
def test_content_type_is_exact(client: TestClient, path: str, media_type: str) -> None:
    """Each kind of file has its registered media type with charset=utf-8, nothing else."""
    assert get(client, path).headers["content-type"] == media_type


@pytest.mark.parametrize("path", ["feed.xml", "feed.rss", "feed/emnews.xml", "feeds.opml"])
def test_feeds_forbid_content_sniffing(client: TestClient, path: str) -> None:
    """Feeds carry X-Content-Type-Options: nosniff, so no browser renders one as HTML."""
    assert get(client, path).headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["feed.xml", "feed/emnews.rss", "feeds.opml", ""])
def test_cache_control_defaults_to_five_minutes(client: TestClient, path: str) -> None:
    """Without configuration, responses may be cached for 300 seconds (no `public`: RFC 9111)."""
    assert get(client, path).headers["cache-control"] == "max-age=300"


def test_cache_control_follows_cache_max_age(served_posts: Path) -> None:
    """`cache_max_age` sets the max-age of Cache-Control."""
    with TestClient(
        create_app(load_config(served_posts, overrides={"cache_max_age": 60}))
    ) as other:
        assert get(other, "feed.xml").headers["cache-control"] == "max-age=60"


@pytest.mark.parametrize("coding", CODINGS)
def test_vary_names_accept_encoding(client: TestClient, coding: str) -> None:
    """Every coding of a feed says Vary: Accept-Encoding, so caches keep them apart."""
    assert get(client, "feed.xml", coding).headers["vary"] == "Accept-Encoding"


# --- ETag and Last-Modified --------------------------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
def test_etag_is_strong(client: TestClient, coding: str) -> None:
    """ETags are strong entity-tags: quoted, no W/ prefix."""
    etag = get(client, "feed.xml", coding).headers["etag"]
    assert re.fullmatch(r'"[\x21\x23-\x7e]+"', etag), etag


def test_etag_differs_per_content_coding(client: TestClient) -> None:
    """identity, gzip, br and zstd bytes of one feed have four different ETags."""
    etags = {get(client, "feed.xml", coding).headers["etag"] for coding in CODINGS}
    assert len(etags) == len(CODINGS)


@pytest.mark.parametrize("coding", CODINGS)
def test_etag_is_the_same_in_two_separately_created_apps(
    client: TestClient, coding: str, tmp_path: Path
) -> None:
    """Equal bytes, equal ETag: two app instances (two workers, two replicas) agree."""
    replica = tmp_path / "replica"
    shutil.copytree(POSTS, replica)
    with TestClient(create_app(load_config(replica))) as other:
        for path in ("feed.xml", "feed/emnews.rss", "feeds.opml"):
            assert (
                get(other, path, coding).headers["etag"]
                == get(client, path, coding).headers["etag"]
            )


@pytest.mark.parametrize("path", ["feed.xml", "feed/emnews.xml", "feeds.opml"])
def test_last_modified_is_when_the_server_first_had_these_bytes(path: str, tmp_path: Path) -> None:
    """Last-Modified is not an entry date but the second after the server first had these
    bytes (sent as the clock while that is still ahead of it); a restart keeps it."""
    source = tmp_path / "posts"
    shutil.copytree(POSTS, source)
    before = math.floor(time.time())
    with TestClient(create_app(load_config(source))) as first:
        sent = parsedate_to_datetime(get(first, path).headers["last-modified"]).timestamp()
    after = time.time()
    assert before <= sent <= after
    time.sleep(max(0.0, math.floor(after) + 1.05 - time.time()))  # past any time it gave
    given = []
    for _ in range(2):  # restarted twice
        with TestClient(create_app(load_config(source))) as again:
            header = get(again, path).headers["last-modified"]
            given.append(parsedate_to_datetime(header).timestamp())
    assert given[0] == given[1]
    assert sent <= given[0] <= math.floor(after) + 1
    assert given[0] > before


# --- conditional GET ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Validators:
    etag: str
    last_modified: str


def validators(client: TestClient, path: str = "feed.xml", coding: str = "identity") -> Validators:
    headers = get(client, path, coding).headers
    return Validators(headers["etag"], headers["last-modified"])


# Request headers as templates over the current validators: {etag}, {lm}, {earlier}, {later}.
CONDITIONAL_CASES = [
    pytest.param({"If-None-Match": "{etag}"}, 304, id="inm-current"),
    pytest.param({"If-None-Match": '"stale-1", {etag}, "stale-2"'}, 304, id="inm-list"),
    pytest.param({"If-None-Match": "*"}, 304, id="inm-star"),
    pytest.param({"If-None-Match": "W/{etag}"}, 304, id="inm-weak"),
    pytest.param({"If-None-Match": '"0123456789abcdef"'}, 200, id="inm-stale"),
    pytest.param(
        {"If-None-Match": '"0123456789abcdef"', "If-Modified-Since": "{later}"},
        200,
        id="inm-stale-beats-ims-future",
    ),
    pytest.param(
        {"If-None-Match": "{etag}", "If-Modified-Since": "{earlier}"},
        304,
        id="inm-current-beats-ims-earlier",
    ),
    pytest.param({"If-Modified-Since": "{lm}"}, 304, id="ims-equal"),
    pytest.param({"If-Modified-Since": "{later}"}, 200, id="ims-later"),
    pytest.param({"If-Modified-Since": "{earlier}"}, 200, id="ims-earlier"),
    pytest.param({"If-Modified-Since": "garbage"}, 200, id="ims-garbage"),
    pytest.param({"If-Modified-Since": ""}, 200, id="ims-empty"),
    pytest.param({"If-Modified-Since": "x" * 8_000}, 200, id="ims-long"),
    pytest.param({"If-Modified-Since": "Mon, 01 Jan 99999 00:00:00 GMT"}, 200, id="ims-overflow"),
    pytest.param({"If-None-Match": "garbage"}, 200, id="inm-garbage"),
    pytest.param({"If-None-Match": ""}, 200, id="inm-empty"),
    pytest.param({"If-None-Match": '"unterminated'}, 200, id="inm-unterminated"),
    pytest.param({"If-None-Match": ",,, W/"}, 200, id="inm-commas"),
]


@pytest.mark.parametrize("coding", ["identity", "gzip"])
@pytest.mark.parametrize(("templates", "status"), CONDITIONAL_CASES)
def test_conditional_get(
    client: TestClient, templates: dict[str, str], status: int, coding: str
) -> None:
    """If-None-Match (first) and If-Modified-Since decide between 304 and 200, never 500."""
    current = validators(client, "feed.xml", coding)
    values = {
        "etag": current.etag,
        "lm": current.last_modified,
        "earlier": shift(current.last_modified, -1),
        "later": shift(current.last_modified, 86_400),
    }
    headers = {"Accept-Encoding": coding}
    headers |= {name: template.format(**values) for name, template in templates.items()}
    assert client.get("/feed.xml", headers=headers).status_code == status


def test_not_modified_keeps_validators_and_caching_headers_only(client: TestClient) -> None:
    """A 304 repeats ETag, Last-Modified, Cache-Control and Vary, with no body and no Content-Type."""
    current = validators(client, "feed/emnews.xml")
    response = get(client, "feed/emnews.xml", If_None_Match=current.etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == current.etag
    assert response.headers["last-modified"] == current.last_modified
    assert response.headers["cache-control"] == "max-age=300"
    assert response.headers["vary"] == "Accept-Encoding"
    assert "content-type" not in response.headers
    assert "content-encoding" not in response.headers


def test_etag_of_another_coding_does_not_validate(client: TestClient) -> None:
    """An ETag the client got for identity bytes does not make the gzip bytes 304."""
    identity = validators(client, "feed.xml", "identity")
    assert get(client, "feed.xml", "gzip", If_None_Match=identity.etag).status_code == 200


# --- HEAD, methods, unknown paths --------------------------------------------------------------


@pytest.mark.parametrize("coding", ["identity", "br"])
@pytest.mark.parametrize(
    "path", ["feed.xml", "feed/by_tag/东财滚动新闻.rss", "feeds.opml", "", "feed/emnews.html"]
)
def test_head_answers_like_get_without_a_body(app: Starlette, path: str, coding: str) -> None:
    """HEAD gets GET's status and headers (Content-Length of the full body) and no body at all."""
    target = url_of(path).encode("ascii")
    headers = {"Accept-Encoding": coding}
    get_status, get_headers, get_body = asgi_request(app, "GET", target, headers)
    head_status, head_headers, head_body = asgi_request(app, "HEAD", target, headers)
    assert get_status == 200
    assert (head_status, head_headers) == (get_status, get_headers)
    assert int(dict(head_headers)["content-length"]) == len(get_body) > 0
    assert head_body == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_on_a_feed_are_not_allowed(client: TestClient, method: str) -> None:
    """Anything but GET and HEAD on a feed is 405 with an Allow header naming GET and HEAD."""
    response = client.request(method, "/feed.xml")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "HEAD"} <= allowed


@pytest.mark.parametrize(
    "path",
    [
        "/nope.xml",
        "/feed/nope.rss",
        "/feed/",
        "/feed.xml/",
        "/preview/",
        "/feed",
        "/nope.html",
        "/FEED.XML",
    ],
)
def test_unknown_paths_are_404_with_a_short_body(client: TestClient, path: str) -> None:
    """A path the site does not have is 404 with a few bytes of plain text."""
    response = client.get(path)
    assert response.status_code == 404
    assert 0 < len(response.content) < 100


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(b"/../feed.xml", id="dotdot"),
        pytest.param(b"/feed/../feed.xml", id="dotdot-inside"),
        pytest.param(b"/%2e%2e/feed.xml", id="encoded-dotdot"),
        pytest.param(b"/feed/../feed.html", id="dotdot-to-a-page"),
        pytest.param(b"/feed%2Fby_tag%2Femnews.xml", id="encoded-slashes"),
        pytest.param(b"/feed%2femnews.xml", id="encoded-slash-to-real-feed"),
        pytest.param(b"/feed%5cemnews.xml", id="encoded-backslash"),
        pytest.param(b"/feed.xml%00", id="encoded-nul"),
        pytest.param(b"//etc/passwd", id="double-slash"),
        pytest.param(b"/../../../../etc/passwd", id="etc-passwd"),
        pytest.param(b"/" + b"a" * 10_000, id="10000-characters"),
        pytest.param(b"/feed/" + b"../" * 3_000 + b"feed.xml", id="long-dotdot"),
        pytest.param(b"/%ff%fe.xml", id="invalid-utf8"),
    ],
)
def test_path_tricks_are_404(app: Starlette, target: bytes) -> None:
    """Traversal, encoded separators, NUL, huge and undecodable paths: 404, never a file or a 500."""
    status, _, _ = asgi_request(app, "GET", target, {"Accept-Encoding": "identity"})
    assert status == 404


def test_healthz_reports_ok_as_json(client: TestClient) -> None:
    """/healthz is 200 application/json with status ok."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status"] == "ok"


def test_serve_parses_only_what_changed_since_the_last_build(tmp_path: Path) -> None:
    """A site built before: the server's first read takes the file states the build cache
    kept (no post parsed again but the one edited since), and serves the build's bytes."""
    from feedsmith.outputs import render_file
    from feedsmith.server.store import FeedStore

    source = tmp_path / "posts"
    shutil.copytree(POSTS, source)
    config = load_config(source, output=tmp_path / "out", overrides={"url": "https://x.org"})
    build(config)
    edited = source / "2022-04-12-202204122339508724.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    heard: list[tuple[str, int, int]] = []
    store = FeedStore(
        config, progress=lambda stage, done, total: heard.append((stage, done, total))
    )
    try:
        # the edited post, and the three held back, whose fresh stamps (copied a moment ago)
        # prove nothing and which keep no digest to compare: not the other eleven
        assert {total for stage, _, total in heard if stage == "read"} == {1 + 3}
        served = store.snapshot.site
        assert len(served.index.posts) == 12
        made = render_file(served, "feed.xml")
        assert made is not None and "One more line." in made.body.decode()
    finally:
        store.close()
