"""Which files in a source folder are posts.

A Jekyll site root (it has `_config.yml` or `_posts/`): every file under a `_posts/` folder at
any depth, where `<category>/_posts/` adds the category as Jekyll does; `_drafts/` too when
drafts are wanted. Any other folder: every post file in it, recursively. Hidden files, editor
backups, `_site` and friends are never posts; symlinks that lead outside the source are not
followed.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import operator
import os
import re
import stat
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from feedsmith.config import CONFIG_FILES
from feedsmith.errors import SourceError, os_reason
from feedsmith.files import GONE, is_special, kind_of
from feedsmith.model import NO_STAMP, Problem, SourceFile, stamp_of

POST_SUFFIXES = frozenset({".md", ".markdown", ".mkdown", ".mkdn", ".mkd", ".html", ".htm"})
_SKIP_DIRS = frozenset(
    {"_site", "node_modules", "vendor", ".git", ".jekyll-cache", ".sass-cache", "__pycache__"}
)


def may_change_site(path: str) -> bool:
    """Whether a change to `path`, inside a source folder, can change the site: a post file,
    a configuration file, or a folder (a rename); never a hidden file or a build's output."""
    name = os.path.basename(path)
    if name.startswith(".") or "/." in path or "/_site/" in path:
        return False
    suffix = os.path.splitext(name)[1].lower()
    return name in CONFIG_FILES or suffix in POST_SUFFIXES or "." not in name


def _is_candidate(name: str) -> bool:
    """A name a post file can have: not hidden, no editor's backup, a post's extension (as
    os.path.splitext finds it, at a third of its cost: a million names are asked)."""
    dot = name.rfind(".")
    return (
        dot > 0
        and name[0] not in ".#"
        and not name.endswith("~")
        and name[dot:].lower() in POST_SUFFIXES
    )


def scan(
    top: str, skip: frozenset[str], failed: list[tuple[str, str]]
) -> Iterator[os.DirEntry[str]]:
    """Every non-folder entry below `top`, in no particular order (whoever needs one sorts
    what they keep); symlinked folders and the folders in `skip` (absolute paths) left out. A
    folder that cannot be listed is added to `failed` (path, reason); one that vanished
    meanwhile is not.

    os.scandir hands back file types with the names, so an archive of 100,000 posts costs one
    stat per post (for its stamp), not four; and each entry is handed on as it is listed: a
    folder of a million posts is never held as a million entries.
    """
    stack = [top]
    while stack:
        folder = stack.pop()
        if folder in skip:
            continue
        try:
            listing = os.scandir(folder)
        except OSError as exc:
            if exc.errno not in GONE:
                failed.append((folder, f"cannot read this folder: {os_reason(exc)}"))
            continue
        with listing:
            try:
                for entry in listing:
                    if not entry.is_dir(follow_symlinks=False):
                        yield entry
                    elif entry.name not in _SKIP_DIRS and not entry.name.startswith("."):
                        stack.append(entry.path)
            except OSError as exc:  # the listing failed part way
                if exc.errno not in GONE:
                    failed.append((folder, f"cannot read this folder: {os_reason(exc)}"))


def _outside(entry: _Entry, root: str) -> bool:
    """A symlink whose target is not inside the source folder."""
    target = os.path.realpath(entry.path)
    return target != root and not target.startswith(root + os.sep)


def _place(
    rel_parts: list[str], *, jekyll: bool, drafts: bool, collections: frozenset[str] = frozenset()
) -> tuple[bool, tuple[str, ...], str] | None:
    """(draft, folder categories, collection) for a post at this relative path (below
    `collections_dir`), or None if it is no post. `collections`: the other Jekyll collections
    whose documents are read (those that get feeds): `_docs/…` is a document of "docs"."""
    if not jekyll:
        if any(part.startswith("_") for part in rel_parts[:-1]):
            return None
        return False, (), "posts"
    first = rel_parts[0]
    if len(rel_parts) > 1 and first.startswith("_") and first[1:] in collections:
        return False, (), first[1:]
    special = [i for i, part in enumerate(rel_parts[:-1]) if part in ("_posts", "_drafts")]
    if not special:
        return None
    at = special[-1]
    draft = rel_parts[at] == "_drafts"
    if draft and not drafts:
        return None
    return draft, tuple(p for p in rel_parts[:at] if p and not p.startswith("_")), "posts"


# Jekyll's Document::DATE_FILENAME_MATCHER: the file name of a post (a draft needs no date).
_JEKYLL_POST_NAME = re.compile(r"^(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)(\.[^.]+)$")


def jekyll_excluded(rel: str, patterns: Sequence[str]) -> bool:
    """Whether Jekyll's EntryFilter leaves `rel` out: a pattern matches it as a glob (where
    `*` also crosses `/`, as Ruby's File.fnmatch without FNM_PATHNAME), or is a prefix of it
    (so `_posts/old` leaves out `_posts/older.md` too, as Jekyll does)."""
    return _exclusion(tuple(patterns)).match(rel) is not None


@functools.lru_cache(maxsize=8)
def _exclusion(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """Every pattern as one expression, matched once per file: a million posts times
    Jekyll's ten default patterns were ten million glob calls."""
    # fnmatch.translate gives `(?s:...)\Z`, a whole-string glob in which `*` crosses `/`.
    alternatives = [
        alternative
        for p in patterns
        if p
        for alternative in (fnmatch.translate(p), f"(?s:{re.escape(p)})")
    ]
    return re.compile("|".join(alternatives) or r"(?!)")


class _Places:
    """Where each post file is (see `_place`), worked out once a folder: a million posts in
    one `_posts/` are one answer."""

    def __init__(self, *, jekyll: bool, drafts: bool, collections: frozenset[str]) -> None:
        self.jekyll, self.drafts, self.collections = jekyll, drafts, collections
        self.known: dict[str, tuple[bool, tuple[str, ...], str] | None] = {}

    def of(self, inner: str, name: str) -> tuple[bool, tuple[str, ...], str] | None:
        """The place of the file at `inner` (relative, POSIX) named `name`."""
        folder = inner[: len(inner) - len(name)]
        if folder not in self.known:
            parts = [*folder.split("/")[:-1], name]
            self.known[folder] = _place(
                parts, jekyll=self.jekyll, drafts=self.drafts, collections=self.collections
            )
        return self.known[folder]


def _refused(entry: _Entry, rel: str, root: str, *, dated: bool) -> Problem | None:
    """Why a file in a post's place is still no post, if it is not: a Jekyll post without a
    dated name (`dated`), a symlink that leads out of the source, a name that is not UTF-8."""
    if dated and not _JEKYLL_POST_NAME.match(entry.name):
        return Problem(
            rel,
            "not a post: Jekyll publishes only the files of _posts/ named "
            "YYYY-MM-DD-title.ext (it leaves this one out too)",
            "notice",
        )
    if entry.is_symlink() and _outside(entry, root):
        return Problem(rel, "symlink to a file outside the source folder; not followed", "error")
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        shown = rel.encode("utf-8", "backslashreplace").decode("utf-8")
        return Problem(shown, "file name is not valid UTF-8; rename the file", "error")
    return None


@dataclass(frozen=True, slots=True)
class _Rules:
    """Where a source folder's posts are, made once a read: see `discover`."""

    root: str  # the source folder, resolved
    top: str  # where posts are looked for: the root, or Jekyll's `collections_dir` in it
    jekyll: bool
    excluded: Callable[[str], object] | None  # a match for a path Jekyll leaves out
    place_of: Callable[[str, str], tuple[bool, tuple[str, ...], str] | None]


def _rules(
    source: Path,
    *,
    jekyll: bool,
    drafts: bool,
    exclude: Sequence[str],
    collections_dir: str,
    collections: frozenset[str],
) -> _Rules:
    root = os.path.realpath(source)
    top = os.path.join(root, collections_dir.strip("/")) if jekyll and collections_dir else root
    return _Rules(
        root,
        top,
        jekyll,
        _exclusion(tuple(exclude)).match if jekyll and exclude else None,
        _Places(jekyll=jekyll, drafts=drafts, collections=collections).of,
    )


class _Entry(Protocol):
    """What `_consider` asks of a file: an os.DirEntry, or a `_PathEntry`."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    def is_file(self) -> bool: ...
    def is_symlink(self) -> bool: ...
    def stat(self) -> os.stat_result: ...


def _consider(  # noqa: PLR0911 - one return for each thing a file can be
    entry: _Entry, rules: _Rules, *, stamps: bool
) -> SourceFile | Problem | str | None:
    """What a candidate file below `rules.top` is: a post file, a file refused (the
    problem), no post at all (None), or why it cannot be read (a str)."""
    rel = entry.path[len(rules.root) + 1 :].replace(os.sep, "/")
    if rules.excluded is not None and rules.excluded(rel) is not None:
        return None
    place = rules.place_of(entry.path[len(rules.top) + 1 :].replace(os.sep, "/"), entry.name)
    if place is None:
        return None
    dated = rules.jekyll and place[2] == "posts" and not place[0]  # Jekyll wants a dated name
    refused = _refused(entry, rel, rules.root, dated=dated)
    if refused is not None:
        return refused
    try:
        if not entry.is_file():
            mode = entry.stat().st_mode
            if is_special(mode):
                return Problem(rel, f"not a regular file ({kind_of(mode)})", "error")
            return None
        stamp = stamp_of(entry.stat()) if stamps else NO_STAMP
    except OSError as exc:
        # Gone meanwhile, or a symlink to nothing: no post. Anything else hides a post.
        return None if exc.errno in GONE else f"cannot read: {os_reason(exc)}"
    draft, categories, collection = place
    return SourceFile(entry.path, rel, categories, draft, stamp, collection, entry.is_symlink())


def discover(
    source: Path,
    *,
    jekyll: bool,
    drafts: bool = False,
    stamps: bool = True,
    skip: frozenset[str] = frozenset(),
    exclude: Sequence[str] = (),
    collections_dir: str = "",
    collections: frozenset[str] = frozenset(),
) -> tuple[list[SourceFile], list[Problem]]:
    """Every post file under `source`, sorted by relative path, and the files refused on the way.

    `skip`: absolute paths of files and folders that are never posts (an output folder inside
    the source, the files feedsmith wrote there). In a Jekyll site, `exclude`: Jekyll's
    `exclude:` patterns (less `include:`); posts live under `collections_dir`, and so do the
    documents of the other `collections` named.

    A folder or file that cannot be read (no permission, an I/O error) raises SourceError,
    naming every one: a feed without its posts would be wrong. A FIFO, socket or device is
    refused as a problem of its own.

    Without `stamps` the files are not stat'ed here (their stamp stays NO_STAMP): with no
    earlier state to compare them with, whoever reads a file takes its stamp first.
    """
    rules = _rules(
        source,
        jekyll=jekyll,
        drafts=drafts,
        exclude=exclude,
        collections_dir=collections_dir,
        collections=collections,
    )
    found: list[SourceFile] = []
    problems: list[Problem] = []
    failed: list[tuple[str, str]] = []
    for entry in scan(rules.top, skip, failed):
        if not _is_candidate(entry.name) or entry.path in skip:
            continue
        taken = _consider(entry, rules, stamps=stamps)
        if isinstance(taken, SourceFile):
            found.append(taken)
        elif isinstance(taken, Problem):
            problems.append(taken)
        elif taken is not None:
            failed.append((entry.path, taken))
    if failed:
        raise SourceError(
            tuple(sorted((_shown(path, rules.root), reason) for path, reason in failed))
        )
    found.sort(key=operator.attrgetter("rel"))
    problems.sort(key=lambda p: (p.where, p.reason))
    return found, problems


class _PathEntry:
    """One file as os.scandir lists it, for a path heard of rather than found by a walk."""

    __slots__ = ("_lstat", "name", "path")

    def __init__(self, path: str, lstat: os.stat_result) -> None:
        self.path, self.name, self._lstat = path, os.path.basename(path), lstat

    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self._lstat.st_mode)

    def is_file(self) -> bool:
        try:
            return stat.S_ISREG(self.stat().st_mode)
        except OSError:
            return False

    def stat(self) -> os.stat_result:
        return os.stat(self.path) if self.is_symlink() else self._lstat


class _Heard(enum.Enum):
    NOTHING = "no post"  # a walk would find no post there, nor miss one
    WALK = "only a walk can tell"


def discover_paths(
    source: Path,
    paths: Iterable[str],
    known: Container[str],
    *,
    jekyll: bool,
    drafts: bool = False,
    skip: frozenset[str] = frozenset(),
    exclude: Sequence[str] = (),
    collections_dir: str = "",
    collections: frozenset[str] = frozenset(),
) -> tuple[list[SourceFile], set[str]] | None:
    """What a walk (`discover`, with stamps) would now find at `paths`, files heard to have
    changed: the post files among them, and the relative paths of the `known` posts that are
    gone. None where only a walk can tell: a path is a folder (a folder moved takes its posts
    along), lies outside the places of posts or behind a symlinked folder, or is a file a walk
    would refuse or fail to read (it tells why)."""
    rules = _rules(
        source,
        jekyll=jekyll,
        drafts=drafts,
        exclude=exclude,
        collections_dir=collections_dir,
        collections=collections,
    )
    given = os.path.abspath(source)
    found: list[SourceFile] = []
    gone: set[str] = set()
    for heard in dict.fromkeys(paths):
        inner = os.path.relpath(os.path.abspath(heard), given)
        if inner.startswith(os.pardir) or inner == os.curdir:
            return None
        taken = _at(os.path.join(rules.root, inner), rules, skip)
        if isinstance(taken, SourceFile):
            found.append(taken)
        elif taken is _Heard.WALK:
            return None
        elif taken is None and inner.replace(os.sep, "/") in known:
            gone.add(inner.replace(os.sep, "/"))
        elif taken is None:
            return None  # a folder gone, perhaps, and its posts with it
    return found, gone


def _at(  # noqa: PLR0911 - one return for each thing a path can be
    path: str, rules: _Rules, skip: frozenset[str]
) -> SourceFile | _Heard | None:
    """What a walk finds at `path`: a post file, nothing, or (None) nothing there at all any
    more; WALK where only a walk can tell."""
    folder = os.path.dirname(path)
    if os.path.realpath(folder) != folder or not (
        folder == rules.top or folder.startswith(rules.top + os.sep)
    ):
        return _Heard.WALK
    below = path[len(rules.top) + 1 :].replace(os.sep, "/")
    if any(p in _SKIP_DIRS or p.startswith(".") for p in below.split("/")[:-1]) or any(
        s == path or path.startswith(s + os.sep) for s in skip
    ):
        return _Heard.NOTHING  # a walk never looks there
    try:
        info = os.lstat(path)
    except OSError as exc:
        return None if exc.errno in GONE else _Heard.WALK
    name = os.path.basename(path)
    if stat.S_ISDIR(info.st_mode):
        return _Heard.WALK
    if not _is_candidate(name):
        return _Heard.NOTHING
    if rules.place_of(below, name) is None:
        return _Heard.WALK  # an include, a layout: what posts show may have changed
    taken = _consider(_PathEntry(path, info), rules, stamps=True)
    if isinstance(taken, SourceFile):
        return taken
    return None if taken is None else _Heard.WALK


def _shown(path: str, root: str) -> str:
    """A path as messages name it: relative to the source folder, and printable."""
    rel = path[len(root) + 1 :] if path.startswith(root + os.sep) else path
    return (rel or path).encode("utf-8", "backslashreplace").decode("utf-8")
