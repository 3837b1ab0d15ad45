"""The one place the stages are wired: discover -> parse -> index -> entry -> render -> write.

`read_site` and `render_outputs` are what `serve` uses too, so a served feed and a built file
are the same bytes by construction.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from feedsmith.cache import Cache, encode
from feedsmith.config import Config
from feedsmith.discover import discover
from feedsmith.errors import OutputError, PostError
from feedsmith.index import build_index, feed_specs
from feedsmith.model import (
    MEDIA_TYPES,
    NO_STAMP,
    BuildReport,
    Entry,
    FeedSpec,
    Format,
    Globals,
    Index,
    Links,
    Post,
    Problem,
    RenderedFeed,
    SourceFile,
    Stamp,
    fast_reduce,
    links_version,
    stamp_of,
)
from feedsmith.parallel import MIN_ITEMS, pmap
from feedsmith.parse import content_digest, parse_post
from feedsmith.render import (
    entry_fragments,
    etag_of,
    feed_updated,
    render,
    render_links_include,
    render_opml,
    rendered,
)
from feedsmith.write import (
    WriteResult,
    differences,
    locked,
    target,
    write_files,
    write_text_atomically,
)

Progress = Callable[[str, int, int], None]
CACHE_FOLDER = ".feedsmith-cache"


def _quiet(stage: str, done: int, total: int) -> None:
    """The default progress sink: nothing."""


@dataclass(frozen=True, slots=True)
class FileState:
    """What reading one post file gave, and the file state it was read in."""

    stamp: Stamp  # unchanged stamp, unchanged result (unless it was taken too soon: `_reuse`)
    post: Post | None
    problems: tuple[Problem, ...] = ()
    held_back: str | None = None
    taken: int = 0  # time.time_ns() before the stamp was taken
    key: str = ""  # entry_key(post) under the configuration it was read with

    __reduce__ = fast_reduce


@dataclass(frozen=True, slots=True)
class Site:
    """A source folder read once: the index, every feed as data, and what went wrong."""

    config: Config
    index: Index
    specs: tuple[FeedSpec, ...]
    problems: tuple[Problem, ...]
    files: Mapping[str, FileState]  # every post file found, by relative path
    links: Links
    held_back: Mapping[str, int] = field(default_factory=dict)  # reason -> posts not published


def _read_file(
    file: SourceFile, config: Config, now: datetime, taken: int, fingerprint: str = ""
) -> FileState:
    """Parse one file. `taken`: the time before its stamp was (or is now) taken; with the
    configuration's `fingerprint`, the state also carries the post's entry key."""
    try:
        if file.stamp == NO_STAMP:  # not stat'ed by discover: before reading, as there
            file = replace(file, stamp=stamp_of(os.stat(file.path)))
        parsed = parse_post(file, config, now=now)
    except PostError as exc:
        return FileState(NO_STAMP, None, (Problem(exc.path, exc.reason, "error"),))
    except OSError as exc:
        reason = f"cannot read: {exc.strerror or exc}"
        return FileState(NO_STAMP, None, (Problem(file.rel, reason, "error"),))
    except Exception as exc:  # one odd file must not stop the other posts
        reason = f"cannot be read ({type(exc).__name__}: {exc})"
        return FileState(NO_STAMP, None, (Problem(file.rel, reason, "error"),))
    post = parsed.post
    key = entry_key(post, fingerprint) if post is not None and fingerprint else ""
    return FileState(file.stamp, post, parsed.problems, parsed.held_back, taken, key)


def _read_one(context: tuple[Config, datetime, int, str], file: SourceFile) -> FileState:
    return _read_file(file, *context)


def _warm_renderer() -> None:
    """Load the entry stage (Liquid, Markdown, the cleaner) and build its Markdown parser."""
    from feedsmith.entry import make_entry  # noqa: F401, PLC0415
    from feedsmith.markup import to_html  # noqa: PLC0415

    to_html("*a* [b](c)\n", "markdown")


def _same_bytes(path: str, digest: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return content_digest(handle.read()) == digest
    except OSError:
        return False


# File times are coarse (a clock tick on Linux, 1-2 s on some file systems): a file written
# again this soon after its stamp was taken can keep the very same stamp.
RACY_NS = 3_000_000_000


def _reuse(previous: FileState, file: SourceFile, now: datetime, taken: int) -> FileState | None:
    """`previous` again if the file is unchanged: same stamp, or same bytes (a fresh checkout).

    A stamp taken within RACY_NS of the file's last change proves nothing (git's "racily
    clean" entries): the bytes are compared then. Never for a file that failed, a post held
    back as future or dated after `now` (the clock decides those), or a draft (an undated draft
    is dated by its modification time). `taken`: the time before `file.stamp` was taken.
    """
    post = previous.post
    if (
        previous.stamp == NO_STAMP
        or previous.held_back == "dated in the future"
        or file.draft
        or (post is not None and post.date > now)
    ):
        return None
    changed = max(previous.stamp[0], previous.stamp[3])
    if file.stamp == previous.stamp and changed < previous.taken - RACY_NS:
        return previous
    if (
        post is None
        or file.stamp[1] != previous.stamp[1]
        or not _same_bytes(file.path, post.digest)
    ):
        return None
    return replace(
        previous,
        stamp=file.stamp,
        post=post if post.path == file.path else replace(post, path=file.path),
        taken=taken,
    )


def read_site(
    config: Config,
    *,
    now: datetime | None = None,
    progress: Progress = _quiet,
    previous: Site | None = None,
    known: Mapping[str, FileState] | None = None,
    jobs: int | None = None,
) -> Site:
    """Discover and parse every post, index them and lay out every feed. Reads front matter only.

    With `previous` (the same configuration read earlier) or `known` (file states from the
    build cache), a file whose stamp or content is unchanged is not parsed again: a rebuild
    costs what changed, plus a directory walk.
    """
    now = now or datetime.now(UTC)
    taken = time.time_ns()  # before any file is stat'ed
    if previous is not None and previous.config == config:
        known = previous.files
    known = known or {}
    found, problems = discover(
        config.source, jekyll=config.jekyll, drafts=config.drafts, stamps=bool(known)
    )
    states: dict[str, FileState | None] = {}
    for file in found:
        before = known.get(file.rel)
        states[file.rel] = _reuse(before, file, now, taken) if before is not None else None
    todo = [file for file in found if states[file.rel] is None]
    fresh = pmap(
        _read_one,
        todo,
        (config, now, taken, config.fingerprint()),
        jobs=jobs,
        # Many files to read: most likely a cold build. This process loads the entry stage
        # meanwhile, and the workers forked later to render inherit it instead of each loading
        # it themselves. (A rebuild that reads a few files may render nothing at all.)
        alongside=_warm_renderer if len(todo) >= MIN_ITEMS else None,
        progress=lambda n: progress("read", n, len(todo)),
    )
    states.update((file.rel, state) for file, state in zip(todo, fresh, strict=True))
    read: dict[str, FileState] = {rel: state for rel, state in states.items() if state is not None}
    posts = [state.post for state in read.values() if state.post is not None]
    held_back = Counter(state.held_back for state in read.values() if state.held_back)
    for state in read.values():
        problems.extend(state.problems)
    index, index_problems = build_index(posts)
    specs, spec_problems = feed_specs(index, config)
    prefix = config.url + config.baseurl
    by_rel = {p.rel: p.url.removeprefix(prefix) for p in index.posts}
    links = Links(
        root=config.source,
        by_name={
            os.path.splitext(os.path.basename(p.path))[0]: p.url.removeprefix(prefix)
            for p in index.posts
        },
        by_rel=by_rel,
        collections=config.collections,
        version=links_version(by_rel),
    )
    return Site(
        config=config,
        index=index,
        specs=specs,
        problems=tuple(problems + index_problems + spec_problems),
        files=read,
        links=links,
        held_back=dict(held_back),
    )


def _globals(site: Site) -> Globals:
    config = site.config
    return Globals(url=config.url, baseurl=config.baseurl, vars=config.site_vars, links=site.links)


def entry_key(post: Post, fingerprint: str) -> str:
    """What an entry's bytes depend on: the post's file and metadata, and the configuration.

    The absolute path is left out so a checkout elsewhere (a CI runner) still finds its cache.
    """
    state = tuple(getattr(post, name) for name in Post.__slots__ if name != "path")
    blob = f"{fingerprint}\0{state!r}"
    return hashlib.blake2b(blob.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _entry_key_of(site: Site, i: int, fingerprint: str) -> str:
    """entry_key of the site's post `i`: the one its file state carries, unless the index
    holds another post than the state (one whose id it had to change)."""
    post = site.index.posts[i]
    state = site.files.get(post.rel)
    if state is not None and state.key and state.post is post:
        return state.key
    return entry_key(post, fingerprint)


def feed_key(site: Site, spec: FeedSpec, keys: Mapping[int, str], fingerprint: str) -> str:
    """What one feed's bytes depend on: its spec, its posts' entries and the configuration."""
    parts = (
        spec.kind,
        spec.name,
        spec.format,
        spec.path,
        spec.url,
        spec.title,
        spec.total,
        spec.excerpt_only,
        spec.alternates,
        spec.links,
        spec.archive,
        spec.immutable,
    )
    blob = fingerprint + repr(parts) + "".join(keys[i] for i in spec.posts)
    return hashlib.blake2b(blob.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _entry_one(context: tuple[Config, Globals], post: Post) -> tuple[Entry, Problem | None]:
    from feedsmith.entry import make_entry  # noqa: PLC0415 - Liquid, Markdown and the cleaner load only when an entry is rendered

    config, globals_ = context
    try:
        return make_entry(post, config, globals_), None
    except PostError as exc:
        # The file changed or vanished after it was indexed: keep the entry, say so.
        fallback = Entry(
            content="", summary=post.summary or "", title=post.title or post.slug, complete=False
        )
        return fallback, Problem(exc.path, exc.reason, "error")


Kind = tuple[Format, bool]  # how feeds show an entry: their format, and excerpts only or not
Fragments = dict[Kind, dict[int, bytes]]  # entries serialised once per kind, by post index
# An entry, why it could not be rendered, its fragments, and its cache record when cached.
MadeEntry = tuple[Entry, Problem | None, dict[Kind, bytes], bytes | None]
ENTRY_BATCH = 64  # posts per task: enough for one serialisation per kind to pay


def _entry_batch(
    context: tuple[Config, Globals, bool], batch: Sequence[tuple[Post, tuple[Kind, ...]]]
) -> list[MadeEntry]:
    """Render a run of posts, then serialise them for the kinds of feed that show each: in
    the worker that made them, while they are at hand, one document per kind for the run.
    With `context[2]`, also encode each complete entry as the cache stores it."""
    config, globals_, encoding = context
    made = [_entry_one((config, globals_), post) for post, _ in batch]
    serialised: list[dict[Kind, bytes]] = [{} for _ in batch]
    for excerpt_only in (False, True):
        formats = sorted({fmt for _, kinds in batch for fmt, only in kinds if only == excerpt_only})
        at = [n for n, (_, kinds) in enumerate(batch) if any(k[1] == excerpt_only for k in kinds)]
        items = [(batch[n][0], made[n][0]) for n in at]
        by_format = entry_fragments(formats, items, config, excerpt_only=excerpt_only)
        for fmt, fragments in by_format.items():
            for n, fragment in zip(at, fragments, strict=True):
                if (fmt, excerpt_only) in batch[n][1]:
                    serialised[n][(fmt, excerpt_only)] = fragment
    return [
        (entry, problem, s, encode(entry) if encoding and entry.complete else None)
        for (entry, problem), s in zip(made, serialised, strict=True)
    ]


def render_entries(
    site: Site,
    wanted: Mapping[int, Iterable[Kind]],
    progress: Progress = _quiet,
    cache: MutableMapping[str, Entry] | None = None,
    jobs: int | None = 1,
    *,
    alongside: Callable[[], None] | None = None,
    keys: Mapping[int, str] | None = None,
) -> tuple[dict[int, Entry], list[Problem], Fragments]:
    """Render the bodies of the posts that some feed shows; each post once, however many feeds.

    `wanted` maps each post to the kinds of feed that show it; a post rendered now comes back
    serialised for each of them too. With a `cache`, an entry whose post and configuration
    are unchanged is not rendered again (unless it links to other posts with
    `{% post_url %}`/`{% link %}` and those moved); it has no fragments then.
    """
    entries: dict[int, Entry] = {}
    problems: list[Problem] = []
    fragments: Fragments = {}
    links = site.links.version
    keys = dict(keys or {})  # entry keys already computed (for the feed cache), by post
    todo: list[int] = []
    fingerprint = site.config.fingerprint() if cache is not None else ""
    for i in sorted(wanted):
        if cache is not None:
            key = keys.get(i) or _entry_key_of(site, i, fingerprint)
            keys[i] = key
            found = cache.get(key)
            if found is not None and (found.links is None or found.links == links):
                entries[i] = found
                continue
        todo.append(i)
    # The build cache takes entries encoded in the workers; other mappings take objects.
    set_encoded = getattr(cache, "set_encoded", None)
    batches = [
        [(site.index.posts[i], tuple(sorted(set(wanted[i])))) for i in todo[n : n + ENTRY_BATCH]]
        for n in range(0, len(todo), ENTRY_BATCH)
    ]
    made = pmap(
        _entry_batch,
        batches,
        (site.config, _globals(site), set_encoded is not None),
        jobs=jobs,
        progress=lambda n: progress("render", min(n * ENTRY_BATCH, len(todo)), len(todo)),
        min_items=-(-MIN_ITEMS // ENTRY_BATCH),
        chunk=1,
        alongside=alongside,
    )
    for i, (entry, problem, serialised, blob) in zip(
        todo, (one for batch in made for one in batch), strict=True
    ):
        entries[i] = entry
        for kind, fragment in serialised.items():
            fragments.setdefault(kind, {})[i] = fragment
        if problem is not None:
            problems.append(problem)
        if set_encoded is not None and blob is not None:
            set_encoded(keys[i], blob)
        elif cache is not None and entry.complete:
            cache[keys[i]] = entry
    for i in sorted(entries):
        problems.extend(entries[i].problems)
    return entries, problems, fragments


def make_entries(
    site: Site,
    wanted: Iterable[int],
    progress: Progress = _quiet,
    cache: MutableMapping[str, Entry] | None = None,
    jobs: int | None = 1,
) -> tuple[dict[int, Entry], list[Problem]]:
    """The entries of the posts in `wanted` (render_entries, without serialising them)."""
    entries, problems, _ = render_entries(
        site, dict.fromkeys(wanted, ()), progress, cache=cache, jobs=jobs
    )
    return entries, problems


@dataclass(frozen=True, slots=True)
class CachedFeed:
    """A rendered feed as cached: its bytes, what they depend on beyond the key, its warnings."""

    body: bytes
    links: str | None  # Links.version when an entry links to other posts by tag
    problems: tuple[Problem, ...] = ()
    etag: str = ""  # etag_of(body): a feed reused from the cache is not hashed again
    # b"" for body: the bytes are the file of that path in the output folder, as long as it
    # still hashes to `etag`; the build cache does not hold a second copy of every feed.
    path: str = ""

    __reduce__ = fast_reduce


def _cached_body(
    found: CachedFeed | None,
    path: str,
    links: str,
    output: Path | None,
    checked: dict[Path, Path],
) -> bytes | None:
    """The bytes of a cached feed, or None when they cannot be used: it shows a link to a post
    that has moved since, or it refers to a file in `output` that has changed or gone."""
    if found is None or found.links not in (None, links):
        return None
    if found.body:
        return found.body
    return _written(output, path, found.etag, checked) if output is not None else None


def _written(output: Path, path: str, etag: str, checked: dict[Path, Path]) -> bytes | None:
    """The feed file a cached feed refers to, if it still holds the bytes it was cached with.
    (`checked`: the folders already resolved, see write.target.)"""
    try:
        body = target(output, path, checked).read_bytes()
    except (OSError, OutputError):
        return None
    return body if etag and etag_of(body) == etag else None


FeedCache = MutableMapping[str, CachedFeed]


def _render_chunk(
    context: tuple[Site, Mapping[int, Entry], Fragments], specs: tuple[FeedSpec, ...]
) -> list[tuple[bytes, tuple[str, ...]]]:
    """Render a run of feeds by splicing their entries' fragments; an entry without one (it
    came from the cache) is serialised here, once per kind, for every feed of the run."""
    site, entries, given = context
    wanted: dict[Kind, set[int]] = {}
    for spec in specs:
        wanted.setdefault((spec.format, spec.excerpt_only), set()).update(spec.posts)
    fragments: Fragments = {}
    for kind, indices in wanted.items():
        have = given.get(kind, {})
        missing = sorted(i for i in indices if i not in have)
        items = [(site.index.posts[i], entries[i]) for i in missing]
        serialised = entry_fragments([kind[0]], items, site.config, excerpt_only=kind[1])[kind[0]]
        fragments[kind] = (
            {**have, **dict(zip(missing, serialised, strict=True))} if missing else dict(have)
        )
    return [
        render(spec, site.index, entries, site.config, fragments[(spec.format, spec.excerpt_only)])
        for spec in specs
    ]


SPECS_PER_CHUNK = 64


def render_feeds(
    site: Site,
    specs: Iterable[FeedSpec],
    *,
    entry_cache: MutableMapping[str, Entry] | None = None,
    feed_cache: FeedCache | None = None,
    progress: Progress = _quiet,
    jobs: int | None = 1,
    etags: dict[str, str] | None = None,
    alongside: Callable[[], None] | None = None,
    output: Path | None = None,
    on_disk: set[str] | None = None,
) -> tuple[dict[str, bytes], list[Problem]]:
    """The bytes of each feed in `specs`. With caches, unchanged feeds and entries are reused.

    `etags`, when given, receives the ETag of each feed whose ETag is known already (a cached
    one) or was computed for the cache. With `output` (the folder the feeds are written to),
    cached feeds refer to their files there instead of holding their bytes; `on_disk` then
    receives the paths of the feeds read back from there.

    A cached feed is keyed by the configuration, its spec and its entries' keys; one whose
    entries link to other posts by tag also remembers the site's links version, and is rendered
    again when a post moves. Its entries' warnings are kept with it, so a warm rebuild reports
    what a cold one does.
    """
    specs = list(specs)
    bodies: dict[str, bytes] = {}
    todo = specs
    feed_keys: dict[str, str] = {}
    problems: list[Problem] = []
    if feed_cache is not None:
        fingerprint = site.config.fingerprint()
        shown = sorted({i for spec in specs for i in spec.posts})
        keys = {i: _entry_key_of(site, i, fingerprint) for i in shown}
        checked: dict[Path, Path] = {}
        todo = []
        feed_keys = {spec.path: feed_key(site, spec, keys, fingerprint) for spec in specs}
        prefetch = getattr(feed_cache, "prefetch", None)  # the build cache: a few queries
        if prefetch is not None:
            prefetch(feed_keys.values())
        for spec in specs:
            found = feed_cache.get(feed_keys[spec.path])
            body = _cached_body(found, spec.path, site.links.version, output, checked)
            if found is not None and body is not None:
                if not found.body and on_disk is not None:
                    on_disk.add(spec.path)
                bodies[spec.path] = body
                problems.extend(found.problems)
                if etags is not None and found.etag:
                    etags[spec.path] = found.etag
            else:
                todo.append(spec)
    kinds: dict[int, set[Kind]] = {}
    for spec in todo:
        for i in spec.posts:
            kinds.setdefault(i, set()).add((spec.format, spec.excerpt_only))
    entries, entry_problems, fragments = render_entries(
        site,
        kinds,
        progress,
        cache=entry_cache,
        jobs=jobs,
        alongside=alongside,
        keys=keys if feed_cache is not None else None,
    )
    problems.extend(entry_problems)
    # Splicing is cheap: feeds are rendered in worker processes only when many entries came
    # from the cache unserialised (forking would cost more than the splicing itself).
    unserialised = sum(
        1 for i, wanted in kinds.items() for kind in wanted if i not in fragments.get(kind, {})
    )
    chunks = [tuple(todo[n : n + SPECS_PER_CHUNK]) for n in range(0, len(todo), SPECS_PER_CHUNK)]
    rendered_bodies = [
        result
        for chunk in pmap(
            _render_chunk,
            chunks,
            (site, entries, fragments),
            jobs=jobs if unserialised >= MIN_ITEMS else 1,
            min_items=8,
            chunk=1,
        )
        for result in chunk
    ]
    for spec, (body, notes) in zip(todo, rendered_bodies, strict=True):
        bodies[spec.path] = body
        trimmed = [Problem(spec.path, note) for note in notes]
        problems.extend(trimmed)
        shown_entries = [entries[i] for i in spec.posts]
        if feed_cache is not None and all(e.complete for e in shown_entries):
            linked = any(e.links is not None for e in shown_entries)
            warnings = tuple(p for e in shown_entries for p in e.problems) + tuple(trimmed)
            etag = etag_of(body)
            feed_cache[feed_keys[spec.path]] = CachedFeed(
                b"" if output is not None else body,
                site.links.version if linked else None,
                warnings,
                etag,
                spec.path,
            )
            if etags is not None:
                etags[spec.path] = etag
    return bodies, sorted(set(problems), key=lambda p: (p.where, p.reason, p.severity))


def render_outputs(
    site: Site,
    progress: Progress = _quiet,
    cache: Cache | None = None,
    jobs: int | None = 1,
    *,
    alongside: Callable[[], None] | None = None,
    on_disk: set[str] | None = None,
) -> tuple[dict[str, RenderedFeed], list[Problem]]:
    """Every output file of the site, in memory: each feed, and the OPML list.

    `alongside`: work for this process while entries are rendered (see parallel.pmap);
    `on_disk` receives the feeds whose bytes were read back from the output folder."""
    config = site.config
    etags: dict[str, str] = {}
    bodies, problems = render_feeds(
        site,
        site.specs,
        entry_cache=cache.entries if cache is not None else None,
        feed_cache=cache.feeds if cache is not None else None,
        output=site.config.output if cache is not None else None,
        on_disk=on_disk,
        progress=progress,
        jobs=jobs,
        etags=etags,
        alongside=alongside,
    )
    outputs: dict[str, RenderedFeed] = {}
    for spec in site.specs:
        media = MEDIA_TYPES[spec.format]
        outputs[spec.path] = rendered(
            spec.path,
            bodies[spec.path],
            media,
            feed_updated(spec, site.index),
            etag=etags.get(spec.path),
        )
    if config.opml:
        newest = max((p.updated for p in site.index.posts), default=None)
        opml = render_opml(site.specs, config)
        outputs[config.opml] = rendered(config.opml, opml, MEDIA_TYPES["opml"], newest)
    return outputs, problems


def output_keys(site: Site) -> dict[str, str]:
    """Every output file's content key, by path: equal keys, equal bytes.

    Cheap (no entry is rendered): what tells which files a change touched, for WebSub pings
    and for the time a served file last changed.
    """
    fingerprint = site.config.fingerprint()
    shown = sorted({i for spec in site.specs for i in spec.posts})
    keys = {i: _entry_key_of(site, i, fingerprint) for i in shown}
    found = {
        spec.path: feed_key(site, spec, keys, fingerprint) + site.links.version
        for spec in site.specs
    }
    if site.config.opml:  # the OPML list depends on the feeds' names and addresses only
        listed = [(s.kind, s.name, s.format, s.path, s.url, s.title) for s in site.specs]
        blob = f"{fingerprint}{listed!r}".encode("utf-8", "surrogatepass")
        found[site.config.opml] = hashlib.blake2b(blob, digest_size=16).hexdigest()
    return found


STATE_SHARDS = 64  # file states are cached in shards: one new post rewrites 1/64 of them


def _shard(rel: str) -> int:
    return (
        int(hashlib.blake2b(rel.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest(), 16)
        % STATE_SHARDS
    )


def _load_states(cache: Cache, fingerprint: str) -> dict[str, FileState]:
    states: dict[str, FileState] = {}
    for shard in range(STATE_SHARDS):
        states.update(cache.files.get(f"{fingerprint}:{shard}") or {})
    return states


def _save_states(
    cache: Cache, fingerprint: str, states: Mapping[str, FileState], known: Mapping[str, FileState]
) -> None:
    """Write the shards whose file states changed since they were loaded."""
    changed = {_shard(rel) for rel in set(states) ^ set(known)}
    changed |= {
        _shard(rel) for rel, state in states.items() if rel in known and known[rel] is not state
    }
    shards: dict[int, dict[str, FileState]] = {shard: {} for shard in changed}
    for rel, state in states.items():
        members = shards.get(_shard(rel)) if changed else None
        if members is not None:
            members[rel] = state
    for shard, members in shards.items():
        cache.files.set_encoded(f"{fingerprint}:{shard}", encode(members))


def _save(cache: Cache) -> None:
    try:
        cache.commit()
    finally:
        cache.close()


def build(
    config: Config,
    *,
    check: bool = False,
    now: datetime | None = None,
    progress: Progress = _quiet,
    jobs: int | None = None,
    use_cache: bool = True,
    links_include: Path | None = None,
) -> BuildReport:
    """Build every feed of `config.source` into `config.output` (or, with `check`, compare)."""
    started = time.perf_counter()
    # --check writes nothing at all: no lock file, no cache, no output folder.
    guard = contextlib.nullcontext() if check else locked(config.output)
    # The cache is saved while the feeds are written (both wait mostly on the disk or on
    # compression outside the GIL); leaving this block waits for it, inside the lock.
    with guard, ThreadPoolExecutor(max_workers=1) as background:
        cache = (
            Cache(config.cache_dir or config.output / CACHE_FOLDER)
            if use_cache and not check
            else None
        )
        saving = None
        try:
            fingerprint = config.fingerprint()
            known = _load_states(cache, fingerprint) if cache is not None else None
            site = read_site(config, now=now, progress=progress, known=known, jobs=jobs)
            on_disk: set[str] = set()  # feeds read back from OUT: known to be there as they are
            states_saved = False

            def save_states() -> None:  # while the entries are rendered, if they are
                nonlocal states_saved
                if cache is not None and not states_saved:
                    _save_states(cache, fingerprint, site.files, known or {})
                    states_saved = True

            outputs, entry_problems = render_outputs(
                site, progress, cache, jobs, alongside=save_states, on_disk=on_disk
            )
            if cache is not None:
                save_states()
                saving = background.submit(_save, cache)
        finally:
            if cache is not None and saving is None:
                cache.close()
        files = {path: feed.body for path, feed in outputs.items()}
        digests = {path: feed.etag.strip('"') for path, feed in outputs.items()}
        problems = site.problems + tuple(entry_problems)
        if check:
            mismatched = differences(config.output, files)
            result = WriteResult(
                (), tuple(sorted(set(files) - {m.split(" ")[0] for m in mismatched})), ()
            )
        else:
            mismatched = []
            result = write_files(config.output, files, digests, same=on_disk)
            if links_include is not None:  # a file the user named, outside OUT on purpose
                write_text_atomically(links_include, render_links_include(site.specs))
    return BuildReport(
        posts_read=len(site.files),
        posts_published=len(site.index.posts),
        problems=problems,
        written=result.written,
        unchanged=result.unchanged,
        removed=result.removed,
        seconds=time.perf_counter() - started,
        check_failed=tuple(mismatched),
        held_back=site.held_back,
        changed=tuple(spec.url for spec in site.specs if spec.path in set(result.written)),
    )
