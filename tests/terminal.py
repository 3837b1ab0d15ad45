"""A command run on a real pseudo-terminal, its output read into `pyte`, a terminal emulator:
what a person at a terminal of that size would see, screen by screen."""

from __future__ import annotations

import fcntl
import html
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pyte


@dataclass(frozen=True)
class Run:
    """What the terminal showed: every screen seen while the command ran (one per read of its
    output), the screen it left, all the bytes it wrote, and its exit code."""

    screens: tuple[tuple[str, ...], ...]
    final: tuple[str, ...]
    raw: bytes
    returncode: int


def lines(screen: pyte.Screen) -> tuple[str, ...]:
    """The screen's rows, trailing spaces cut."""
    return tuple(row.rstrip() for row in screen.display)


def on_terminal(
    argv: Sequence[str],
    *,
    columns: int = 100,
    rows: int = 30,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    seen: Callable[[pyte.Screen], None] | None = None,
) -> Run:
    """Run `argv` with its standard output and error on a new pseudo-terminal of `columns` x
    `rows`; `seen` is called with the screen each time it changes (read it then: it goes on
    changing)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    screen = pyte.Screen(columns, rows)
    stream = pyte.ByteStream(screen)
    environment = {**os.environ, "TERM": "xterm-256color", **(env or {})}
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE"):
        if name not in (env or {}):
            environment.pop(name, None)
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=environment,
        start_new_session=True,  # the terminal becomes the command's own
    )
    os.close(slave)
    raw = bytearray()
    screens: list[tuple[str, ...]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not chunk:
                break
            raw += chunk
            stream.feed(chunk)
            shown = lines(screen)
            if not screens or screens[-1] != shown:
                screens.append(shown)
                if seen is not None:
                    seen(screen)
        else:
            process.kill()
            raise AssertionError(f"{argv} still ran after {timeout} s")
        returncode = process.wait(timeout=30)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    return Run(tuple(screens), lines(screen), bytes(raw), returncode)


# The xterm palette for pyte's colour names; other colours come as six hex digits.
_NAMED = {
    "black": "#000000",
    "red": "#cd3131",
    "green": "#0dbc79",
    "brown": "#e5e510",
    "yellow": "#e5e510",
    "blue": "#2472c8",
    "magenta": "#bc3fbc",
    "cyan": "#11a8cd",
    "white": "#e5e5e5",
}
FOREGROUND, BACKGROUND = "#d4d4d4", "#1e1e1e"


def _colour(name: str, default: str) -> str:
    if name == "default":
        return default
    if re.fullmatch(r"[0-9a-fA-F]{6}", name):
        return f"#{name}"
    return _NAMED.get(name.removeprefix("bright"), default)


def as_html(screen: pyte.Screen, title: str) -> str:
    """The screen as a page: each cell's character in its colours, bold where bold."""
    rows = []
    for y in range(screen.lines):
        cells = []
        for x in range(screen.columns):
            char = screen.buffer[y][x]
            fg = _colour(char.fg, FOREGROUND)
            bg = _colour(char.bg, BACKGROUND)
            if char.reverse:
                fg, bg = bg, fg
            style = f"color:{fg};background:{bg}" + (";font-weight:bold" if char.bold else "")
            cells.append(f'<span style="{style}">{html.escape(char.data or " ")}</span>')
        rows.append("".join(cells))
    body = "\n".join(rows)
    return (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>body{{margin:0;background:{BACKGROUND}}}pre{{margin:0;padding:12px 16px;"
        f"display:inline-block;font:15px/1.35 'DejaVu Sans Mono',monospace;color:{FOREGROUND};"
        f"background:{BACKGROUND}}}</style><pre>{body}</pre>"
    )
