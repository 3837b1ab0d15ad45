"""One request through an ASGI app in process: `feedsmith serve --get PATH`, no port opened."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.types import ASGIApp, Message


def request_once(
    app: ASGIApp, method: str, target: str, headers: list[tuple[str, str]] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request to `app` and collect (status, headers, body)."""
    parts = urlsplit(target if target.startswith("/") else f"/{target}")
    raw_path = quote(parts.path, safe="/%:@!$&'()*+,;=~").encode("ascii")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": parts.path,
        "raw_path": raw_path,
        "root_path": "",
        "query_string": parts.query.encode("ascii"),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers or []],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    status = 500
    response_headers: list[tuple[str, str]] = []
    body = bytearray()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers.extend(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
            )
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    async def run() -> None:
        await app(scope, receive, send)

    asyncio.run(run())
    return status, response_headers, bytes(body)
