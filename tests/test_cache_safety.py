"""A build cache from elsewhere is data, never code, and never trusted blindly.

A CI cache can be restored from another branch's run, a pull request's among them. Whatever its
rows hold — a pickle made to run a command, damaged or random bytes, values of the wrong shape,
tables of another layout, views, triggers, a symlink — the build runs no code from it, does not
fail, and writes exactly what a cold build writes; the rows it could not use are made again.
"""

from __future__ import annotations

import os
import pickle
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgpack
import pytest
import zstandard
from feedsmith import cache as caching
from feedsmith import pipeline
from feedsmith import site as reading
from feedsmith.cache import ENTRY, FEED, STATES, Cache, decode, encode
from feedsmith.model import Author, CachedFeed, Entry, FileState, Post, Problem
from feedsmith.parse import parse_post
from feedsmith.plain import Codec, ShapeError, codec
from feedsmith.state import state_folder
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.test_cache import Archive, _edit_body

TABLES = ("files", "entries", "feeds")
EXAMPLES = settings(
    max_examples=int(os.environ.get("FEEDSMITH_FUZZ_EXAMPLES", "60")), deadline=None
)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    """The generated archive of tests/test_cache.py, built once: its cache is warm."""
    site = Archive(tmp_path)
    site.write()
    site.build()
    return site


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The post files each build parses (none when the cache served them all)."""
    seen: list[str] = []

    def spy(file: Any, config: Any, *, now: datetime) -> Any:
        seen.append(file.rel)
        return parse_post(file, config, now=now)

    monkeypatch.setattr(reading, "parse_post", spy)
    return seen


def _database(archive: Archive) -> Path:
    return archive.state / "cache.sqlite"


def _rewrite_rows(archive: Archive, change: Callable[[str, bytes], object]) -> int:
    """Replace the value of every row of every table by `change(table, value)`."""
    count = 0
    with sqlite3.connect(_database(archive)) as db:
        for table in TABLES:
            rows = db.execute(f"SELECT key, value FROM {table}").fetchall()
            db.executemany(
                f"UPDATE {table} SET value = ? WHERE key = ?",
                [(change(table, value), key) for key, value in rows],
            )
            count += len(rows)
    db.close()
    return count


def _build_equals_cold_and_repairs(archive: Archive, parsed: list[str]) -> None:
    """The build over the doctored cache writes a cold build's bytes without an error, and
    leaves a cache the next build reuses whole."""
    report = archive.check()
    assert not report.errors
    parsed.clear()
    assert archive.build().written == ()
    assert parsed == []


# --- a pickle never runs ---------------------------------------------------------------------


class _RunsCommand:
    """Unpickling this runs a shell command: what a poisoned cache would hold."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Callable[[str], int], tuple[str]]:
        return os.system, (self.command,)


def test_a_pickle_that_runs_a_command_is_never_loaded(
    archive: Archive, parsed: list[str], tmp_path: Path
) -> None:
    """Every row replaced by a pickle that would create a marker file (plain and
    zstd-compressed, as the cache used to store them): no marker, a cold build's bytes."""
    marker = tmp_path / "pwned"
    poison = pickle.dumps(_RunsCommand(f"touch {marker}"))
    assert b"system" in poison
    compressed = zstandard.ZstdCompressor().compress(poison)
    rows = _rewrite_rows(archive, lambda table, _: poison if table == "feeds" else compressed)
    assert rows > 100
    _build_equals_cold_and_repairs(archive, parsed)
    assert not marker.exists()


def test_no_module_of_feedsmith_unpickles_what_it_reads() -> None:
    """Nothing under feeds/ or server/ loads a pickle (workers' results travel through
    multiprocessing, between this process and its own children, never through a file)."""
    sources = [*(ROOT / "feeds").rglob("*.py"), *(ROOT / "server").rglob("*.py")]
    assert len(sources) > 20
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert "import pickle" not in text and "pickle.load" not in text, source
        assert "marshal" not in text and "shelve" not in text, source


# --- damaged and foreign rows ----------------------------------------------------------------


def _unpacked(value: bytes) -> Any:
    if value.startswith(b"\x28\xb5\x2f\xfd"):
        value = zstandard.ZstdDecompressor().decompress(value)
    return msgpack.unpackb(value, use_list=False, unicode_errors="surrogatepass")


def _repacked(value: bytes, change: Callable[[Any], Any]) -> bytes:
    """The row's plain data changed by `change`, stored as the cache stores it."""
    data = msgpack.packb(change(_unpacked(value)), use_bin_type=True)
    compressed: bytes = zstandard.ZstdCompressor().compress(data)
    return compressed if value.startswith(b"\x28\xb5\x2f\xfd") else data


def _each(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """`value` with `leaf` applied to every str, int, bool and bytes in it."""
    if isinstance(value, tuple):
        return tuple(_each(item, leaf) for item in value)
    if isinstance(value, dict):
        return {key: _each(item, leaf) for key, item in value.items()}
    return leaf(value)


def _ints_as_text(value: Any) -> Any:
    return str(value) if type(value) is int else value


def _text_as_ints(value: Any) -> Any:
    return len(value) if type(value) is str else value


def _booleans_as_ints(value: Any) -> Any:
    return int(value) if type(value) is bool else value


def _short(value: Any) -> Any:
    """Every array one item short."""
    if isinstance(value, tuple):
        return tuple(_short(item) for item in value[:-1])
    if isinstance(value, dict):
        return {key: _short(item) for key, item in value.items()}
    return value


def _long(value: Any) -> Any:
    """Every array one item longer."""
    if isinstance(value, tuple):
        return (*(_long(item) for item in value), None)
    if isinstance(value, dict):
        return {key: _long(item) for key, item in value.items()}
    return value


def _bytes_as_text(value: Any) -> Any:
    return value.decode("latin-1") if type(value) is bytes else value


def _other_values(value: Any) -> Any:
    """Every known word replaced: a severity, a markup, a time zone that are none of ours."""
    words = {"warning": "fatal", "notice": "fatal", "markdown": "rst", "html": "rst"}
    words |= {"Asia/Shanghai": "Mars/Olympus", "UTC": "../../etc/passwd"}
    return words.get(value, value) if type(value) is str else value


def _dates_garbled(value: Any) -> Any:
    if type(value) is str and len(value) > 10 and value[4:5] == "-" and value[10:11] == "T":
        return value.replace("-", "/")
    return value


DAMAGES: dict[str, Callable[[str, bytes], object]] = {
    "truncated": lambda _, value: value[: len(value) // 2],
    "one byte short": lambda _, value: value[:-1],
    "random bytes": lambda _, value: random.Random(len(value)).randbytes(len(value)),
    "empty": lambda _, value: b"",
    "text instead of a blob": lambda _, value: value.hex(),
    "a number instead of a blob": lambda _, value: 12345,
    "null": lambda _, value: None,
    "trailing bytes": lambda _, value: value + b"\x00",
    "a zstd frame claiming 1 TB": lambda _, value: (
        b"\x28\xb5\x2f\xfd\xa4" + (1 << 40).to_bytes(8, "little") + b"\x00" * 8
    ),
    "msgpack nested 100,000 deep": lambda _, value: b"\x91" * 100_000 + b"\xc0",
    "msgpack of an array claiming 4 billion items": lambda _, value: b"\xdd\xff\xff\xff\xff",
    "ints as text": lambda _, value: _repacked(value, lambda d: _each(d, _ints_as_text)),
    "text as ints": lambda _, value: _repacked(value, lambda d: _each(d, _text_as_ints)),
    "booleans as ints": lambda _, value: _repacked(value, lambda d: _each(d, _booleans_as_ints)),
    "bytes as text": lambda _, value: _repacked(value, lambda d: _each(d, _bytes_as_text)),
    "arrays one short": lambda _, value: _repacked(value, _short),
    "arrays one longer": lambda _, value: _repacked(value, _long),
    "unknown words": lambda _, value: _repacked(value, lambda d: _each(d, _other_values)),
    "dates that are none": lambda _, value: _repacked(value, lambda d: _each(d, _dates_garbled)),
    "a map where an array belongs": lambda _, value: _repacked(value, lambda d: {"a": d}),
    "an entry where a shard or a feed belongs": lambda table, value: (
        value if table == "entries" else encode(Entry("<p>poisoned</p>", "s", "t"), ENTRY)
    ),
    "a feed where a shard or an entry belongs": lambda table, value: (
        value if table == "feeds" else encode(CachedFeed(b"<p>poisoned</p>", None), FEED)
    ),
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_damaged_rows_give_a_cold_builds_output(
    archive: Archive, parsed: list[str], damage: str
) -> None:
    """Every row of every table damaged alike: the build succeeds, equals a cold one and
    stores rows the next build can use."""
    _rewrite_rows(archive, DAMAGES[damage])
    _edit_body(archive)
    _build_equals_cold_and_repairs(archive, parsed)
    assert "poisoned" not in archive.feed()


# --- a file of another layout ----------------------------------------------------------------


LAYOUTS = {
    "a column more": [
        "DROP TABLE entries",
        "CREATE TABLE entries (key TEXT PRIMARY KEY, value BLOB, extra INTEGER)",
    ],
    "a column missing": ["DROP TABLE files", "CREATE TABLE files (key TEXT PRIMARY KEY)"],
    "columns renamed": ["DROP TABLE feeds", "CREATE TABLE feeds (k TEXT, v BLOB)"],
    "a view in place of a table": [
        "DROP TABLE feeds",
        "CREATE VIEW feeds AS SELECT key, value FROM entries",
    ],
    "a table missing": ["DROP TABLE files"],
    "a trigger": [
        "CREATE TRIGGER wipe AFTER INSERT ON feeds BEGIN DELETE FROM files; END",
    ],
    "a table of its own": ["CREATE TABLE other (x)", "INSERT INTO other VALUES (1)"],
    "meta of another shape": ["DROP TABLE meta", "CREATE TABLE meta (key TEXT, value INTEGER)"],
    "schema of the wrong type": ["UPDATE meta SET value = 9 WHERE key = 'schema'"],
}


@pytest.mark.parametrize("layout", LAYOUTS, ids=list(LAYOUTS))
def test_a_cache_file_of_another_layout_is_started_over(
    archive: Archive, parsed: list[str], layout: str
) -> None:
    """Tables with other columns, views, triggers, other tables: the file is started over
    in our layout, the build equals a cold one, and the next build reuses what it stored."""
    with sqlite3.connect(_database(archive)) as db:
        for statement in LAYOUTS[layout]:
            db.execute(statement)
    db.close()
    _build_equals_cold_and_repairs(archive, parsed)
    with sqlite3.connect(_database(archive)) as db:
        kinds = {(kind, name) for kind, name in db.execute("SELECT type, name FROM sqlite_master")}
    db.close()
    assert {name for kind, name in kinds if kind == "table"} == {"meta", *TABLES}
    assert {kind for kind, _ in kinds} == {"table", "index"}


def test_a_meta_view_that_never_ends_is_not_read(archive: Archive) -> None:
    """`meta` made a view that recurses forever: reading it would hang the build; the build
    finishes (well within the timeout) with a cold build's bytes."""
    with sqlite3.connect(_database(archive)) as db:
        db.execute("DROP TABLE meta")
        db.execute(
            "CREATE VIEW meta AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n)"
            " SELECT 'schema' AS key, max(x) AS value FROM n"
        )
    db.close()
    config = archive.config(archive.out)
    environment = {**os.environ, "FEEDSMITH_CACHE_DIR": os.environ["FEEDSMITH_CACHE_DIR"]}
    done = subprocess.run(
        [sys.executable, "-m", "feedsmith", "build", str(config.source), "-o", str(archive.out)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_a_cache_file_that_is_a_symlink_is_replaced_not_followed(
    archive: Archive, tmp_path: Path
) -> None:
    """cache.sqlite a symlink to a file elsewhere: that file is left as it was, the cache is
    a file of its own again, and the build equals a cold one."""
    elsewhere = tmp_path / "precious.sqlite"
    with sqlite3.connect(elsewhere) as db:
        db.execute("CREATE TABLE files (key TEXT PRIMARY KEY, value BLOB)")
        db.execute("INSERT INTO files VALUES ('mine', x'00')")
    db.close()
    before = elsewhere.read_bytes()
    _database(archive).unlink()
    _database(archive).symlink_to(elsewhere)
    archive.check()
    assert elsewhere.read_bytes() == before
    assert not _database(archive).is_symlink()
    assert _database(archive).is_file()


# --- the state folder is not published -------------------------------------------------------


@pytest.mark.parametrize("where", ["default", "FEEDSMITH_CACHE_DIR", "cache_dir"])
def test_the_cache_is_never_in_the_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Wherever the state folder is (beside the source, under FEEDSMITH_CACHE_DIR, the
    `cache_dir` setting), OUT, even inside the source, holds feeds and nothing of the cache."""
    site = Archive(tmp_path)
    site.write()
    if where == "default":
        monkeypatch.delenv("FEEDSMITH_CACHE_DIR")
    elif where == "cache_dir":
        site.cache_dir = tmp_path / "state"
    out = site.source / "_site"  # Jekyll's default, inside the source
    config = site.config(out)
    for _ in range(2):
        pipeline.build(config, now=site.now, jobs=1)
    state = state_folder(config)
    assert (state / "cache.sqlite").is_file()
    assert not state.resolve().is_relative_to(out.resolve())
    published = [p.relative_to(out).as_posix() for p in out.rglob("*")]
    assert published
    assert not [name for name in published if "feedsmith" in name or "sqlite" in name]


# --- the converters ------------------------------------------------------------------------

ZONES = [ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), ZoneInfo("UTC"), UTC]
ZONES += [timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3))]
# Text as file names give it too: lone surrogates stand for bytes that are not UTF-8.
TEXT = st.text(st.characters() | st.sampled_from(["\udc80", "\udcff", "\x00", "\U0001f600"]))
SOME = st.none() | TEXT
MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from(ZONES)
)
PROBLEMS = st.builds(Problem, TEXT, TEXT, st.sampled_from(["error", "warning", "notice"]))
AUTHORS = st.builds(Author, TEXT, SOME, SOME)
NAMES = st.lists(TEXT, max_size=4).map(tuple)
PAIRS = st.lists(st.tuples(TEXT, TEXT), max_size=3).map(tuple)
POSTS = st.builds(
    Post,
    path=TEXT,
    rel=TEXT,
    digest=TEXT,
    markup=st.sampled_from(["markdown", "html"]),
    title=TEXT,
    date=MOMENTS,
    updated=MOMENTS,
    url=TEXT,
    id=TEXT,
    slug=TEXT,
    categories=NAMES,
    tags=NAMES,
    authors=st.lists(AUTHORS, max_size=3).map(tuple),
    summary=SOME,
    image=SOME,
    lang=SOME,
    excerpt_only=st.none() | st.booleans(),
    collection=TEXT,
    rendered=SOME,
)
INTS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
STATES_ = st.dictionaries(
    TEXT,
    st.builds(
        FileState,
        stamp=st.tuples(INTS, INTS, INTS, INTS),
        post=st.none() | POSTS,
        problems=st.lists(PROBLEMS, max_size=3).map(tuple),
        held_back=SOME,
        taken=INTS,
        key=TEXT,
    ),
    max_size=3,
)
ENTRIES = st.builds(
    Entry,
    content=TEXT,
    summary=TEXT,
    title=TEXT,
    source=SOME,
    problems=st.lists(PROBLEMS, max_size=3).map(tuple),
    links=SOME,
    complete=st.booleans(),
    inputs=PAIRS,
)
FEEDS = st.builds(
    CachedFeed,
    body=st.binary(),
    links=SOME,
    problems=st.lists(PROBLEMS, max_size=3).map(tuple),
    etag=TEXT,
    path=TEXT,
    inputs=PAIRS,
)


def _exactly(back: object, value: object) -> None:
    """Equal, and alike in what == overlooks: each datetime's zone and fold (repr shows both)."""
    assert back == value
    assert repr(back) == repr(value)


@EXAMPLES
@given(st.one_of(POSTS.map(lambda p: (Post, p)), ENTRIES.map(lambda e: (Entry, e))))
def test_converters_give_back_every_post_and_entry(case: tuple[type, Any]) -> None:
    """from_plain(to_plain(x)) is x for any post or entry, zones and folds included."""
    kind, value = case
    made: Codec[Any] = codec(kind)
    _exactly(made.from_plain(made.to_plain(value)), value)


@EXAMPLES
@given(
    st.one_of(
        STATES_.map(lambda v: (STATES, v)),
        ENTRIES.map(lambda v: (ENTRY, v)),
        FEEDS.map(lambda v: (FEED, v)),
    ),
    st.booleans(),
)
def test_what_the_cache_stores_reads_back_the_same(
    case: tuple[Codec[Any], Any], compress: bool
) -> None:
    """What each table holds survives the file: msgpack, compressed or not, and back."""
    kind, value = case
    blob = encode(value, kind, compress=compress)
    assert blob is not None
    _exactly(decode(blob, kind), value)


PLAIN = st.recursive(
    st.none() | st.booleans() | INTS | st.floats() | TEXT | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=20).map(tuple) | st.dictionaries(TEXT, inner, max_size=5)
    ),
    max_leaves=60,
)


@EXAMPLES
@given(PLAIN, st.sampled_from([STATES, ENTRY, FEED]))
def test_any_plain_data_reads_as_a_value_or_as_absent(data: Any, kind: Codec[Any]) -> None:
    """Whatever msgpack a row holds, reading it gives a value of the table's type or None:
    never an exception, never another type."""
    blob = msgpack.packb(data, use_bin_type=True, unicode_errors="surrogatepass")
    value = decode(blob, kind)
    if value is not None:
        assert kind.to_plain(value) == data


def test_a_value_of_the_wrong_type_is_refused_both_ways() -> None:
    """A str where an int belongs, True for an int, an unknown severity, a naive zone object
    of another library: refused when stored (not stored) and when read (absent)."""
    problem = codec(Problem)
    with pytest.raises(ShapeError):
        problem.from_plain(("where", "reason", "fatal"))
    with pytest.raises(TypeError):
        problem.to_plain(Problem("where", "reason", "fatal"))  # type: ignore[arg-type]
    state = codec(FileState)
    with pytest.raises(ShapeError):
        state.from_plain(((1, 2, 3, "4"), None, (), None, 0, ""))
    with pytest.raises(ShapeError):
        state.from_plain(((1, 2, 3, 4), None, (), None, True, ""))
    assert encode({"x": FileState((1, 2, 3, 4), None, taken=True)}, STATES) is None
    named = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=1), "CET"))
    with pytest.raises(TypeError):  # its name would be lost
        codec(datetime).to_plain(named)


def test_a_type_without_a_plain_form_fails_when_its_codec_is_made() -> None:
    """A hint the converters do not know (a float, a set) is an error up front."""
    with pytest.raises(TypeError, match="no plain form"):
        codec(float)
    with pytest.raises(TypeError, match="no plain form"):
        codec(frozenset[str])


def test_every_table_decodes_only_its_own_kind(archive: Archive) -> None:
    """A row of one table copied into another is absent there, not a value of another type."""
    store = Cache(archive.state)
    try:
        assert store.db is not None
        entry = store.db.execute("SELECT value FROM entries LIMIT 1").fetchone()[0]
        feed = store.db.execute("SELECT value FROM feeds LIMIT 1").fetchone()[0]
        shard = store.db.execute("SELECT value FROM files LIMIT 1").fetchone()[0]
    finally:
        store.close()
    as_entry, as_feed, as_shard = decode(entry, ENTRY), decode(feed, FEED), decode(shard, STATES)
    assert type(as_entry) is Entry and type(as_feed) is CachedFeed and type(as_shard) is dict
    assert decode(entry, FEED) is None
    assert decode(entry, STATES) is None
    assert decode(feed, ENTRY) is None
    assert decode(feed, STATES) is None
    assert decode(shard, ENTRY) is None
    assert decode(shard, FEED) is None


def _rows(archive: Archive) -> Iterator[tuple[str, bytes]]:
    with sqlite3.connect(_database(archive)) as db:
        for table in TABLES:
            yield from ((table, v) for (v,) in db.execute(f"SELECT value FROM {table}"))
    db.close()


def test_every_stored_row_is_plain_msgpack(archive: Archive) -> None:
    """What a build stores reads as msgpack of plain data, no pickle opcode at its start."""
    rows = list(_rows(archive))
    assert {table for table, _ in rows} == set(TABLES)
    for _, value in rows:
        assert not value.startswith(b"\x80")  # every pickle since protocol 2 starts so
        _unpacked(value)
    assert caching.SCHEMA >= 9
