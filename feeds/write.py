"""Bytes -> files in the output folder: atomic, unchanged files left alone, nothing else touched.

Every file is written to a temporary name beside it and renamed into place, so a reader (or
a web server) sees the old file or the new one, never half of one. A manifest records what
feedsmith wrote, so a feed that no longer exists is removed while every other file in the
output folder (the rest of a Jekyll `_site/`) is never touched.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import stat
from collections import deque
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from feedsmith.errors import OutputError, os_reason
from feedsmith.files import read_regular
from feedsmith.model import Difference
from feedsmith.state import (
    forget_old_bookkeeping,
    manifest_body,
    manifest_path,
    read_manifest,
    usable,
)

# Two threads overlap the waits on a slow disk; more only spin on the folder's lock in the
# kernel, since files of one folder are created one at a time.
WRITERS = 2
_counter = itertools.count()


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def target(out: Path, rel: str, _checked: dict[Path, Path] | None = None) -> Path:
    """The file for `rel` inside `out`; OutputError for any path that could leave it.

    `_checked` remembers folders already resolved, for the thousands of feeds of one build.
    """
    pure = PurePosixPath(rel)
    if (
        not rel
        or pure.is_absolute()
        or "\\" in rel
        or "\x00" in rel
        or any(part in ("", ".", "..") for part in rel.split("/"))
    ):
        raise OutputError(out / rel, "refused: not a plain path inside the output folder")
    checked = {} if _checked is None else _checked
    root = checked.get(out) or checked.setdefault(out, out.resolve())
    path = root.joinpath(*pure.parts)
    # No folder between OUT and the file may be a symlink: a write must not leave OUT, nor
    # land anywhere but where the feed's link says. (Writing re-checks every step.)
    folder = root
    for part in pure.parts[:-1]:
        folder = folder / part
        if folder not in checked:
            if folder.is_symlink():
                raise OutputError(folder, _SYMLINK)
            checked[folder] = folder
    if path.is_symlink():
        raise OutputError(path, _SYMLINK)
    return path


_SYMLINK = (
    "refused: it is a symlink, and feedsmith writes or removes nothing through a symlink "
    "in the folders it writes to; remove it (or make it a real folder or file)"
)
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_folder(root: Path, parts: tuple[str, ...], *, create: bool) -> int:
    """A descriptor on the folder `root/parts...`, made if need be (with `create`), each step
    opened without following a symlink: a folder swapped for one mid-build cannot carry a
    write out. OutputError naming a step that is a symlink; FileNotFoundError without
    `create` when a step is missing."""
    fd = os.open(root, _DIRECTORY)
    here = root
    try:
        for part in parts:
            here = here / part
            try:
                step = os.open(part, _DIRECTORY | _NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o777, dir_fd=fd)
                step = os.open(part, _DIRECTORY | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = step
    except OSError as exc:
        os.close(fd)
        if here.is_symlink():
            raise OutputError(here, _SYMLINK) from exc
        raise
    return fd


def _atomic_write(path: Path, body: bytes, root: Path | None = None) -> None:
    """Write to a temporary name beside `path`, then rename: readers see old or new, never half.

    Below `root` (the output or state folder) no folder on the way is followed through a
    symlink; without it, `path`'s folder is the one the user named.
    """
    if root is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        root = path.parent
    _commit(path, _stage(path, body, root), root)


def _folder_parts(path: Path, root: Path) -> tuple[str, ...]:
    return path.parent.relative_to(root).parts


def _stage(path: Path, body: bytes, root: Path) -> str:
    """`body` written to a new temporary name beside `path` (returned), not yet in place."""
    folder = _open_folder(root, _folder_parts(path, root), create=True)
    try:
        # O_EXCL with a name of our own: created readable by the web server (0644, not
        # mkstemp's 0600), never following a symlink someone placed there; a name already
        # taken (or planted) is passed over for the next one.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        for attempt in range(3):
            tmp = f".{path.name[:60]}.{os.getpid()}.{next(_counter)}.tmp"
            try:
                fd = os.open(tmp, flags, 0o644, dir_fd=folder)
                break
            except FileExistsError:
                if attempt == 2:
                    raise
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=folder)
            raise
        return tmp
    finally:
        os.close(folder)


def _commit(path: Path, tmp: str, root: Path) -> None:
    """The temporary file `tmp` renamed into place as `path` (or removed, when that fails)."""
    folder = _open_folder(root, _folder_parts(path, root), create=False)
    try:
        try:
            os.replace(tmp, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=folder)
            raise
    finally:
        os.close(folder)


def _discard(path: Path, tmp: str, root: Path) -> None:
    with contextlib.suppress(OSError):
        folder = _open_folder(root, _folder_parts(path, root), create=False)
        try:
            os.unlink(tmp, dir_fd=folder)
        finally:
            os.close(folder)


def _remove(root: Path, path: Path) -> bool:
    """Remove the regular file `path` below `root`, never through a symlink; False when there
    is no such file (gone, or something else now stands there)."""
    parts = path.relative_to(root).parts
    try:
        folder = _open_folder(root, parts[:-1], create=False)
    except FileNotFoundError:
        return False
    try:
        try:
            info = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if not stat.S_ISREG(info.st_mode):
            return False
        os.unlink(parts[-1], dir_fd=folder)
        return True
    finally:
        os.close(folder)


def _prune_empty(root: Path, path: Path) -> None:
    """Remove folders a removed feed leaves empty, up to (not including) the output folder."""
    parts = path.relative_to(root).parts[:-1]
    while parts:
        try:
            folder = _open_folder(root, parts[:-1], create=False)
        except (OSError, OutputError):
            return
        try:
            os.rmdir(parts[-1], dir_fd=folder)
        except OSError:
            return
        finally:
            os.close(folder)
        parts = parts[:-1]


def _write(path: Path, body: bytes, root: Path | None = None) -> None:
    """_atomic_write, with what went wrong said as an OutputError naming the file."""
    try:
        _atomic_write(path, body, root)
    except OSError as exc:
        raise OutputError(path, f"cannot write it: {os_reason(exc)}") from exc


def write_state_file(path: Path, body: bytes) -> None:
    """A file of feedsmith's own in the state folder, written atomically and never through a
    symlink; one that cannot be written costs only what it would have kept."""
    with contextlib.suppress(OutputError):
        _write(path, body, path.parent)


_TEMPORARY = re.compile(r"^\..+\.(\d+)\.\d+\.tmp$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _sweep(folders: set[Path]) -> None:
    """Remove temporary files a killed build left behind (its process is gone)."""
    for folder in folders:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            match = _TEMPORARY.match(entry.name)
            if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    entry.unlink()


def _same(path: Path, body: bytes) -> bool:
    try:
        info = path.lstat()
        return (
            stat.S_ISREG(info.st_mode)
            and info.st_size == len(body)
            and read_regular(path, follow=False) == body
        )
    except OSError:
        return False


def output_folder(out: Path) -> None:
    """Make the output folder, or say in one sentence why it cannot be."""
    if out.exists() and not out.is_dir():
        raise OutputError(out, "is a file, not a folder: give -o a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(out, f"cannot make this folder: {os_reason(exc)}") from exc


class Staging:
    """Files written into OUT as they are rendered, in two phases: each changed file is
    staged (written to a temporary name beside its place) as soon as it is given, and only
    `commit` renames them all into place. A full disk or any other failure before that
    leaves every published file as it was, not some new and some old (renaming needs no
    space); only each file's path and digest are kept, never its bytes.

    Every path is checked before the first byte is written. Use it as a context manager:
    leaving the block without `commit` (an error, an interrupt) removes every staged file.
    """

    def __init__(self, out: Path, rels: Collection[str], *, state: Path) -> None:
        output_folder(out)
        self._out, self._state = out, state
        self._checked: dict[Path, Path] = {}
        self._targets = {rel: target(out, rel, self._checked) for rel in sorted(rels)}
        _sweep({path.parent for path in self._targets.values()} | {out.resolve()})
        self._root = out.resolve()
        self._digests: dict[str, str] = {}
        self._staged: dict[str, str] = {}  # rel -> its temporary name
        self._unchanged: list[str] = []
        # A second thread writes while the first waits on a slow disk (see WRITERS); a few
        # files at most wait for them, so memory holds a few bodies, not every one.
        self._pool = ThreadPoolExecutor(max_workers=WRITERS)
        self._pending: deque[tuple[str, Future[str | None]]] = deque()
        self._failed: tuple[str, OSError] | None = None
        self._done = False

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            self.discard()

    def add(self, rel: str, body: bytes, digest: str, *, same: bool = False) -> None:
        """Stage the file `rel` unless OUT already holds these bytes; `same`: they were just
        read from OUT (not read again). OutputError as soon as a file cannot be written."""
        path = self._targets[rel]
        self._digests[rel] = digest
        if same:
            self._unchanged.append(rel)
        else:
            self._pending.append((rel, self._pool.submit(self._stage_one, path, body)))
        while self._pending and (len(self._pending) > 2 * WRITERS or self._pending[0][1].done()):
            self._settle(*self._pending.popleft())
        if self._failed is not None:
            self._raise()

    def _stage_one(self, path: Path, body: bytes) -> str | None:
        if _same(path, body):
            return None
        return _stage(path, body, self._root)

    def _settle(self, rel: str, future: Future[str | None]) -> None:
        try:
            tmp = future.result()
        except OSError as exc:
            if self._failed is None:
                self._failed = (rel, exc)
            return
        if tmp is None:
            self._unchanged.append(rel)
        else:
            self._staged[rel] = tmp

    def _raise(self) -> None:
        assert self._failed is not None
        rel, exc = self._failed
        self.discard()
        raise OutputError(self._targets[rel], f"cannot write it: {os_reason(exc)}") from exc

    def discard(self) -> None:
        """Remove every file staged and not yet renamed."""
        self._done = True
        while self._pending:
            self._settle(*self._pending.popleft())
        self._pool.shutdown()
        for rel, tmp in self._staged.items():
            _discard(self._targets[rel], tmp, self._root)
        self._staged.clear()

    def commit(self) -> WriteResult:
        """Rename every staged file into place, then remove feeds of the last build that are
        gone (only after every write succeeded, so an interrupted build never loses a feed of
        the last good one), and keep what was written in the state folder (feedsmith.state),
        never in OUT."""
        while self._pending:
            self._settle(*self._pending.popleft())
        if self._failed is not None:
            self._raise()
        missing = set(self._targets) - set(self._digests)
        assert not missing, f"never given: {sorted(missing)[:3]}"
        self._done = True
        self._pool.shutdown()
        for rel in sorted(self._staged):
            try:
                _commit(self._targets[rel], self._staged.pop(rel), self._root)
            except OSError as exc:
                self.discard()
                raise OutputError(self._targets[rel], f"cannot write it: {os_reason(exc)}") from exc
        written = sorted(set(self._targets) - set(self._unchanged))
        removed = self._remove_stale()
        body = manifest_body(self._out, self._digests)
        kept = manifest_path(self._state, self._out)
        if not _same(kept, body) and usable(kept.parent):
            _write(kept, body, kept.parent)
        forget_old_bookkeeping(self._state, self._out)
        return WriteResult(tuple(written), tuple(sorted(self._unchanged)), tuple(removed))

    def _remove_stale(self) -> list[str]:
        removed: list[str] = []
        for rel in sorted(set(read_manifest(self._state, self._out)) - set(self._targets)):
            try:
                path = target(self._out, rel, self._checked)
                gone = _remove(self._root, path)
            except OutputError:
                continue  # a symlink in the way: nothing is removed through it
            except OSError as exc:
                raise OutputError(self._root / rel, f"cannot remove it: {os_reason(exc)}") from exc
            if gone:
                removed.append(rel)
                _prune_empty(self._root, path)
        return removed


class Comparison:
    """What `--check` reports, file by file as they are rendered, holding none of them:
    files missing or different, and at the end stale feeds still present (those the last
    build wrote, where its manifest is at hand)."""

    def __init__(self, out: Path, *, state: Path) -> None:
        self._out, self._state = out, state
        self._checked: dict[Path, Path] = {}
        self._found: list[Difference] = []
        self._seen: set[str] = set()

    def add(self, rel: str, body: bytes) -> None:
        self._seen.add(rel)
        path = target(self._out, rel, self._checked)
        if not _same(path, body):
            self._found.append(Difference(rel, "different" if path.is_file() else "missing"))

    def result(self) -> list[Difference]:
        stale = sorted(set(read_manifest(self._state, self._out)) - self._seen)
        found = sorted(self._found, key=lambda d: d.path)
        return found + [Difference(rel, "stale") for rel in stale if (self._out / rel).is_file()]


def write_text_atomically(path: Path, text: str) -> None:
    """One file the user named (a Jekyll include), written the same atomic way as the feeds."""
    if path.is_symlink():
        raise OutputError(path, "refused: it is a symlink")
    if not (path.is_file() and path.read_text(encoding="utf-8", errors="replace") == text):
        _write(path, text.encode("utf-8"))
