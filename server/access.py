"""The access log: one line per request, as text or as JSON for log shippers.

The client address is the one uvicorn hands over: the peer, or the `X-Forwarded-For` address
when the peer is a trusted proxy (`--forwarded-allow-ips`). Everything a client sends is
escaped before it is written, so no request can forge a line or put escape codes on a terminal.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("feedsmith.access")

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
MAX_FIELD = 512  # characters of a path or user agent written; the rest is cut


def _escaped(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    return char if char.isprintable() else char.encode("unicode_escape").decode("ascii")


def _printable(value: str) -> str:
    """`value` with control characters, quotes and backslashes escaped, cut to MAX_FIELD."""
    cut = value[:MAX_FIELD]
    if cut.isprintable() and '"' not in cut and "\\" not in cut:
        return cut
    return "".join(_escaped(char) for char in cut)


class AccessLog:
    """ASGI middleware writing one record per HTTP request once its response is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        sent = 0

        async def counting(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            fields = access_record(scope, status or 500, sent, time.perf_counter() - started)
            log.info("%s", text_line(fields), extra={"access": fields})


def access_record(scope: Scope, status: int, sent: int, seconds: float) -> dict[str, Any]:
    """What the log says of one request: time, client, method, path, status, bytes, duration,
    user agent, and whether the answer was a 304."""
    client = scope.get("client")
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    target = raw.decode("latin-1")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    agent = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"user-agent"), "")
    return {
        "time": _now(),
        "client": client[0] if client else "-",
        "method": str(scope["method"])[:MAX_FIELD],
        "path": target[:MAX_FIELD],
        "status": status,
        "bytes": sent,
        "duration_ms": round(seconds * 1000, 2),
        "user_agent": agent[:MAX_FIELD],
        "not_modified": status == 304,
    }


def text_line(fields: dict[str, Any]) -> str:
    """`2026-12-02T05:43:50.123Z 127.0.0.1 GET "/feed.xml" 304 0 1.2ms "newsboat/2.21" not-modified`"""
    return (
        f"{fields['time']} {fields['client']} {_printable(fields['method'])} "
        f'"{_printable(fields["path"])}" {fields["status"]} {fields["bytes"]} '
        f'{fields["duration_ms"]:.1f}ms "{_printable(fields["user_agent"])}"'
        + (" not-modified" if fields["not_modified"] else "")
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: an access record as it is, any other message with its time,
    level and logger."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "access", None)
        if fields is None:
            fields = {
                "time": _now(),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
            if record.exc_info:
                fields["exception"] = self.formatException(record.exc_info)
        return json.dumps(fields, ensure_ascii=True)


def log_config(log_format: LogFormat, *, access: bool) -> dict[str, Any]:
    """logging.config.dictConfig settings for `serve` (uvicorn applies them in every worker):
    the access log on standard output, everything else on standard error."""
    formatter = (
        {"()": "feedsmith.server.access.JsonFormatter"}
        if log_format == "json"
        else {"format": "%(levelname)s:  %(message)s"}
    )
    plain = (
        {"()": "feedsmith.server.access.JsonFormatter"}
        if log_format == "json"
        else {"format": "%(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter, "access": plain},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # The loop's own errors, formatted as the rest (one JSON object with --log-format json).
            "asyncio": {"handlers": ["default"], "level": "WARNING", "propagate": False},
            "feedsmith": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "feedsmith.access": {
                "handlers": ["access"] if access else [],
                "level": "INFO" if access else "WARNING",
                "propagate": False,
            },
        },
    }
