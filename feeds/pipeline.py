"""`build`: the one place the stages are wired — lock, cache, read, render, write, report.

    read    discover -> parse -> index          site.read_site      (the read half)
    render  entry (markup, clean) -> render     outputs.render_file (the render half)
    write   bytes -> files                      write.write_files

`serve` runs the same two halves (feedsmith.server.store), so a served file and a built file
are the same bytes by construction.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from feedsmith.cache import Cache
from feedsmith.config import Config
from feedsmith.model import BuildReport, Progress, quiet
from feedsmith.outputs import Caches, preload_renderer, render_outputs
from feedsmith.render import render_links_include
from feedsmith.site import load_states, never_posts, read_site, save_states
from feedsmith.state import locked, read_manifest, state_folder, usable
from feedsmith.write import WriteResult, differences, write_files, write_text_atomically


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
    progress: Progress = quiet,
    jobs: int | None = None,
    use_cache: bool = True,
    links_include: Path | None = None,
    waiting: Callable[[int | None], None] | None = None,
) -> BuildReport:
    """Build every feed of `config.source` into `config.output` (or, with `check`, compare).

    `progress` hears how far each stage is (see model.Progress); `waiting`, that another build
    into the same output folder holds it, with that build's process id where it is known."""
    started = time.perf_counter()
    state = state_folder(config)
    # --check writes nothing at all: no lock file, no cache, no output folder.
    guard = contextlib.nullcontext() if check else locked(state, config.output, waiting)
    # The cache is saved while the feeds are written (both wait mostly on the disk or on
    # compression outside the GIL); leaving this block waits for it, inside the lock.
    with guard, ThreadPoolExecutor(max_workers=1) as background:
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
                skip=never_posts(config, read_manifest(state, config.output)),
            )
            caches = Caches.over(cache, config.output) if cache is not None else Caches()
            states_saved = False

            def save_states_once() -> None:  # while the entries are rendered, if they are
                nonlocal states_saved
                if cache is not None and not states_saved:
                    save_states(cache, site.fingerprint, site.files, known)
                    states_saved = True

            site, files, rendering = render_outputs(
                site, caches, jobs=jobs, progress=progress, alongside=save_states_once
            )
            if cache is not None:
                save_states_once()
                saving = background.submit(_save, cache)
        finally:
            if cache is not None and saving is None:
                cache.close()
        bodies = {path: file.body for path, file in files.items()}
        mismatched = (
            differences(config.output, bodies, state=state, progress=progress) if check else ()
        )
        if check:
            result = WriteResult((), tuple(sorted(set(bodies) - {d.path for d in mismatched})), ())
        else:
            digests = {path: file.etag.strip('"') for path, file in files.items()}
            result = write_files(
                config.output, bodies, digests, caches.read_back, state=state, progress=progress
            )
            if links_include is not None:  # a file the user named, outside OUT on purpose
                write_text_atomically(links_include, render_links_include(site.specs))
        if saving is not None and not saving.done():  # leaving the block waits for it
            progress("save", 0, 0)
    written = set(result.written)
    return BuildReport(
        posts_read=len(site.files),
        posts_published=len(site.index.posts),
        problems=site.problems + tuple(rendering),
        written=result.written,
        unchanged=result.unchanged,
        removed=result.removed,
        seconds=time.perf_counter() - started,
        check_failed=tuple(mismatched),
        held_back=site.held_back,
        changed=tuple(spec.url for spec in site.specs if spec.path in written),
    )
