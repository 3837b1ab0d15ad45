"""One request through an ASGI app in process, built as uvicorn builds it, no port opened:
`feedsmith serve --get PATH`, and the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote

from starlette.types import ASGIApp, Message

# What a client leaves as it is in a request target (RFC 3986 pchar and delimiters; `%` so
# that an encoded target stays encoded).
_TARGET_SAFE = "/%:@!$&'()*+,;=~?"


def request_once(
    app: ASGIApp,
    method: str,
    target: str | bytes,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request to `app` and collect (status, headers in order, body as sent).

    `target` as bytes goes as it is, however odd (the tests' hostile paths); as text, it is
    percent-encoded first, as a client does (`/feed/by_tag/东财.xml`). The path the app sees is
    the decoded one, and `raw_path` the bytes sent, as uvicorn gives them.
    """
    if isinstance(target, str):
        target = quote(target if target.startswith("/") else f"/{target}", safe=_TARGET_SAFE)
        raw = target.encode("ascii")
    else:
        raw = target
    raw_path, _, query = raw.partition(b"?")
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": query,
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
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
