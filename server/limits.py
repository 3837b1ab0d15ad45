"""What the server does when clients exhaust it: file descriptors and slow request headers.

Out of file descriptors, asyncio's accept loop logs one error with a traceback per attempt,
thousands a second, and its attempts multiply (`_RoundOfAccepts`): the loop made here tries
once a second, and `AcceptErrors` writes one line when accepting fails, one every ten seconds
with a count while it goes on failing, and one when it works again. Connections already open
are served meanwhile.

uvicorn closes a keep-alive connection idle for 5 s, but a connection that never completes its
request headers (idle from the start, or one byte a second: slowloris) is kept for ever:
`HeaderTimeoutH11` closes it after `serve_header_timeout` seconds, answering 408 when part of
a request came.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
from uvicorn.loops.auto import auto_loop_factory
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("feedsmith.serve")

REPORT_INTERVAL = 10.0  # seconds between two lines about one kind of repeated event
RECOVERED_AFTER = 3.0  # seconds without an accept error after which accepting works again
DEFAULT_HEADER_TIMEOUT = 10.0
# What accept() fails with when the process or the system has run out of something; asyncio
# stops listening for a second and tries again.
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


@dataclass(slots=True)
class Throttle:
    """Counts one kind of event and says when a line about them is due: at the first event,
    then at the first one at least `interval` seconds after the last line."""

    interval: float
    clock: Callable[[], float] = time.monotonic
    held: int = 0  # events since the last line
    last: float | None = None  # when the last line was due

    def event(self) -> int | None:
        """Count one event: the number of events the line due now stands for (this one
        included), or None when no line is due."""
        self.held += 1
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            return None
        self.last, held, self.held = now, self.held, 0
        return held

    def flush(self) -> int:
        """The events no line has told of yet; the count starts again."""
        held, self.held, self.last = self.held, 0, None
        return held


class AcceptErrors:
    """A loop exception handler: accept() failing for lack of file descriptors or memory is
    reported once every `interval` seconds, with how often it failed, not once per attempt,
    and once more when `quiet` seconds passed without a failure (asyncio tries again every
    second while it fails). Any other error goes to the loop's default handler."""

    def __init__(
        self,
        interval: float = REPORT_INTERVAL,
        quiet: float = RECOVERED_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.quiet = quiet
        self.throttle = Throttle(interval, clock)
        self.since: float | None = None  # when accepting began to fail
        self.latest = 0.0  # when it last failed
        self.total = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if not (
            isinstance(error, OSError)
            and error.errno in _EXHAUSTED
            and "accept" in str(context.get("message", ""))
        ):
            loop.default_exception_handler(context)
            return
        self.total += 1
        self.latest = self.clock()
        reason = error.strerror or str(error)
        if self.since is None:
            self.since = self.latest
            loop.call_later(self.quiet, self._recovered, loop)
            log.error(
                "cannot accept new connections: %s. Connections already open are still "
                "served (idle ones close after serve_header_timeout); raise the limit (ulimit "
                "-n, systemd LimitNOFILE=) or cap connections (--limit-concurrency, nginx "
                "limit_conn). While this lasts, one line every %.0f s counts the failures",
                reason,
                self.throttle.interval,
            )
            self.throttle.event()
            return
        held = self.throttle.event()
        if held is not None:
            log.error(
                "still cannot accept new connections (%s): %d failed attempts since the last "
                "report",
                reason,
                held,
            )

    def _recovered(self, loop: asyncio.AbstractEventLoop) -> None:
        """Say once that accepting works again, when it has not failed for `quiet` seconds."""
        if self.since is None:
            return
        calm = self.clock() - self.latest
        if calm < self.quiet:
            loop.call_later(self.quiet - calm, self._recovered, loop)
            return
        log.warning(
            "accepting connections again, after %.0f s and %d failed attempts",
            self.latest - self.since,
            self.total,
        )
        self.throttle.flush()
        self.since, self.total = None, 0


class _RoundOfAccepts:
    """The listening socket as one round of asyncio's accept loop sees it: once accept()
    failed for want of resources, the round's further attempts find the queue empty.

    Python 3.11 to 3.13 try again up to `backlog` (uvicorn: 2,048) times in a round after the
    first such failure, each attempt scheduling one more retry a second later, so rounds
    multiply: 230,000 failed attempts and a third of a core in ten seconds (CPython
    gh-151615). After the first failure asyncio already stops listening for a second.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.exhausted = False

    def accept(self) -> tuple[socket.socket, Any]:
        if self.exhausted:
            raise BlockingIOError  # what asyncio takes for "no more connections waiting"
        try:
            return self.sock.accept()
        except OSError as error:
            self.exhausted = error.errno in _EXHAUSTED
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class _SelectorLoop(asyncio.SelectorEventLoop):
    """asyncio's loop, trying to accept once per round while resources are exhausted."""

    def _accept_connection(
        self, protocol_factory: Any, sock: Any, *args: Any, **kwargs: Any
    ) -> None:
        # The retry asyncio schedules hands back the wrapper of the round before.
        listening = sock.sock if isinstance(sock, _RoundOfAccepts) else sock
        super()._accept_connection(  # type: ignore[misc]
            protocol_factory, _RoundOfAccepts(listening), *args, **kwargs
        )


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The loop uvicorn would pick (`--loop auto`), with `AcceptErrors` as its exception
    handler (uvicorn's `loop` option takes this function by name, in every worker)."""
    factory = auto_loop_factory(use_subprocess=False)
    loop = _SelectorLoop() if factory is asyncio.SelectorEventLoop else factory()
    loop.set_exception_handler(AcceptErrors())
    return loop


_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 24\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"request headers too slow\n"
)


class HeaderTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers are not complete
    `header_timeout` seconds after it opened or after its last response was sent.

    A client that sent part of a request gets 408 first; one that sent nothing is closed
    without a word, as a keep-alive connection is. The clock stops once a request's headers
    are in: the time taken to answer it or to read its body is not counted, but a body still
    coming after the response was sent is (nothing reads it).
    """

    header_timeout: ClassVar[float] = DEFAULT_HEADER_TIMEOUT
    closed: ClassVar[Throttle] = Throttle(REPORT_INTERVAL)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_after: object = None  # the request cycle whose successor is awaited

    @classmethod
    def configure(cls, header_timeout: float) -> None:
        """Set the timeout for every connection this process accepts from now on."""
        cls.header_timeout = header_timeout

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._check()

    def on_response_complete(self) -> None:
        # Armed before uvicorn goes on to pipelined requests, which `_check` then sees.
        self._arm()
        super().on_response_complete()
        self._check()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        self._waiting_after = self.cycle
        self._deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _check(self) -> None:
        """Stop the clock once the awaited request's headers are in (uvicorn made a new cycle
        for it) or the connection is closing."""
        if self._deadline is not None and (
            self.cycle is not self._waiting_after or self.transport.is_closing()
        ):
            self._disarm()

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        pending, _ = self.conn.trailing_data  # the part of a request h11 holds
        if pending and self.conn.their_state is h11.IDLE:
            self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()
        first = self.closed.last is None
        held = self.closed.event()
        if first:
            log.info(
                "closing connections whose request headers are not in within %g s (idle or "
                "slow clients); one line every %.0f s counts them while it goes on",
                self.header_timeout,
                self.closed.interval,
            )
        elif held is not None:
            log.info(
                "closed %d connection(s) without request headers within %g s since the last report",
                held,
                self.header_timeout,
            )
