"""Posts -> Index (newest first, grouped by category and tag) -> every feed as data.

`feed_specs` describes the whole feed matrix (site, each category, each tag, each format)
once; `build` writes it and `serve` routes it, so both publish exactly the same set.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from feedsmith import names, permalink
from feedsmith.config import Config, FeedGroup, FeedOverride
from feedsmith.model import FeedKind, FeedSpec, Format, Index, Post, Problem
from feedsmith.text import smartify

EXTENSIONS: dict[Format, str] = {"atom": ".xml", "rss": ".rss", "json": ".json"}
ARCHIVE_FORMATS: tuple[Format, ...] = (
    "atom",
    "rss",
)  # RFC 5005 speaks Atom (and RSS via atom:link)


def _order_key(post: Post) -> tuple[float, str]:
    return (-post.date.timestamp(), post.rel)


def build_index(posts: Iterable[Post]) -> tuple[Index, list[Problem]]:
    """Sort newest first (ties by file path), make ids distinct, group by category and tag."""
    ordered = sorted(posts, key=_order_key)
    problems: list[Problem] = []

    counts = Counter(p.id for p in ordered)
    if any(n > 1 for n in counts.values()):
        keeper: dict[str, str] = {}
        for post in sorted(ordered, key=lambda p: p.rel):
            keeper.setdefault(post.id, post.rel)
        distinct: list[Post] = []
        for post in ordered:
            if counts[post.id] > 1 and keeper[post.id] != post.rel:
                suffix = hashlib.sha256(post.rel.encode("utf-8", "surrogatepass")).hexdigest()[:8]
                new_id = f"{post.id}#{suffix}"
                problems.append(
                    Problem(
                        post.rel,
                        f"entry id {post.id} is also used by {keeper[post.id]}; this post uses {new_id}",
                    )
                )
                post = _with_id(post, new_id)  # noqa: PLW2901 - the renamed copy replaces it
            distinct.append(post)
        ordered = distinct

    urls = Counter(p.url for p in ordered)
    for post in ordered:
        if urls[post.url] > 1:
            problems.append(
                Problem(post.rel, f"another post is published at the same URL {post.url}")
            )

    categories: dict[str, list[int]] = defaultdict(list)
    tags: dict[str, list[int]] = defaultdict(list)
    collections: dict[str, list[int]] = defaultdict(list)
    authors: dict[str, list[int]] = defaultdict(list)
    for i, post in enumerate(ordered):
        collections[post.collection].append(i)
        if post.collection != "posts":
            continue  # Jekyll's site.categories and site.tags hold posts only
        for name in post.categories:
            categories[name].append(i)
        for name in post.tags:
            tags[name].append(i)
        for name in dict.fromkeys(author.name for author in post.authors):
            authors[name].append(i)
    index = Index(
        posts=tuple(ordered),
        categories=MappingProxyType({k: tuple(v) for k, v in sorted(categories.items())}),
        tags=MappingProxyType({k: tuple(v) for k, v in sorted(tags.items())}),
        collections=MappingProxyType({k: tuple(v) for k, v in sorted(collections.items())}),
        authors=MappingProxyType({k: tuple(v) for k, v in sorted(authors.items())}),
    )
    return index, problems


def _with_id(post: Post, new_id: str) -> Post:
    return replace(post, id=new_id)


def format_path(atom_path: str, fmt: Format) -> str:
    """`feed.xml` -> `feed.rss`: every format of a feed sits beside the Atom one."""
    stem = atom_path[: -len(".xml")] if atom_path.endswith(".xml") else atom_path
    return f"{stem}{EXTENSIONS[fmt]}" if fmt != "atom" else atom_path


@dataclass(frozen=True, slots=True)
class _Feed:
    kind: FeedKind
    name: str | None
    atom_path: str
    members: tuple[int, ...]
    collection: str | None = None  # another Jekyll collection than the posts


def _collection_feeds(index: Index, config: Config) -> tuple[list[_Feed], list[Problem]]:
    """jekyll-feed's feeds of other collections: `feed/<label>.xml` (or its `path`) and one
    `feed/<label>/<category>.xml` per category it lists."""
    feeds: list[_Feed] = []
    problems: list[Problem] = []
    for label, meta in sorted(config.collection_feeds.items()):
        if label == "posts":
            continue
        members = index.collections.get(label, ())
        feeds.append(_Feed("collection", label, meta.path or f"feed/{label}.xml", members, label))
        segments, notes = names.assign(list(meta.categories), as_named=frozenset(meta.categories))
        problems += [Problem(f"collection {label} names", note, "notice") for note in notes]
        for category in meta.categories:
            shown = tuple(i for i in members if category in index.posts[i].categories)
            path = f"feed/{label}/{segments[category]}.xml"
            feeds.append(_Feed("category", category, path, shown, label))
    return feeds, problems


def _feeds(index: Index, config: Config) -> tuple[list[_Feed], list[Problem]]:
    """The site feed, then one per chosen category, tag and author (`authors: true`), then
    those of other collections,
    with safe, distinct paths."""
    problems: list[Problem] = []
    posts = (
        index.collections.get("posts", ()) if index.collections else tuple(range(len(index.posts)))
    )
    feeds = [_Feed("site", None, config.path, posts)]
    groups: tuple[tuple[FeedKind, Mapping[str, tuple[int, ...]], FeedGroup], ...] = (
        ("category", index.categories, config.categories),
        ("tag", index.tags, config.tags),
        ("author", index.authors, config.authors),
    )
    for kind, members, group in groups:
        chosen = [name for name in members if group.includes(name)]
        # The categories a Jekyll site lists (jekyll-feed's `feed.categories`) keep the file
        # name jekyll-feed gives their feeds; jekyll-feed writes tag feeds of `\w` names only.
        listed = (
            frozenset(group.only or ()) if config.jekyll and kind == "category" else frozenset()
        )
        segments, notes = names.assign(chosen, as_named=listed)
        problems += [Problem(f"{kind} names", note, "notice") for note in notes]
        feeds += [
            _Feed(kind, name, f"{group.path}{segments[name]}.xml", members[name]) for name in chosen
        ]
    others, told = _collection_feeds(index, config)
    feeds += others
    problems += told

    # Two feeds may still meet at one path (a category folder set to the tag folder, a
    # category named like the site feed): the later one moves aside, with a notice.
    taken: dict[str, str] = {}
    distinct: list[_Feed] = []
    for feed in feeds:
        label = "site feed" if feed.name is None else f"{feed.kind} {feed.name!r}"
        if feed.collection is not None and feed.kind == "category":
            label = f"collection {feed.collection!r} category {feed.name!r}"
        path = feed.atom_path
        while path.casefold() in taken:
            moved = f"{path[: -len('.xml')]}-{feed.kind}.xml"
            problems.append(
                Problem(
                    f"{feed.kind} names",
                    f"{label} would overwrite the {taken[path.casefold()]}; using {moved}",
                    "notice",
                )
            )
            path = moved
        taken[path.casefold()] = label
        distinct.append(replace(feed, atom_path=path))
    return distinct, problems


def _override(config: Config, feed: _Feed) -> FeedOverride:
    if feed.collection is not None:  # the settings of `feeds` name posts' feeds only
        return FeedOverride()
    group = {"site": "site", "category": "categories", "tag": "tags", "author": "authors"}[
        feed.kind
    ]
    return config.feeds.get(group, {}).get(feed.name or "", FeedOverride())


def _archives(feed: _Feed, fmt: Format, base: FeedSpec, config: Config) -> list[FeedSpec]:
    """RFC 5005 archive documents of one feed: pages of `archive_size`, oldest first.

    Page 1 holds the oldest entries; a page never changes once it is full (unless an old post
    is deleted or back-dated). The newest page is never full — it may be empty — so every full
    page already links `next-archive` to its successor and is never rewritten for it.
    """
    size = config.archive_size
    oldest_first = feed.members[::-1]
    pages = [oldest_first[i : i + size] for i in range(0, len(oldest_first), size)]
    if len(pages[-1]) == size:
        pages.append(())
    stem = feed.atom_path[: -len(".xml")] if feed.atom_path.endswith(".xml") else feed.atom_path
    paths = [f"{stem}/archive/{n}{EXTENSIONS[fmt]}" for n in range(1, len(pages) + 1)]
    urls = [permalink.absolute(config.url, config.baseurl, path) for path in paths]
    specs = []
    for n, page in enumerate(pages):
        links = [("current", base.url)]
        if n > 0:
            links.append(("prev-archive", urls[n - 1]))
        if len(page) == size:
            links.append(("next-archive", urls[n + 1]))
        specs.append(
            replace(
                base,
                path=paths[n],
                url=urls[n],
                title=f"{base.title} (archive {n + 1})",
                posts=page[::-1],
                total=len(page),
                alternates=(),
                links=tuple(links) + tuple(("hub", hub) for hub in config.hub),
                archive=True,
                immutable=len(page) == size,
            )
        )
    return specs


def _feed_title(feed: _Feed, config: Config) -> str:
    """The site feed: the site's title. A category: `Site | Category`, capitalised in a Jekyll
    site as jekyll-feed does (`A股 Market` -> `A股 market`). A tag: `Site | #tag` (jekyll-feed
    gives a tag feed the bare site title, which readers cannot tell from the site feed). Then
    typographic quotes and dashes where titles get them (jekyll-feed's `title | smartify`)."""
    site = config.title or config.url.split("://", 1)[-1]

    def named(name: str) -> str:
        return name.capitalize() if config.jekyll else name

    if feed.name is None:
        title = site
    elif feed.kind == "tag":
        title = f"{site} | #{feed.name}"
    elif feed.kind == "author":
        title = f"{site} | by {feed.name}"
    elif feed.collection is not None and feed.kind == "category":  # Site | Docs | Category
        title = f"{site} | {named(feed.collection)} | {named(feed.name)}"
    else:
        title = f"{site} | {named(feed.name)}"
    return smartify(title) if config.smart_titles else title


def feed_specs(index: Index, config: Config) -> tuple[tuple[FeedSpec, ...], list[Problem]]:
    """Every feed the site publishes, in a stable order: site, categories, tags; each format.

    With `archive_size`, each Atom and RSS feed is followed by its archive documents.
    """
    feeds, problems = _feeds(index, config)
    hubs = tuple(("hub", hub) for hub in config.hub)
    specs: list[FeedSpec] = []
    for feed in feeds:
        own = _override(config, feed)
        limit = config.posts_limit if own.posts_limit is None else own.posts_limit
        formats = own.formats or config.formats
        title = _feed_title(feed, config)
        urls = {
            fmt: permalink.absolute(config.url, config.baseurl, format_path(feed.atom_path, fmt))
            for fmt in formats
        }
        for fmt in formats:
            archives = config.archive_size > 0 and fmt in ARCHIVE_FORMATS and bool(feed.members)
            spec = FeedSpec(
                kind=feed.kind,
                name=feed.name,
                collection=feed.collection,
                format=fmt,
                path=format_path(feed.atom_path, fmt),
                url=urls[fmt],
                title=title,
                posts=feed.members[:limit] if limit else feed.members,
                total=len(feed.members),
                excerpt_only=config.excerpt_only if own.excerpt_only is None else own.excerpt_only,
                alternates=tuple((other, url) for other, url in urls.items() if other != fmt),
                links=hubs,
            )
            pages = _archives(feed, fmt, spec, config) if archives else []
            if pages:
                spec = replace(spec, links=(("prev-archive", pages[-1].url), *hubs))
            specs += [spec, *pages]
    return tuple(specs), problems
