"""The caches: what earlier builds computed, kept on disk so a rebuild does only the work that
changed (`Cache`), and a bounded map in memory for what `serve` keeps (`LRU`).

One SQLite file (default `OUT/.feedsmith-cache/cache.sqlite`, setting `cache_dir`):

- `files`: every post file's parse result with its stamp and content digest, as one record;
- `entries`: rendered entry bodies, by a key of the post's content and metadata;
- `feeds`: rendered feed bytes, by a key of everything a feed's bytes depend on.

Every key includes feedsmith's version and the configuration's fingerprint, and a cache made
with other installed copies of the libraries that render (`RENDERERS`) is started over, so
the cache can never hand back output that a cold build would not produce; deleting the
folder is always safe. A cache that cannot be read (corrupt, other version) is ignored and
rebuilt.
"""

from __future__ import annotations

import contextlib
import importlib.util
import pickle
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import zstandard
from feedsmith.version import __version__

K = TypeVar("K")
V = TypeVar("V")
SCHEMA = 8  # zstd-compressed pickles; raised when what is stored changes (8: includes)
_TABLES = ("files", "entries", "feeds")


def encode(value: Any, *, compress: bool = True) -> bytes:
    """A value as the cache stores it: a pickle, zstd-compressed unless told otherwise."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _COMPRESS(data) if compress else data


def decode(blob: bytes) -> Any:
    if blob.startswith(_ZSTD_MAGIC):
        blob = zstandard.ZstdDecompressor().decompress(blob)
    return pickle.loads(blob)  # noqa: S301 - our own file


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # a pickle starts with 0x80: the two never meet

_COMPRESS = zstandard.ZstdCompressor(level=1).compress
# What a stored value that cannot be decoded raises (another version's, or a damaged one).
_UNREADABLE = (zstandard.ZstdError, pickle.PickleError, EOFError, AttributeError, ImportError)
_KEYS_PER_QUERY = 500  # SQLite allows 999 parameters a statement in older builds


class _Table(MutableMapping[str, V]):
    """One table of the cache as a mapping; writes are buffered until `Cache.commit()`.

    A value can also be given already encoded (`set_encoded`): worker processes encode the
    entries they render, so the parent does not pickle and compress them all at the end.
    """

    def __init__(self, cache: Cache, name: str) -> None:
        self.cache, self.name = cache, name
        self.pending: dict[str, V] = {}
        self.encoded: dict[str, bytes] = {}
        self.fetched: dict[str, V | None] = {}  # looked up ahead by `prefetch` (None: absent)

    def set_encoded(self, key: str, blob: bytes) -> None:
        self.pending.pop(key, None)
        self.fetched.pop(key, None)
        self.encoded[key] = blob

    def prefetch(self, keys: Iterable[str]) -> None:
        """Look `keys` up in a few queries instead of one each (a rebuild asks for every feed)."""
        wanted = [k for k in keys if k not in self.pending and k not in self.encoded]
        found = self.cache.fetch_many(self.name, wanted)
        self.fetched.update((key, found.get(key)) for key in wanted)

    def __getitem__(self, key: str) -> V:
        if key in self.pending:
            return self.pending[key]
        if key in self.encoded:
            return decode(self.encoded[key])  # type: ignore[no-any-return]
        if key in self.fetched:
            value = self.fetched[key]
            if value is None:
                raise KeyError(key)
            return value
        row = self.cache.fetch(self.name, key)
        if row is None:
            raise KeyError(key)
        return row  # type: ignore[no-any-return]

    def get(self, key: str, default: V | None = None) -> V | None:  # type: ignore[override]
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key: str, value: V) -> None:
        self.encoded.pop(key, None)
        self.fetched.pop(key, None)
        self.pending[key] = value

    def __delitem__(self, key: str) -> None:
        self.pending.pop(key, None)
        self.encoded.pop(key, None)
        self.fetched.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter([*self.pending, *self.encoded])

    def __len__(self) -> int:
        return len(self.pending) + len(self.encoded)


# The libraries whose code shapes the output: a cache made with other installed copies of
# them (an upgrade) is not used. The `RENDERERS` are told apart by their files' sizes and
# modification times, read without importing them (reading the installed versions through
# importlib.metadata costs 20 ms, a twentieth of a no-change rebuild).
RENDERERS = (
    "yaml", "dateutil", "liquid", "markdown_it", "mdit_py_plugins", "pyromark", "nh3", "lxml",
    "cssselect", "feedgen",
)  # fmt: skip


def _installed(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return f"{module}:-"
    origin = Path(spec.origin)
    try:
        info, folder = origin.stat(), origin.parent.stat()
    except OSError:
        return f"{module}:?"
    return f"{module}:{info.st_size}:{info.st_mtime_ns}:{folder.st_mtime_ns}"


def _schema() -> str:
    """What a cache must have been made with to be used: this layout, this feedsmith, and
    the same installed copies of the libraries that render."""
    return ":".join([str(SCHEMA), __version__, *(_installed(m) for m in RENDERERS)])


class Cache:
    """The cache folder of one output folder (or of the configured `cache_dir`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db: sqlite3.Connection | None = None
        # Created (or emptied) just now: nothing to look up. A cold build asks for thousands
        # of keys, each query a lock and unlock of the file.
        self.empty = True
        for attempt in range(2):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                # Saved from a thread of its own while the feeds are written (never at once
                # with other use of the connection).
                self.db = sqlite3.connect(
                    folder / "cache.sqlite", timeout=30, check_same_thread=False
                )
                # No fsync: losing the cache to a power cut costs one slow build, while
                # waiting for the disk costs every build. A crashed build still rolls back.
                self.db.execute("PRAGMA synchronous = OFF")
                schema = _schema()
                if self._meta("schema") != schema:
                    self._reset(schema)
                else:
                    self.empty = False
                break
            except (OSError, sqlite3.Error):
                self._drop()
                if attempt == 0:  # a damaged file: start a new one, it is only a cache
                    with contextlib.suppress(OSError):
                        (folder / "cache.sqlite").unlink()
        self.files: _Table[Any] = _Table(self, "files")
        self.entries: _Table[Any] = _Table(self, "entries")
        self.feeds: _Table[Any] = _Table(self, "feeds")

    def _meta(self, key: str) -> str | None:
        assert self.db is not None
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _reset(self, schema: str) -> None:
        assert self.db is not None
        with self.db:
            for table in _TABLES:
                self.db.execute(f"DROP TABLE IF EXISTS {table}")
                self.db.execute(f"CREATE TABLE {table} (key TEXT PRIMARY KEY, value BLOB)")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (schema,))

    def _drop(self) -> None:
        """Work without a cache when it cannot be opened; the build itself must not fail."""
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
        self.db = None

    def fetch(self, table: str, key: str) -> Any:
        if self.db is None or self.empty:
            return None
        try:
            row = self.db.execute(f"SELECT value FROM {table} WHERE key = ?", (key,)).fetchone()  # noqa: S608 - table names are ours
            return None if row is None else decode(row[0])
        except (sqlite3.Error, *_UNREADABLE):
            return None

    def fetch_many(self, table: str, keys: Sequence[str]) -> dict[str, Any]:
        """The values of those of `keys` that are stored and readable."""
        found: dict[str, Any] = {}
        if self.db is None or self.empty:
            return found
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[start : start + _KEYS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            try:
                rows = self.db.execute(
                    f"SELECT key, value FROM {table} WHERE key IN ({marks})",  # noqa: S608 - table names are ours
                    chunk,
                ).fetchall()
            except sqlite3.Error:
                return found
            for key, blob in rows:
                with contextlib.suppress(*_UNREADABLE):
                    found[key] = decode(blob)
        return found

    def commit(self) -> None:
        """Write what this build added; a failure here costs only the next build's speed.

        Feeds are stored as they are: XML of news in Chinese only halves when compressed,
        and compressing the feeds cost more at the end of a build than writing them.
        """
        if self.db is None:
            return
        try:
            with self.db:
                for table in (self.files, self.entries, self.feeds):
                    self.db.executemany(
                        f"INSERT OR REPLACE INTO {table.name} VALUES (?, ?)",  # noqa: S608
                        [
                            *(
                                (k, encode(v, compress=table.name != "feeds"))
                                for k, v in table.pending.items()
                            ),
                            *table.encoded.items(),
                        ],
                    )
                    table.pending.clear()
                    table.encoded.clear()
        except sqlite3.Error:
            self._drop()

    def close(self) -> None:
        self._drop()


def _one(value: object) -> int:
    return 1


class LRU(MutableMapping[K, V]):
    """A thread-safe least-recently-used map, bounded by the number of values (`size`) and by
    their total weight (`weight`, as `weigh` tells it: their bytes); None: no such bound.

    The least recently used values go first. A value heavier than `weight` on its own is not
    kept at all, so the bound always holds.
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        weight: int | None = None,
        weigh: Callable[[V], int] = _one,
    ) -> None:
        self.size = size
        self.weight = weight
        self.weigh = weigh
        self.held = 0  # the total weight of the values kept
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        with self._lock:
            found = self._data.get(key)
            if found is None:
                return default
            self._data.move_to_end(key)
            return found[0]

    def __setitem__(self, key: K, value: V) -> None:
        self.put(key, value, self.weigh(value))

    def put(self, key: K, value: V, weight: int) -> None:
        """Keep `value` as weighing `weight`, dropping the least recently used to make room."""
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.held -= old[1]
            if self.weight is not None and weight > self.weight:
                return
            self._data[key] = (value, weight)
            self.held += weight
            while (self.size is not None and len(self._data) > self.size) or (
                self.weight is not None and self.held > self.weight
            ):
                _, (_, dropped) = self._data.popitem(last=False)
                self.held -= dropped

    def fits(self, weight: int) -> bool:
        """Whether a value of `weight` can be kept at all."""
        return self.weight is None or weight <= self.weight

    def __getitem__(self, key: K) -> V:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __delitem__(self, key: K) -> None:
        with self._lock:
            _, weight = self._data.pop(key)
            self.held -= weight

    def __iter__(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self._data))

    def part(self, name: str, weigh: Callable[[Any], int]) -> Part[Any, Any]:
        """A map whose values are kept here, beside other parts', under one bound: the least
        recently used of all go first, whichever part they are in."""
        return Part(self, name, weigh)  # type: ignore[arg-type]


class Part(MutableMapping[K, V]):
    """One part of a shared LRU (`LRU.part`): its own keys and its own way to weigh values."""

    def __init__(self, lru: LRU[tuple[str, K], V], name: str, weigh: Callable[[V], int]) -> None:
        self.lru, self.name, self.weigh = lru, name, weigh

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        return self.lru.get((self.name, key), default)

    def __setitem__(self, key: K, value: V) -> None:
        self.lru.put((self.name, key), value, self.weigh(value))

    def __getitem__(self, key: K) -> V:
        return self.lru[(self.name, key)]

    def __contains__(self, key: object) -> bool:
        return (self.name, key) in self.lru

    def __delitem__(self, key: K) -> None:
        del self.lru[(self.name, key)]

    def __iter__(self) -> Iterator[K]:
        return iter([key for name, key in self.lru if name == self.name])

    def __len__(self) -> int:
        return sum(1 for _ in self)
