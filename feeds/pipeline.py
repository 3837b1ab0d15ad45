"""`build`: the one place the stages are wired — lock, cache, read, render, write, report.

    read    discover -> parse -> index          site.read_site      (the read half)
    render  entry (markup, clean) -> render     outputs.render_file (the render half)
    write   bytes -> files                      write.Staging (each file as it is rendered)

`serve` runs the same two halves (feedsmith.server.store), so a served file and a built file
are the same bytes by construction.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from feedsmith import unchanged
from feedsmith.cache import Cache
from feedsmith.config import Config
from feedsmith.errors import EmptySourceError
from feedsmith.model import BuildReport, Difference, FileState, Problem, Progress, quiet
from feedsmith.outputs import Caches, output_paths, preload_renderer, render_outputs, settle
from feedsmith.render import render_links_include
from feedsmith.site import Site, load_states, never_posts, read_site, save_states
from feedsmith.state import locked, read_manifest, state_folder, usable
from feedsmith.write import Comparison, Staging, WriteResult, write_text_atomically


def known_states(config: Config) -> Mapping[str, FileState]:
    """The file states the last build of `config` kept in its cache (none when there is no
    cache): what reads the site without a build (`serve`, `links`) parses only what changed."""
    state = state_folder(config)
    if not (usable(state) and (state / "cache.sqlite").is_file()):
        return {}
    cache = Cache(state)
    try:
        return load_states(cache, config.fingerprint())
    finally:
        cache.close()


def _save(cache: Cache) -> None:
    try:
        cache.commit()
    finally:
        cache.close()


def _compare(
    site: Site, caches: Caches, state: Path, problems: set[Problem], progress: Progress
) -> list[Difference]:
    """`--check`: each file compared with OUT as soon as it is rendered, none of them kept."""
    comparison = Comparison(site.config.output, state=state)
    total = len(output_paths(site))
    progress("check", 0, total)
    for done, made in enumerate(render_outputs(site, caches), 1):
        problems.update(made.problems)
        comparison.add(made.path, made.body)
        progress("check", done, total)
    return comparison.result()


def _write(
    site: Site,
    caches: Caches,
    state: Path,
    problems: set[Problem],
    rendered: Callable[[], None],
    *,
    progress: Progress,
) -> WriteResult:
    """Each file staged as soon as it is rendered (memory holds one file's bytes and every
    file's digest, not every file), then all renamed into place; `rendered` is called once
    the last file is made."""
    paths = output_paths(site)
    progress("write", 0, len(paths))
    with Staging(site.config.output, paths, state=state) as staging:
        for done, made in enumerate(render_outputs(site, caches), 1):
            problems.update(made.problems)
            staging.add(
                made.path, made.body, made.etag.strip('"'), same=made.path in caches.read_back
            )
            progress("write", done, len(paths))
        rendered()
        return staging.commit()


def _unchanged(
    config: Config, state: Path, skip: frozenset[str]
) -> tuple[unchanged.Sources | None, BuildReport | None]:
    """The source as walked now, and the last build's report if nothing changed since
    (feedsmith.unchanged): then no post is read."""
    sources = unchanged.walk(config, skip)
    return sources, unchanged.recall(config, state, sources)


def _report(
    site: Site,
    rendering: set[Problem],
    result: WriteResult,
    mismatched: list[Difference],
    seconds: float,
) -> BuildReport:
    written = set(result.written)
    return BuildReport(
        posts_read=len(site.files),
        posts_published=len(site.index.posts),
        problems=site.problems
        + tuple(sorted(rendering, key=lambda p: (p.where, p.reason, p.severity))),
        written=result.written,
        unchanged=result.unchanged,
        removed=result.removed,
        seconds=seconds,
        check_failed=tuple(mismatched),
        held_back=site.held_back,
        changed=tuple(spec.url for spec in site.specs if spec.path in written),
    )


def build(
    config: Config,
    *,
    check: bool = False,
    now: datetime | None = None,
    progress: Progress = quiet,
    jobs: int | None = None,
    use_cache: bool = True,
    links_include: Path | None = None,
    allow_empty: bool = False,
    waiting: Callable[[int | None], None] | None = None,
) -> BuildReport:
    """Build every feed of `config.source` into `config.output` (or, with `check`, compare).

    A source without a single post file raises EmptySourceError unless `allow_empty`.
    `progress` hears how far each stage is (see model.Progress); `waiting`, that another build
    into the same output folder holds it, with that build's process id where it is known."""
    started = time.perf_counter()
    state = state_folder(config)
    # --check writes nothing at all: no lock file, no cache, no output folder.
    guard = contextlib.nullcontext() if check else locked(state, config.output, waiting)
    # The cache is saved while the feeds are renamed into place and the manifest written;
    # leaving this block waits for it, inside the lock.
    with guard, ThreadPoolExecutor(max_workers=1) as background:
        skip = never_posts(config, read_manifest(state, config.output))
        # Not from scratch, nor with inputs from outside the source (Jekyll's own rendering).
        shortcut = use_cache and links_include is None and config.jekyll_content is None
        sources, recalled = _unchanged(config, state, skip) if shortcut else (None, None)
        if recalled is not None:
            return replace(recalled, seconds=time.perf_counter() - started)
        cache = Cache(state) if use_cache and not check and usable(state) else None
        saving: Future[None] | None = None
        try:
            if cache is not None:
                progress("load", 0, 0)
            known = load_states(cache, config.fingerprint()) if cache is not None else {}
            site = read_site(
                config,
                now=now,
                progress=progress,
                known=known,
                jobs=jobs,
                alongside=preload_renderer,
                skip=skip,
            )
            if not site.files and not allow_empty:
                raise EmptySourceError(config.source, jekyll=config.jekyll)
            caches = Caches.over(cache, config.output) if cache is not None else Caches()
            states_saved = False

            def save_states_once() -> None:  # while the entries are rendered, if they are
                nonlocal states_saved
                if cache is not None and not states_saved:
                    save_states(cache, site.fingerprint, site.files, known)
                    states_saved = True

            site, skipped = settle(
                site, caches, jobs=jobs, progress=progress, alongside=save_states_once
            )
            save_states_once()
            rendering = set(skipped)
            mismatched: list[Difference] = []
            if check:
                mismatched = _compare(site, caches, state, rendering, progress)
                same = sorted(set(output_paths(site)) - {d.path for d in mismatched})
                result = WriteResult((), tuple(same), ())
            else:

                def save_cache() -> None:  # saved while the files are renamed into place
                    nonlocal saving
                    if cache is not None:
                        saving = background.submit(_save, cache)

                result = _write(site, caches, state, rendering, save_cache, progress=progress)
                if links_include is not None:  # a file the user named, outside OUT on purpose
                    write_text_atomically(links_include, render_links_include(site.specs))
        finally:
            if cache is not None and saving is None:
                cache.close()
        if saving is not None and not saving.done():  # leaving the block waits for it
            progress("save", 0, 0)
    report = _report(site, rendering, result, mismatched, time.perf_counter() - started)
    if not check:
        unchanged.remember(config, state, sources, report)
    return report
