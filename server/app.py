"""The ASGI app: every file `feedsmith build` writes, served live from the posts.

    feedsmith.create_app(feedsmith.load_config("posts"))   # for any ASGI server or test client

A thin layer over `feeds`: routes come from the same FeedSpecs that `build` writes, the bytes
from the same renderer. This module only speaks HTTP: conditional requests, content coding,
caching headers, and swapping in a new snapshot when a post changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from feedsmith import CONFIG_FILES, Config, FeedSpec, may_change_site
from feedsmith.server.conditional import choose_coding, is_not_modified
from feedsmith.server.query import Queries, retry_after
from feedsmith.server.store import FeedStore, Representation, Snapshot
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("feedsmith.serve")

# A path is looked up in the index, never on disk; encoded separators are refused outright so
# `feed%2Fby_tag%2Fx.xml` cannot be read as `feed/by_tag/x.xml` by some layer in between.
_ENCODED_SEPARATOR = re.compile(rb"%(?:2f|5c|00)", re.IGNORECASE)
MAX_PATH_BYTES = 2048
MAX_HEADER_BYTES = 16_384  # all request header names and values together, as h11's default
FALLBACK_WARNING = (
    "no url is configured: feeds link to %s and their entry ids are built on it. They change "
    "when the real url is set, and every reader then shows every post again. Serving for a "
    "preview only: set url in the configuration (or pass --url) before anyone subscribes."
)


NOT_FOUND = PlainTextResponse(
    "not found\n", status_code=404, headers={"X-Content-Type-Options": "nosniff"}
)


async def _plain(
    send: Send, status: int, body: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ServeFiles:
    """Answers GET and HEAD for every file of the current snapshot, before any routing.

    This is the hot path aggregators hit: one snapshot lookup, headers prepared in advance, a
    304 decided from three request headers. Anything else (other paths, other methods, refused
    paths) goes on to the Starlette routes, which answer 404, 405 or /healthz.
    """

    def __init__(self, app: ASGIApp, store: FeedStore) -> None:
        self.app = app
        self.store = store
        self.queries = Queries(store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADER_BYTES:
            await _plain(send, 431, b"request headers too large\n")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _plain(send, 405, b"method not allowed\n", ((b"allow", b"GET, HEAD"),))
            return
        path = _served_path(scope)
        snapshot = self.store.snapshot
        if path is not None and scope.get("query_string"):
            target = self.queries.target(snapshot, path)
            if target is not None:
                await self._query(scope, send, snapshot, target, scope["query_string"])
                return
        if path is None or not snapshot.serves(path):
            await self.app(scope, receive, send)  # 404 and /healthz live in the routes
            return
        headers = {
            name: value.decode("latin-1") for name, value in scope["headers"] if name in _VALIDATORS
        }
        coding = choose_coding(headers.get(b"accept-encoding"))
        prepared = snapshot.cached(path, coding) or await run_in_threadpool(
            snapshot.prepare, path, coding
        )
        if prepared is None:
            await self.app(scope, receive, send)
            return
        await _send(scope, send, headers, prepared.at(time.time()))

    async def _query(
        self,
        scope: Scope,
        send: Send,
        snapshot: Snapshot,
        target: tuple[FeedSpec | None, str],
        query_string: bytes,
    ) -> None:
        """A query on a feed, or `/search`: a feed of the posts that match (server.query)."""
        headers = {
            name: value.decode("latin-1") for name, value in scope["headers"] if name in _VALIDATORS
        }
        coding = choose_coding(headers.get(b"accept-encoding"))
        now = time.time()
        status, answer = await self.queries.answer(
            snapshot,
            base=target[0],
            fmt=target[1],
            query_string=query_string,
            coding=coding,
            now=now,
        )
        if isinstance(answer, str):
            extra = retry_after(snapshot.config) if status == 503 else ()
            await _plain(send, status, answer.encode("utf-8"), extra)
            return
        await _send(scope, send, headers, answer.at(now))


async def _send(
    scope: Scope, send: Send, headers: dict[bytes, str], prepared: Representation
) -> None:
    """A prepared response, or its 304 when the request's validators match it."""
    if is_not_modified(
        if_none_match=headers.get(b"if-none-match"),
        if_modified_since=headers.get(b"if-modified-since"),
        etag=prepared.etag,
        last_modified=prepared.last_modified,
    ):
        status, answer, body = 304, prepared.headers_304, b""
    else:
        status, answer = 200, prepared.headers
        body = b"" if scope["method"] == "HEAD" else prepared.body
    await send({"type": "http.response.start", "status": status, "headers": answer})
    await send({"type": "http.response.body", "body": body})


_VALIDATORS = frozenset({b"accept-encoding", b"if-none-match", b"if-modified-since"})


def _served_path(scope: Scope) -> str | None:
    """The file a request names (`feed.xml`), or None when its target can name no file."""
    path: str = scope["path"]
    root = scope.get("root_path") or ""
    if root and path.startswith(root):
        path = path[len(root) :]
    raw: bytes = scope.get("raw_path") or b""
    if not path.startswith("/") or len(raw) > MAX_PATH_BYTES or _ENCODED_SEPARATOR.search(raw):
        return None  # origin-form starts with a slash; `\feed.xml` or `%2F` name nothing
    return path[1:]


def _relevant(change: Any, path: str) -> bool:
    return may_change_site(path)


LIVE_PATHS = 1000  # changes heard at once that are read one by one (see read_site)


async def watch(store: FeedStore, stop: asyncio.Event) -> None:
    """Re-read the source whenever a post or the configuration changes (debounced)."""
    from watchfiles import awatch  # noqa: PLC0415 - only needed with reload on

    source = store.snapshot.config.source
    async for changes in awatch(
        source, stop_event=stop, debounce=200, step=50, watch_filter=_relevant, recursive=True
    ):
        config_changed = any(Path(path).name in CONFIG_FILES for _, path in changes)
        # A burst this large (a checkout, a folder copied in) is read as a whole: a walk
        # costs less than so many single files, and the system may have dropped some.
        paths = {path for _, path in changes} if len(changes) <= LIVE_PATHS else None
        started = time.perf_counter()
        try:
            snapshot = await run_in_threadpool(
                store.reload, config_changed=config_changed, changed=paths
            )
        except Exception:  # a reload must never take the server down
            log.exception("reload failed; still serving the previous snapshot")
            continue
        log.info(
            "reloaded: %d posts in %d feeds (%.2f s)",
            len(snapshot.site.index.posts),
            len(snapshot.site.specs),
            time.perf_counter() - started,
        )


def create_app(
    config: Config, *, reload: bool = False, store: FeedStore | None = None
) -> Starlette:
    """The Starlette app serving every file `feedsmith build` writes for `config`, live.

    With `reload`, the source folder is watched and a changed post shows up in every affected
    feed; a changed configuration file is read again. (`store`: one made already, for tests.)
    """
    store = store if store is not None else FeedStore(config)

    async def not_found(request: Request) -> Response:
        return NOT_FOUND  # ServeFiles answered every path the snapshot has

    async def healthz(request: Request) -> Response:
        snapshot = store.snapshot
        state = {
            "status": "ok",
            "posts": len(snapshot.site.index.posts),
            "feeds": len(snapshot.site.specs),
            "generation": snapshot.generation,
            "problems": len(snapshot.site.problems),
            "search": "ready" if store.search_ready.is_set() else "building",
            # Rendered entries, feeds and prepared responses kept, as counted against
            # serve_cache_memory.
            "memory": {
                "held": store.held.held,
                "limit": store.held.weight,
                "values": len(store.held),
            },
        }
        return Response(
            json.dumps(state) + "\n",
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(watch(store, stop)) if reload else None
        if store.snapshot.config.url_is_fallback:
            log.warning(FALLBACK_WARNING, store.snapshot.config.url)
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            store.close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/{path:path}", not_found, methods=["GET", "HEAD"]),
        ],
        middleware=[Middleware(ServeFiles, store=store)],
        lifespan=lifespan,
    )
    app.state.store = store
    return app
