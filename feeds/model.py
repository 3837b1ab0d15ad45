"""Plain, frozen data passed between the pipeline stages.

discover -> parse -> (index) -> clean -> render -> write: every stage takes and returns these,
so a stage can be cached, parallelised or served without knowing about the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

Markup = Literal["markdown", "html"]
Format = Literal["atom", "rss"]
FeedKind = Literal["site", "category", "tag"]
Severity = Literal["error", "warning"]

FORMATS: tuple[Format, ...] = ("atom", "rss")

MEDIA_TYPES: Mapping[str, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "opml": "text/x-opml; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one input, reported to the user: an error skips the post."""

    where: str
    reason: str
    severity: Severity = "warning"

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file that discover() found and that may be a post."""

    path: Path  # absolute
    rel: str  # relative to the source folder, POSIX separators: names the post in messages
    categories: tuple[str, ...] = ()  # from Jekyll's `<category>/_posts/` folders
    draft: bool = False  # found in `_drafts/`


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """One publishable post as the index needs it: front matter resolved, body not kept.

    The body is read again only for posts that some feed shows, so an archive of any size
    costs one small record per post here.
    """

    path: Path
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
    author: Author | None = None
    summary: str | None = None  # excerpt / description / summary from front matter
    image: str | None = None  # absolute URL
    lang: str | None = None
    excerpt_only: bool | None = None  # the post's own `feed: {excerpt_only: …}`
    page: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)


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


@dataclass(frozen=True, slots=True)
class Index:
    """Every publishable post, newest first, and which posts each category and tag holds."""

    posts: tuple[Post, ...]
    categories: Mapping[str, tuple[int, ...]]
    tags: Mapping[str, tuple[int, ...]]


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


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    path: str
    body: bytes
    etag: str
    last_modified: datetime | None
    media_type: str


@dataclass(frozen=True, slots=True)
class BuildReport:
    posts_read: int
    posts_published: int
    problems: tuple[Problem, ...]
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    seconds: float
    check_failed: tuple[str, ...] = ()  # with --check: the files that differ
    held_back: Mapping[str, int] = field(default_factory=dict)  # reason -> posts not published

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")
