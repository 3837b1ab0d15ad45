"""Map a function over many items on every core, in order, when there are enough of them.

The stages are pure functions of (shared context, one item), so a cold build of a large
archive can spread them over processes. The context reaches the workers by `fork` (nothing is
pickled but items and results); where fork is unavailable, or for a few items, the map runs in
this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 400  # below this, starting processes costs more than it saves
_CHUNK = 128

_context: Any = None
_function: Callable[[Any, Any], Any] | None = None


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _run_chunk(items: Sequence[Any]) -> list[Any]:
    assert _function is not None
    return [_function(_context, item) for item in items]


def pmap(
    function: Callable[[Any, T], R],
    items: Sequence[T],
    context: Any,
    *,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    min_items: int = MIN_ITEMS,
    chunk: int = _CHUNK,
    alongside: Callable[[], None] | None = None,
) -> list[R]:
    """[function(context, item) for item in items], possibly on several processes.

    `alongside` is other work for this process: run while the workers map, once they are all
    started (no worker is forked while it runs), or first when the map runs here.
    """
    global _context, _function
    jobs = default_jobs() if jobs is None else jobs
    fork = "fork" in multiprocessing.get_all_start_methods()
    if jobs <= 1 or len(items) < min_items or not fork:
        if alongside is not None:
            alongside()
        results = []
        for done, item in enumerate(items, 1):
            results.append(function(context, item))
            if progress is not None:  # a sink only keeps the count: cheap every time
                progress(done)
        return results
    batches = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    _context, _function = context, function
    # Frozen objects are left alone by the workers' garbage collector, so the pages holding
    # the parent's 100,000 posts stay shared instead of being copied into every worker.
    gc.freeze()
    try:
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("fork")
        ) as pool:
            results = []
            mapped = pool.map(_run_chunk, batches)  # submits every batch: workers now exist
            if alongside is not None:
                alongside()
            for batch in mapped:
                results.extend(batch)
                if progress is not None:
                    progress(len(results))
            return results
    finally:
        gc.unfreeze()
        _context, _function = None, None
