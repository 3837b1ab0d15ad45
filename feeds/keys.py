"""Content keys: digests of everything an entry's or a file's bytes depend on.

Equal keys, equal bytes. The caches are looked up by them, `serve` dates its files by them,
and WebSub is told of the feeds whose key changed: one answer to "what changed?".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from feedsmith.model import FeedSpec, Post


def _digest(blob: str) -> str:
    return hashlib.blake2b(blob.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def entry_key(post: Post, fingerprint: str) -> str:
    """What an entry's bytes depend on: the post's file and metadata, and the configuration
    (`Config.fingerprint()`).

    The absolute path is left out so a checkout elsewhere (a CI runner) still finds its cache.
    """
    state = tuple(getattr(post, name) for name in Post.__slots__ if name != "path")
    return _digest(f"{fingerprint}\0{state!r}")


def feed_key(spec: FeedSpec, entry_keys: Sequence[str], fingerprint: str) -> str:
    """What one feed's bytes depend on: its spec, its posts' entries and the configuration."""
    parts = (
        spec.kind,
        spec.name,
        spec.format,
        spec.path,
        spec.url,
        spec.title,
        spec.total,
        spec.excerpt_only,
        spec.alternates,
        spec.links,
        spec.archive,
        spec.immutable,
    )
    return _digest(fingerprint + repr(parts) + "".join(entry_keys))


def page_key(path: str, feeds: Sequence[str], fingerprint: str) -> str:
    """What a page for people depends on: where it is (its links are relative) and the keys
    of the feeds it shows."""
    return _digest(f"{fingerprint}page{path!r}{feeds!r}")


def list_key(specs: Sequence[FeedSpec], fingerprint: str) -> str:
    """What the OPML list depends on: the feeds' names and addresses."""
    listed = [(s.kind, s.name, s.format, s.path, s.url, s.title) for s in specs]
    return _digest(f"{fingerprint}{listed!r}")
