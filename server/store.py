"""The site as served: one immutable snapshot at a time, swapped whole when posts change.

A request takes `store.snapshot` once and uses only that object, so it sees the old index or
the new one, never a mix. A file's bytes come from the library's `render_file`, as `build`
writes them, on the first request for it. Prepared responses, rendered entries and feeds are
kept by what their bytes depend on, across snapshots, so a reload only renders again the
feeds whose posts actually changed; all of them share one least-recently-used memory bounded
by `serve_cache_memory` bytes (`FeedStore.held`).
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import brotli  # type: ignore[import-untyped]
import zstandard
from feedsmith import (
    LRU,
    PAGE_CSP,
    SEARCH_PAGE_CSP,
    Caches,
    Config,
    FeedsError,
    Part,
    RenderedFile,
    SearchIndex,
    Site,
    held_bytes,
    known_states,
    notify_hubs,
    output_keys,
    preload_renderer,
    read_site,
    reload_config,
    render_file,
    serves,
    state_folder,
)
from feedsmith.server.conditional import http_date
from feedsmith.server.modified import ModifiedTimes

log = logging.getLogger("feedsmith.serve")


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
    feed: RenderedFile,
    coding: str,
    *,
    max_age: int,
    last_modified: datetime | None,
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
    elif feed.immutable:
        caching = IMMUTABLE
    else:
        caching = f"max-age={max_age}"
    common = [
        (b"etag", etag.encode("latin-1")),
        (b"cache-control", caching.encode("latin-1")),
        (b"vary", b"Accept-Encoding"),
    ]
    if feed.hubs:
        hubs = [f'<{hub}>; rel="hub"' for hub in feed.hubs]
        links = ", ".join([*hubs, f'<{feed.self_url}>; rel="self"'])
        common.append((b"link", links.encode("latin-1")))
    if last_modified is not None:
        common.append((b"last-modified", http_date(last_modified).encode("latin-1")))
    full = [
        (b"content-type", feed.media_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
        (b"x-content-type-options", b"nosniff"),
        *common,
    ]
    if coding != "identity":
        full.append((b"content-encoding", coding.encode("latin-1")))
    if feed.media_type.startswith("text/html"):
        # `/` is the one page with a form (its search box), sent to this server.
        policy = SEARCH_PAGE_CSP if feed.path == "" and b"<form" in feed.body else PAGE_CSP
        full.append((b"content-security-policy", policy.encode("latin-1")))
    return Representation(body, etag, last_modified, tuple(full), tuple(common))


def representation_bytes(prepared: Representation) -> int:
    """The memory a prepared response is counted as taking (see `held_bytes`)."""
    header_bytes = sum(len(n) + len(v) + 80 for n, v in (*prepared.headers, *prepared.headers_304))
    return held_bytes(prepared.body, prepared.etag) + header_bytes


class Activity:
    """How many requests are being rendered. The search index, made in a thread of this
    process, waits between posts while any is (a moment at most), so that indexing a large
    archive does not take half of every first request's time under the GIL."""

    PATIENCE = 0.2  # seconds the indexer waits at most before its next post

    def __init__(self) -> None:
        self._busy = 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def rendering(self) -> Iterator[None]:
        with self._changed:
            self._busy += 1
        try:
            yield
        finally:
            with self._changed:
                self._busy -= 1
                if not self._busy:
                    self._changed.notify_all()

    def wait_idle(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: not self._busy, timeout=self.PATIENCE)


@dataclass
class Snapshot:
    """One consistent view of the site; the responses prepared from it are kept in the
    store's bounded memory (`responses`), by what their bytes depend on."""

    site: Site
    caches: Caches  # shared by every snapshot: content-keyed, so never stale
    keys: Mapping[str, str]  # output_keys(site): each file's content key, by path
    modified: Mapping[str, int]  # when each file's bytes last changed (ModifiedTimes)
    responses: Part[Any, Representation]  # shared by every snapshot, keyed by `_version`
    generation: int = 0
    too_big: set[str] = field(default_factory=set)  # paths said to be too large to keep
    activity: Activity = field(default_factory=Activity)  # shared by every snapshot
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def config(self) -> Config:
        return self.site.config

    def serves(self, path: str) -> bool:
        """Whether `path` names a file of this snapshot: a feed, the OPML list or a page."""
        return serves(self.site, path)

    def _version(self, path: str, coding: str) -> tuple[str, str, str, int | None]:
        """What a prepared response depends on: its path and coding, its content key (a page
        for people has none: this snapshot's generation) and when its bytes last changed. A
        feed unchanged by a reload keeps its prepared responses."""
        content = self.keys.get(path) or f"#{self.generation}"
        return (path, coding, content, self.modified.get(path))

    def cached(self, path: str, coding: str) -> Representation | None:
        """The prepared response for `path`, if it is still kept: no work."""
        return self.responses.get(self._version(path, coding))

    def prepare(self, path: str, coding: str) -> Representation | None:
        """Render, compress and prepare `path`; None when no such file exists."""
        version = self._version(path, coding)
        with self._lock, self.activity.rendering():  # one render at a time; waiters find it
            found = self.responses.get(version)
            if found is not None:
                return found
            rendered = self.file(path)
            if rendered is None:
                return None
            at = self.modified.get(path)  # pages for people have none: browsers go by ETag
            prepared = represent(
                rendered,
                coding,
                max_age=self.config.cache_max_age,
                last_modified=None if at is None else datetime.fromtimestamp(at, UTC),
                stored=not self.config.url_is_fallback,
            )
            weight = representation_bytes(prepared)
            if not self.responses.lru.fits(weight) and path not in self.too_big:
                self.too_big.add(path)
                log.warning(
                    "%s is %d bytes (%s), more than serve_cache_memory (%d bytes) holds: it is "
                    "rendered again for every request; raise serve_cache_memory",
                    path,
                    weight,
                    coding,
                    self.config.serve_cache_memory,
                )
            self.responses[version] = prepared
        return prepared

    def file(self, path: str) -> RenderedFile | None:
        """The bytes `feedsmith build` writes at `path` (or a served page) for this snapshot's
        index: from the caches, content-keyed, while they hold them, else rendered."""
        return render_file(self.site, path, self.caches)

    def changed_since(self, old: Snapshot) -> list[str]:
        """URLs of the feeds whose bytes differ from `old`'s: what a WebSub hub must hear."""
        return [s.url for s in self.site.specs if old.keys.get(s.path) != self.keys[s.path]]


def ping_in_background(hubs: tuple[str, ...], urls: list[str]) -> None:
    """Notify the hubs without holding up the reload; failures are logged, never raised."""

    def run() -> None:
        for problem in notify_hubs(hubs, urls):
            log.warning("WebSub: %s", problem)
        log.info(
            "WebSub: %d changed %s sent to %d %s",
            len(urls),
            "feed" if len(urls) == 1 else "feeds",
            len(hubs),
            "hub" if len(hubs) == 1 else "hubs",
        )

    threading.Thread(target=run, name="websub-ping", daemon=True).start()


def _settle() -> None:
    """Leave the snapshot just made out of every later garbage collection: a full collection
    walks every object it tracks, a second and more for a site of a million posts, while
    every request waits for it. The snapshot holds no reference cycles (an old one is freed by
    reference counting alone); the young garbage made while reading it is collected first."""
    gc.collect(1)
    gc.freeze()


def _unheard(stage: str, done: int, total: int) -> None:
    """No one listens to how far the read is."""


class FeedStore:
    """Holds the current Snapshot and makes the next one when the source changes."""

    def __init__(
        self,
        config: Config,
        *,
        reread_config: Callable[[Config], Config] = reload_config,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pinger: Callable[[tuple[str, ...], list[str]], None] | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        """`progress` hears how far the first read of the posts is (see feedsmith.build)."""
        self.clock = clock
        self.pinger = pinger or ping_in_background
        self.reread_config = reread_config
        preload_renderer()  # now, so that no first request pays for it
        # What the last build parsed (the build cache's file states): only what changed since
        # is parsed again, so a large site is served soon after its build.
        site = read_site(
            config, now=clock(), progress=progress or _unheard, known=known_states(config)
        )
        # Everything kept rendered, for every file, under one bound on bytes.
        self.held: LRU[Any, Any] = LRU(weight=config.serve_cache_memory)
        self.caches = Caches.in_memory(self.held)
        self.responses: Part[Any, Representation] = self.held.part("response", representation_bytes)
        self.too_big: set[str] = set()
        self.activity = Activity()
        self.modified = ModifiedTimes(state_folder(config))
        self.search = SearchIndex(state_folder(config))
        # Feeds are served at once; queries wait for the index (503 until it is ready), which
        # takes minutes to make for an archive of 100,000 posts, and seconds to bring up to date.
        self.search_ready = threading.Event()
        self.search_version = 0  # counts updates: matches found before one are not kept
        self._search_behind = False  # an update failed: the next compares every post
        self._stop = threading.Event()
        self._index_lock = threading.Lock()
        # The next site the index is to hold, and the files changed since the last one it
        # was given (None: compare every post). A reload leaves it here while the index is
        # being made (minutes, for a large archive) rather than wait: whoever holds the
        # index takes it up when done.
        self._pending: tuple[Site, frozenset[str] | None] | None = (site, None)
        self._pending_lock = threading.Lock()
        self._indexer = threading.Thread(target=self._drain, name="search-index", daemon=True)
        self._indexer.start()
        self.snapshot = self._snapshot(site, generation=0)
        _settle()
        self._reload_lock = threading.Lock()
        for problem in site.problems:
            log.warning("%s", problem)

    def wait_for_search(self, timeout: float | None = None) -> bool:
        """Wait until the first search index is made (or has failed); whether it is ready."""
        self._indexer.join(timeout)
        return self.search_ready.is_set()

    def _index_later(self, site: Site, touched: frozenset[str] | None) -> None:
        """Have the search index hold `site`, now if no one else is updating it, else as soon
        as they are done; `touched`: the files changed since the site given before."""
        with self._pending_lock:
            if self._pending is not None:  # not taken up yet: both changes are still to do
                before = self._pending[1]
                touched = None if before is None or touched is None else before | touched
            self._pending = (site, touched)
        self._drain()

    def _drain(self) -> None:
        """Bring the index up to the pending site while this thread can take it. Whoever
        leaves a site pending tries next; whoever releases the index looks again after: so
        a pending site is never left behind."""
        while True:
            if not self._index_lock.acquire(blocking=False):
                return  # its holder takes up the pending site when done
            try:
                with self._pending_lock:
                    job, self._pending = self._pending, None
                if job is not None:
                    self._index(*job)
            finally:
                self._index_lock.release()
            with self._pending_lock:
                if self._pending is None or self._stop.is_set():
                    return

    def _index(self, site: Site, touched: frozenset[str] | None) -> None:
        """Bring the search index up to date with `site`; a failure costs only search."""
        try:
            done = self.search.update(
                site,
                self._stop,
                pause=self.activity.wait_idle,
                only=None if self._search_behind else touched,
            )
        except (sqlite3.Error, OSError) as exc:
            log.error("search index not updated (%s): queries answer from earlier posts", exc)
            self._search_behind = True  # the next update compares every post
            return
        finally:
            self.search_version += 1
        self._search_behind = self._stop.is_set()  # stopped half way: taken up next time
        if self._stop.is_set():
            return
        self.search_ready.set()
        if done.rebuilt or done.added or done.removed:
            log.info(
                "search index%s: %d posts added, %d removed in %.2f s",
                " made anew" if done.rebuilt else "",
                done.added,
                done.removed,
                done.seconds,
            )
        self.search.rebuilt = False

    def _snapshot(self, site: Site, generation: int) -> Snapshot:
        keys = output_keys(site)
        modified = self.modified.assign(keys, now=self.clock().timestamp())
        return Snapshot(
            site,
            self.caches,
            keys,
            modified,
            self.responses,
            generation=generation,
            too_big=self.too_big,
            activity=self.activity,
        )

    def reload(
        self, *, config_changed: bool = False, changed: Collection[str] | None = None
    ) -> Snapshot:
        """Read the source again (only changed files) and swap in a new snapshot atomically.
        `changed`: the paths the watcher heard of, where it did (see `read_site`).

        A post that breaks is logged and left out; if the configuration itself became invalid,
        or a folder or post file cannot be read, the old snapshot keeps serving and the error
        is logged.
        """
        with self._reload_lock:
            old = self.snapshot
            config = old.config
            if config_changed:
                try:
                    config = self.reread_config(config)
                except FeedsError as exc:
                    log.error("configuration not reloaded: %s", exc)
                    return old
            try:
                # jobs=1: no fork from a process that runs request threads
                site = read_site(
                    config,
                    now=self.clock(),
                    previous=old.site,
                    jobs=1,
                    changed=None if config_changed else changed,
                )
            except FeedsError as exc:  # part of the source unreadable: feeds would lose posts
                log.error("not reloaded, still serving the previous snapshot: %s", exc)
                return old
            before = {str(p) for p in old.site.problems}
            for problem in site.problems:
                if str(problem) not in before:
                    log.warning("%s", problem)
            self.held.weight = config.serve_cache_memory  # takes effect as values are added
            new = self._snapshot(site, generation=old.generation + 1)
            self.snapshot = new  # one reference assignment: requests see old or new, never both
            _settle()
            self._index_later(site, site.touched)  # after: feeds never wait for the index
            if config.hub:
                changed = new.changed_since(old)
                if changed:
                    self.pinger(config.hub, changed)
            return new

    def close(self) -> None:
        self._stop.set()  # a build under way stops after its batch; the next start goes on
        self._indexer.join(timeout=30)
        self.modified.close()
        self.search.close()
