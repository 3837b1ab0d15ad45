"""The few exception types feedsmith raises, each with a message a user can act on."""

from __future__ import annotations

import unicodedata
from pathlib import Path

_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` as a message shows it on a terminal or in a log: each character that is not
    printable (controls such as ESC, line breaks, bidi overrides, the lone surrogates of a file
    name that is not UTF-8) written as a Python escape (`\\x1b`, `\\n`, `\\u202e`,
    `\\udcff`), so no name can clear the screen, colour it, reorder it or forge a line of its
    own; everything else, Chinese and other spaces included, as it is."""
    if text.isprintable():
        return text
    return "".join(
        char
        if char.isprintable() or unicodedata.category(char) == "Zs"
        else _SHORT_ESCAPES.get(char) or ascii(char)[1:-1]
        for char in text
    )


def message(where: str, reason: str, label: str = "") -> str:
    """The one shape of every message: `where: [label: ]reason`, on one line (`printable`).
    `_posts/x.md: skipped: empty file`."""
    return printable(f"{where}: {label}: {reason}" if label else f"{where}: {reason}")


class FeedsError(Exception):
    """Base class: anything feedsmith refuses to do, explained."""


class ConfigError(FeedsError):
    """A configuration key is unknown or has a value feedsmith cannot use."""

    def __init__(self, key: str, reason: str, *, origin: str | None = None) -> None:
        self.key = key
        self.reason = reason
        self.origin = origin
        super().__init__(message(f"{origin}: {key}" if origin else key, reason))


class PostError(FeedsError):
    """One post cannot be used; the build reports it and goes on without it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(message(self.path, reason))


class OutputError(FeedsError):
    """A file of the output folder cannot be written the way the build needs."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(message(self.path, reason))


def os_reason(exc: OSError) -> str:
    """What an operating-system error says, for a person: `No space left on device`."""
    return exc.strerror or str(exc)


class UnreadableError(PostError):
    """A post file exists but cannot be read (no permission, an I/O error): unlike a broken
    post, it says nothing about the post, so the build must not go on without it."""


class SourceError(FeedsError):
    """Part of the source folder cannot be read. Feeds made without its posts would lose
    their entries, so nothing is written (and `serve` keeps what it serves)."""

    def __init__(self, failures: tuple[tuple[str, str], ...]) -> None:
        self.failures = failures
        listed = "; ".join(f"{where}: {reason}" for where, reason in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(
            f"{listed}{more}. Nothing was written: feeds made without "
            f"{'these' if len(failures) > 1 else 'it'} would lose entries. "
            f"Make {'them' if len(failures) > 1 else 'it'} readable and build again"
        )


class EmptySourceError(FeedsError):
    """No post file was found: feeds written now would be empty, which is almost always a
    wrong SOURCE (or a Jekyll site without `_posts/`), not what was meant."""

    def __init__(self, source: Path | str, *, jekyll: bool) -> None:
        self.source = str(Path(source) / "_posts") if jekyll else str(source)
        kinds = ".md, .markdown, .html or .htm files"
        looked = f"the Jekyll site has no {kinds} in _posts/" if jekyll else f"no {kinds} in it"
        super().__init__(
            message(
                self.source,
                f"no posts found ({looked}). Nothing was written. Give the folder of posts "
                "(or the Jekyll site root) as SOURCE, or pass --allow-empty to write feeds "
                "without entries",
            )
        )
