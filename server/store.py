"""The site as served: one immutable snapshot at a time, swapped whole when posts change.

A request takes `store.snapshot` once and uses only that object, so it sees the old index or
the new one, never a mix. Feed bytes are rendered on first request and kept per snapshot;
rendered entries and feeds are also kept by content key across snapshots, so a reload only
re-renders the feeds whose posts actually changed.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import brotli  # type: ignore[import-untyped]
import zstandard

from feedsmith.config import Config, load_config
from feedsmith.errors import FeedsError
from feedsmith.model import MEDIA_TYPES, Entry, FeedSpec, RenderedFeed
from feedsmith.pipeline import (
    FeedCache,
    Site,
    make_entries,
    output_keys,
    read_site,
    render_feeds,
)
from feedsmith.render import render_opml, rendered
from feedsmith.websub import publish
from feedsmith.server import pages
from feedsmith.server.conditional import http_date
from feedsmith.server.modified import ModifiedTimes

log = logging.getLogger("feedsmith.serve")

K = TypeVar("K")
V = TypeVar("V")


class LRU(MutableMapping[K, V]):
    """A small thread-safe least-recently-used map: bounded memory for content-keyed caches."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        with self._lock:
            value = self._data.get(key)
            if value is None:
                return default
            self._data.move_to_end(key)
            return value

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __getitem__(self, key: K) -> V:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __delitem__(self, key: K) -> None:
        with self._lock:
            del self._data[key]

    def __iter__(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self._data))


def _compress(body: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.compress(body, compresslevel=6, mtime=0)  # mtime=0: same bytes everywhere
    if coding == "br":
        return bytes(brotli.compress(body, quality=5))
    if coding == "zstd":
        return zstandard.ZstdCompressor(level=6).compress(body)
    return body


@dataclass(frozen=True, slots=True)
class Representation:
    """One response body with every header prepared: the hot path only copies them."""

    body: bytes
    etag: str
    last_modified: datetime | None
    headers: tuple[tuple[bytes, bytes], ...]  # for 200
    headers_304: tuple[tuple[bytes, bytes], ...]  # the validators and caching headers only

    def at(self, now: float) -> Representation:
        """As sent at `now`: a Last-Modified still ahead of the clock (a change seen less
        than a second ago) is sent as `now`, as RFC 9110 8.8.2.1 asks."""
        if self.last_modified is None or self.last_modified.timestamp() <= now:
            return self
        sent = http_date(datetime.fromtimestamp(int(now), UTC)).encode("latin-1")

        def clamp(headers: tuple[tuple[bytes, bytes], ...]) -> tuple[tuple[bytes, bytes], ...]:
            return tuple((n, sent if n == b"last-modified" else v) for n, v in headers)

        return replace(self, headers=clamp(self.headers), headers_304=clamp(self.headers_304))


IMMUTABLE = "max-age=31536000, immutable"  # a full RFC 5005 archive never changes
# Feeds served on a stand-in address (no `url` configured) must not be kept by any cache.
NO_STORE = "no-store"


def represent(
    feed: RenderedFeed,
    coding: str,
    *,
    max_age: int,
    spec: FeedSpec | None = None,
    stored: bool = True,
) -> Representation:
    """A rendered file as sent with one content coding, with its own strong ETag.

    A full archive document is cacheable for a year; a feed with WebSub hubs says so in `Link`.
    `stored=False`: no cache may keep it. (No `public`: these responses carry no
    authorisation, so shared caches may store them anyway, RFC 9111 3.)
    """
    body = _compress(feed.body, coding)
    etag = feed.etag if coding == "identity" else f'{feed.etag[:-1]}-{coding}"'
    if not stored:
        caching = NO_STORE
    elif spec is not None and spec.immutable:
        caching = IMMUTABLE
    else:
        caching = f"max-age={max_age}"
    common = [
        (b"etag", etag.encode("latin-1")),
        (b"cache-control", caching.encode("latin-1")),
        (b"vary", b"Accept-Encoding"),
    ]
    hubs = [href for rel, href in spec.links if rel == "hub"] if spec is not None else []
    if spec is not None and hubs:
        links = ", ".join([*(f'<{hub}>; rel="hub"' for hub in hubs), f'<{spec.url}>; rel="self"'])
        common.append((b"link", links.encode("latin-1")))
    if feed.last_modified is not None:
        common.append((b"last-modified", http_date(feed.last_modified).encode("latin-1")))
    full = [
        (b"content-type", feed.media_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
        (b"x-content-type-options", b"nosniff"),
        *common,
    ]
    if coding != "identity":
        full.append((b"content-encoding", coding.encode("latin-1")))
    if feed.media_type.startswith("text/html"):
        full.append((b"content-security-policy", pages.CSP.encode("latin-1")))
    return Representation(body, etag, feed.last_modified, tuple(full), tuple(common))


@dataclass
class Snapshot:
    """One consistent view of the site: routes, and the files rendered from it so far."""

    site: Site
    entries: LRU[str, Entry]
    feeds: FeedCache
    keys: Mapping[str, str]  # output_keys(site): each file's content key, by path
    modified: Mapping[str, int]  # when each file's bytes last changed (ModifiedTimes)
    routes: dict[str, FeedSpec] = field(init=False)
    generation: int = 0
    _files: dict[str, RenderedFeed] = field(default_factory=dict)
    _variants: dict[tuple[str, str], Representation] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.routes = {spec.path: spec for spec in self.site.specs}

    @property
    def config(self) -> Config:
        return self.site.config

    def serves(self, path: str) -> bool:
        """Whether `path` names a file of this snapshot: a feed, the OPML list or a page."""
        if path in self.routes or path in (pages.INDEX, self.config.opml):
            return True
        return path.startswith(pages.PREVIEW) and path.removeprefix(pages.PREVIEW) in self.routes

    def cached(self, path: str, coding: str) -> Representation | None:
        """The prepared response for `path`, if it was prepared before: no work, no lock."""
        return self._variants.get((path, coding))

    def prepare(self, path: str, coding: str) -> Representation | None:
        """Render (if needed), compress and prepare `path`; None when no such file exists."""
        found = self._variants.get((path, coding))
        if found is not None:
            return found
        feed = self.file(path)
        if feed is None:
            return None
        prepared = represent(
            feed,
            coding,
            max_age=self.config.cache_max_age,
            spec=self.routes.get(path),
            stored=not self.config.url_is_fallback,
        )
        self._variants[(path, coding)] = prepared
        return prepared

    def file(self, path: str) -> RenderedFeed | None:
        """The bytes `feedsmith build` writes at `path` (or a served page), rendered once."""
        found = self._files.get(path)
        if found is not None:
            return found
        with self._lock:
            found = self._files.get(path)
            if found is None:
                found = self._render(path)
                if found is not None:
                    self._files[path] = found
        return found

    def _render(self, path: str) -> RenderedFeed | None:
        site, config = self.site, self.site.config
        spec = self.routes.get(path)
        if spec is not None:
            bodies, _ = render_feeds(site, [spec], entry_cache=self.entries, feed_cache=self.feeds)
            return rendered(path, bodies[spec.path], MEDIA_TYPES[spec.format], self._changed(path))
        if config.opml and path == config.opml:
            opml = render_opml(site.specs, config)
            return rendered(path, opml, MEDIA_TYPES["opml"], self._changed(path))
        # Pages for people carry no Last-Modified: browsers revalidate them by ETag.
        if path == pages.INDEX:
            return rendered(path, pages.index_page(site), pages.HTML, None)
        if path.startswith(pages.PREVIEW):
            target = self.routes.get(path.removeprefix(pages.PREVIEW))
            if target is None:
                return None
            entries, _ = make_entries(site, target.posts, cache=self.entries)
            body = pages.preview_page(site, target, entries)
            return rendered(path, body, pages.HTML, None)
        return None

    def _changed(self, path: str) -> datetime | None:
        at = self.modified.get(path)
        return None if at is None else datetime.fromtimestamp(at, UTC)

    def changed_since(self, old: Snapshot) -> list[str]:
        """URLs of the feeds whose bytes differ from `old`'s: what a WebSub hub must hear."""
        return [s.url for s in self.site.specs if old.keys.get(s.path) != self.keys[s.path]]


def ping_in_background(hubs: tuple[str, ...], urls: list[str]) -> None:
    """Notify the hubs without holding up the reload; failures are logged, never raised."""

    def run() -> None:
        for problem in publish(hubs, urls):
            log.warning("WebSub: %s", problem)
        log.info("WebSub: %d changed feed(s) sent to %d hub(s)", len(urls), len(hubs))

    threading.Thread(target=run, name="websub-ping", daemon=True).start()


def state_folder(config: Config) -> Path:
    """Where `serve` keeps what must outlive a restart: the configured `cache_dir`, else a
    hidden folder in the source (never read as posts, never published by Jekyll)."""
    return config.cache_dir or config.source / ".feedsmith-cache"


class FeedStore:
    """Holds the current Snapshot and makes the next one when the source changes."""

    def __init__(
        self,
        config: Config,
        *,
        reread_config: Callable[[], Config] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pinger: Callable[[tuple[str, ...], list[str]], None] | None = None,
    ) -> None:
        self.clock = clock
        self.pinger = pinger or ping_in_background
        self.reread_config = reread_config
        import feedsmith.entry  # noqa: F401, PLC0415 - loaded now so no first request pays for it

        site = read_site(config, now=clock())
        size = max(64, 4 * sum(len(s.posts) for s in site.specs))
        self.entries: LRU[str, Entry] = LRU(size)
        self.feeds: FeedCache = LRU(max(64, 2 * len(site.specs)))
        self.modified = ModifiedTimes(state_folder(config))
        self.snapshot = self._snapshot(site, generation=0)
        self._reload_lock = threading.Lock()
        for problem in site.problems:
            log.warning("%s", problem)

    def _snapshot(self, site: Site, generation: int) -> Snapshot:
        keys = output_keys(site)
        modified = self.modified.assign(keys, now=self.clock().timestamp())
        return Snapshot(site, self.entries, self.feeds, keys, modified, generation=generation)

    def reload(self, *, config_changed: bool = False) -> Snapshot:
        """Read the source again (only changed files) and swap in a new snapshot atomically.

        A post that breaks is logged and left out; if the configuration itself became invalid,
        the old snapshot keeps serving and the error is logged.
        """
        with self._reload_lock:
            old = self.snapshot
            config = old.config
            if config_changed and self.reread_config is not None:
                try:
                    config = self.reread_config()
                except FeedsError as exc:
                    log.error("configuration not reloaded: %s", exc)
                    return old
            # jobs=1: no fork from a process that runs request threads
            site = read_site(config, now=self.clock(), previous=old.site, jobs=1)
            before = {str(p) for p in old.site.problems}
            for problem in site.problems:
                if str(problem) not in before:
                    log.warning("%s", problem)
            new = self._snapshot(site, generation=old.generation + 1)
            self.snapshot = new  # one reference assignment: requests see old or new, never both
            if config.hub:
                changed = new.changed_since(old)
                if changed:
                    self.pinger(config.hub, changed)
            return new

    def close(self) -> None:
        self.modified.close()


def store_for(
    source: Path | None,
    config_file: Path | None,
    overrides: Mapping[str, Any] | None = None,
    fallback_url: str | None = None,
) -> FeedStore:
    """A FeedStore for a source folder and optional config file (what `serve` starts)."""

    def load() -> Config:
        return load_config(
            source, config_file=config_file, overrides=overrides, fallback_url=fallback_url
        )

    return FeedStore(load(), reread_config=load)
