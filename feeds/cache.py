"""The caches: what earlier builds computed, kept on disk so a rebuild does only the work that
changed (`Cache`), and a bounded map in memory for what `serve` keeps (`LRU`).

One SQLite file, `cache.sqlite` in the state folder (feedsmith.state):

- `files`: every post file's parse result with its stamp and content digest, as one record;
- `entries`: rendered entry bodies, by a key of the post's content and metadata;
- `feeds`: rendered feed bytes, by a key of everything a feed's bytes depend on.

Every key includes feedsmith's version and the configuration's fingerprint, and a cache made
with other installed copies of the libraries that render (`RENDERERS`) is started over, so
the cache can never hand back output that a cold build would not produce; deleting the
folder is always safe.

A cache may come from elsewhere (a CI cache restored from another branch's run), so nothing
read from it is trusted: values are plain data (msgpack, zstd-compressed; feedsmith.plain),
never pickles, so reading one runs no code, and each is checked against the type its table
holds. A row that is not exactly that (damaged, truncated, of another layout, of the wrong
types) counts as absent and is made again; a file that is no SQLite database of this layout
(other tables, triggers, views, a symlink) is started over.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import msgpack
import zstandard
from feedsmith.model import CachedFeed, Entry, FileState
from feedsmith.plain import Codec, codec
from feedsmith.version import __version__

K = TypeVar("K")
V = TypeVar("V")
# Raised when what is stored changes (8: includes; 9: msgpack of plain data, no pickles).
SCHEMA = 9
_TABLES = ("files", "entries", "feeds")
# What each table holds: a shard of file states by relative path, an entry, a feed.
STATES: Codec[dict[str, FileState]] = codec(dict[str, FileState])
ENTRY: Codec[Entry] = codec(Entry)
FEED: Codec[CachedFeed] = codec(CachedFeed)
_FILE = "cache.sqlite"
_SIDE_FILES = ("-journal", "-wal", "-shm")  # what SQLite keeps beside a database


def encode(value: V, kind: Codec[V], *, compress: bool = True) -> bytes | None:
    """A value as the cache stores it: msgpack of its plain form, zstd-compressed unless told
    otherwise. None for a value that has no plain form (it is then not stored)."""
    try:
        data = msgpack.packb(kind.to_plain(value), use_bin_type=True, unicode_errors=_TEXT)
    except (TypeError, ValueError, OverflowError):
        return None
    return _COMPRESS(data) if compress else data


def decode(blob: object, kind: Codec[V]) -> V | None:
    """The value a stored blob holds, or None when it is not exactly one of `kind`."""
    if type(blob) is not bytes:  # SQLite hands back whatever type a row was given
        return None
    try:
        if blob.startswith(_ZSTD_MAGIC):
            blob = _decompress(blob)
        with _collector_paused():
            data = msgpack.unpackb(
                blob, use_list=False, raw=False, strict_map_key=True, unicode_errors=_TEXT
            )
            return kind.from_plain(data)
    except _UNREADABLE:
        return None


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a row is read: its tuples and records hold no
    cycles, and collecting while tens of thousands of them are made (every post's record,
    on every rebuild) took a fifth of the reading time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # msgpack of an array never starts with 0x28
# File names are str with lone surrogates where they are not UTF-8 (os.fsdecode).
_TEXT = "surrogatepass"
_COMPRESS = zstandard.ZstdCompressor(level=1).compress
# More than any record holds (a post is at most max_post_bytes, 5 MB, its entry about as much):
# a frame that claims more is damaged, or made to exhaust memory.
MAX_RECORD_BYTES = 64 * 1024 * 1024
# What a stored value that cannot be decoded raises: ValueError covers msgpack's own errors
# (ExtraData, FormatError, StackError) and plain.Invalid.
_UNREADABLE = (
    ValueError, TypeError, KeyError, OverflowError, MemoryError, RecursionError,
    zstandard.ZstdError, msgpack.UnpackException,
)  # fmt: skip
_KEYS_PER_QUERY = 500  # SQLite allows 999 parameters a statement in older builds


def _decompress(blob: bytes) -> bytes:
    size = zstandard.frame_content_size(blob)
    if size > MAX_RECORD_BYTES:
        raise ValueError(f"a record of {size} bytes")
    # Frames that do not say their size are capped as they are decompressed.
    return zstandard.ZstdDecompressor().decompress(blob, max_output_size=MAX_RECORD_BYTES)


class _Table(MutableMapping[str, V]):
    """One table of the cache as a mapping of values of one kind; writes are buffered until
    `Cache.commit()`.

    A value can also be given already encoded (`set_encoded`): worker processes encode the
    entries they render, so the parent does not encode and compress them all at the end.
    """

    def __init__(self, cache: Cache, name: str, kind: Codec[V], *, compress: bool) -> None:
        self.cache, self.name, self.kind, self.compress = cache, name, kind, compress
        self.pending: dict[str, V] = {}
        self.encoded: dict[str, bytes] = {}
        self.fetched: dict[str, V | None] = {}  # looked up ahead by `prefetch` (None: absent)

    def set_encoded(self, key: str, blob: bytes | None) -> None:
        """Store `blob`, made by `encode(value, self.kind)`; None (no plain form): nothing."""
        self.pending.pop(key, None)
        self.fetched.pop(key, None)
        if blob is None:
            self.encoded.pop(key, None)
        else:
            self.encoded[key] = blob

    def prefetch(self, keys: Iterable[str]) -> None:
        """Look `keys` up in a few queries instead of one each (a rebuild asks for every feed)."""
        wanted = [k for k in keys if k not in self.pending and k not in self.encoded]
        found = self.cache.fetch_many(self.name, wanted)
        self.fetched.update((key, self._decode(found.get(key))) for key in wanted)

    def _decode(self, blob: object) -> V | None:
        return None if blob is None else decode(blob, self.kind)

    def rows(self) -> list[tuple[str, bytes]]:
        """What `commit` writes: every value added since, encoded (those without a plain form
        left out)."""
        made = (
            (key, encode(value, self.kind, compress=self.compress))
            for key, value in self.pending.items()
        )
        return [*((key, blob) for key, blob in made if blob is not None), *self.encoded.items()]

    def __getitem__(self, key: str) -> V:
        if key in self.pending:
            return self.pending[key]
        if key in self.encoded:
            value = decode(self.encoded[key], self.kind)
        elif key in self.fetched:
            value = self.fetched[key]
        else:
            value = self._decode(self.cache.fetch(self.name, key))
        if value is None:
            raise KeyError(key)
        return value

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


def schema() -> str:
    """What a cache must have been made with to be used: this layout, this feedsmith, and
    the same installed copies of the libraries that render."""
    return ":".join([str(SCHEMA), __version__, *(_installed(m) for m in RENDERERS)])


def _layout() -> set[tuple[str, str, str | None]]:
    """Every object of a cache file of this layout, as sqlite_master lists it: the tables with
    the very statements that made them, and their primary keys' indexes."""
    tables = {"meta": "TEXT", **dict.fromkeys(_TABLES, "BLOB")}
    return {
        *(("table", name, _create(name, kind)) for name, kind in tables.items()),
        *(("index", f"sqlite_autoindex_{name}_1", None) for name in tables),
    }


def _create(table: str, kind: str) -> str:
    return f"CREATE TABLE {table} (key TEXT PRIMARY KEY, value {kind})"


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
                self._unlink_symlinks()
                self.db = self._connect(folder / _FILE)
                mark = schema()
                if self._layout_is_ours() and self._meta("schema") == mark:
                    self.empty = False
                else:
                    self._reset(mark)
                break
            except (OSError, sqlite3.Error):
                self._drop()
                if attempt == 0:  # a damaged file: start a new one, it is only a cache
                    with contextlib.suppress(OSError):
                        (folder / _FILE).unlink()
        self.files = _Table(self, "files", STATES, compress=True)
        self.entries = _Table(self, "entries", ENTRY, compress=True)
        # Feeds are stored as they are: XML of news in Chinese only halves when compressed,
        # and compressing the feeds cost more at the end of a build than writing them.
        self.feeds = _Table(self, "feeds", FEED, compress=False)

    def _unlink_symlinks(self) -> None:
        """A cache file (or SQLite's journal beside it) that is a symlink would have this
        build write wherever it points: it is removed, never followed."""
        for name in (_FILE, *(_FILE + side for side in _SIDE_FILES)):
            path = self.folder / name
            if path.is_symlink():
                path.unlink()

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        # Saved from a thread of its own while the feeds are written (never at once with
        # other use of the connection).
        db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        # No fsync: losing the cache to a power cut costs one slow build, while waiting for
        # the disk costs every build. A crashed build still rolls back. The other two are
        # SQLite's own advice for a database file that may come from elsewhere.
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA trusted_schema = OFF")
        db.execute("PRAGMA cell_size_check = ON")
        return db

    def _objects(self) -> set[tuple[str, str, str | None]]:
        assert self.db is not None
        rows = self.db.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        return {(str(kind), str(name), sql) for kind, name, sql in rows}

    def _layout_is_ours(self) -> bool:
        """Whether the file holds our tables, made as we make them, and nothing else: no
        other columns, no views or triggers (which reading or writing would run)."""
        return self._objects() == _layout()

    def _meta(self, key: str) -> str | None:
        assert self.db is not None
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None or type(row[0]) is not str else row[0]

    def _reset(self, schema: str) -> None:
        """Start over in this file: whatever it holds is dropped, our empty tables made."""
        assert self.db is not None
        with self.db:
            for kind, name, _ in self._objects():
                if kind in ("table", "view", "trigger") and not name.startswith("sqlite_"):
                    quoted = name.replace('"', '""')
                    self.db.execute(f'DROP {kind.upper()} IF EXISTS "{quoted}"')
            for kind, name, _ in self._objects():  # indexes of tables that remain
                if kind == "index" and not name.startswith("sqlite_"):
                    quoted = name.replace('"', '""')
                    self.db.execute(f'DROP INDEX IF EXISTS "{quoted}"')
            self.db.execute(_create("meta", "TEXT"))
            for table in _TABLES:
                self.db.execute(_create(table, "BLOB"))
            self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (schema,))
        if not self._layout_is_ours():  # what cannot be dropped (an internal table)
            raise sqlite3.DatabaseError("not a cache file of this layout")

    def _drop(self) -> None:
        """Work without a cache when it cannot be opened; the build itself must not fail."""
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
        self.db = None

    def fetch(self, table: str, key: str) -> object:
        """The blob stored under `key`, or None (no such row, or one too large to be ours)."""
        if self.db is None or self.empty:
            return None
        try:
            row = self.db.execute(
                f"SELECT value FROM {table} WHERE key = ? AND length(value) <= ?",  # noqa: S608 - table names are ours
                (key, MAX_RECORD_BYTES),
            ).fetchone()
        except sqlite3.Error:
            return None
        return None if row is None else row[0]

    def fetch_many(self, table: str, keys: Sequence[str]) -> dict[str, object]:
        """The blobs of those of `keys` that are stored (decoded by the table)."""
        found: dict[str, object] = {}
        if self.db is None or self.empty:
            return found
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[start : start + _KEYS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            try:
                rows = self.db.execute(
                    f"SELECT key, value FROM {table} WHERE key IN ({marks}) AND length(value) <= ?",  # noqa: S608 - table names are ours
                    (*chunk, MAX_RECORD_BYTES),
                ).fetchall()
            except sqlite3.Error:
                return found
            found.update(rows)
        return found

    def commit(self) -> None:
        """Write what this build added; a failure here costs only the next build's speed."""
        if self.db is None:
            return
        tables: tuple[_Table[Any], ...] = (self.files, self.entries, self.feeds)
        try:
            with self.db:
                for table in tables:
                    self.db.executemany(
                        f"INSERT OR REPLACE INTO {table.name} VALUES (?, ?)",  # noqa: S608
                        table.rows(),
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
