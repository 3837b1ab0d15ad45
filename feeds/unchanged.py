"""A rebuild with nothing to do, told without reading a post.

After each build the state folder keeps a record of it: what keys its output (the settings,
feedsmith and the installed libraries that render), a digest of every file of the source
(its path and stamp), the stamp of every file the build left in OUT, and the build's report.
The next build walks the source (one stat a file) and stats those output files: when all of
it is as recorded, no post is read, rendered or written, and the report is the recorded one.

Anything else runs the build as ever: a file of the source added, removed, changed or only
touched (any file, not only posts: an include, `_data/`, the configuration), other settings,
another feedsmith or library, a file of OUT changed or gone, a stamp too fresh to prove
anything (see site.RACY_NS), a post held back for its future date (the clock publishes it),
a build that skipped or could not read a file, what an older feedsmith left in OUT, or a record
that is not exactly of this shape.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedsmith.cache import schema
from feedsmith.config import Config
from feedsmith.discover import scan
from feedsmith.model import BuildReport, Problem, stamp_of
from feedsmith.state import FOLDER, OLD_LOCK, OLD_MANIFEST, manifest_path, usable
from feedsmith.write import write_state_file

RACY_NS = 3_000_000_000  # as site.RACY_NS: a stamp this close to a change proves nothing
SHAPE = 2  # of the record's JSON: another is not read


@dataclass(frozen=True, slots=True)
class Sources:
    """Every file of the source as walked at the start of a build."""

    digest: str
    settled: bool  # no file changed within RACY_NS of the walk: the stamps prove the bytes


_MODULUS = 1 << 160


def walk(config: Config, skip: frozenset[str]) -> Sources | None:
    """The digest of every file below the source (path and stamp); None when a folder cannot
    be listed. `skip`: absolute paths that are not the source's (the output folder inside it,
    the files feedsmith wrote there).

    The digest is the sum of each file's own (modulo 2**160), so it does not depend on the
    order folders list their files in: the walk never sorts a folder's listing."""
    taken = time.time_ns()
    root = os.path.realpath(config.source)
    total = count = newest = 0
    failed: list[tuple[str, str]] = []
    blake2b = hashlib.blake2b
    for entry in scan(root, skip, failed):
        if entry.path in skip:
            continue
        try:
            stamp = stamp_of(entry.stat(follow_symlinks=False))
        except OSError:
            return None
        newest = max(newest, stamp[0], stamp[3])
        line = f"{entry.path[len(root) :]}\0{stamp}".encode("utf-8", "surrogatepass")
        total += int.from_bytes(blake2b(line, digest_size=20).digest())
        count += 1
    if failed:
        return None
    digest = f"{count}:{total % _MODULUS:040x}"
    return Sources(digest, settled=newest < taken - RACY_NS)


def _key(config: Config) -> str:
    return f"{config.fingerprint()}:{schema()}"


def _stamps(out: Path, rels: Iterable[str]) -> list[list[Any]] | None:
    found: list[list[Any]] = []
    for rel in sorted(rels):
        try:
            stamp = stamp_of(os.lstat(out / rel))
        except OSError:
            return None
        found.append([rel, *stamp])
    return found


def _record_path(state: Path, out: Path) -> Path:
    path = manifest_path(state, out)
    return path.with_name(path.stem + ".done.json")


def remember(config: Config, state: Path, sources: Sources | None, report: BuildReport) -> None:
    """Keep the record of a build that wrote `report` into OUT; or forget any record when this
    build cannot vouch for the next (see the module's docstring)."""
    path = _record_path(state, config.output)
    usable_record = (
        sources is not None
        and sources.settled
        and not report.held_back.get("dated in the future")
        and not report.errors
        and not report.check_failed
    )
    files = _stamps(config.output, (*report.written, *report.unchanged)) if usable_record else None
    if sources is None or files is None or not usable(path.parent):
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
        return
    record = {
        "shape": SHAPE,
        "key": _key(config),
        "sources": sources.digest,
        "files": files,
        "posts_read": report.posts_read,
        "posts_published": report.posts_published,
        "held_back": dict(report.held_back),
        "problems": [[p.where, p.reason, p.severity] for p in report.problems],
    }
    write_state_file(path, json.dumps(record, ensure_ascii=False).encode("utf-8"))


def recall(config: Config, state: Path, sources: Sources | None) -> BuildReport | None:
    """The report of the last build when nothing it depends on has changed since; else None."""
    record = _read(_record_path(state, config.output)) if sources is not None else None
    if (
        record is None
        or sources is None
        or not sources.settled
        or _old_bookkeeping(config.output, state)
    ):
        return None
    try:
        if record["key"] != _key(config) or record["sources"] != sources.digest:
            return None
        files = [list(item) for item in record["files"]]
        rels = [str(item[0]) for item in files]
        if _stamps(config.output, rels) != files:
            return None
        return BuildReport(
            posts_read=int(record["posts_read"]),
            posts_published=int(record["posts_published"]),
            problems=tuple(
                Problem(str(where), str(reason), severity)
                for where, reason, severity in record["problems"]
                if severity in ("error", "warning", "notice")
            ),
            written=(),
            unchanged=tuple(rels),
            removed=(),
            seconds=0.0,
            held_back={str(k): int(v) for k, v in dict(record["held_back"]).items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _old_bookkeeping(out: Path, state: Path) -> bool:
    """What an older feedsmith kept in OUT itself (a full build removes it); not the state
    folder itself, where OUT is the source."""
    if any(os.path.lexists(out / name) for name in (OLD_MANIFEST, OLD_LOCK)):
        return True
    old = out / FOLDER
    return os.path.lexists(old) and os.path.realpath(old) != os.path.realpath(state)


def _read(path: Path) -> dict[str, Any] | None:
    """The record at `path` if it is one of this shape (never through a symlink)."""
    try:
        if path.is_symlink():
            return None
        record = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("shape") == SHAPE else None
