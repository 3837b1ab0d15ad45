"""Shared fixtures: the project's sample posts, the shared corpus, small sites in tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from feedsmith.config import Config, load_config
from feedsmith.model import BuildReport
from feedsmith.pipeline import build
from feedsmith.state import ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
POSTS = ROOT / "posts"
CORPUS = ROOT.parent / "shared" / "corpus"
DATA = Path(__file__).resolve().parent / "data"
# Every test builds as of this moment, so "future" posts do not depend on the day tests run.
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def corpus() -> Path:
    """The shared corpus of real Jekyll posts; tests using it skip where it is absent."""
    if not (CORPUS / "finews" / "_posts").is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (it ships beside the project in CI)")
    return CORPUS


def pytest_configure(config: pytest.Config) -> None:
    """feedsmith keeps its state beside the source it reads: for the tests, in a folder of
    their own (one per source), never inside the repository's posts/."""
    os.environ.setdefault(ENVIRONMENT, tempfile.mkdtemp(prefix="feedsmith-state-"))


@pytest.fixture(scope="session")
def served_posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of posts/ to serve: `serve` keeps its state (when each feed last changed) in
    the folder it serves, and tests never write into the repository."""
    copy = tmp_path_factory.mktemp("served") / "posts"
    shutil.copytree(POSTS, copy)
    return copy


def feedsmith(
    *args: str | Path, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the installed command the way a user or a CI job does: a new process, its output
    captured, its exit code left to the test."""
    return subprocess.run(
        [sys.executable, "-m", "feedsmith", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=timeout,
    )


def parse_feed(path: Path) -> Any:
    """feedparser's view of a feed file; fails the test if feedparser finds it malformed."""
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
    return parsed


def write_post(folder: Path, name: str, front: str, body: str = "Body text.\n") -> Path:
    """A post file with the given front matter (YAML lines) and body."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\n{textwrap.dedent(front).strip()}\n---\n{textwrap.dedent(body)}", encoding="utf-8"
    )
    return path


SITE_TOML = """\
title = "Test Site"
url = "https://example.org"
timezone = "Asia/Shanghai"
lang = "en"
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An empty plain folder of posts with a minimal feedsmith.toml."""
    source = tmp_path / "site"
    source.mkdir()
    (source / "feedsmith.toml").write_text(SITE_TOML, encoding="utf-8")
    return source


BuildFn = Callable[..., tuple[BuildReport, Path]]


@pytest.fixture
def run_build(tmp_path: Path) -> BuildFn:
    """Build a source folder into tmp_path/out through the library, as of NOW."""

    def run(source: Path, out: Path | None = None, **overrides: Any) -> tuple[BuildReport, Path]:
        out = out or tmp_path / "out"
        config = load_config(source, output=out, overrides=overrides or None)
        return build(config, now=NOW), out

    return run


def config_for(source: Path, **overrides: Any) -> Config:
    return load_config(source, overrides=overrides or None)
