"""Plain, frozen data passed between the pipeline stages.

discover -> parse -> index -> entry (markup, clean) -> render -> write: every stage takes and
returns these, so a stage can be cached, parallelised or served without knowing the others.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from feedsmith.errors import message

Markup = Literal["markdown", "html"]
Format = Literal["atom", "rss", "json"]
FeedKind = Literal["site", "category", "tag", "author", "collection"]
# error: the post is skipped. warning: something a reader would have seen is lost or changed.
# notice: worth knowing, costs the reader nothing (names told apart, a path kept inside).
Severity = Literal["error", "warning", "notice"]

FORMATS: tuple[Format, ...] = ("atom", "rss", "json")

MEDIA_TYPES: Mapping[str, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
    "opml": "text/x-opml; charset=utf-8",
}


# Where a stage says how far it is: (stage, done, total). The stages, in order: "load" (the
# build cache read), "find" (the post files found), "read" (post files parsed, of those not
# known from the cache), "index" (the posts indexed and every feed laid out), "render" (posts
# rendered, of those the caches lack), "write" or, for --check, "check" (output files made
# from the entries and staged or compared, one at a time), "save" (waiting for the build cache
# to be saved).
# A total of 0: a step without a count, or nothing to count.
Progress = Callable[[str, int, int], None]


def quiet(stage: str, done: int, total: int) -> None:
    """The default progress sink: nothing."""


# What a file's stat says about its content: modification time, size, inode and change time
# (ns). The change time cannot be set back: an edit that restores the modification time, as
# `cp -p`, `rsync -t` or unpacking an archive do, still shows. (0, 0, 0, 0): not taken.
Stamp = tuple[int, int, int, int]
NO_STAMP: Stamp = (0, 0, 0, 0)


def stamp_of(info: os.stat_result) -> Stamp:
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)


def fast_reduce(self: Any) -> tuple[type, tuple[Any, ...]]:
    """Pickle a slots dataclass as (class, field values): the default way looks up the fields
    anew for every object, most of the cost of sending 100,000 posts back from the worker
    processes (feedsmith.parallel). Nothing feedsmith stores is a pickle (feedsmith.plain)."""
    return type(self), tuple(getattr(self, name) for name in self.__slots__)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one input, reported to the user: an error skips the post."""

    where: str
    reason: str
    severity: Severity = "warning"

    def __str__(self) -> str:
        return message(self.where, self.reason)

    __reduce__ = fast_reduce


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file that discover() found and that may be a post."""

    path: str  # absolute (a plain string: 100,000 Path objects cost seconds to make and store)
    rel: str  # relative to the source folder, POSIX separators: names the post in messages
    categories: tuple[str, ...] = ()  # from Jekyll's `<category>/_posts/` folders
    draft: bool = False  # found in `_drafts/`
    stamp: Stamp = NO_STAMP  # when discovered
    collection: str = "posts"  # the Jekyll collection (`_docs/` -> "docs")
    linked: bool = False  # a symlink: its target can change with no event on its own path


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str | None = None
    uri: str | None = None

    __reduce__ = fast_reduce


@dataclass(frozen=True, slots=True)
class Post:
    """One publishable post as the index needs it: front matter resolved, body not kept.

    The body is read again only for posts that some feed shows, so an archive of any size
    costs one small record per post here.
    """

    path: str  # absolute
    rel: str
    digest: str  # of the file's bytes: what an entry cache is keyed on
    markup: Markup
    title: str  # may be "" when neither front matter nor file name gives one
    date: datetime  # aware, in the site timezone
    updated: datetime  # aware, never before `date`
    url: str  # absolute, percent-encoded: the page the post is published at
    id: str  # the entry id; stable across formats
    slug: str
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[Author, ...] = ()  # every author, in the order the front matter names them
    summary: str | None = None  # description / excerpt from front matter; "": none at all
    image: str | None = None  # absolute URL
    lang: str | None = None
    excerpt_only: bool | None = None  # the post's own `feed: {excerpt_only: …}`
    collection: str = "posts"  # a document of another Jekyll collection is not a post
    rendered: str | None = None  # sha256 of Jekyll's own HTML of the body, where entries take it

    def __post_init__(self) -> None:
        # A million posts name a few hundred categories and tags: one copy of each name,
        # not one a post (each post comes from a worker process or the cache as new strings).
        intern, put = sys.intern, object.__setattr__
        put(self, "markup", intern(self.markup))
        put(self, "collection", intern(self.collection))
        put(self, "categories", tuple(map(intern, self.categories)))
        put(self, "tags", tuple(map(intern, self.tags)))

    __reduce__ = fast_reduce


@dataclass(frozen=True, slots=True)
class Entry:
    """The rendered, cleaned body of one post: what feeds show besides its metadata."""

    content: str  # safe HTML with absolute URLs
    summary: str  # plain text
    title: str  # plain text fallback title when the post has none
    source: str | None = None  # the original article the post was taken from
    problems: tuple[Problem, ...] = ()
    links: str | None = None  # Links.version when the body links to other posts by tag
    complete: bool = True  # False for a stand-in when the body could not be read: never cached
    inputs: tuple[tuple[str, str], ...] = ()  # (path, digest) of each file it included

    __reduce__ = fast_reduce


@dataclass(frozen=True, slots=True)
class FileState:
    """What reading one post file gave, and the file state it was read in (the build cache
    keeps these, feedsmith.site reuses them)."""

    stamp: Stamp  # unchanged stamp, unchanged result (unless it was taken too soon: `_reuse`)
    post: Post | None
    problems: tuple[Problem, ...] = ()
    held_back: str | None = None
    taken: int = 0  # time.time_ns() before the stamp was taken
    key: str = ""  # entry_key(post) under the configuration it was read with

    __reduce__ = fast_reduce


@dataclass(frozen=True, slots=True)
class CachedFeed:
    """A rendered feed as cached: its bytes, what they depend on beyond the key, its warnings."""

    body: bytes
    links: str | None  # Links.version when an entry links to other posts by tag
    problems: tuple[Problem, ...] = ()
    etag: str = ""  # etag_of(body): a feed reused from the cache is not hashed again
    # b"" for body: the bytes are the file of that path in the output folder, as long as it
    # still hashes to `etag`; the build cache does not hold a second copy of every feed.
    path: str = ""
    inputs: tuple[tuple[str, str], ...] = ()  # files its entries included, with their digests

    __reduce__ = fast_reduce


@dataclass(frozen=True, slots=True)
class Index:
    """Every publishable post, newest first, and which posts each category and tag holds.

    A group holds its posts by age, oldest first: age 0 is the oldest post of the index, its
    last; age n - 1 the newest, `posts[0]` (`feedsmith.index.positions` turns ages into
    places). A new post, newer than every other, leaves every age as it was: a live change to
    a million posts adds an age to its own groups, and renumbers none.
    """

    posts: tuple[Post, ...]  # and the documents of other collections that get feeds
    categories: Mapping[str, tuple[int, ...]]  # of posts only, as Jekyll's site.categories
    tags: Mapping[str, tuple[int, ...]]
    collections: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # label -> documents
    authors: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # of posts, by name
    # What `update_index` needs to tell whether a changed post clashes with another: whose
    # each entry id and URL is (a relative path), and the posts that already share one
    # (`build_index` renames ids).
    ids: Mapping[str, str] = field(default_factory=dict)
    urls: Mapping[str, str] = field(default_factory=dict)
    clashing: frozenset[str] = frozenset()  # relative paths


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed document to produce: what it is, where it goes and which posts it shows."""

    kind: FeedKind
    name: str | None  # the category or tag; None for the site feed
    format: Format
    path: str  # relative to the output folder, POSIX
    url: str  # absolute, percent-encoded
    title: str
    posts: tuple[int, ...]  # indices into Index.posts, newest first, already limited
    total: int  # posts in the feed before the limit
    excerpt_only: bool = False
    alternates: tuple[tuple[str, str], ...] = ()  # (format, url) of the same feed
    links: tuple[tuple[str, str], ...] = ()  # (rel, href): hub, current, prev-archive, next-archive
    archive: bool = False  # an RFC 5005 archive document
    immutable: bool = False  # a full archive document: its bytes never change
    collection: str | None = None  # the Jekyll collection shown, where it is not the posts


@dataclass(frozen=True, slots=True)
class RenderedFile:
    """One output file's bytes, and what serving it needs to know."""

    path: str  # relative to the output folder, POSIX
    body: bytes
    etag: str  # etag_of(body): a strong validator from the bytes alone
    media_type: str
    problems: tuple[Problem, ...] = ()  # what rendering it had to say (its entries' warnings)
    immutable: bool = False  # a full RFC 5005 archive document: these bytes never change
    hubs: tuple[str, ...] = ()  # the WebSub hubs the feed names
    self_url: str | None = None  # the feed's own URL


@dataclass(frozen=True, slots=True)
class Difference:
    """A file in the output folder that is not what a build would write (`--check`)."""

    path: str
    state: Literal["missing", "different", "stale"]  # stale: a build would remove it

    def __str__(self) -> str:
        return message(
            self.path,
            {
                "missing": "missing (a build would write it)",
                "different": "differs from what a build would write",
                "stale": "no longer produced (a build would remove it)",
            }[self.state],
        )


@dataclass(frozen=True, slots=True)
class BuildReport:
    posts_read: int
    posts_published: int
    problems: tuple[Problem, ...]
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    seconds: float
    check_failed: tuple[Difference, ...] = ()  # with --check: the files that differ
    held_back: Mapping[str, int] = field(default_factory=dict)  # reason -> posts not published
    changed: tuple[str, ...] = ()  # URLs of the feeds whose bytes changed (for WebSub)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def notices(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "notice")


K = TypeVar("K")
V = TypeVar("V")


class Overlay(Mapping[K, V]):
    """A mapping as another one with a few keys changed: what a live change to a million
    posts makes of the mappings it changes (each post's file state, URL, entry id), without
    copying the million (touching every entry of a large heap costs a second). The changes
    are folded into one plain dict once they are many, so that a lookup stays two probes.
    """

    __slots__ = ("_base", "_gone", "_len", "_put")
    FOLD = 4096  # changes kept on top of the base before it is copied with them

    def __init__(
        self,
        base: Mapping[K, V],
        put: Mapping[K, V] | None = None,
        gone: frozenset[K] = frozenset(),
    ) -> None:
        self._base, self._put, self._gone = base, dict(put or {}), gone
        self._len = len(base) - len(gone) + sum(1 for k in self._put if k not in base)

    def __getitem__(self, key: K) -> V:
        put = self._put.get(key, _MISSING)
        if put is not _MISSING:
            return cast("V", put)
        if key in self._gone:
            raise KeyError(key)
        return self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._put or (key not in self._gone and key in self._base)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[K]:
        for key in self._base:
            if key not in self._gone and key not in self._put:
                yield key
        yield from self._put

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self.items()),))  # a plain dict wherever it is sent

    @classmethod
    def changed(
        cls, mapping: Mapping[K, V], put: Mapping[K, V], gone: Iterable[K]
    ) -> Mapping[K, V]:
        """`mapping` with `put` in it and the keys `gone` taken out."""
        gone = set(gone)
        left: set[K] | frozenset[K]
        if isinstance(mapping, Overlay):
            base = mapping._base
            ours = {k: v for k, v in mapping._put.items() if k not in gone}
            ours.update(put)
            left = (mapping._gone | {k for k in gone if k in base}) - ours.keys()
        else:
            base, ours = mapping, dict(put)
            left = {k for k in gone if k in mapping} - ours.keys()
        if len(ours) + len(left) > cls.FOLD:
            folded = {k: v for k, v in base.items() if k not in left and k not in ours}
            folded.update(ours)
            return folded
        return cls(base, ours, frozenset(left))


_MISSING = object()


@dataclass(frozen=True, slots=True)
class Links:
    """What `{% post_url %}` and `{% link %}` resolve against: every post of the site."""

    root: Path  # the source folder: a `{% link %}` to a file elsewhere in it is guessed
    by_name: Mapping[str, str] = field(default_factory=dict)  # `2013-05-06-jekyll-1-0-0` -> path
    by_rel: Mapping[str, str] = field(default_factory=dict)  # `_posts/2013-05-06-….md` -> path
    collections: Mapping[str, str] = field(default_factory=dict)  # label -> URL template
    version: str = ""  # changes whenever a post's URL does: see links_version()


def links_version(by_rel: Mapping[str, str]) -> str:
    """A digest of every post's URL: entries that link to posts by tag depend on it."""
    return links_version_after("", (), by_rel.items())


_LINKS_MOD = 1 << 128


def _link_digest(rel: str, url: str) -> int:
    item = f"{rel}\0{url}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(item, digest_size=16).digest(), "big")


def links_version_after(
    version: str, removed: Iterable[tuple[str, str]], added: Iterable[tuple[str, str]]
) -> str:
    """`links_version` of the posts of `version` less `removed` and with `added` (relative
    path, URL): a sum of a digest per post, so that one live change costs one post, not every
    post's (the sum does not depend on order)."""
    total = int(version, 16) if version else 0
    total -= sum(_link_digest(rel, url) for rel, url in removed)
    total += sum(_link_digest(rel, url) for rel, url in added)
    return f"{total % _LINKS_MOD:032x}"


@dataclass(frozen=True, slots=True)
class Globals:
    """The site-wide values Liquid sees."""

    url: str
    baseurl: str
    vars: Mapping[str, Any]
    links: Links
