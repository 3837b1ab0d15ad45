"""Builds spread over worker processes write the same bytes as builds in one process.

An archive made by the benchmark's generator (bench/archive.py), large enough that reading,
rendering entries and, when the cache holds entries but not feeds, serialising the cached
entries all run in workers (feedsmith.parallel.MIN_ITEMS).
"""

from __future__ import annotations

import importlib.util
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedsmith import pipeline
from feedsmith.config import load_config
from feedsmith.parallel import MIN_ITEMS
from feedsmith.site import read_site
from feedsmith.state import state_folder

from tests.test_cache import assert_same_files

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def _make_archive(out: Path, posts: int) -> None:
    spec = importlib.util.spec_from_file_location("bench_archive", ROOT / "bench" / "archive.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_archive(out, posts=posts, categories=8, tags=300, seed=7)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("parallel") / "site"
    _make_archive(source, 900)
    (source / "feedsmith.toml").write_text(
        'formats = ["atom", "rss", "json"]\nposts_limit = 30\n', encoding="utf-8"
    )
    return source


def _build(source: Path, out: Path, *, jobs: int, cache: bool = False) -> None:
    report = pipeline.build(load_config(source, output=out), now=NOW, jobs=jobs, use_cache=cache)
    assert not [p for p in report.problems if p.severity == "error"]


def test_the_archive_is_large_enough_for_workers(archive: Path) -> None:
    site = read_site(load_config(archive), now=NOW, jobs=1)
    shown = {i for spec in site.specs for i in spec.posts}
    assert len(site.files) >= MIN_ITEMS
    assert len(shown) >= MIN_ITEMS  # rendered, or (cached) serialised, in workers


def test_a_parallel_cold_build_writes_what_a_serial_one_does(archive: Path, tmp_path: Path) -> None:
    _build(archive, tmp_path / "serial", jobs=1)
    _build(archive, tmp_path / "parallel", jobs=2)
    assert_same_files(tmp_path / "parallel", tmp_path / "serial")


def test_feeds_spliced_in_workers_from_cached_entries_are_the_same(
    archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cached"
    _build(archive, out, jobs=2, cache=True)
    # Keep the entries, forget the feeds: every feed is spliced again, from entries that
    # come back from the cache unserialised and are serialised in worker processes.
    with sqlite3.connect(state_folder(load_config(archive, output=out)) / "cache.sqlite") as db:
        db.execute("DELETE FROM feeds")
    for path in out.rglob("*.xml"):
        path.unlink()
    _build(archive, out, jobs=2, cache=True)
    _build(archive, tmp_path / "serial", jobs=1)
    assert_same_files(out, tmp_path / "serial")
