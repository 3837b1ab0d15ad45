"""Queries on served feeds: `feed.xml?q=商汤&limit=5`, `feed/by_tag/x.json?not_category=y`,
`search.rss?q=…` over the whole site.

Each answer is a feed in the format of its path, made by the library's renderer from the
same entries as the static feeds; `rel=self` is the canonical query (parameters sorted), so
two spellings of one question share one answer, one ETag and one cache entry. What a client
sends is checked here (known parameters only, lengths and counts capped), never compiled into
a pattern, and searched for in a worker thread under a time budget; the event loop only waits.

Caching: the matches of a query are kept for the snapshot they were found in (`generation`);
after a reload they are looked up again (one SQL query), and the rendered answer is kept by
its content key (its entries' keys and its spec), so a change renders again only the answers
whose entries it touched, and a client holding an untouched answer still gets its 304.
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import parse_qsl, quote

from feedsmith import (
    Config,
    FeedSpec,
    Query,
    SearchTimeout,
    feed_content_key,
    held_bytes,
    place_of,
    query_feed,
    render_feed_spec,
    scope_of,
    search_paths,
)
from feedsmith.server.store import FeedStore, Representation, Snapshot, represent
from starlette.concurrency import run_in_threadpool

KNOWN = ("any", "author", "category", "limit", "not_category", "not_tag", "q", "since", "tag")
REPEATABLE = frozenset({"author", "category", "not_category", "not_tag", "tag"})
MAX_QUERY_BYTES = 2048  # of the raw query string
MAX_PARAMETERS = 20
MAX_VALUE_CHARS = 200
MAX_TERMS = 10
# Queries searching at once, per worker: more wait (up to the time budget, then 503), so a
# flood of costly queries cannot take every thread the feeds are rendered in.
MAX_RUNNING = 4
ANSWER_TIMES = 10_000  # answers whose Last-Modified is remembered; others get a new one
_TERM = re.compile(r'"([^"]*)"|([^\s"]+)')


class BadQuery(ValueError):  # noqa: N818 - reads as what it is
    """A query string that asks for something this server does not answer (400)."""

    def __str__(self) -> str:
        return f"{self.args[0]}\nknown parameters: {', '.join(KNOWN)}\n"


@dataclass(frozen=True, slots=True)
class Asked:
    """A query as checked: what it asks, and its canonical query string."""

    query: Query
    canonical: str


def _value(name: str, value: str) -> str:
    text = unicodedata.normalize("NFC", value.strip())
    if len(text) > MAX_VALUE_CHARS:
        raise BadQuery(f"{name}: longer than {MAX_VALUE_CHARS} characters")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        raise BadQuery(f"{name}: control characters are not allowed")
    return text


def _terms(text: str) -> tuple[str, ...]:
    found = [" ".join((m.group(1) or m.group(2) or "").split()) for m in _TERM.finditer(text)]
    terms = tuple(dict.fromkeys(t for t in found if t))
    if len(terms) > MAX_TERMS:
        raise BadQuery(f"q: more than {MAX_TERMS} words and phrases")
    return terms


def _since(text: str, config: Config) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"since: expected a date such as 2022-03-14, got {text!r}") from None
    return datetime(day.year, day.month, day.day, tzinfo=config.tz)


def _limit(text: str, config: Config) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise BadQuery(f"limit: expected a whole number of at least 1, got {text!r}")
    return min(int(text), config.serve_query_limit)


def parse(query_string: bytes, config: Config) -> Asked:
    """Check a query string and put it in canonical form; BadQuery says what is wrong."""
    if len(query_string) > MAX_QUERY_BYTES:
        raise BadQuery(f"the query is longer than {MAX_QUERY_BYTES} bytes")
    try:
        pairs = parse_qsl(
            query_string.decode("latin-1"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_PARAMETERS,
        )
    except UnicodeDecodeError:
        raise BadQuery("the query is not percent-encoded UTF-8") from None
    except ValueError:
        raise BadQuery(f"more than {MAX_PARAMETERS} parameters") from None
    given: dict[str, list[str]] = {}
    for name, raw in pairs:
        if name not in KNOWN:
            shown = name if len(name) <= 40 else name[:40] + "…"
            raise BadQuery(f"unknown parameter {shown!r}")
        value = _value(name, raw)
        if value:  # an empty field of a form asks for nothing
            given.setdefault(name, []).append(value)
    for name, values in given.items():
        if len(values) > 1 and name not in REPEATABLE:
            raise BadQuery(f"{name}: given more than once")
    one = {name: values[0] for name, values in given.items() if name not in REPEATABLE}
    many = {
        name: tuple(sorted(set(values))) for name, values in given.items() if name in REPEATABLE
    }
    if one.get("any", "0") not in ("0", "1", "true", "false"):
        raise BadQuery(f"any: expected 1 or 0, got {one['any']!r}")
    terms = _terms(one.get("q", ""))
    limit = (
        _limit(one["limit"], config)
        if "limit" in one
        else min(config.posts_limit or config.serve_query_limit, config.serve_query_limit)
    )
    query = Query(
        terms=terms,
        categories=many.get("category", ()),
        tags=many.get("tag", ()),
        authors=many.get("author", ()),
        not_categories=many.get("not_category", ()),
        not_tags=many.get("not_tag", ()),
        any=one.get("any") in ("1", "true"),
        since=_since(one["since"], config) if "since" in one else None,
        limit=limit,
    )
    return Asked(query, _canonical(query, explicit_limit="limit" in one))


def _canonical(query: Query, *, explicit_limit: bool) -> str:
    pairs: list[tuple[str, str]] = []
    if query.terms:
        pairs.append(("q", " ".join(f'"{t}"' if " " in t else t for t in query.terms)))
    for name, values in (
        ("author", query.authors),
        ("category", query.categories),
        ("not_category", query.not_categories),
        ("not_tag", query.not_tags),
        ("tag", query.tags),
    ):
        pairs += [(name, value) for value in values]
    if query.any:
        pairs.append(("any", "1"))
    if query.since is not None:
        pairs.append(("since", query.since.date().isoformat()))
    if explicit_limit:
        pairs.append(("limit", str(query.limit)))
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in sorted(pairs))


class AnswerTimes:
    """When each answer's bytes last changed, by its canonical URL: kept for the most recent
    ANSWER_TIMES answers, in memory. A forgotten one gets a new, later time, which costs a
    client polling by date one full download, never a missed change."""

    def __init__(self) -> None:
        self._known: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._lock = threading.Lock()

    def at(self, url: str, content: str, now: float) -> int:
        with self._lock:
            held = self._known.get(url)
            if held is not None and held[0] == content:
                self._known.move_to_end(url)
                return held[1]
            # This second, as an answer is made when it is asked for (a time ahead of the
            # clock would be sent as the clock's, and then match nothing); later than any
            # time the URL had before.
            time = max(math.floor(now), (held[1] + 1) if held else 0)
            self._known[url] = (content, time)
            self._known.move_to_end(url)
            while len(self._known) > ANSWER_TIMES:
                self._known.popitem(last=False)
            return time


def _matches_bytes(found: tuple[int, ...]) -> int:
    return held_bytes() + 8 * len(found)


class Queries:
    """Answers queries for one store: matches from its search index, bytes from its caches."""

    def __init__(self, store: FeedStore) -> None:
        self.store = store
        self.times = AnswerTimes()
        self.matches = store.held.part("matches", _matches_bytes)
        self._running: asyncio.Semaphore | None = None

    def target(self, snapshot: Snapshot, path: str) -> tuple[FeedSpec | None, str] | None:
        """(the feed a query on `path` searches in, None for `/search`; the format), or None
        when `path` takes no query."""
        spec = snapshot.site.routes.get(path)
        if spec is not None:
            return spec, spec.format
        if snapshot.config.serve_search:
            fmt = search_paths(snapshot.config.formats).get(path)
            if fmt is not None:
                return None, fmt
        return None

    async def answer(
        self,
        snapshot: Snapshot,
        *,
        base: FeedSpec | None,
        fmt: str,
        query_string: bytes,
        coding: str,
        now: float,
    ) -> tuple[int, Representation | str]:
        """(200, the prepared answer) or (status, the reason) for 400 and 503."""
        if base is not None and base.archive:
            return 400, "an archive document is answered whole: it takes no query\n"
        try:
            asked = parse(query_string, snapshot.config)
        except BadQuery as exc:
            return 400, str(exc)
        if not self.store.search_ready.is_set():
            return 503, "the search index is being made; try again later\n"
        found = await self._matches(snapshot, base, asked)
        if found is None:
            return 503, "the search took too long; try again later\n"
        site = snapshot.site
        spec = query_feed(
            site,
            base=base,
            fmt=fmt,  # type: ignore[arg-type]
            query=asked.query,
            canonical=asked.canonical,
            posts=found,
        )
        content = feed_content_key(site, spec)
        version = ("query", spec.path, coding, content)
        prepared = self.store.responses.get(version)
        if prepared is None:
            prepared = await run_in_threadpool(self._prepare, snapshot, spec, coding, content, now)
            self.store.responses[version] = prepared
        return 200, prepared

    async def _matches(
        self, snapshot: Snapshot, base: FeedSpec | None, asked: Asked
    ) -> tuple[int, ...] | None:
        scope = scope_of(base)
        # The index version too: matches found before a reload's update are not kept.
        version = self.store.search_version
        key = (snapshot.generation, version, scope, asked.canonical, asked.query.limit)
        kept: tuple[int, ...] | None = self.matches.get(key)
        if kept is not None:
            return kept
        if self._running is None:
            self._running = asyncio.Semaphore(MAX_RUNNING)
        budget = snapshot.config.serve_query_time
        try:
            await asyncio.wait_for(self._running.acquire(), timeout=budget)
        except TimeoutError:
            return None
        try:
            rels = await run_in_threadpool(
                self.store.search.search, scope, asked.query, budget=budget
            )
        except SearchTimeout:
            return None
        finally:
            self._running.release()
        # The index may already hold a newer reload's posts than this snapshot: those are
        # left out here, and found by the next snapshot's queries.
        places = (place_of(snapshot.site, rel) for rel in rels)
        found = tuple(sorted(at for at in places if at is not None))
        self.matches[key] = found
        return found

    def _prepare(
        self, snapshot: Snapshot, spec: FeedSpec, coding: str, content: str, now: float
    ) -> Representation:
        rendered = render_feed_spec(snapshot.site, spec, snapshot.caches)
        at = self.times.at(spec.url, content, now)
        return represent(
            rendered,
            coding,
            max_age=snapshot.config.cache_max_age,
            last_modified=datetime.fromtimestamp(at).astimezone(),
            stored=not snapshot.config.url_is_fallback,
        )


def retry_after(config: Config) -> tuple[tuple[bytes, bytes], ...]:
    return ((b"retry-after", str(max(1, math.ceil(config.serve_query_time))).encode()),)
