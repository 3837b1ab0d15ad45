"""What feedsmith keeps for itself, never in the folder it publishes: the state folder.

By default `.feedsmith-cache/` in the source folder (as Jekyll keeps `.jekyll-cache/`; Jekyll
publishes no hidden folder), or the `cache_dir` setting, or, where the environment variable
FEEDSMITH_CACHE_DIR names a folder, a folder of its own in there for each source. It holds:

- `cache.sqlite`: the build cache (feedsmith.cache);
- `outputs/<key>.json`: for each output folder, the files the last build wrote there, so a
  feed that is no longer produced is removed (and nothing else ever is);
- `outputs/<key>.lock`: one build at a time into one output folder;
- `modified.sqlite`: when each file `serve` serves last changed (feedsmith.server.modified);
- `search.sqlite`: the text and names of every post, for `serve`'s queries (feedsmith.search).

Deleting it is always safe: the next build is a cold one, and removes no stale feed once.
Nothing in it is followed through a symlink.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from feedsmith.config import Config
from feedsmith.version import __version__

FOLDER = ".feedsmith-cache"
ENVIRONMENT = "FEEDSMITH_CACHE_DIR"
# What builds before this layout kept in the output folder itself.
OLD_MANIFEST, OLD_LOCK = ".feedsmith-manifest.json", ".feedsmith.lock"


def state_folder(config: Config) -> Path:
    """The state folder of `config`'s source (see the module's docstring)."""
    if config.cache_dir is not None:
        return config.cache_dir
    shared = os.environ.get(ENVIRONMENT)
    if shared:
        key = hashlib.blake2b(os.fsencode(os.path.realpath(config.source)), digest_size=8)
        return Path(shared) / key.hexdigest()
    return config.source / FOLDER


def usable(folder: Path) -> bool:
    """Whether `folder` can hold state: made if need be, a real folder, not a symlink."""
    try:
        if folder.is_symlink():
            return False
        folder.mkdir(parents=True, exist_ok=True)
        return folder.is_dir() and not folder.is_symlink() and os.access(folder, os.W_OK)
    except OSError:
        return False


def no_symlinks(database: Path) -> None:
    """Remove symlinks standing at an SQLite file's names (its journals too): SQLite follows
    them, and nothing in the state folder is ever one of ours."""
    for name in ("", "-journal", "-wal", "-shm"):
        path = database.with_name(database.name + name)
        with contextlib.suppress(OSError):
            if path.is_symlink():
                path.unlink()


def _key(out: Path) -> str:
    return hashlib.blake2b(os.fsencode(os.path.realpath(out)), digest_size=12).hexdigest()


def manifest_path(state: Path, out: Path) -> Path:
    return state / "outputs" / f"{_key(out)}.json"


def read_manifest(state: Path, out: Path) -> dict[str, str]:
    """The files (path -> digest) the last build wrote into `out`; {} when none is known.

    A manifest an older feedsmith left in the output folder itself counts too.
    """
    for path in (manifest_path(state, out), out / OLD_MANIFEST):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        files = data.get("files") if isinstance(data, dict) else None
        if isinstance(files, dict):
            return {str(k): str(v) for k, v in files.items()}
    return {}


def manifest_body(out: Path, digests: Mapping[str, str]) -> bytes:
    manifest = {
        "generator": f"feedsmith {__version__}",
        "output": os.path.realpath(out),
        "files": dict(sorted(digests.items())),
    }
    return json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")


def _holder(handle: BinaryIO) -> int | None:
    """The process id the build holding the lock wrote into it (None from older builds)."""
    with contextlib.suppress(OSError, ValueError):
        handle.seek(0)
        return int(handle.read(32).decode("ascii").strip())
    return None


@contextlib.contextmanager
def locked(
    state: Path, out: Path, waiting: Callable[[int | None], None] | None = None
) -> Iterator[None]:
    """One build at a time per output folder (a second one waits for the first).

    `waiting` is told, once, that this build waits, with the process id of the build it waits
    for (None where that build does not say). Without a usable state folder (a read-only
    checkout) builds are not serialised.
    """
    if not usable(state / "outputs"):
        yield
        return
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(state / "outputs" / f"{_key(out)}.lock", flags, 0o644)
    except OSError:
        yield
        return
    handle: BinaryIO = os.fdopen(fd, "r+b")
    try:
        try:
            import fcntl  # noqa: PLC0415 - POSIX only; elsewhere builds are not serialised

            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waiting is not None:
                    waiting(_holder(handle))
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            with contextlib.suppress(OSError):  # who holds it, for a build that waits
                handle.seek(0)
                handle.truncate()
                handle.write(str(os.getpid()).encode("ascii"))
                handle.flush()
        except ImportError:
            pass
        yield
    finally:
        handle.close()


def forget_old_bookkeeping(state: Path, out: Path) -> None:
    """Remove what older feedsmiths kept inside the output folder (it would be published):
    never the state folder itself, where it is there (the output folder is the source)."""
    for name in (OLD_MANIFEST, OLD_LOCK):
        with contextlib.suppress(OSError):
            if not (out / name).is_symlink():
                (out / name).unlink()
    old_cache = out / FOLDER
    if os.path.realpath(old_cache) == os.path.realpath(state):
        return
    if old_cache.is_dir() and not old_cache.is_symlink():
        for item in old_cache.iterdir():
            with contextlib.suppress(OSError):
                if item.is_file() and not item.is_symlink():
                    item.unlink()
        with contextlib.suppress(OSError):
            old_cache.rmdir()
