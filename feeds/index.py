"""Posts -> Index (newest first, grouped by category and tag) -> every feed as data.

`feed_specs` describes the whole feed matrix (site, each category, each tag, each format)
once; `build` writes it and `serve` routes it, so both publish exactly the same set.
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
import itertools
import operator
import posixpath
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TypeVar

from feedsmith import names, permalink
from feedsmith.config import Config, FeedGroup, FeedOverride
from feedsmith.model import FeedKind, FeedSpec, Format, Index, Overlay, Post, Problem
from feedsmith.text import smartify

EXTENSIONS: dict[Format, str] = {"atom": ".xml", "rss": ".rss", "json": ".json"}
ARCHIVE_FORMATS: tuple[Format, ...] = (
    "atom",
    "rss",
)  # RFC 5005 speaks Atom (and RSS via atom:link)


def order_key(post: Post) -> tuple[float, str]:
    return (-post.date.timestamp(), post.rel)


def build_index(posts: Iterable[Post]) -> tuple[Index, list[Problem]]:
    """Sort newest first (ties by file path), make ids distinct, group by category and tag."""
    ordered = sorted(posts, key=order_key)
    problems: list[Problem] = []

    counts = Counter(p.id for p in ordered)
    clashing = {post.rel for post in ordered if counts[post.id] > 1}
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
            clashing.add(post.rel)
            problems.append(
                Problem(post.rel, f"another post is published at the same URL {post.url}")
            )

    groups = _Groups()
    for age, post in enumerate(reversed(ordered)):
        groups.add(post, age)
    index = Index(
        posts=tuple(ordered),
        categories=groups.frozen(groups.categories),
        tags=groups.frozen(groups.tags),
        collections=groups.frozen(groups.collections),
        authors=groups.frozen(groups.authors),
        ids={post.id: post.rel for post in ordered},
        urls={post.url: post.rel for post in ordered},
        clashing=frozenset(clashing),
    )
    return index, problems


_GROUPS = ("categories", "tags", "collections", "authors")  # an Index's groups, in order


def _memberships(post: Post) -> list[tuple[int, str]]:
    """The groups `post` is in: (which of _GROUPS, name)."""
    found = [(2, post.collection)]
    if post.collection != "posts":
        return found  # Jekyll's site.categories and site.tags hold posts only
    found += [(0, name) for name in post.categories]
    found += [(1, name) for name in post.tags]
    found += [(3, name) for name in dict.fromkeys(a.name for a in post.authors)]
    return found


class _Groups:
    """Which posts (by age, see Index) each collection, category, tag and author holds."""

    def __init__(self) -> None:
        self.tables: tuple[dict[str, list[int]], ...] = tuple(defaultdict(list) for _ in _GROUPS)
        self.categories, self.tags, self.collections, self.authors = self.tables

    def add(self, post: Post, i: int) -> None:
        for table, name in _memberships(post):
            self.tables[table][name].append(i)

    @staticmethod
    def frozen(groups: Mapping[str, Sequence[int]]) -> Mapping[str, tuple[int, ...]]:
        return MappingProxyType({k: tuple(v) for k, v in sorted(groups.items()) if v})


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Updated:
    """An index `update_index` made, and how its posts moved from the old one's places."""

    index: Index
    added: tuple[Post, ...]  # the posts put in, in index order
    _runs: tuple[tuple[int, int, int], ...]
    _at: tuple[int, ...]

    def carry(self, values: Sequence[T], added: Sequence[T]) -> tuple[T, ...]:
        """Values kept in the old index's order (`values`, one a post), in the new one's:
        `added` gives those of the posts put in, in the order of `self.added`."""
        return _spliced(values, self._runs, self._at, added)


def update_index(index: Index, removed: Sequence[Post], added: Sequence[Post]) -> Updated | None:
    """`index` with the `removed` posts (as it holds them) taken out and the `added` ones put
    in: what `build_index` makes of the posts left, at a cost of the changes and the size of
    the groups, never a sort of every post (a live change to an archive of a million posts).

    None where that would not be the same: a changed post that shares its entry id or URL
    with another (build_index renames ids and warns), or a post of `removed` that the index
    does not hold as given."""
    posts = index.posts
    changed = [post.rel for post in (*removed, *added)]
    if len({p.rel for p in added}) != len(added) or index.clashing.intersection(changed):
        return None
    gone: list[int] = []
    for post in removed:
        place = bisect.bisect_left(posts, order_key(post), key=order_key)
        if place == len(posts) or posts[place] is not post:
            return None
        gone.append(place)
    if len({p.id for p in added}) != len(added) or len({p.url for p in added}) != len(added):
        return None
    ids = _renamed(index.ids, removed, added, "id")
    urls = _renamed(index.urls, removed, added, "url")
    if ids is None or urls is None:
        return None  # build_index decides which of two posts keeps an id
    fresh = sorted(added, key=order_key)
    places = [bisect.bisect_left(posts, order_key(post), key=order_key) for post in fresh]
    runs, at = _runs(len(posts), sorted(gone), places)
    ordered = _spliced(posts, runs, at, fresh)
    count, after = len(posts), len(ordered)
    # The runs by age, oldest first: old places [start, end) are old ages [count - end,
    # count - start), which move by (after - count) - shift: by nothing at all for posts
    # newer than every other, or an edit that keeps a post's date.
    by_age = [(count - end, count - start, after - count - s) for start, end, s in runs[::-1]]
    shared: list[int] = []  # the int objects of renumbered ages: one an age, for every group

    def moved(group: tuple[int, ...]) -> tuple[int, ...]:
        parts: list[Iterable[int]] = []
        for start, end, shift in by_age:
            lo, hi = bisect.bisect_left(group, start), bisect.bisect_left(group, end)
            if lo == 0 and hi == len(group) and shift == 0:
                return group
            if lo < hi and not shift:
                parts.append(group[lo:hi])
            elif lo < hi:
                if not shared:
                    shared.extend(range(after))
                parts.append(map(shared.__getitem__, map(shift.__add__, group[lo:hi])))
        return tuple(itertools.chain.from_iterable(parts))

    tables = [
        {name: moved(group) for name, group in getattr(index, kind).items()} for kind in _GROUPS
    ]
    opened: dict[tuple[int, str], list[int]] = {}  # the groups an added post goes in
    for post, i in zip(fresh, at, strict=True):
        for member in _memberships(post):
            members = opened.get(member)
            if members is None:
                members = opened[member] = list(tables[member[0]].get(member[1], ()))
            bisect.insort(members, after - 1 - i)
    for (table, name), members in opened.items():
        tables[table][name] = tuple(members)
    categories, tags, collections, authors = (
        MappingProxyType({k: v for k, v in sorted(table.items()) if v}) for table in tables
    )
    updated = Index(
        posts=ordered,
        categories=categories,
        tags=tags,
        collections=collections,
        authors=authors,
        ids=ids,
        urls=urls,
        clashing=index.clashing,
    )
    return Updated(updated, tuple(fresh), tuple(runs), tuple(at))


def _spliced(
    values: Sequence[T],
    runs: Sequence[tuple[int, int, int]],
    at: Sequence[int],
    added: Sequence[T],
) -> tuple[T, ...]:
    """`values` (one an old place) in the new places: the runs kept, the `added` put in at
    `at`. One pass over the values: a post newer than every other is `(post, *values)`."""
    whole = len(runs) == 1 and runs[0][:2] == (0, len(values))
    pieces = [(start + shift, values if whole else values[start:end]) for start, end, shift in runs]
    pieces += [(i, (value,)) for value, i in zip(added, at, strict=True)]
    pieces.sort(key=operator.itemgetter(0))
    return tuple(itertools.chain.from_iterable(piece for _, piece in pieces))


def _renamed(
    owners: Mapping[str, str], removed: Sequence[Post], added: Sequence[Post], of: str
) -> Mapping[str, str] | None:
    """Whose each id (`of`: "id") or URL ("url") is, once the changes are made; None if an
    added post's is another post's, one not removed."""
    leaving = {post.rel for post in removed}
    put = {getattr(post, of): post.rel for post in added}
    if any(owners.get(name, rel) not in leaving | {rel} for name, rel in put.items()):
        return None
    gone = {getattr(post, of) for post in removed} - put.keys()
    return Overlay.changed(owners, put, gone) if put or gone else owners


def _runs(
    count: int, gone: list[int], places: list[int]
) -> tuple[list[tuple[int, int, int]], list[int]]:
    """How `count` old positions become new ones when those in `gone` (ascending) are taken
    out and a post is put in before each old position of `places` (ascending; equal ones in
    their order): the runs of old positions kept, each (start, end, shift) where a run's
    positions move by `shift`; and the new position of each post put in."""
    runs: list[tuple[int, int, int]] = []
    at: list[int] = []
    pos = now = 0  # the old position reached, and the new position it takes
    g = 0
    for place in [*places, count]:
        while pos < place:
            if g < len(gone) and gone[g] == pos:  # a removed post: no new position
                g += 1
                pos += 1
                continue
            end = gone[g] if g < len(gone) and gone[g] < place else place
            runs.append((pos, end, now - pos))
            now += end - pos
            pos = end
        at.append(now)
        now += 1
    return runs, at[:-1]  # the last place is the end, where no post goes in


def _with_id(post: Post, new_id: str) -> Post:
    return replace(post, id=new_id)


def positions(
    ages: Sequence[int], count: int, limit: int = 0, numbers: Sequence[int] | None = None
) -> tuple[int, ...]:
    """The places in an index of `count` posts of the posts of these `ages` (oldest first):
    the newest `limit` of them (0: all), newest first. See `_Feed.newest` for `numbers`."""
    chosen = ages[-limit:] if limit else ages
    found = map((count - 1).__sub__, reversed(chosen))
    return tuple(map(numbers.__getitem__, found) if numbers else found)


def format_path(atom_path: str, fmt: Format) -> str:
    """`feed.xml` -> `feed.rss`: every format of a feed sits beside the Atom one."""
    stem = atom_path[: -len(".xml")] if atom_path.endswith(".xml") else atom_path
    return f"{stem}{EXTENSIONS[fmt]}" if fmt != "atom" else atom_path


@dataclass(frozen=True, slots=True)
class _Feed:
    kind: FeedKind
    name: str | None
    atom_path: str
    members: tuple[int, ...]  # ages (see Index), oldest first
    count: int  # of the index's posts: what makes an age a position
    collection: str | None = None  # another Jekyll collection than the posts

    def newest(self, limit: int = 0, numbers: Sequence[int] | None = None) -> tuple[int, ...]:
        """The positions of the newest `limit` members (0: all), newest first; `numbers`
        (range(count) as a list) lends its int objects, so that many feeds share one each."""
        return positions(self.members, self.count, limit, numbers)


def _collection_feeds(index: Index, config: Config) -> tuple[list[_Feed], list[Problem]]:
    """jekyll-feed's feeds of other collections: `feed/<label>.xml` (or its `path`) and one
    `feed/<label>/<category>.xml` per category it lists."""
    feeds: list[_Feed] = []
    problems: list[Problem] = []
    for label, meta in sorted(config.collection_feeds.items()):
        if label == "posts":
            continue
        members = index.collections.get(label, ())
        count = len(index.posts)
        path = meta.path or f"feed/{label}.xml"
        feeds.append(_Feed("collection", label, path, members, count, label))
        segments, notes = names.assign(list(meta.categories), as_named=frozenset(meta.categories))
        problems += [Problem(f"collection {label} names", note, "notice") for note in notes]
        for category in meta.categories:
            shown = tuple(a for a in members if category in index.posts[count - 1 - a].categories)
            path = f"feed/{label}/{segments[category]}.xml"
            feeds.append(_Feed("category", category, path, shown, count, label))
    return feeds, problems


def _feeds(index: Index, config: Config) -> tuple[list[_Feed], list[Problem]]:
    """The site feed, then one per chosen category, tag and author (`authors: true`), then
    those of other collections,
    with safe, distinct paths."""
    problems: list[Problem] = []
    posts = (
        index.collections.get("posts", ()) if index.collections else tuple(range(len(index.posts)))
    )
    count = len(index.posts)
    feeds = [_Feed("site", None, config.path, posts, count)]
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
            _Feed(kind, name, f"{group.path}{segments[name]}.xml", members[name], count)
            for name in chosen
        ]
    others, told = _collection_feeds(index, config)
    feeds += others
    problems += told

    return _apart(feeds, config, problems), problems


def page_path(path: str) -> str:
    """A feed's page for people: beside the feed, `.html` for its extension."""
    return posixpath.splitext(path)[0] + ".html"


def archive_paths(atom_path: str, fmt: Format, count: int) -> list[str]:
    """The files of a feed's `count` archive documents in `fmt`: `<stem>/archive/<n>.xml`."""
    stem = atom_path[: -len(".xml")] if atom_path.endswith(".xml") else atom_path
    return [f"{stem}/archive/{n}{EXTENSIONS[fmt]}" for n in range(1, count + 1)]


def _formats_of(feed: _Feed, config: Config) -> tuple[Format, ...]:
    return _override(config, feed).formats or config.formats


def _files_of(feed: _Feed, atom_path: str, config: Config) -> list[str]:
    """Every file a feed at `atom_path` makes: each format, its archive documents (as many
    as `_archives` makes) and its page for people."""
    formats = _formats_of(feed, config)
    files = [format_path(atom_path, fmt) for fmt in formats]
    if config.archive_size > 0 and feed.members:
        count = len(feed.members) // config.archive_size + 1
        for fmt in formats:
            if fmt in ARCHIVE_FORMATS:
                files += archive_paths(atom_path, fmt, count)
    if config.preview_pages:
        files.append(page_path(files[0]))
    return files


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


@dataclass
class _Claims:
    """The output paths taken so far, as a case-insensitive, normalising file system sees
    them: files, and the folders they sit in. A path is free when it is neither a file nor a
    folder taken, and no folder it needs is a file taken."""

    files: dict[str, str]  # folded path -> who has it
    folders: dict[str, str]

    def clash(self, paths: Iterable[str]) -> str | None:
        """Who already has one of `paths` (or a folder they need), or that they clash with one
        another; None when all are free."""
        folded = [names.fold(path) for path in paths]
        mine = set(folded)
        dirs = {posixpath.dirname(path) for path in mine} - {""}
        folders = {parent for folder in dirs for parent in _parents(folder + "/")}
        if len(mine) != len(folded) or folders & mine:
            return "its own files"
        for path in folded:
            if path in self.files:
                return f"the {self.files[path]}"
            if path in self.folders:
                return f"the folder of the {self.folders[path]}"
        return next((f"the {self.files[f]}" for f in folders if f in self.files), None)

    def claim_folder(self, folder: str, who: str) -> None:
        for parent in _parents(names.fold(folder) + "/"):
            self.folders.setdefault(parent, who)

    def claim(self, paths: Iterable[str], who: str) -> None:
        for path in paths:
            folded = names.fold(path)
            self.files[folded] = who
            for folder in _parents(folded):
                self.folders.setdefault(folder, who)


def _label(feed: _Feed) -> str:
    if feed.name is None:
        return "site feed" if feed.collection is None else f"collection {feed.collection!r} feed"
    if feed.collection is not None and feed.kind == "category":
        return f"collection {feed.collection!r} category {feed.name!r}"
    return f"{feed.kind} {feed.name!r}"


def _candidates(feed: _Feed) -> list[str]:
    """Where a feed may go, in order: its own path, then beside it with its kind (and a hash
    of its name, should that be taken too)."""
    path = feed.atom_path
    base = path[: -len(".xml")] if path.endswith(".xml") else path
    digest = hashlib.sha256(_label(feed).encode("utf-8", "surrogatepass")).hexdigest()
    return [
        path,
        f"{base}-{feed.kind}.xml",
        *(f"{base}-{feed.kind}-{digest[:width]}.xml" for width in (8, 16, 64)),
    ]


def _apart(feeds: list[_Feed], config: Config, problems: list[Problem]) -> list[_Feed]:
    """The feeds at paths where no two files meet, and no file stands where another needs a
    folder (a category `x` and a category `x.xml` with archives: `feed/x.xml` is the first's
    feed and the second's archive folder), also on case-insensitive file systems. The OPML
    list and the list of feeds keep their configured paths; then, in order, each feed keeps
    its path if it is free, else moves beside it, with a notice."""
    fixed = [path for path in (config.opml, config.subscribe_page) if path]
    claims = _Claims({}, {})
    for path in fixed:
        if not claims.clash([path]):
            claims.claim([path], "OPML list" if path == config.opml else "list of feeds")
    # The folders the settings give feeds (`feed/by_tag/`) are theirs before any name is
    # placed: a category `x.xml` moves aside rather than tag feeds in `feed/x.xml/`.
    for feed in feeds:
        folder = posixpath.dirname(feed.atom_path)
        if folder:
            claims.claim_folder(folder, f"{_label(feed).split(' ', 1)[0]} feeds")
    placed: list[_Feed] = []
    for feed in feeds:
        label = _label(feed)
        owner = None
        for path in _candidates(feed):
            files = _files_of(feed, path, config)
            clash = claims.clash(files)
            if clash is None:
                break
            owner = owner or clash
        else:
            problems.append(
                Problem(
                    f"{feed.kind} names",
                    f"{label} left out: every path it could take clashes (first with {owner})",
                )
            )
            continue
        if path != feed.atom_path:
            problems.append(
                Problem(
                    f"{feed.kind} names",
                    f"{label} at {feed.atom_path} would clash with {owner}; using {path}",
                    "notice",
                )
            )
        claims.claim(files, label)
        placed.append(replace(feed, atom_path=path))
    return placed


def _override(config: Config, feed: _Feed) -> FeedOverride:
    if feed.collection is not None:  # the settings of `feeds` name posts' feeds only
        return FeedOverride()
    group = {"site": "site", "category": "categories", "tag": "tags", "author": "authors"}[
        feed.kind
    ]
    return config.feeds.get(group, {}).get(feed.name or "", FeedOverride())


def _archives(
    feed: _Feed, fmt: Format, base: FeedSpec, config: Config, numbers: Sequence[int]
) -> list[FeedSpec]:
    """RFC 5005 archive documents of one feed: pages of `archive_size`, oldest first.

    Page 1 holds the oldest entries; a page never changes once it is full (unless an old post
    is deleted or back-dated). The newest page is never full — it may be empty — so every full
    page already links `next-archive` to its successor and is never rewritten for it.
    """
    size = config.archive_size
    oldest_first = feed.newest(0, numbers)[::-1]
    pages = [oldest_first[i : i + size] for i in range(0, len(oldest_first), size)]
    if len(pages[-1]) == size:
        pages.append(())
    paths = archive_paths(feed.atom_path, fmt, len(pages))
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


def _named_in_settings(config: Config) -> list[tuple[str, str, str]]:
    """(setting, kind, name) for every category and tag name the settings give."""
    named: list[tuple[str, str, str]] = []
    for key, kind, group in (
        ("categories", "category", config.categories),
        ("tags", "tag", config.tags),
    ):
        named += [(f"{key}.only", kind, name) for name in group.only or ()]
        named += [(f"{key}.except", kind, name) for name in group.exclude]
        named += [(f"feeds.{key}", kind, name) for name in config.feeds.get(key, {})]
    return named


def unknown_names(index: Index, config: Config) -> list[Problem]:
    """A warning for each category or tag a setting names that no published post has (a typo,
    or a name changed in the posts), with the closest name that does exist."""
    problems: list[Problem] = []
    known = {"category": index.categories, "tag": index.tags}
    for setting, kind, name in _named_in_settings(config):
        if name in known[kind]:
            continue
        folded = [other for other in known[kind] if other.casefold() == name.casefold()]
        close = folded or difflib.get_close_matches(name, list(known[kind]), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(
            Problem(setting, f"no published post has the {kind} {name!r}{hint}", "warning")
        )
    return problems


def feed_specs(index: Index, config: Config) -> tuple[tuple[FeedSpec, ...], list[Problem]]:
    """Every feed the site publishes, in a stable order: site, categories, tags; each format.

    With `archive_size`, each Atom and RSS feed is followed by its archive documents.
    """
    feeds, problems = _feeds(index, config)
    problems += unknown_names(index, config)
    hubs = tuple(("hub", hub) for hub in config.hub)
    specs: list[FeedSpec] = []
    # Archive documents show every post: one int object a position for all of them.
    numbers = list(range(len(index.posts))) if config.archive_size > 0 else None
    for feed in feeds:
        own = _override(config, feed)
        limit = config.posts_limit if own.posts_limit is None else own.posts_limit
        formats = _formats_of(feed, config)
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
                posts=feed.newest(limit, numbers),
                total=len(feed.members),
                excerpt_only=config.excerpt_only if own.excerpt_only is None else own.excerpt_only,
                alternates=tuple((other, url) for other, url in urls.items() if other != fmt),
                links=hubs,
            )
            pages = _archives(feed, fmt, spec, config, numbers or ()) if archives else []
            if pages:
                spec = replace(spec, links=(("prev-archive", pages[-1].url), *hubs))
            specs += [spec, *pages]
    return tuple(specs), problems
