"""`feedsmith serve`: hand the options to uvicorn's worker processes and start it.

Each worker builds its own app from the environment (`app_from_environment`), so the options
travel as environment variables; this module is the only one that knows their names.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import logging.config
import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from feedsmith import Config, FeedsError, log_progress
from feedsmith.server.access import AccessLog, LogFormat, log_config
from feedsmith.server.limits import HeaderTimeoutH11
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ENV = "FEEDSMITH_SERVE"  # one JSON object: the options every worker needs
log = logging.getLogger("feedsmith.serve")


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What `feedsmith serve` was asked for."""

    source: Path | None
    config_file: Path | None
    overrides: Mapping[str, Any]
    fallback_url: str | None  # the server's own address, used when no url is configured
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    reload: bool = True
    limit_concurrency: int | None = None
    access_log: bool = True
    log_format: LogFormat = "text"
    forwarded_allow_ips: str = "127.0.0.1"


class ListenError(FeedsError):
    """The address `serve` was given cannot be listened on (in use, not this machine's)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")


def check_address(host: str, port: int) -> None:
    """Bind the address once, as uvicorn will, so that a port in use is one clear line before
    any worker starts (uvicorn would log a traceback-like error and exit 3)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(host, port, f"{host!r} is not a known address ({exc.strerror})") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = "the port is in use (another server?): stop it or pass another --port"
            elif exc.errno == errno.EADDRNOTAVAIL:
                reason = "the address is not one of this machine's: pass another --host"
            elif exc.errno == errno.EACCES:
                reason = "permission denied (ports below 1024 need privileges): pass --port 8000"
            else:
                reason = exc.strerror or str(exc)
            raise ListenError(host, port, reason) from exc


def run(config: Config, options: ServeOptions) -> None:
    """Serve until interrupted (uvicorn handles SIGINT and SIGTERM). One worker serves an app
    made from `config` here; several each make their own from what `options` hand over."""
    check_address(options.host, options.port)
    try:
        _run(config, options)
    except SystemExit as exc:  # uvicorn exits 3 when it cannot start, having said why
        if exc.code not in (None, 0):
            raise ListenError(options.host, options.port, "the server did not start") from exc


def _run(config: Config, options: ServeOptions) -> None:
    common: dict[str, Any] = {
        "host": options.host,
        "port": options.port,
        "limit_concurrency": options.limit_concurrency,
        "log_config": log_config(options.log_format, access=options.access_log),
        "access_log": False,  # ours (server.access) says more, and escapes what clients send
        "proxy_headers": True,
        "forwarded_allow_ips": options.forwarded_allow_ips,
        "server_header": False,
        # By name, so that every worker process imports them for itself.
        "loop": "feedsmith.server.limits:new_event_loop",
        "http": "feedsmith.server.limits:HeaderTimeoutH11",
    }
    if options.workers == 1:
        HeaderTimeoutH11.configure(config.serve_header_timeout)
        # Our lines while the posts are read, before uvicorn would set logging up.
        logging.config.dictConfig(common["log_config"])
        app, feeds = _app(config, reload=options.reload, access_log=options.access_log)
        server = _Ready(uvicorn.Config(app, **common), feeds=feeds)
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
        if not server.started:
            sys.exit(3)  # as uvicorn.run: the server could not start (the port is taken…)
        return
    os.environ[_ENV] = json.dumps(
        {
            "source": str(options.source) if options.source else None,
            "config": str(options.config_file) if options.config_file else None,
            "overrides": dict(options.overrides),
            "fallback_url": options.fallback_url,
            "reload": options.reload,
            "access_log": options.access_log,
            "address": _address(options.host, options.port),
        }
    )
    uvicorn.run(
        "feedsmith.server.run:app_from_environment",
        factory=True,
        workers=options.workers,
        **common,
    )


def _app(config: Config, *, reload: bool, access_log: bool) -> tuple[ASGIApp, int]:
    """The app, made now (the posts are read, and said to be), and how many feeds it serves."""
    from feedsmith.server.app import create_app  # noqa: PLC0415 - loaded in the worker
    from feedsmith.server.store import FeedStore  # noqa: PLC0415

    log.info("reading the posts in %s …", config.source)
    with log_progress(log.info) as progress:
        store = FeedStore(config, progress=progress)
    app = create_app(config, reload=reload, store=store)
    feeds = len(store.snapshot.site.specs)
    return (AccessLog(app) if access_log else app), feeds


def _address(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _serving(feeds: int, address: str) -> None:
    log.info("serving %d feeds on %s (press Ctrl+C to stop)", feeds, address)


class _Ready(uvicorn.Server):
    """Says where it serves once its socket listens: a request made then is answered."""

    def __init__(self, config: uvicorn.Config, *, feeds: int) -> None:
        super().__init__(config)
        self.feeds = feeds

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            _serving(self.feeds, _address(str(host), int(port)))


class _SaysReady:
    """A worker's app that says where it serves once it has started: the socket listens
    already (the supervisor bound it before starting any worker), so a request made then is
    answered as soon as this worker takes it."""

    def __init__(self, app: ASGIApp, feeds: int, address: str) -> None:
        self.app, self.feeds, self.address = app, feeds, address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                _serving(self.feeds, f"{self.address} (worker {os.getpid()})")

        await self.app(scope, receive, sending)


def app_from_environment() -> ASGIApp:
    """The app as `feedsmith serve` configures it for uvicorn (one per worker process)."""
    from feedsmith import load_config  # noqa: PLC0415 - loaded in the worker

    given = json.loads(os.environ.get(_ENV) or "{}")
    config = load_config(
        given.get("source"),
        config_file=given.get("config"),
        overrides=given.get("overrides") or None,
        fallback_url=given.get("fallback_url"),
    )
    HeaderTimeoutH11.configure(config.serve_header_timeout)  # this worker's connections
    app, feeds = _app(
        config, reload=bool(given.get("reload", True)), access_log=bool(given.get("access_log"))
    )
    return _SaysReady(app, feeds, str(given.get("address")))
