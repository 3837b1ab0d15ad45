"""The render half: a Site -> the bytes of each output file, reusing what the caches hold.

`render_file(site, path, caches)` makes one file: a feed (spliced from its entries'
serialised fragments), the OPML list, or a page for people. `build` calls it for every file it
writes and `serve` for the file a request names, so both give the same bytes by construction.
`prepare` only saves time: it renders, in worker processes, the entries that many files need,
into the same caches `render_file` then reads.

What can be reused is in one `Caches` object: entries by content key, their fragments, feeds by
content key; in `build` over the build cache (whose feeds refer to their files in the output
folder), in `serve` bounded maps in memory.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feedsmith import pages
from feedsmith.cache import ENTRY, LRU, Cache, encode
from feedsmith.config import Config
from feedsmith.errors import OutputError, PostError
from feedsmith.files import read_regular
from feedsmith.keys import feed_key, list_key, page_key
from feedsmith.model import (
    MEDIA_TYPES,
    CachedFeed,
    Entry,
    FeedSpec,
    Format,
    Globals,
    Post,
    Problem,
    Progress,
    RenderedFile,
    quiet,
)
from feedsmith.parallel import MIN_ITEMS, pmap
from feedsmith.render import entry_fragments, etag_of, link_tag, render, render_opml
from feedsmith.site import Site, without_posts
from feedsmith.write import target

Kind = tuple[Format, bool]  # how feeds show an entry: their format, and excerpts only or not


# What a value kept in memory is counted as beyond its text and bytes (the objects around
# them, the cache's own records): more than they take, so that a bound on bytes holds.
HELD_OVERHEAD = 1024


def held_bytes(*parts: str | bytes | None, problems: Iterable[Problem] = ()) -> int:
    """The memory a value made of `parts` (and carrying `problems`) is counted as taking."""
    return (
        HELD_OVERHEAD
        + sum(sys.getsizeof(part) for part in parts if part is not None)
        + sum(sys.getsizeof(p.where) + sys.getsizeof(p.reason) + 64 for p in problems)
    )


def entry_bytes(entry: Entry) -> int:
    return held_bytes(
        entry.content, entry.summary, entry.title, entry.source, problems=entry.problems
    )


def feed_bytes(feed: CachedFeed) -> int:
    return held_bytes(feed.body, feed.etag, feed.path, problems=feed.problems)


@dataclass
class Caches:
    """What rendering may reuse: entries, their fragments and feeds, by content key.

    `entries` and `fragments` are in memory (bounded in `serve`, for this run in `build`);
    `fragments=None` keeps none across files. Feeds go to the build cache when there is one
    (`stored`; the feeds then refer to their files in `output`), else to `feeds` (None: not
    kept). `read_back` collects the feeds whose bytes were read back from `output`.
    """

    entries: MutableMapping[str, Entry] = field(default_factory=dict)
    fragments: MutableMapping[tuple[Kind, str], bytes] | None = field(default_factory=dict)
    feeds: MutableMapping[str, CachedFeed] | None = None
    stored: Cache | None = None
    output: Path | None = None
    read_back: set[str] = field(default_factory=set)
    _checked: dict[Path, Path] = field(default_factory=dict)  # folders resolved in `output`

    @classmethod
    def in_memory(cls, held: LRU[Any, Any]) -> Caches:
        """Entries and feeds kept in `held`, under its bound on bytes (what `serve` keeps)."""
        return cls(
            entries=held.part("entry", entry_bytes),
            fragments=None,
            feeds=held.part("feed", feed_bytes),
        )

    @classmethod
    def over(cls, stored: Cache, output: Path) -> Caches:
        """Caches for one build over the build cache of the output folder `output`."""
        return cls(stored=stored, output=output)

    def entry(self, key: str) -> Entry | None:
        found = self.entries.get(key)
        if found is None and self.stored is not None:
            found = self.stored.entries.get(key)
            if found is not None:
                self.entries[key] = found
        return found

    def keep_entry(self, key: str, entry: Entry, encoded: bytes | None = None) -> None:
        """Keep an entry; `encoded`: the build cache's record of it, made in a worker. A
        stand-in for a post that could not be read (`complete=False`) is never kept."""
        if not entry.complete:
            return
        self.entries[key] = entry
        if self.stored is not None:
            if encoded is not None:
                self.stored.entries.set_encoded(key, encoded)
            else:
                self.stored.entries[key] = entry

    @property
    def encodes(self) -> bool:
        """Whether workers should encode the entries they render for the build cache."""
        return self.stored is not None

    def fragment(self, kind: Kind, key: str) -> bytes | None:
        return self.fragments.get((kind, key)) if self.fragments is not None else None

    def keep_fragment(self, kind: Kind, key: str, fragment: bytes) -> None:
        if self.fragments is not None:
            self.fragments[(kind, key)] = fragment

    def look_ahead(self, keys: Iterable[str]) -> None:
        """Fetch these feeds from the build cache in a few queries instead of one each."""
        if self.stored is not None:
            self.stored.feeds.prefetch(keys)

    def feed(self, key: str) -> CachedFeed | None:
        if self.stored is not None:
            found: CachedFeed | None = self.stored.feeds.get(key)
            return found
        return self.feeds.get(key) if self.feeds is not None else None

    def keep_feed(self, key: str, feed: CachedFeed) -> None:
        if self.stored is not None:
            self.stored.feeds[key] = feed
        elif self.feeds is not None:
            self.feeds[key] = feed

    def cached_body(self, found: CachedFeed, path: str, links: str) -> bytes | None:
        """The bytes of a cached feed, or None when they cannot be used: it shows a link to a
        post that has moved since, or it refers to a file in `output` that has changed."""
        if found.links not in (None, links) or not unchanged(found.inputs):
            return None
        if found.body:
            return found.body
        if self.output is None or not found.etag:
            return None
        try:
            body = target(self.output, path, self._checked).read_bytes()
        except (OSError, OutputError):
            return None
        if etag_of(body) != found.etag:
            return None
        self.read_back.add(path)
        return body


# --- which files there are, and what they depend on -----------------------------------------


def output_paths(site: Site) -> tuple[str, ...]:
    """Every file `build` writes: each feed (archive documents included), the OPML list and
    the pages for people."""
    paths = tuple(spec.path for spec in site.specs)
    listed = (site.config.opml,) if site.config.opml else ()
    return (*paths, *listed, *site.pages, *_own_files(site.config))


def _own_files(config: Config) -> tuple[str, ...]:
    """The files that are the same for any posts: the built-in stylesheet, when asked for."""
    return (pages.STYLESHEET,) if config.stylesheet == "builtin" else ()


def serves(site: Site, path: str) -> bool:
    """Whether `path` names a file of the site: an output file, or `/` (the list of feeds)."""
    return (
        path in site.routes
        or path in site.pages
        or path == pages.INDEX
        or bool(site.config.opml and path == site.config.opml)
        or path in _own_files(site.config)
    )


def links_data(site: Site) -> dict[str, Any]:
    """What the Jekyll plugin needs: the files a build writes (Jekyll must keep them), and the
    autodiscovery tags of the site, of each category and of each tag (`{% feed_meta %}`)."""
    shown = [spec for spec in site.specs if not spec.archive and spec.collection is None]
    by_name: dict[str, dict[str, list[str]]] = {"category": {}, "tag": {}}
    for spec in shown:
        if spec.kind in by_name and spec.name is not None:
            by_name[spec.kind].setdefault(spec.name, []).append(link_tag(spec))
    return {
        "files": list(output_paths(site)),
        "site": [link_tag(spec) for spec in shown if spec.kind == "site"],
        **by_name,
    }


def output_keys(site: Site) -> dict[str, str]:
    """Every output file's content key, by path: equal keys, equal bytes.

    Cheap (no entry is rendered): what tells which files a change touched, for WebSub pings
    and for the time a served file last changed.
    """
    found = {spec.path: _feed_key(site, spec) + site.links.version for spec in site.specs}
    if site.config.opml:
        found[site.config.opml] = list_key(site.specs, site.fingerprint)
    for path in site.pages:
        found[path] = _page_key(site, path, found)
    for path in _own_files(site.config):
        found[path] = etag_of(pages.stylesheet())
    return found


def feed_content_key(site: Site, spec: FeedSpec) -> str:
    """The content key of any feed of the site, one of its files or not: equal keys, equal
    bytes (what `output_keys` gives each file)."""
    return _feed_key(site, spec) + site.links.version


def _page_key(site: Site, path: str, keys: Mapping[str, str] | None = None) -> str:
    """What a page for people shows: its feeds (all of them for the list). Without `keys`,
    the feeds' keys without the site's links: a page depends on them only through entries
    that link to other posts, and its cached copy says so (see _page_file), so one post
    added no longer makes every page of the site again."""
    formats = site.pages.get(path) or tuple(s for s in site.specs if not s.archive)
    feeds = [keys[s.path] if keys else _feed_key(site, s) for s in formats]
    return page_key(path, feeds, site.fingerprint)


def _feed_key(site: Site, spec: FeedSpec) -> str:
    return feed_key(spec, [site.entry_keys[i] for i in spec.posts], site.fingerprint)


# --- one file ---------------------------------------------------------------------------------


def render_file(site: Site, path: str, caches: Caches | None = None) -> RenderedFile | None:
    """The bytes of the file `path` names (None when the site has none): a feed, the OPML
    list, or a page for people (`site.pages`, and the list of feeds at `pages.INDEX`).
    """
    caches = caches if caches is not None else Caches()
    spec = site.routes.get(path)
    if spec is not None:
        return _feed_file(site, spec, caches)
    config = site.config
    if config.opml and path == config.opml:
        return _file(path, render_opml(site.specs, config), MEDIA_TYPES["opml"])
    if path == pages.INDEX or path in site.pages:
        return _page_file(site, path, caches)
    if path in _own_files(config):
        return _file(path, pages.stylesheet(), pages.STYLESHEET_TYPE)
    return None


def render_feed_spec(site: Site, spec: FeedSpec, caches: Caches | None = None) -> RenderedFile:
    """The bytes of a feed that is no file of the site (a query's answer in `serve`), made
    as every feed is: the same entries, fragments and splicing, cached by content key."""
    return _feed_file(site, spec, caches if caches is not None else Caches())


def _page_file(site: Site, path: str, caches: Caches) -> RenderedFile:
    """A page for people; cached as feeds are, so an unchanged rebuild renders none."""
    key = _page_key(site, path)
    kept = path in site.pages  # `/` is never a file of the output folder
    found = caches.feed(key) if kept else None
    if found is not None:
        body = caches.cached_body(found, path, site.links.version)
        if body is not None:
            return _file(path, body, pages.HTML, etag=found.etag)
    formats = site.pages.get(path)
    listing = site.config.subscribe_page if site.config.subscribe_page in site.pages else None
    shown: list[Entry] = []
    if formats:
        entries = entries_of(site, formats[0].posts, caches)
        body = pages.preview_page(formats, site.index, entries, site.config, listing)
        shown = [entries[i] for i in formats[0].posts]
        complete = all(entry.complete for entry in shown)
    else:
        # `/` is answered by `serve` only, which alone can answer its search box.
        search = path == pages.INDEX and site.config.serve_search
        body = pages.index_page(site.specs, site.index, site.config, path, search=search)
        complete = True
    etag = etag_of(body)
    if complete and kept:
        stored = b"" if caches.output is not None else body
        # What its entries depend on beyond the posts: links to other posts, included files.
        links = site.links.version if any(e.links is not None for e in shown) else None
        inputs = tuple(dict.fromkeys(i for e in shown for i in e.inputs))
        caches.keep_feed(key, CachedFeed(stored, links, (), etag, path, inputs))
    return _file(path, body, pages.HTML, etag=etag)


def _file(
    path: str,
    body: bytes,
    media_type: str,
    *,
    etag: str = "",
    spec: FeedSpec | None = None,
    problems: tuple[Problem, ...] = (),
) -> RenderedFile:
    return RenderedFile(
        path=path,
        body=body,
        etag=etag or etag_of(body),
        media_type=media_type,
        problems=problems,
        immutable=spec is not None and spec.immutable,
        hubs=tuple(href for rel, href in spec.links if rel == "hub") if spec is not None else (),
        self_url=spec.url if spec is not None else None,
    )


def _feed_file(site: Site, spec: FeedSpec, caches: Caches) -> RenderedFile:
    """A feed: from the cache as it was, else spliced from its entries' fragments.

    A cached feed is keyed by the configuration, its spec and its entries' keys; one whose
    entries link to other posts by tag also remembers the site's links version, and is
    rendered again when a post moves. Its entries' warnings are kept with it, so a warm
    rebuild reports what a cold one does.
    """
    media = MEDIA_TYPES[spec.format]
    key = _feed_key(site, spec)
    found = caches.feed(key)
    if found is not None:
        body = caches.cached_body(found, spec.path, site.links.version)
        if body is not None:
            return _file(
                spec.path, body, media, etag=found.etag, spec=spec, problems=found.problems
            )
    kind: Kind = (spec.format, spec.excerpt_only)
    entries = entries_of(site, spec.posts, caches, (kind,))
    fragments = _fragments(site, spec.posts, kind, entries, caches)
    body, notes = render(spec, site.index, entries, site.config, fragments)
    shown = [entries[i] for i in spec.posts]
    problems = tuple(p for e in shown for p in e.problems) + tuple(
        Problem(spec.path, note) for note in notes
    )
    etag = etag_of(body)
    if all(e.complete for e in shown):
        linked = any(e.links is not None for e in shown)
        caches.keep_feed(
            key,
            CachedFeed(
                b"" if caches.output is not None else body,
                site.links.version if linked else None,
                problems,
                etag,
                spec.path,
                tuple(dict.fromkeys(i for e in shown for i in e.inputs)),
            ),
        )
    return _file(spec.path, body, media, etag=etag, spec=spec, problems=problems)


def _usable(site: Site, found: Entry | None) -> bool:
    """A cached entry stands unless it links to posts by tag and one of them has moved, or a
    file it included has changed."""
    return (
        found is not None and found.links in (None, site.links.version) and unchanged(found.inputs)
    )


_DIGESTS: dict[tuple[str, int, int, int], str] = {}  # (path, mtime, size, inode) -> digest


def unchanged(inputs: Iterable[tuple[str, str]]) -> bool:
    """Whether every included file still has the digest it had (a file read once a process,
    while its stamp stays the same)."""
    for path, digest in inputs:
        try:
            info = os.stat(path)
        except OSError:
            return False
        stamp = (path, info.st_mtime_ns, info.st_size, info.st_ino)
        known = _DIGESTS.get(stamp)
        if known is None:
            try:
                known = hashlib.blake2b(read_regular(path), digest_size=16).hexdigest()
            except OSError:
                return False
            _DIGESTS[stamp] = known
        if known != digest:
            return False
    return True


def entries_of(
    site: Site,
    indices: Iterable[int],
    caches: Caches | None = None,
    kinds: tuple[Kind, ...] = (),
) -> dict[int, Entry]:
    """The entries of these posts: cached, else rendered here (serialised for `kinds` too,
    into the caches). Each entry carries what rendering it had to say (`problems`)."""
    caches = caches if caches is not None else Caches()
    entries: dict[int, Entry] = {}
    todo = []
    for i in indices:
        found = caches.entry(site.entry_keys[i])
        if found is not None and _usable(site, found):
            entries[i] = found
        else:
            todo.append(i)
    if todo:
        made = _entry_batch(
            _context(site, encode=False), [(site.index.posts[i], kinds) for i in todo]
        )
        for i, (entry, serialised, _) in zip(todo, made, strict=True):
            _keep(site, i, entry, serialised, encoded=None, caches=caches)
            entries[i] = entry
    return entries


def _fragments(
    site: Site, indices: Sequence[int], kind: Kind, entries: Mapping[int, Entry], caches: Caches
) -> dict[int, bytes]:
    """The entries of these posts serialised for `kind`, as they stand inside every feed."""
    have = {i: caches.fragment(kind, site.entry_keys[i]) for i in indices}
    missing = [i for i, fragment in have.items() if fragment is None]
    if missing:
        items = [(site.index.posts[i], entries[i]) for i in missing]
        made = entry_fragments([kind[0]], items, site.config, excerpt_only=kind[1])[kind[0]]
        for i, fragment in zip(missing, made, strict=True):
            have[i] = fragment
            caches.keep_fragment(kind, site.entry_keys[i], fragment)
    return {i: have[i] or b"" for i in indices}


def _keep(
    site: Site,
    i: int,
    entry: Entry,
    serialised: Mapping[Kind, bytes],
    *,
    encoded: bytes | None,
    caches: Caches,
) -> None:
    if not entry.complete:  # a stand-in is never kept: rendered again where it is needed
        return
    key = site.entry_keys[i]
    caches.keep_entry(key, entry, encoded)
    for kind, fragment in serialised.items():
        caches.keep_fragment(kind, key, fragment)


# --- entries, in worker processes --------------------------------------------------------------

Batch = Sequence[tuple[Post, tuple[Kind, ...]]]
# What a worker gives back for one post: its entry, its fragments, its cache record (or None).
Made = tuple[Entry, dict[Kind, bytes], bytes | None]
ENTRY_BATCH = 64  # posts per task: enough for one serialisation per kind to pay


def _context(site: Site, *, encode: bool) -> tuple[Config, Globals, bool]:
    config = site.config
    globals_ = Globals(
        url=config.url, baseurl=config.baseurl, vars=config.site_vars, links=site.links
    )
    return config, globals_, encode


def _entry_one(config: Config, globals_: Globals, post: Post) -> Entry:
    from feedsmith.entry import make_entry  # noqa: PLC0415 - Liquid, Markdown and the cleaner load only when an entry is rendered

    try:
        return make_entry(post, config, globals_)
    except PostError as exc:
        # The file changed or vanished after it was indexed.
        return _failed(post, Problem(exc.path, exc.reason, "error"))
    except Exception as exc:  # one post, whatever breaks in it, costs only itself
        return _failed(post, Problem(post.rel, failure_reason(exc), "error"))


def failure_reason(exc: BaseException) -> str:
    """What a user reads when rendering a post raised: the exception's class and first line."""
    text = str(exc).strip()
    first = text.splitlines()[0][:200] if text else ""
    return f"cannot be rendered ({type(exc).__name__}{': ' + first if first else ''})"


def _failed(post: Post, problem: Problem) -> Entry:
    """A stand-in for a post whose body could not be rendered: never cached, and `build`
    leaves the post out (see `failed_posts`)."""
    return Entry(
        content="",
        summary=post.summary or "",
        title=post.title or post.slug,
        complete=False,
        problems=(problem,),
    )


def failed_posts(made: Iterable[tuple[int, Entry]], site: Site) -> dict[str, Problem]:
    """The posts among `made` (index, entry) whose entry is a stand-in, by relative path."""
    return {
        site.index.posts[i].rel: entry.problems[0]
        for i, entry in made
        if not entry.complete and entry.problems
    }


def _entry_batch(context: tuple[Config, Globals, bool], batch: Batch) -> list[Made]:
    """Render a run of posts, then serialise them for the kinds of feed that show each: in
    the worker that made them, while they are at hand, one document per kind for the run.
    With `context[2]`, also encode each complete entry as the build cache stores it."""
    config, globals_, encoding = context
    made = [_entry_one(config, globals_, post) for post, _ in batch]
    return [
        (entry, serialised, encode(entry, ENTRY) if encoding and entry.complete else None)
        for entry, serialised in zip(made, _serialise(config, batch, made), strict=True)
    ]


def _serialise(config: Config, batch: Batch, entries: Sequence[Entry]) -> list[dict[Kind, bytes]]:
    """Each entry of the run serialised for each kind its post is shown in."""
    serialised: list[dict[Kind, bytes]] = [{} for _ in batch]
    for excerpt_only in (False, True):
        formats = sorted({fmt for _, kinds in batch for fmt, only in kinds if only == excerpt_only})
        at = [n for n, (_, kinds) in enumerate(batch) if any(k[1] == excerpt_only for k in kinds)]
        items = [(batch[n][0], entries[n]) for n in at]
        by_format = entry_fragments(formats, items, config, excerpt_only=excerpt_only)
        for fmt, fragments in by_format.items():
            for n, fragment in zip(at, fragments, strict=True):
                if (fmt, excerpt_only) in batch[n][1]:
                    serialised[n][(fmt, excerpt_only)] = fragment
    return serialised


def _serialise_batch(
    context: tuple[Config, Sequence[Entry]], batch: Sequence[tuple[int, Post, tuple[Kind, ...]]]
) -> list[dict[Kind, bytes]]:
    """Serialise cached entries (given by their place in `context[1]`) for their kinds."""
    config, entries = context
    return _serialise(
        config, [(post, kinds) for _, post, kinds in batch], [entries[n] for n, _, _ in batch]
    )


def preload_renderer() -> None:
    """Load the entry stage (Liquid, Markdown, the cleaner) and build its Markdown parser now:
    `build` does it while workers read a large site, so the workers forked later to render
    inherit it instead of each loading it themselves; `serve` before its first request."""
    from feedsmith.entry import make_entry  # noqa: F401, PLC0415
    from feedsmith.markup import to_html  # noqa: PLC0415

    to_html("*a* [b](c)\n", "markdown")


def prepare(
    site: Site,
    paths: Iterable[str],
    caches: Caches,
    *,
    jobs: int | None = 1,
    progress: Progress = quiet,
    alongside: Callable[[], None] | None = None,
) -> dict[str, Problem]:
    """Render ahead, on every core when there are many, what the files in `paths` need and
    the caches lack: each post once, however many feeds show it, serialised for each kind of
    feed that shows it. (`render_file` would render the same one file at a time.)

    `alongside`: work for this process while the workers render (see parallel.pmap).
    Returns the posts that could not be rendered, by relative path, with the reason.
    """
    specs = [site.routes[path] for path in paths if path in site.routes]
    keys = {spec.path: _feed_key(site, spec) for spec in specs}
    caches.look_ahead(keys.values())
    kinds: dict[int, set[Kind]] = {}
    for spec in specs:
        cached_feed = caches.feed(keys[spec.path])
        if cached_feed is not None and cached_feed.links in (None, site.links.version):
            continue  # render_file checks its bytes; entries are rendered there if it must
        for i in spec.posts:
            kinds.setdefault(i, set()).add((spec.format, spec.excerpt_only))
    todo: list[int] = []
    cached: list[tuple[int, Entry]] = []
    for i in sorted(kinds):
        found = caches.entry(site.entry_keys[i])
        if _usable(site, found):
            assert found is not None
            cached.append((i, found))
        else:
            todo.append(i)
    batches = [
        [(site.index.posts[i], tuple(sorted(kinds[i]))) for i in todo[n : n + ENTRY_BATCH]]
        for n in range(0, len(todo), ENTRY_BATCH)
    ]
    progress("render", 0, len(todo))
    made = pmap(
        _entry_batch,
        batches,
        _context(site, encode=caches.encodes),
        jobs=jobs,
        progress=lambda n: progress("render", min(n * ENTRY_BATCH, len(todo)), len(todo)),
        min_items=-(-MIN_ITEMS // ENTRY_BATCH),
        chunk=1,
        alongside=alongside,
    )
    rendered: list[tuple[int, Entry]] = []
    for i, (entry, serialised, blob) in zip(
        todo, (one for run in made for one in run), strict=True
    ):
        _keep(site, i, entry, serialised, encoded=blob, caches=caches)
        rendered.append((i, entry))
    _serialise_cached(site, cached, kinds, caches, jobs)
    return failed_posts(rendered, site)


def _serialise_cached(
    site: Site,
    cached: Sequence[tuple[int, Entry]],
    kinds: Mapping[int, set[Kind]],
    caches: Caches,
    jobs: int | None,
) -> None:
    """Fragments for the entries that came from the cache, on every core when there are many
    (forking costs more than serialising a few)."""
    wanted = [
        (n, i, tuple(sorted(k for k in kinds[i] if caches.fragment(k, site.entry_keys[i]) is None)))
        for n, (i, _) in enumerate(cached)
    ]
    wanted = [(n, i, ks) for n, i, ks in wanted if ks]
    if not wanted:
        return
    batches = [
        [(n, site.index.posts[i], ks) for n, i, ks in wanted[m : m + ENTRY_BATCH]]
        for m in range(0, len(wanted), ENTRY_BATCH)
    ]
    done = pmap(
        _serialise_batch,
        batches,
        (site.config, [entry for _, entry in cached]),
        jobs=jobs if len(wanted) >= MIN_ITEMS else 1,
        min_items=-(-MIN_ITEMS // ENTRY_BATCH),
        chunk=1,
    )
    for (_, i, _), serialised in zip(wanted, (one for run in done for one in run), strict=True):
        for kind, fragment in serialised.items():
            caches.keep_fragment(kind, site.entry_keys[i], fragment)


# --- every file ---------------------------------------------------------------------------------


def settle(
    site: Site,
    caches: Caches,
    *,
    jobs: int | None = 1,
    progress: Progress = quiet,
    alongside: Callable[[], None] | None = None,
) -> tuple[Site, tuple[Problem, ...]]:
    """Render ahead what every output file needs (`prepare`), and the site those files are
    then made from, with why posts were left out.

    A post whose body cannot be rendered is left out of every feed, as a post that cannot be
    read is: the site is laid out again without it (posts after it move up into the feeds).
    """
    failed = prepare(
        site, output_paths(site), caches, jobs=jobs, progress=progress, alongside=alongside
    )
    skipped: dict[str, Problem] = {}
    while failed:
        skipped.update(failed)
        site = without_posts(site, frozenset(skipped))
        failed = prepare(site, output_paths(site), caches, jobs=jobs)
    return site, tuple(skipped.values())


def render_outputs(site: Site, caches: Caches) -> Iterator[RenderedFile]:
    """Every output file of a settled site (see `settle`), one at a time in `output_paths`
    order: a caller that writes each before asking for the next holds one file's bytes, not
    every file's."""
    for path in output_paths(site):
        made = render_file(site, path, caches)
        assert made is not None  # every output path names a file
        yield made
