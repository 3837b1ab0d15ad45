"""When the bytes served at each path last changed: the `Last-Modified` of `serve`.

A feed's newest entry date is not that time: a post published later than its date, an edit
that keeps the date, a deleted post or a configuration change all change a feed's bytes
without moving it, and a client that polls with `If-Modified-Since` (or `curl -z`) would then
never get them. So every path is given a time of its own, from the content key of its bytes
(`output_keys`): a path whose key is new gets a time later than any it had before, to the
second, and keeps it for as long as its key stays. The times are kept in a small SQLite file,
so a restart, or another worker process of the same server, gives the same answer; without a
writable folder they are kept in memory (a restart then moves every time forward, which costs
a client one full download, never a missed change).
"""

from __future__ import annotations

import contextlib
import logging
import math
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path

from feedsmith import no_symlinks

log = logging.getLogger("feedsmith.serve")

FILE_NAME = "modified.sqlite"


class ModifiedTimes:
    """Times (whole seconds since the epoch) at which each path's bytes last changed."""

    def __init__(self, folder: Path | None) -> None:
        self._known: dict[str, tuple[str, int]] = {}  # path -> (content key, time)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if folder is not None:
            self._db = self._open(folder)

    @staticmethod
    def _open(folder: Path) -> sqlite3.Connection | None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            no_symlinks(folder / FILE_NAME)
            db = sqlite3.connect(
                folder / FILE_NAME, timeout=10, isolation_level=None, check_same_thread=False
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS modified "
                "(path TEXT PRIMARY KEY, key TEXT NOT NULL, at INTEGER NOT NULL)"
            )
        except (OSError, sqlite3.Error) as exc:
            log.warning(
                "Last-Modified times are kept in memory only (%s: %s): a restart moves them "
                "all forward, so clients polling by date download each feed once more",
                folder / FILE_NAME,
                exc,
            )
            return None
        return db

    def assign(self, keys: Mapping[str, str], now: float) -> dict[str, int]:
        """The time of every path in `keys` (path -> content key) as of `now`.

        A path whose key is the one it had keeps its time; any other gets one later than `now`
        and than every time it had before (whole seconds: HTTP dates have no finer grain), so a
        client holding any earlier value never takes the new bytes for the old.
        """
        with self._lock:
            changed = {p: k for p, k in keys.items() if self._known.get(p, ("",))[0] != k}
            if changed:
                self._known.update(self._stored(changed, math.floor(now) + 1))
            return {path: self._known[path][1] for path in keys}

    def _stored(self, changed: Mapping[str, str], fresh: int) -> dict[str, tuple[str, int]]:
        """New times for `changed`, agreed with the file other processes share."""
        if self._db is not None:
            try:
                return self._in_database(self._db, changed, fresh)
            except sqlite3.Error as exc:
                log.warning("Last-Modified times not saved (%s); kept in memory", exc)
        return {
            path: (key, max(fresh, self._known.get(path, ("", 0))[1] + 1))
            for path, key in changed.items()
        }

    def _in_database(
        self, db: sqlite3.Connection, changed: Mapping[str, str], fresh: int
    ) -> dict[str, tuple[str, int]]:
        result: dict[str, tuple[str, int]] = {}
        paths = list(changed)
        # One writer at a time: two workers seeing one change agree on one time for it.
        db.execute("BEGIN IMMEDIATE")
        try:
            stored: dict[str, tuple[str, int]] = {}
            for start in range(0, len(paths), 500):
                chunk = paths[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT path, key, at FROM modified WHERE path IN ({marks})",  # noqa: S608 - only placeholders
                    chunk,
                ).fetchall()
                stored.update((path, (key, at)) for path, key, at in rows)
            updates = []
            for path, key in changed.items():
                held = stored.get(path)
                mine = self._known.get(path, ("", 0))[1]  # this process's own last time
                if held is not None and held[0] == key and held[1] >= mine:
                    result[path] = held
                    continue
                result[path] = (key, max(fresh, (held[1] if held else 0) + 1, mine + 1))
                updates.append((path, key, result[path][1]))
            db.executemany("INSERT OR REPLACE INTO modified VALUES (?, ?, ?)", updates)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        return result

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
