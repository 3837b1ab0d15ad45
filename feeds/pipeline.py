"""The one place the stages are wired: discover -> parse -> index -> entry -> render -> write.

`read_site` and `render_outputs` are what `serve` uses too, so a served feed and a built file
are the same bytes by construction.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from feeds import markup
from feeds.config import Config
from feeds.discover import discover
from feeds.entry import make_entry
from feeds.errors import PostError
from feeds.index import build_index, feed_specs
from feeds.model import (
    MEDIA_TYPES,
    BuildReport,
    Entry,
    FeedSpec,
    Index,
    Post,
    Problem,
    RenderedFeed,
    SourceFile,
)
from feeds.parse import parse_post
from feeds.render import feed_updated, render_feed, render_opml, rendered
from feeds.write import differences, locked, write_files

Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    """The default progress sink: nothing."""


@dataclass(frozen=True, slots=True)
class FileState:
    """What reading one post file gave, and the file state it was read in."""

    stamp: tuple[int, int, int]  # mtime_ns, size, inode: unchanged stamp, unchanged result
    post: Post | None
    problems: tuple[Problem, ...] = ()
    held_back: str | None = None


@dataclass(frozen=True, slots=True)
class Site:
    """A source folder read once: the index, every feed as data, and what went wrong."""

    config: Config
    index: Index
    specs: tuple[FeedSpec, ...]
    problems: tuple[Problem, ...]
    files: Mapping[str, FileState]  # every post file found, by relative path
    links: markup.Links
    held_back: Mapping[str, int] = field(default_factory=dict)  # reason -> posts not published

    @property
    def skipped(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    def spec(self, path: str) -> FeedSpec | None:
        return next((s for s in self.specs if s.path == path), None)


def _stamp(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def _read_file(file: SourceFile, config: Config, now: datetime) -> FileState:
    try:
        stamp = _stamp(file.path)
        parsed = parse_post(file, config, now=now)
    except PostError as exc:
        return FileState((0, 0, 0), None, (Problem(exc.path, exc.reason, "error"),))
    except OSError as exc:
        reason = f"cannot read: {exc.strerror or exc}"
        return FileState((0, 0, 0), None, (Problem(file.rel, reason, "error"),))
    except Exception as exc:  # one odd file must not stop the other posts
        reason = f"cannot be read ({type(exc).__name__}: {exc})"
        return FileState((0, 0, 0), None, (Problem(file.rel, reason, "error"),))
    return FileState(stamp, parsed.post, parsed.problems, parsed.held_back)


def _reusable(previous: FileState | None, file: SourceFile) -> bool:
    """A file read before is not read again while its stamp is unchanged."""
    if (
        previous is None
        or previous.stamp == (0, 0, 0)
        or previous.held_back == "dated in the future"
    ):
        return False
    try:
        return _stamp(file.path) == previous.stamp
    except OSError:
        return False


def read_site(
    config: Config,
    *,
    now: datetime | None = None,
    progress: Progress = _quiet,
    previous: Site | None = None,
) -> Site:
    """Discover and parse every post, index them and lay out every feed. Reads front matter only.

    With `previous` (the same configuration read earlier), files whose modification time, size
    and inode are unchanged are not read again: a reload costs what changed, plus a directory walk.
    """
    now = now or datetime.now(UTC)
    found, problems = discover(config.source, jekyll=config.jekyll, drafts=config.drafts)
    known = previous.files if previous is not None and previous.config == config else {}
    states: dict[str, FileState] = {}
    for done, file in enumerate(found, 1):
        before = known.get(file.rel)
        states[file.rel] = (
            before
            if before is not None and _reusable(before, file)
            else _read_file(file, config, now)
        )
        progress("read", done, len(found))
    posts = [state.post for state in states.values() if state.post is not None]
    held_back = Counter(state.held_back for state in states.values() if state.held_back)
    for state in states.values():
        problems.extend(state.problems)
    index, index_problems = build_index(posts)
    specs, spec_problems = feed_specs(index, config)
    prefix = config.url + config.baseurl
    links = markup.Links(
        root=config.source,
        by_name={p.path.stem: p.url.removeprefix(prefix) for p in index.posts},
        by_rel={p.rel: p.url.removeprefix(prefix) for p in index.posts},
        collections=config.collections,
    )
    return Site(
        config=config,
        index=index,
        specs=specs,
        problems=tuple(problems + index_problems + spec_problems),
        files=states,
        links=links,
        held_back=dict(held_back),
    )


def _globals(site: Site) -> markup.Globals:
    config = site.config
    return markup.Globals(
        url=config.url, baseurl=config.baseurl, vars=config.site_vars, links=site.links
    )


def entry_key(post: Post, config: Config) -> str:
    """What an entry's bytes depend on: the post's file and metadata, and the configuration."""
    blob = f"{config.fingerprint()}\0{post!r}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(blob, digest_size=16).hexdigest()


def make_entries(
    site: Site,
    wanted: Iterable[int],
    progress: Progress = _quiet,
    cache: MutableMapping[str, Entry] | None = None,
) -> tuple[dict[int, Entry], list[Problem]]:
    """Render the bodies of the posts that some feed shows; each post once, however many feeds.

    With a `cache`, an entry whose post and configuration are unchanged is not rendered again
    (unless it links to other posts with `{% post_url %}`/`{% link %}` and those moved).
    """
    entries: dict[int, Entry] = {}
    problems: list[Problem] = []
    context = _globals(site)
    links = site.links.digest()
    todo = sorted(set(wanted))
    for done, i in enumerate(todo, 1):
        post = site.index.posts[i]
        key = entry_key(post, site.config) if cache is not None else ""
        entry = cache.get(key) if cache is not None else None
        if entry is None or (entry.links is not None and entry.links != links):
            try:
                entry = make_entry(post, site.config, context)
            except PostError as exc:
                # The file changed or vanished after it was indexed: keep the entry, say so.
                problems.append(Problem(exc.path, exc.reason, "error"))
                entry = Entry(content="", summary=post.summary or "", title=post.title or post.slug)
            if cache is not None:
                cache[key] = entry
        entries[i] = entry
        problems.extend(entry.problems)
        progress("render", done, len(todo))
    return entries, problems


def render_outputs(
    site: Site, progress: Progress = _quiet
) -> tuple[dict[str, RenderedFeed], list[Problem]]:
    """Every output file of the site, in memory: each feed, and the OPML list."""
    config = site.config
    entries, problems = make_entries(site, (i for spec in site.specs for i in spec.posts), progress)
    outputs: dict[str, RenderedFeed] = {}
    for spec in site.specs:
        body = render_feed(spec, site.index, entries, config)
        outputs[spec.path] = rendered(
            spec.path, body, MEDIA_TYPES[spec.format], feed_updated(spec, site.index)
        )
    if config.opml:
        newest = max((p.updated for p in site.index.posts), default=None)
        outputs[config.opml] = rendered(
            config.opml, render_opml(site.specs, config), MEDIA_TYPES["opml"], newest
        )
    return outputs, problems


def build(
    config: Config, *, check: bool = False, now: datetime | None = None, progress: Progress = _quiet
) -> BuildReport:
    """Build every feed of `config.source` into `config.output` (or, with `check`, compare)."""
    started = time.perf_counter()
    site = read_site(config, now=now, progress=progress)
    outputs, entry_problems = render_outputs(site, progress)
    files = {path: feed.body for path, feed in outputs.items()}
    problems = site.problems + tuple(entry_problems)
    if check:
        mismatched = differences(config.output, files) if config.output.exists() else sorted(files)
        return BuildReport(
            posts_read=len(site.files),
            posts_published=len(site.index.posts),
            problems=problems,
            written=(),
            unchanged=tuple(sorted(set(files) - {m.split(" ")[0] for m in mismatched})),
            removed=(),
            seconds=time.perf_counter() - started,
            check_failed=tuple(mismatched),
            held_back=site.held_back,
        )
    with locked(config.output):
        result = write_files(
            config.output, files, {path: feed.etag.strip('"') for path, feed in outputs.items()}
        )
    return BuildReport(
        posts_read=len(site.files),
        posts_published=len(site.index.posts),
        problems=problems,
        written=result.written,
        unchanged=result.unchanged,
        removed=result.removed,
        seconds=time.perf_counter() - started,
        held_back=site.held_back,
    )
