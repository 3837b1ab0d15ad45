"""The read half: a source folder -> a Site (discover, parse, index), costing what changed.

`read_site` finds the post files, parses the ones it has no state for, indexes the posts and
lays out every feed. Given the file states of an earlier read (the previous Site in `serve`,
the build cache's `known` states in `build`), a file whose stamp or bytes are unchanged is not
parsed again. The states are kept in the build cache in shards (`load_states`/`save_states`).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import posixpath
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from feedsmith.cache import STATES, Cache, encode
from feedsmith.config import Config
from feedsmith.discover import discover, discover_paths
from feedsmith.errors import PostError, SourceError, UnreadableError, os_reason
from feedsmith.files import GONE, read_regular
from feedsmith.index import build_index, feed_specs, order_key, page_path, update_index
from feedsmith.keys import entry_key
from feedsmith.model import (
    NO_STAMP,
    FeedSpec,
    FileState,
    Index,
    Links,
    Overlay,
    Post,
    Problem,
    Progress,
    SourceFile,
    links_version,
    links_version_after,
    quiet,
    stamp_of,
)
from feedsmith.parallel import MIN_ITEMS, pmap
from feedsmith.parse import content_digest, parse_post


@dataclass(frozen=True, slots=True)
class Site:
    """A source folder read once: the index, every feed as data, and what went wrong."""

    config: Config
    index: Index
    specs: tuple[FeedSpec, ...]
    problems: tuple[Problem, ...]
    files: Mapping[str, FileState]  # every post file found, by relative path
    links: Links
    fingerprint: str  # config.fingerprint(), made once
    entry_keys: tuple[str, ...]  # entry_key of each post of the index, in its order
    held_back: Mapping[str, int] = field(default_factory=dict)  # reason -> posts not published
    routes: Mapping[str, FeedSpec] = field(default_factory=dict)  # every feed by its path
    # The pages for people by path: a feed's formats for its page, () for the list of feeds.
    pages: Mapping[str, tuple[FeedSpec, ...]] = field(default_factory=dict)
    # What a live change (`read_site(changed=…)`) starts from: the problems of finding the
    # files and of the index, and the files read again whatever changed (see `_always_read`).
    found: tuple[Problem, ...] = ()
    index_problems: tuple[Problem, ...] = ()
    timed: frozenset[str] = frozenset()
    # After a live change: the relative paths of the only files changed since `previous`.
    touched: frozenset[str] | None = None
    noted: Mapping[str, tuple[Problem, ...]] = field(default_factory=dict)  # files' problems


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A post file that exists but could not be read: never a state, never cached (the read
    stops with SourceError)."""

    where: str
    reason: str


def _read_file(
    file: SourceFile, config: Config, now: datetime, taken: int, fingerprint: str = ""
) -> FileState:
    """Parse one file. `taken`: the time before its stamp was (or is now) taken; with the
    configuration's `fingerprint`, the state also carries the post's entry key.
    UnreadableError for a file that exists but cannot be read."""
    try:
        if file.stamp == NO_STAMP:  # not stat'ed by discover: before reading, as there
            file = replace(file, stamp=stamp_of(os.stat(file.path)))
        parsed = parse_post(file, config, now=now)
    except UnreadableError:
        raise
    except PostError as exc:
        return FileState(NO_STAMP, None, (Problem(exc.path, exc.reason, "error"),))
    except OSError as exc:
        reason = f"cannot read: {os_reason(exc)}"
        if exc.errno not in GONE:
            raise UnreadableError(file.rel, reason) from exc
        return FileState(NO_STAMP, None, (Problem(file.rel, reason, "error"),))
    except Exception as exc:  # one odd file must not stop the other posts
        reason = f"cannot be read ({type(exc).__name__}: {exc})"
        return FileState(NO_STAMP, None, (Problem(file.rel, reason, "error"),))
    post = parsed.post
    key = entry_key(post, fingerprint) if post is not None and fingerprint else ""
    return FileState(file.stamp, post, parsed.problems, parsed.held_back, taken, key)


def _read_one(
    context: tuple[Config, datetime, int, str], file: SourceFile
) -> FileState | Unreadable:
    try:
        return _read_file(file, *context)
    except UnreadableError as exc:
        return Unreadable(exc.path, exc.reason)


def _same_bytes(path: str, digest: str) -> bool:
    try:
        return content_digest(read_regular(path)) == digest
    except OSError:
        return False


FUTURE = "dated in the future"  # the reason a post is held back until its date (see parse)

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
        or previous.held_back == FUTURE
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
    progress: Progress = quiet,
    previous: Site | None = None,
    known: Mapping[str, FileState] | None = None,
    jobs: int | None = None,
    alongside: Callable[[], None] | None = None,
    skip: frozenset[str] = frozenset(),
    changed: Collection[str] | None = None,
) -> Site:
    """Discover and parse every post, index them and lay out every feed. Reads front matter only.

    With `previous` (the same configuration read earlier) or `known` (file states from the
    build cache), a file whose stamp or content is unchanged is not parsed again: a rebuild
    costs what changed, plus a directory walk. `alongside`: work for this process while many
    files are read in worker processes (see parallel.pmap). `skip`: absolute paths that are
    never posts (see `never_posts`). SourceError when a folder or a post file cannot be read.

    `changed`, with `previous`: the paths heard to have changed since it was read (a file
    watcher's). Where they are post files, only they are looked at, and the index and feeds
    are updated in place: a live change to a million posts costs the change, not a walk and
    a sort of every post. Anything else (a folder, a layout) is read as without `changed`.
    """
    now = now or datetime.now(UTC)
    taken = time.time_ns()  # before any file is stat'ed
    if previous is not None and previous.config == config and changed is not None:
        updated = _read_changed(previous, changed, now=now, taken=taken, jobs=jobs, skip=skip)
        if updated is not None:
            return updated
    fingerprint = config.fingerprint()
    if previous is not None and previous.config == config:
        known = previous.files
    known = known or {}
    progress("find", 0, 0)
    found, problems = discover(
        config.source,
        jekyll=config.jekyll,
        drafts=config.drafts,
        stamps=bool(known),
        skip=skip,
        exclude=config.jekyll_exclude,
        collections_dir=config.collections_dir,
        collections=frozenset(config.collection_feeds) - {"posts"},
    )
    states: dict[str, FileState | None] = {}
    for file in found:
        before = known.get(file.rel)
        if before is None:
            states[file.rel] = None
            continue
        # Keyed by the state's own copy of the path: one string per post, not one per dict.
        rel = (
            before.post.rel if before.post is not None and before.post.rel == file.rel else file.rel
        )
        states[rel] = _reuse(before, file, now, taken)
    problems.extend(Problem(where, reason, "notice") for where, reason in config.notes)
    found_problems = tuple(problems)
    todo = [file for file in found if states[file.rel] is None]
    progress("read", 0, len(todo))
    fresh = pmap(
        _read_one,
        todo,
        (config, now, taken, fingerprint),
        jobs=jobs,
        alongside=alongside if len(todo) >= MIN_ITEMS else None,
        progress=lambda n: progress("read", n, len(todo)),
    )
    unreadable = tuple((s.where, s.reason) for s in fresh if isinstance(s, Unreadable))
    if unreadable:
        raise SourceError(unreadable)
    progress("index", 0, 0)
    states.update(
        (file.rel, state)
        for file, state in zip(todo, fresh, strict=True)
        if isinstance(state, FileState)
    )
    read: dict[str, FileState] = {rel: state for rel, state in states.items() if state is not None}
    posts = _take_jekyll_content(
        [state.post for state in read.values() if state.post is not None], config
    )
    held_back = Counter(state.held_back for state in read.values() if state.held_back)
    noted = {rel: state.problems for rel, state in read.items() if state.problems}
    for told in noted.values():
        problems.extend(told)
    index, index_problems = build_index(posts)
    specs, spec_problems = feed_specs(index, config)
    return Site(
        config=config,
        index=index,
        specs=specs,
        problems=tuple(problems + index_problems + spec_problems),
        files=read,
        links=_links(index, config),
        fingerprint=fingerprint,
        entry_keys=tuple(_entry_key_of(post, read, fingerprint) for post in index.posts),
        held_back=dict(sorted(held_back.items())),
        routes={spec.path: spec for spec in specs},
        pages=page_routes(specs, config),
        found=found_problems,
        index_problems=tuple(index_problems),
        noted=noted,
        timed=frozenset(
            file.rel
            for file, state in zip(todo, fresh, strict=True)
            if isinstance(state, FileState) and _always_read(state, file, now)
        )
        | {file.rel for file in found if file.linked},
    )


def _always_read(state: FileState, file: SourceFile, now: datetime) -> bool:
    """Whether `_reuse` never takes `state` again, whatever the file: a failure, a post the
    clock decides on, a draft. (Site.timed also holds the symlinked posts, `SourceFile.linked`:
    a target changes with no word of the link's own path.)"""
    return (
        state.stamp == NO_STAMP
        or state.held_back == FUTURE
        or file.draft
        or (state.post is not None and state.post.date > now)
    )


def _read_changed(
    previous: Site,
    changed: Iterable[str],
    *,
    now: datetime,
    taken: int,
    jobs: int | None,
    skip: frozenset[str],
) -> Site | None:
    """`previous` with the files at `changed` read again (see `read_site`); None where only
    a full read can tell what the site now is."""
    config, known = previous.config, previous.files
    if config.jekyll_content is not None:  # Jekyll's rendering is matched to every post
        return None
    heard = discover_paths(
        config.source,
        [*changed, *(os.path.join(config.source, rel) for rel in previous.timed)],
        known,
        jekyll=config.jekyll,
        drafts=config.drafts,
        skip=skip,
        exclude=config.jekyll_exclude,
        collections_dir=config.collections_dir,
        collections=frozenset(config.collection_feeds) - {"posts"},
    )
    if heard is None:
        return None
    found, gone = heard
    touched = gone | {file.rel for file in found}
    if any(problem.where in touched for problem in previous.found):
        return None  # a file refused before: what a walk says of it now, a walk tells
    states: dict[str, FileState] = {}
    todo: list[SourceFile] = []
    for file in found:
        before = known.get(file.rel)
        again = _reuse(before, file, now, taken) if before is not None else None
        if again is None:
            todo.append(file)
        else:
            states[file.rel] = again
    fresh = pmap(_read_one, todo, (config, now, taken, previous.fingerprint), jobs=jobs)
    unreadable = tuple((s.where, s.reason) for s in fresh if isinstance(s, Unreadable))
    if unreadable:
        raise SourceError(unreadable)
    states.update(
        (file.rel, state)
        for file, state in zip(todo, fresh, strict=True)
        if isinstance(state, FileState)
    )
    files, removed, added, held_back = _apply(previous, states, touched)
    updated = update_index(previous.index, removed, added)
    links = _links_after(previous.links, removed, added, config)
    if updated is None or links is None:
        return None
    index = updated.index
    specs, spec_problems = feed_specs(index, config)
    read_again = {file.rel: file for file in found}
    noted = {rel: p for rel, p in previous.noted.items() if rel not in touched}
    noted.update((rel, state.problems) for rel, state in states.items() if state.problems)
    noted = dict(sorted(noted.items()))  # as a walk lists them: by path
    state_problems = [problem for problems in noted.values() for problem in problems]
    return replace(
        previous,
        index=index,
        specs=specs,
        problems=(*previous.found, *state_problems, *previous.index_problems, *spec_problems),
        noted=noted,
        files=files,
        links=links,
        entry_keys=updated.carry(
            previous.entry_keys,
            [_entry_key_of(post, files, previous.fingerprint) for post in updated.added],
        ),
        held_back={reason: n for reason, n in sorted(held_back.items()) if reason and n > 0},
        routes={spec.path: spec for spec in specs},
        pages=page_routes(specs, config),
        touched=frozenset(touched),
        timed=(previous.timed - touched)
        | {
            rel
            for rel, state in states.items()
            if _always_read(state, read_again[rel], now) or read_again[rel].linked
        },
    )


def _apply(
    previous: Site, states: Mapping[str, FileState], touched: Iterable[str]
) -> tuple[Mapping[str, FileState], list[Post], list[Post], Counter[str]]:
    """The file states of `previous` with `states` in place of those `touched` (gone where
    there is none); the posts that changed, as they were and as they are; the posts held
    back, by reason."""
    known = previous.files
    put: dict[str, FileState] = {}
    gone: list[str] = []
    removed: list[Post] = []
    added: list[Post] = []
    held_back = Counter(previous.held_back)
    for rel in touched:
        before, after = known.get(rel), states.get(rel)
        if before is after:
            continue
        if before is not None:
            held_back[before.held_back or ""] -= 1
        if after is not None:
            held_back[after.held_back or ""] += 1
            put[rel] = after
        else:
            gone.append(rel)
        was = None if before is None else before.post
        now = None if after is None else after.post
        if was is not now:
            removed += [was] if was is not None else []
            added += [now] if now is not None else []
    files = Overlay.changed(known, put, gone)
    return files, removed, added, held_back


def place_of(site: Site, rel: str) -> int | None:
    """Where the post of the file `rel` is in the site's index, found by its date (the index
    is ordered by it) rather than by a map of a million paths; None if it publishes none."""
    state = site.files.get(rel)
    post = None if state is None else state.post
    if post is None:
        return None
    posts = site.index.posts
    at = bisect.bisect_left(posts, (-post.date.timestamp(), rel), key=order_key)
    return at if at < len(posts) and posts[at].rel == rel else None


def feed_sets(specs: Iterable[FeedSpec]) -> list[tuple[FeedSpec, ...]]:
    """The subscription feeds (no archive document), each as its formats, default first."""
    found: dict[tuple[str, str | None, str | None], list[FeedSpec]] = {}
    for spec in specs:
        if not spec.archive:
            found.setdefault((spec.kind, spec.name, spec.collection), []).append(spec)
    return [tuple(formats) for formats in found.values()]


def preview_path(spec: FeedSpec) -> str:
    """A feed's page for people: beside the feed, `.html` for its extension."""
    return page_path(spec.path)


def page_routes(specs: tuple[FeedSpec, ...], config: Config) -> dict[str, tuple[FeedSpec, ...]]:
    """Where the pages for people go. A page never takes a feed's path, nor a folder's
    that a feed is in, nor a path under a feed's (custom feed paths can be anything)."""
    taken = {spec.path for spec in specs} | ({config.opml} if config.opml else set())
    folders = {posixpath.dirname(path) for path in taken}
    folders |= {parent for folder in list(folders) for parent in _parents(folder)}

    def free(path: str) -> bool:
        return path not in taken and path not in folders and not set(_parents(path)) & taken

    found: dict[str, tuple[FeedSpec, ...]] = {}
    if config.subscribe_page and free(config.subscribe_page):
        found[config.subscribe_page] = ()
    if config.preview_pages:
        for formats in feed_sets(specs):
            path = preview_path(formats[0])
            if free(path) and path not in found:
                found[path] = formats
    return found


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


def without_posts(site: Site, rels: frozenset[str]) -> Site:
    """The site laid out again without the posts of these relative paths (posts whose body
    could not be rendered). Its problems and links stay those of the site as read."""
    posts = [post for post in site.index.posts if post.rel not in rels]
    index, _ = build_index(posts)
    specs, _ = feed_specs(index, site.config)
    return replace(
        site,
        index=index,
        specs=specs,
        entry_keys=tuple(_entry_key_of(post, site.files, site.fingerprint) for post in index.posts),
        routes={spec.path: spec for spec in specs},
        pages=page_routes(specs, site.config),
    )


_JEKYLL_CONTENT: dict[tuple[str, int, int], Mapping[str, tuple[str, str]]] = {}


def jekyll_content(path: Path) -> Mapping[str, tuple[str, str]]:
    """Jekyll's own rendering of each post (the file the Jekyll plugin writes): relative
    path -> (sha256 of the post file it rendered, its HTML). Read once a process."""
    try:
        info = path.stat()
    except OSError:
        return {}
    key = (str(path), info.st_mtime_ns, info.st_size)
    found = _JEKYLL_CONTENT.get(key)
    if found is None:
        try:
            data = json.loads(read_regular(path))
        except (OSError, ValueError):
            data = {}
        found = {
            str(rel): (str(item.get("sha256", "")), str(item.get("html", "")))
            for rel, item in (data.items() if isinstance(data, dict) else ())
            if isinstance(item, dict)
        }
        _JEKYLL_CONTENT.clear()  # one site's at a time
        _JEKYLL_CONTENT[key] = found
    return found


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _take_jekyll_content(posts: list[Post], config: Config) -> list[Post]:
    """Posts whose file Jekyll rendered as it is now carry that rendering's digest: their
    entries take Jekyll's HTML (plugins' tags and kramdown-only syntax come out as on the
    site)."""
    if config.jekyll_content is None:
        return posts
    rendered = jekyll_content(config.jekyll_content)
    if not rendered:
        return posts
    taken = []
    for post in posts:
        found = rendered.get(post.rel)
        if found is not None:
            try:
                same = hashlib.sha256(read_regular(post.path)).hexdigest() == found[0]
            except OSError:
                same = False
            if same:
                post = replace(post, rendered=_sha256(found[1]))  # noqa: PLW2901
        taken.append(post)
    return taken


def _entry_key_of(post: Post, states: Mapping[str, FileState], fingerprint: str) -> str:
    """The entry key the post's file state carries, unless the index holds another post than
    the state (one whose id it had to change)."""
    state = states.get(post.rel)
    if state is not None and state.key and state.post is post:
        return state.key
    return entry_key(post, fingerprint)


def _stem(rel: str) -> str:
    """`_posts/2013-05-06-jekyll.md` -> `2013-05-06-jekyll`, as os.path.splitext of its
    base name gives for a post file (its name never starts with a dot), at a third the cost:
    every post of a million has one."""
    name = rel[rel.rfind("/") + 1 :]
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def _links_after(
    links: Links, removed: Iterable[Post], added: Iterable[Post], config: Config
) -> Links | None:
    """`_links` of the index `links` were made from, less `removed`, with `added`; None where
    two posts share a file name (which one a `{% post_url %}` names, the whole index tells)."""
    if len(links.by_name) != len(links.by_rel):
        return None
    prefix = config.url + config.baseurl
    taken = [(post.rel, links.by_rel[post.rel]) for post in removed]
    put = [(post.rel, post.url.removeprefix(prefix)) for post in added]
    leaving = {_stem(rel) for rel, _ in taken}
    names = {_stem(rel): url for rel, url in put}
    if len(names) != len(put) or any(n in links.by_name and n not in leaving for n in names):
        return None
    new_rels = {rel for rel, _ in put}
    return replace(
        links,
        by_name=Overlay.changed(links.by_name, names, leaving - names.keys()),
        by_rel=Overlay.changed(
            links.by_rel, dict(put), [rel for rel, _ in taken if rel not in new_rels]
        ),
        version=links_version_after(links.version, taken, put),
    )


def _links(index: Index, config: Config) -> Links:
    """What `{% post_url %}` and `{% link %}` resolve against."""
    prefix = config.url + config.baseurl
    by_rel = {p.rel: p.url.removeprefix(prefix) for p in index.posts}
    return Links(
        root=config.source,
        by_name={_stem(p.rel): by_rel[p.rel] for p in index.posts},
        by_rel=by_rel,
        collections=config.collections,
        version=links_version(by_rel),
    )


def never_posts(config: Config, written: Iterable[str]) -> frozenset[str]:
    """What must never be read as a post: the output folder, where it lies inside the source,
    and the files feedsmith wrote into it (`written`, relative to it) where it is the source
    itself (feeds committed into a site: way b)."""
    source, out = os.path.realpath(config.source), os.path.realpath(config.output)
    if out == source:
        return frozenset(os.path.join(out, rel) for rel in written)
    if out.startswith(source + os.sep):
        return frozenset({out})
    return frozenset()


STATE_SHARDS = 64  # file states are cached in shards: one new post rewrites 1/64 of them


def _shard(rel: str) -> int:
    digest = hashlib.blake2b(rel.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    return int(digest, 16) % STATE_SHARDS


def load_states(cache: Cache, fingerprint: str) -> dict[str, FileState]:
    """The file states an earlier build under this configuration saved."""
    keys = [f"{fingerprint}:{shard}" for shard in range(STATE_SHARDS)]
    cache.files.prefetch(keys)  # one query, not one a shard
    states: dict[str, FileState] = {}
    for key in keys:
        for rel, state in (cache.files.get(key) or {}).items():
            post = state.post  # its own copy of the path keys it: one string a post, not two
            states[post.rel if post is not None and post.rel == rel else rel] = state
    return states


def save_states(
    cache: Cache, fingerprint: str, states: Mapping[str, FileState], known: Mapping[str, FileState]
) -> None:
    """Write the shards whose file states changed since they were loaded (`known`)."""
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
        cache.files.set_encoded(f"{fingerprint}:{shard}", encode(members, STATES))
