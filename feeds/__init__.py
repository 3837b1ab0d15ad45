"""feedsmith: posts in, clean Atom, RSS and JSON feeds out, for the site and every category and tag.

    import feedsmith
    report = feedsmith.build("posts", "_site", url="https://example.org")

    config = feedsmith.load_config("posts")
    site = feedsmith.read_site(config)                 # every post read, every feed laid out
    feed = feedsmith.render_file(site, "feed.xml")     # one file's bytes, as build writes it

    app = feedsmith.create_app(config, reload=True)    # an ASGI app serving the same files

The names in `__all__` are the API; the modules behind them are not, and may change.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedsmith.cache import LRU, Part
from feedsmith.config import CONFIG_FILES, Config, reload_config
from feedsmith.config import load_config as _load_config
from feedsmith.discover import may_change_site
from feedsmith.errors import ConfigError, EmptySourceError, FeedsError, OutputError, PostError
from feedsmith.model import BuildReport, Difference, FeedSpec, Problem, RenderedFile
from feedsmith.outputs import (
    Caches,
    feed_content_key,
    held_bytes,
    output_keys,
    output_paths,
    preload_renderer,
    render_feed_spec,
    render_file,
    serves,
)
from feedsmith.pages import CSP as PAGE_CSP
from feedsmith.pages import SEARCH_CSP as SEARCH_PAGE_CSP
from feedsmith.pipeline import build as _build
from feedsmith.pipeline import known_states
from feedsmith.progress import logged as log_progress
from feedsmith.search import (
    Query,
    SearchIndex,
    SearchTimeout,
    query_feed,
    scope_of,
    search_paths,
)
from feedsmith.site import Site, place_of, read_site
from feedsmith.state import no_symlinks, state_folder
from feedsmith.version import __version__
from feedsmith.websub import publish as notify_hubs

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = [
    "CONFIG_FILES",
    "LRU",
    "PAGE_CSP",
    "SEARCH_PAGE_CSP",
    "BuildReport",
    "Caches",
    "Config",
    "ConfigError",
    "Difference",
    "EmptySourceError",
    "FeedSpec",
    "FeedsError",
    "OutputError",
    "Part",
    "PostError",
    "Problem",
    "Query",
    "RenderedFile",
    "SearchIndex",
    "SearchTimeout",
    "Site",
    "__version__",
    "build",
    "create_app",
    "feed_content_key",
    "held_bytes",
    "known_states",
    "load_config",
    "log_progress",
    "may_change_site",
    "no_symlinks",
    "notify_hubs",
    "output_keys",
    "output_paths",
    "place_of",
    "preload_renderer",
    "query_feed",
    "read_site",
    "reload_config",
    "render_feed_spec",
    "render_file",
    "scope_of",
    "search_paths",
    "serves",
    "state_folder",
]


def load_config(
    source: str | Path | None = None,
    *,
    config_file: str | Path | None = None,
    output: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    fallback_url: str | None = None,
) -> Config:
    """Every setting for building `source` (default `posts/`), read from its `_config.yml`
    and `feedsmith.toml` (or `config_file`), then `overrides`; checked before anything is
    read. ConfigError names the file and key of a bad one."""
    return _load_config(
        Path(source) if source is not None else None,
        config_file=Path(config_file) if config_file is not None else None,
        output=Path(output) if output is not None else None,
        overrides=overrides,
        fallback_url=fallback_url,
    )


def build(
    source: str | Path | Config = "posts",
    output: str | Path = "_site",
    *,
    config_file: str | Path | None = None,
    check: bool = False,
    cache: bool = True,
    jobs: int | None = None,
    allow_empty: bool = False,
    **settings: Any,
) -> BuildReport:
    """Write every feed of `source` into `output`, as `feedsmith build` does; `settings`
    override the configuration (`url="https://example.org"`, `posts_limit=50`…).

    With `check`, nothing is written: the report lists what differs (`check_failed`). A
    source without posts raises EmptySourceError, unless `allow_empty`.
    """
    if isinstance(source, Config):
        if config_file is not None or settings:
            raise TypeError("give settings in the Config, or a source folder with settings")
        config = source
    else:
        config = load_config(source, config_file=config_file, output=output, overrides=settings)
    return _build(config, check=check, use_cache=cache, jobs=jobs, allow_empty=allow_empty)


def create_app(config: Config, *, reload: bool = False) -> Starlette:
    """The Starlette (ASGI) app serving every file `build` writes for `config`, live; with
    `reload`, the source is watched and changes show up in every affected feed."""
    from feedsmith.server.app import create_app as _create_app  # noqa: PLC0415 - the server loads only to serve

    return _create_app(config, reload=reload)
