"""The search index: every post's text and names in SQLite (FTS5, trigram), for `serve`'s queries.

`serve` answers questions no file can: `feed.xml?q=商汤&limit=5`, `feed/by_tag/x.xml?not_category=y`,
`search.json?q="interest rate"`. The index lives beside the build cache in the state folder
(`search.sqlite`), one per replica: it is never part of the output, so outputs stay
deterministic. Each post is one row, keyed by its relative path and its entry key (which changes
whenever the file or a setting that shapes the post does), so an update after a change touches
only the posts that changed. A file that is missing, damaged, or marked with another schema is
made again from the site.

Text is matched by substring, case-insensitively, in titles, summaries and bodies: the
trigram tokenizer finds any run of three or more characters (Chinese has no spaces between
words: `商汤科技` is found by `商汤科`), and a shorter term (`商汤`, `AI`) is looked for with
`instr` over the rows the other conditions leave, bounded by the query's time budget. No pattern a client sends is
ever compiled: terms are bound as values, never spliced into SQL or a regular expression.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from feedsmith import permalink
from feedsmith.errors import FeedsError
from feedsmith.index import format_path
from feedsmith.model import FORMATS, FeedSpec, Format, Post
from feedsmith.parse import read_source
from feedsmith.site import Site, place_of
from feedsmith.state import no_symlinks, usable
from feedsmith.text import plain_text

FILE_NAME = "search.sqlite"
# Bump whenever the tables or what is put in them change: an index with another mark is made
# again. The SQLite version is part of it, as the trigram tokenizer's folding may differ.
SCHEMA = f"feedsmith-search 3 sqlite {sqlite3.sqlite_version}"
# The schema before names carried their post's date: brought up to this one in place (12 s
# at 1,000,000 posts), not made again (25 minutes).
_DATELESS_NAMES = f"feedsmith-search 2 sqlite {sqlite3.sqlite_version}"
TRIGRAM = 3  # the shortest term the trigram index can find; shorter ones are scanned for
BATCH = 1000  # posts added per transaction
MAX_BODY_CHARS = 200_000  # of one post's text; a larger body is indexed up to here
# A stock widget's code (`data-code="1,600848"`) says what the text is about though it is no
# text: `q=600848` finds the posts that quote that company.
_DATA_CODE = re.compile(r'data-code2?="([^"]{1,40})"')


class SearchTimeout(FeedsError):  # noqa: N818 - reads as what happened
    """A query ran out of its time budget."""


@dataclass(frozen=True, slots=True)
class Scope:
    """The posts a query looks among: those of one feed (its collection and, for a category,
    tag or author feed, its name), or every post and document (`/search`)."""

    collection: str | None = "posts"  # None: every collection
    kind: str | None = None  # "category", "tag" or "author"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """What a client asked for, checked and in one canonical form (see server.query)."""

    terms: tuple[str, ...] = ()  # each must occur (a phrase is one term)
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    not_categories: tuple[str, ...] = ()
    not_tags: tuple[str, ...] = ()
    any: bool = False  # any of the categories, tags and authors named, not all of them
    since: datetime | None = None  # aware: midnight of the day asked for, in the site's zone
    limit: int = 20


@dataclass(frozen=True, slots=True)
class Update:
    """What one update of the index did."""

    added: int
    removed: int
    seconds: float
    rebuilt: bool = False


def index_text(post: Post, max_bytes: int) -> tuple[str, str, str]:
    """(title, summary, body) as indexed: plain text, the body with its widgets' codes.

    The body is read from the source file (its front matter cut off, its markup removed), not
    rendered: indexing an archive of 100,000 posts must not cost rendering each of them.
    A file that cannot be read any more is indexed by its title and summary.
    """
    try:
        raw = read_source(post.path, post.rel, max_bytes=max_bytes, front_matter=False).body
    except (FeedsError, OSError):
        raw = ""
    codes = " ".join(dict.fromkeys(_DATA_CODE.findall(raw)))
    body = plain_text(raw[: MAX_BODY_CHARS * 2])[:MAX_BODY_CHARS]
    return plain_text(post.title), plain_text(post.summary or ""), f"{body} {codes}".strip()


# Each name's posts newest first straight from an index: a query on a category of 100,000
# posts reads its newest `limit`, not all of them to sort.
_DATED_NAMES = (
    "ALTER TABLE names ADD COLUMN at REAL NOT NULL DEFAULT 0",
    "UPDATE names SET at = (SELECT p.at FROM posts p WHERE p.id = names.post)",
    "DROP INDEX names_by_name",
    "DROP INDEX names_by_post",
    "CREATE INDEX names_by_date ON names (kind, name, at DESC, post)",
    "CREATE INDEX names_of_post ON names (post, kind, name)",
)

_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE posts (
    id INTEGER PRIMARY KEY, rel TEXT NOT NULL UNIQUE, key TEXT NOT NULL,
    at REAL NOT NULL, collection TEXT NOT NULL);
CREATE INDEX posts_by_date ON posts (at DESC, rel);
CREATE TABLE names (
    post INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, at REAL NOT NULL DEFAULT 0);
CREATE INDEX names_by_date ON names (kind, name, at DESC, post);
CREATE INDEX names_of_post ON names (post, kind, name);
CREATE VIRTUAL TABLE text USING fts5(words, tokenize = 'trigram', detail = 'none');
"""


def _places(site: Site, rels: Iterable[str]) -> Iterator[tuple[str, tuple[int, str]]]:
    """(relative path, (its place in the index, its entry key)) of each post of `rels` the
    site publishes."""
    for rel in rels:
        at = place_of(site, rel)
        if at is not None:
            yield rel, (at, site.entry_keys[at])


class SearchIndex:
    """The search index of one site, in `folder` (None, or a folder that cannot hold it: a
    temporary file, removed on close). Safe to use from many threads: each has its own
    connection; writes are serialised by SQLite (several worker processes may share it)."""

    def __init__(self, folder: Path | None) -> None:
        self._temporary: Path | None = None
        if folder is None or not usable(folder):
            self._temporary = Path(tempfile.mkdtemp(prefix="feedsmith-search-"))
            folder = self._temporary
        self.path = folder / FILE_NAME
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.rebuilt = self._open_or_make()

    # --- the file --------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode = WAL")  # readers go on while a reload writes
        db.execute("PRAGMA synchronous = NORMAL")  # the index can always be made again
        with self._lock:
            self._connections.append(db)
        return db

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        return db

    @contextlib.contextmanager
    def _alone(self) -> Iterator[None]:
        """One process at a time checks and makes the file: two workers starting together
        must not each remove what the other has just made."""
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path.with_name(FILE_NAME + ".lock"), flags, 0o644)
        except OSError:
            yield
            return
        try:
            with contextlib.suppress(ImportError):
                import fcntl  # noqa: PLC0415 - POSIX only; elsewhere not serialised

                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _open_or_make(self) -> bool:
        """Open the index; make it anew when it is missing, damaged or of another schema.
        Returns whether it was made anew."""
        with self._alone():
            return self._check_or_make()

    def _check_or_make(self) -> bool:
        no_symlinks(self.path)
        try:
            mark = self._db().execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            self._db().execute("SELECT count(*) FROM posts").fetchone()
            if mark is not None and mark[0] == SCHEMA:
                return False
            if mark is not None and mark[0] == _DATELESS_NAMES:
                self._date_names()
                return False
        except sqlite3.DatabaseError:
            pass
        self._remove()
        db = self._db()
        db.executescript(_TABLES)
        db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
        return True

    def _date_names(self) -> None:
        db = self._db()
        with _transaction(db):
            for statement in _DATED_NAMES:
                db.execute(statement)
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA,))

    def _remove(self) -> None:
        self._close_all()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _close_all(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for db in connections:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        self._local = threading.local()

    def close(self) -> None:
        self._close_all()
        if self._temporary is not None:
            self._remove()
            with contextlib.suppress(OSError):
                self._temporary.rmdir()

    # --- keeping it up to date -------------------------------------------------------------

    def update(
        self,
        site: Site,
        stop: threading.Event | None = None,
        pause: Callable[[], None] | None = None,
        only: Collection[str] | None = None,
    ) -> Update:
        """Make the index hold exactly the posts of `site`: rows of removed or changed posts
        go, new and changed ones are added. Damage found on the way: made again from `site`.
        `only`: the relative paths of the only files that can have changed since the index
        last held a site (a live change), so that the rest are not compared.

        New posts are written in batches, each committed: a build stopped half way (`stop`
        set, the process ended) is taken up where it stopped by the next update.
        """
        started = time.perf_counter()
        with self._alone():  # workers sharing the file take turns; the second finds it done
            try:
                added, removed = self._update(site, stop, pause, only)
            except sqlite3.OperationalError:
                raise  # locked, read-only, out of space: not damage, the file stays
            except sqlite3.DatabaseError:
                self._remove()
                self._check_or_make()
                added, removed = self._update(site, stop, pause)
                return Update(added, removed, time.perf_counter() - started, rebuilt=True)
        return Update(added, removed, time.perf_counter() - started, rebuilt=self.rebuilt)

    def _update(
        self,
        site: Site,
        stop: threading.Event | None,
        pause: Callable[[], None] | None,
        only: Collection[str] | None = None,
    ) -> tuple[int, int]:
        db = self._db()
        if only is None or self.rebuilt:
            wanted = {post.rel: (i, site.entry_keys[i]) for i, post in enumerate(site.index.posts)}
            rows = db.execute("SELECT id, rel, key FROM posts")
        else:
            wanted = dict(_places(site, only))
            rows = db.execute(
                "SELECT id, rel, key FROM posts WHERE rel IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(only)),),
            )
        held = {rel: (row, key) for row, rel, key in rows}
        gone = [row for rel, (row, key) in held.items() if wanted.get(rel, (0, ""))[1] != key]
        fresh = sorted(
            (i, key) for rel, (i, key) in wanted.items() if held.get(rel, (0, ""))[1] != key
        )
        with _transaction(db):
            for start in range(0, len(gone), 500):
                chunk = [(row,) for row in gone[start : start + 500]]
                db.executemany("DELETE FROM posts WHERE id = ?", chunk)
                db.executemany("DELETE FROM names WHERE post = ?", chunk)
                db.executemany("DELETE FROM text WHERE rowid = ?", chunk)
        max_bytes = site.config.max_post_bytes
        for start in range(0, len(fresh), BATCH):
            if stop is not None and stop.is_set():
                return start, len(gone)
            with _transaction(db):
                for i, key in fresh[start : start + BATCH]:
                    if pause is not None:  # `serve`: a request being rendered goes first
                        pause()
                    self._insert(db, site.index.posts[i], key, max_bytes)
        with contextlib.suppress(sqlite3.Error):  # the log back to its size: readers go on
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(fresh), len(gone)

    @staticmethod
    def _insert(db: sqlite3.Connection, post: Post, key: str, max_bytes: int) -> None:
        at = post.date.timestamp()
        cursor = db.execute(
            "INSERT INTO posts (rel, key, at, collection) VALUES (?, ?, ?, ?)",
            (post.rel, key, at, post.collection),
        )
        row = cursor.lastrowid
        db.executemany(
            "INSERT INTO names VALUES (?, ?, ?, ?)",
            [(row, kind, name, at) for kind, name in _names(post)],
        )
        db.execute(
            "INSERT INTO text (rowid, words) VALUES (?, ?)",
            (row, "\n".join(index_text(post, max_bytes))),
        )

    # --- asking it ---------------------------------------------------------------------------

    def search(self, scope: Scope, query: Query, *, budget: float) -> list[str]:
        """The relative paths of the posts that match, newest first, at most `query.limit`.

        SearchTimeout when the query takes longer than `budget` seconds: SQLite is told to
        stop, so a costly query ends there and holds no thread.
        """
        db = self._db()
        sql, values = _statement(scope, query, lambda kind, name: _size(db, kind, name))
        deadline = time.monotonic() + budget
        db.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
        try:
            return [rel for (rel,) in db.execute(sql, values)]
        except sqlite3.OperationalError as exc:
            if "interrupt" in str(exc):
                raise SearchTimeout(f"the query took longer than {budget:g} s") from exc
            raise
        finally:
            db.set_progress_handler(None, 0)

    def rows(self) -> Iterator[tuple[object, ...]]:
        """Every post as indexed, by relative path: what two indexes of one site share."""
        db = self._db()
        names = {
            row: sorted(found)
            for row, found in _grouped(db.execute("SELECT post, kind, name FROM names"))
        }
        query = (
            "SELECT p.id, p.rel, p.key, p.at, p.collection, t.words "
            "FROM posts p JOIN text t ON t.rowid = p.id ORDER BY p.rel"
        )
        for row, *rest in db.execute(query):
            yield (*rest, tuple(names.get(row, ())))

    def size(self) -> int:
        """Bytes the index takes on disk (its write-ahead log included)."""
        files = (Path(f"{self.path}{suffix}") for suffix in ("", "-wal"))
        return sum(file.stat().st_size for file in files if file.exists())


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise


def _grouped(rows: Iterator[tuple[int, str, str]]) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for row, kind, name in rows:
        found.setdefault(row, []).append((kind, name))
    yield from found.items()


def _names(post: Post) -> list[tuple[str, str]]:
    return [
        *(("category", name) for name in dict.fromkeys(post.categories)),
        *(("tag", name) for name in dict.fromkeys(post.tags)),
        *(("author", author.name) for author in dict.fromkeys(post.authors)),
    ]


Clause = tuple[str, list[object]]  # SQL with placeholders, and their values

# How many posts a name has, counted no further than this: enough to tell which of a query's
# names has fewest (the one its answer is read along), never the cost of a whole category.
_COUNTED = 5000


def _size(db: sqlite3.Connection, kind: str, name: str) -> int:
    sql = "SELECT count(*) FROM (SELECT 1 FROM names WHERE kind = ? AND name = ? LIMIT ?)"
    (count,) = db.execute(sql, (kind, name, _COUNTED)).fetchone()
    return int(count)


def _has(kind: str, names: Sequence[str]) -> Clause:
    """The post `p` has one of `names` of `kind` (an index lookup by post)."""
    marks = ",".join("?" * len(names))
    return (
        "EXISTS (SELECT 1 FROM names m WHERE m.post = p.id AND m.kind = ? "  # noqa: S608 - placeholders only
        f"AND m.name IN ({marks}))",
        [kind, *names],
    )


def _wanted(scope: Scope, query: Query) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(the names a post must all have, the names it must have one of when `any`)."""
    named = [
        *(("category", n) for n in query.categories),
        *(("tag", n) for n in query.tags),
        *(("author", n) for n in query.authors),
    ]
    required = (
        [(scope.kind, scope.name)] if scope.kind is not None and scope.name is not None else []
    )
    if query.any:
        return required, named
    return required + named, []


def _other_clauses(scope: Scope, query: Query, *, dated: str) -> list[Clause]:
    """The conditions besides the names a post must have: its collection, the names it must
    not have, its date (`dated`: the column that holds it), its text."""
    clauses: list[Clause] = []
    if scope.collection is not None:
        clauses.append(("p.collection = ?", [scope.collection]))
    for kind, names in (("category", query.not_categories), ("tag", query.not_tags)):
        if names:
            clause, given = _has(kind, names)
            clauses.append((f"NOT {clause}", given))
    if query.since is not None:
        clauses.append((f"{dated} >= ?", [query.since.timestamp()]))
    return clauses + _text_clauses(query.terms)


def _along(driver: tuple[str, str], must: list[tuple[str, str]], others: list[Clause]) -> Clause:
    """The newest posts of one name (`driver`, read from the index by date) that meet every
    other condition: `must` (names they must have too) and `others`."""
    clauses: list[Clause] = [("d.kind = ? AND d.name = ?", list(driver))]
    clauses += [_has(kind, [name]) for kind, name in must]
    clauses += others
    where = " AND ".join(clause for clause, _ in clauses)
    sql = (
        "SELECT p.rel AS rel, d.at AS at FROM names d JOIN posts p ON p.id = d.post "  # noqa: S608 - placeholders only
        f"WHERE {where} ORDER BY d.at DESC, p.rel LIMIT ?"
    )
    return sql, [v for _, given in clauses for v in given]


def _statement(
    scope: Scope, query: Query, size: Callable[[str, str], int]
) -> tuple[str, list[object]]:
    """The SQL of a query and its values: only placeholders carry what the client sent.

    A query that names a category, tag or author is read along that name's posts, newest
    first from the index, until `limit` match (of several names a post must have, along the
    one with fewest posts, as `size` tells); with `any`, along each name in turn, and the
    newest of all those kept. Any other query is read along every post by date."""
    required, alternatives = _wanted(scope, query)
    limit = query.limit
    if alternatives:
        others = _other_clauses(scope, query, dated="d.at")
        arms = [_along(name, required, others) for name in dict.fromkeys(alternatives)]
        union = " UNION ".join(f"SELECT * FROM ({sql})" for sql, _ in arms)  # noqa: S608
        values = [v for _, given in arms for v in [*given, limit]]
        return f"SELECT rel FROM ({union}) ORDER BY at DESC, rel LIMIT ?", [*values, limit]  # noqa: S608
    if required:
        candidates = list(dict.fromkeys(required))
        driver = candidates[0] if len(candidates) == 1 else min(candidates, key=lambda n: size(*n))
        must = [named for named in required if named != driver]
        sql, values = _along(driver, must, _other_clauses(scope, query, dated="d.at"))
        return f"SELECT rel FROM ({sql}) ORDER BY at DESC, rel", [*values, limit]  # noqa: S608
    clauses = _other_clauses(scope, query, dated="p.at")
    sql = "SELECT p.rel FROM posts p"
    if clauses:
        sql += " WHERE " + " AND ".join(clause for clause, _ in clauses)
    sql += " ORDER BY p.at DESC, p.rel LIMIT ?"
    return sql, [*(v for _, given in clauses for v in given), limit]


_SHORT = (
    "EXISTS (SELECT 1 FROM text t WHERE t.rowid = p.id AND instr(lower(t.words), lower(?)) > 0)"
)
_LONG = "p.id IN (SELECT rowid FROM text WHERE words LIKE ?)"
_WILD = (
    "p.id IN (SELECT rowid FROM text t WHERE t.words LIKE ? AND "
    "instr(lower(t.words), lower(?)) > 0)"
)


def _text_clauses(terms: Sequence[str]) -> list[tuple[str, list[object]]]:
    """The conditions on the text: every term must occur in the title, summary or body."""
    clauses: list[tuple[str, list[object]]] = []
    for term in terms:
        # A short term is looked for in the rows the other conditions leave, newest first,
        # until `limit` are found. Both ways ignore ASCII case only.
        if len(term) < TRIGRAM:
            clauses.append((_SHORT, [term]))
            continue
        # LIKE is what a trigram index answers without positions (`detail=none`, half the
        # size): the rows holding the term's trigrams, each then checked. With an ESCAPE it
        # would scan every row, so `%` and `_` in a term stay wildcards there (a wider net)
        # and `instr` then checks the term as written.
        pattern = f"%{term}%"
        if "%" in term or "_" in term:
            clauses.append((_WILD, [pattern, term]))
        else:
            clauses.append((_LONG, [pattern]))
    return clauses


# --- a query as a feed ------------------------------------------------------------------------

SEARCH_STEM = "search"  # `/search.xml`, `/search.rss`, `/search.json`: the whole site


def scope_of(spec: FeedSpec | None) -> Scope:
    """The posts a query on the feed `spec` looks among (None: `/search`, every document)."""
    if spec is None:
        return Scope(collection=None)
    collection = spec.collection or "posts"
    if spec.kind in ("category", "tag", "author"):
        return Scope(collection, spec.kind, spec.name)
    return Scope(collection)


def describe(query: Query) -> str:
    """What was asked, for the feed's title: `search “商汤”, tag AI, the last 5`."""
    parts = []
    if query.terms:
        parts.append("search " + " ".join(f"“{t}”" for t in query.terms))
    joiner = " or " if query.any else ", "
    named = [
        *(f"category {n}" for n in query.categories),
        *(f"tag {n}" for n in query.tags),
        *(f"author {n}" for n in query.authors),
    ]
    if named:
        parts.append(joiner.join(named))
    parts += [f"not category {n}" for n in query.not_categories]
    parts += [f"not tag {n}" for n in query.not_tags]
    if query.since is not None:
        parts.append(f"since {query.since.date().isoformat()}")
    parts.append(f"the last {query.limit}")
    return ", ".join(parts)


def query_feed(
    site: Site,
    *,
    base: FeedSpec | None,
    fmt: Format,
    query: Query,
    canonical: str,
    posts: tuple[int, ...],
) -> FeedSpec:
    """The feed answering `query` on `base` (None: `/search`) in `fmt`: its entries `posts`,
    its `self` the canonical query URL (`canonical`: the sorted query string), its title
    saying what was asked. No hub is named: a hub is told of the site's feeds only."""
    config = site.config
    if base is None:
        paths = search_paths(config.formats)
        path = next(p for p, f in paths.items() if f == fmt)
        title, excerpt_only = config.site_title, config.excerpt_only
        plain: dict[str, str] = {
            f: permalink.absolute(config.url, config.baseurl, p) for p, f in paths.items()
        }
    else:
        path, title, excerpt_only = base.path, base.title, base.excerpt_only
        plain = {base.format: base.url, **dict(base.alternates)}
    urls = {f: f"{plain[f]}?{canonical}" for f in FORMATS if f in plain}
    return FeedSpec(
        kind="site" if base is None else base.kind,
        name=None if base is None else base.name,
        collection=None if base is None else base.collection,
        format=fmt,
        path=f"{path}?{canonical}",
        url=urls[fmt],
        title=f"{title} | {describe(query)}",
        posts=posts,
        total=len(posts),
        excerpt_only=excerpt_only,
        alternates=tuple((f, url) for f, url in urls.items() if f != fmt),
    )


def search_paths(formats: Sequence[Format]) -> dict[str, Format]:
    """The paths of `/search` in each format the site writes: `search.xml` -> atom, ..."""
    return {format_path(SEARCH_STEM + ".xml", fmt): fmt for fmt in formats}
