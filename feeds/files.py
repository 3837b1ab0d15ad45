"""Reading the site's own files: regular files only, never a wait on a FIFO or a device.

A FIFO that nobody writes to blocks `open()` for reading forever, and a device can hand out
bytes without end; either would stop a build (or, in `serve`, every feed not yet rendered).
So a file is opened without waiting and its type is checked on the open descriptor itself: a
check of the path before opening it could be raced by swapping the file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISLNK, "a symlink"),
)
# A file that is gone was deleted or renamed meanwhile: that is a change to the site, not a
# failure to read it.
GONE = frozenset({errno.ENOENT, errno.ENOTDIR})


class NotRegularFileError(OSError):
    """The path names something other than a regular file; nothing was read from it."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({kind})", os.fspath(path))
        self.kind = kind


def kind_of(mode: int) -> str:
    """What a file of this mode is, for a message: `a FIFO`, `a socket`..."""
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a file"


def is_special(mode: int) -> bool:
    """A FIFO, socket or device: what no reader should open as if it held a post."""
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode)


def open_regular(path: str | os.PathLike[str], *, follow: bool = True) -> int:
    """A descriptor open for reading on the regular file at `path`, or OSError
    (NotRegularFileError for a FIFO, socket, device or folder). Without `follow`, a symlink at
    `path` itself is refused too."""
    try:
        fd = os.open(path, _READ_FLAGS | (0 if follow else _NOFOLLOW))
    except OSError as exc:
        if not follow and exc.errno == errno.ELOOP and Path(path).is_symlink():
            raise NotRegularFileError(path, "a symlink") from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
    except BaseException:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFileError(path, kind_of(mode))
    return fd


def read_regular(
    path: str | os.PathLike[str], *, follow: bool = True, limit: int | None = None
) -> bytes:
    """The bytes of the regular file at `path` (see open_regular); with `limit`, at most
    `limit + 1` of them, so a caller can tell a file over its limit."""
    fd = open_regular(path, follow=follow)
    try:
        return read_descriptor(fd, limit)
    finally:
        os.close(fd)


def read_descriptor(fd: int, limit: int | None = None) -> bytes:
    """Everything `fd` holds (up to `limit + 1` bytes). Plain os calls: a post is read twice
    per build, and a buffered file object costs four more system calls for each."""
    size = os.fstat(fd).st_size
    most = size + 1 if limit is None else min(size, limit) + 1
    # As much as the file holds plus one byte, then on until the end (or the limit), should
    # it have grown meanwhile.
    data = os.read(fd, most)
    while limit is None or len(data) <= limit:
        more = os.read(fd, (1 << 20) if limit is None else limit + 1 - len(data))
        if not more:
            break
        data += more
    return data


def read_text(path: str | os.PathLike[str], *, follow: bool = True) -> str:
    """A regular file as UTF-8 text (a BOM dropped); UnicodeDecodeError when it is not."""
    return read_regular(path, follow=follow).decode("utf-8-sig")
