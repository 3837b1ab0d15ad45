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
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from feedsmith.errors import OutputError, os_reason
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
    # A symlinked folder inside OUT must not carry a write outside it.
    parent = checked.get(path.parent)
    if parent is None:
        parent = path.parent.resolve() if path.parent.exists() else path.parent
        checked[path.parent] = parent
    try:
        parent.relative_to(root)
    except ValueError as exc:
        raise OutputError(path, f"refused: {path.parent} leads outside {root}") from exc
    if path.is_symlink():
        raise OutputError(path, "refused: it is a symlink")
    return path


def _atomic_write(path: Path, body: bytes) -> None:
    """Write to a temporary name beside `path`, then rename: readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL with a name of our own: created readable by the web server (0644, not mkstemp's
    # 0600), and never following a symlink someone placed there.
    tmp = path.with_name(f".{path.name[:60]}.{os.getpid()}.{next(_counter)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _write(path: Path, body: bytes) -> None:
    """_atomic_write, with what went wrong said as an OutputError naming the file."""
    try:
        _atomic_write(path, body)
    except OSError as exc:
        raise OutputError(path, f"cannot write it: {os_reason(exc)}") from exc


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
        return path.stat().st_size == len(body) and path.read_bytes() == body
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


def write_files(
    out: Path,
    files: Mapping[str, bytes],
    digests: Mapping[str, str],
    same: Collection[str] = (),
    *,
    state: Path,
) -> WriteResult:
    """Write every file that changed, then remove feeds of the last build that are gone.

    All paths are checked before the first byte is written; removals happen only after every
    write succeeded, so an interrupted build never loses a feed of the last good one. Files in
    `same` were just read from OUT with these very bytes: they are not read again. What was
    written is kept in the state folder (feedsmith.state), never in OUT.
    """
    output_folder(out)
    checked: dict[Path, Path] = {}
    targets = {rel: target(out, rel, checked) for rel in sorted(files)}
    _sweep({path.parent for path in targets.values()} | {out.resolve()})
    previous = read_manifest(state, out)
    written: list[str] = []
    unchanged: list[str] = []
    for rel, path in targets.items():
        (unchanged if rel in same or _same(path, files[rel]) else written).append(rel)
    # A second thread writes while the first waits on a slow disk (see WRITERS).
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        for _ in pool.map(lambda rel: _write(targets[rel], files[rel]), written):
            pass
    removed: list[str] = []
    for rel in sorted(set(previous) - set(files)):
        try:
            path = target(out, rel)
        except OutputError:
            continue
        if path.is_file():
            try:
                path.unlink()
            except OSError as exc:
                raise OutputError(path, f"cannot remove it: {os_reason(exc)}") from exc
            removed.append(rel)
            _prune_empty(path.parent, out.resolve())
    body = manifest_body(out, digests)
    kept = manifest_path(state, out)
    if not _same(kept, body) and usable(kept.parent):
        _write(kept, body)
    forget_old_bookkeeping(state, out)
    return WriteResult(tuple(written), tuple(unchanged), tuple(removed))


def _prune_empty(folder: Path, root: Path) -> None:
    """Remove folders a removed feed leaves empty, up to (not including) the output folder."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def differences(out: Path, files: Mapping[str, bytes], *, state: Path) -> list[Difference]:
    """What `--check` reports: files missing or different, and stale feeds still present
    (those the last build wrote, where its manifest is at hand)."""
    found = []
    for rel in sorted(files):
        path = target(out, rel)
        if not _same(path, files[rel]):
            found.append(Difference(rel, "different" if path.is_file() else "missing"))
    stale = sorted(set(read_manifest(state, out)) - set(files))
    found += [Difference(rel, "stale") for rel in stale if (out / rel).is_file()]
    return found


def write_text_atomically(path: Path, text: str) -> None:
    """One file the user named (a Jekyll include), written the same atomic way as the feeds."""
    if path.is_symlink():
        raise OutputError(path, "refused: it is a symlink")
    if not (path.is_file() and path.read_text(encoding="utf-8", errors="replace") == text):
        _write(path, text.encode("utf-8"))
