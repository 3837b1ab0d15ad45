"""The one place the stages are wired: discover -> parse -> index -> entry -> render -> write.

`read_site` and `render_outputs` are what `serve` uses too, so a served feed and a built file
are the same bytes by construction.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

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
)
from feeds.parse import parse_post
from feeds.render import feed_updated, render_feed, render_opml, rendered
from feeds.write import differences, locked, write_files

Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    """The default progress sink: nothing."""


@dataclass(frozen=True, slots=True)
class Site:
    """A source folder read once: the index, every feed as data, and what went wrong."""

    config: Config
    index: Index
    specs: tuple[FeedSpec, ...]
    problems: tuple[Problem, ...]
    files: int  # post files found
    held_back: Mapping[str, int] = field(default_factory=dict)  # reason -> posts not published
    links: markup.Links | None = None

    @property
    def skipped(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")


def read_site(config: Config, *, now: datetime | None = None, progress: Progress = _quiet) -> Site:
    """Discover and parse every post, index them and lay out every feed. Reads front matter only."""
    now = now or datetime.now(UTC)
    files, problems = discover(config.source, jekyll=config.jekyll, drafts=config.drafts)
    posts: list[Post] = []
    held_back: Counter[str] = Counter()
    for done, file in enumerate(files, 1):
        try:
            parsed = parse_post(file, config, now=now)
        except PostError as exc:
            problems.append(Problem(exc.path, exc.reason, "error"))
            continue
        finally:
            progress("read", done, len(files))
        problems.extend(parsed.problems)
        if parsed.post is not None:
            posts.append(parsed.post)
        elif parsed.held_back:
            held_back[parsed.held_back] += 1
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
        files=len(files),
        held_back=dict(held_back),
        links=links,
    )


def _globals(site: Site) -> markup.Globals:
    config = site.config
    assert site.links is not None
    return markup.Globals(
        url=config.url, baseurl=config.baseurl, vars=config.site_vars, links=site.links
    )


def make_entries(
    site: Site, wanted: Iterable[int], progress: Progress = _quiet
) -> tuple[dict[int, Entry], list[Problem]]:
    """Render the bodies of the posts that some feed shows; each post once, however many feeds."""
    entries: dict[int, Entry] = {}
    problems: list[Problem] = []
    context = _globals(site)
    todo = sorted(set(wanted))
    for done, i in enumerate(todo, 1):
        post = site.index.posts[i]
        try:
            entry = make_entry(post, site.config, context)
        except PostError as exc:
            # The file changed or vanished after it was indexed: keep the entry, say so.
            problems.append(Problem(exc.path, exc.reason, "error"))
            entry = Entry(content="", summary=post.summary or "", title=post.title or post.slug)
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
            posts_read=site.files,
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
        posts_read=site.files,
        posts_published=len(site.index.posts),
        problems=problems,
        written=result.written,
        unchanged=result.unchanged,
        removed=result.removed,
        seconds=time.perf_counter() - started,
        held_back=site.held_back,
    )
