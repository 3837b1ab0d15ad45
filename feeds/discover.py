"""Which files in a source folder are posts.

A Jekyll site root (it has `_config.yml` or `_posts/`): every file under a `_posts/` folder at
any depth, where `<category>/_posts/` adds the category as Jekyll does; `_drafts/` too when
drafts are wanted. Any other folder: every post file in it, recursively. Hidden files, editor
backups, `_site` and friends are never posts; symlinks that lead outside the source are not
followed.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

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
    return (
        not name.startswith((".", "#"))
        and not name.endswith("~")
        and os.path.splitext(name)[1].lower() in POST_SUFFIXES
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


def _outside(entry: os.DirEntry[str], root: str) -> bool:
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


def _refused(entry: os.DirEntry[str], rel: str, root: str, *, dated: bool) -> Problem | None:
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
    root = os.path.realpath(source)
    top = os.path.join(root, collections_dir.strip("/")) if jekyll and collections_dir else root
    found: list[SourceFile] = []
    problems: list[Problem] = []
    failed: list[tuple[str, str]] = []
    excluded = _exclusion(tuple(exclude)).match if jekyll and exclude else None
    place_of = _Places(jekyll=jekyll, drafts=drafts, collections=collections).of
    for entry in scan(top, skip, failed):
        if not _is_candidate(entry.name) or entry.path in skip:
            continue
        rel = entry.path[len(root) + 1 :].replace(os.sep, "/")
        if excluded is not None and excluded(rel) is not None:
            continue
        place = place_of(entry.path[len(top) + 1 :].replace(os.sep, "/"), entry.name)
        if place is None:
            continue
        dated = jekyll and place[2] == "posts" and not place[0]  # Jekyll wants a dated name
        refused = _refused(entry, rel, root, dated=dated)
        if refused is not None:
            problems.append(refused)
            continue
        try:
            if not entry.is_file():
                mode = entry.stat().st_mode
                if is_special(mode):
                    problems.append(Problem(rel, f"not a regular file ({kind_of(mode)})", "error"))
                continue
            stamp = stamp_of(entry.stat()) if stamps else NO_STAMP
        except OSError as exc:
            # Gone meanwhile, or a symlink to nothing: no post. Anything else hides a post.
            if exc.errno not in GONE:
                failed.append((entry.path, f"cannot read: {os_reason(exc)}"))
            continue
        draft, categories, collection = place
        found.append(SourceFile(entry.path, rel, categories, draft, stamp, collection))
    if failed:
        raise SourceError(tuple(sorted((_shown(path, root), reason) for path, reason in failed)))
    found.sort(key=lambda f: f.rel)
    problems.sort(key=lambda p: (p.where, p.reason))
    return found, problems


def _shown(path: str, root: str) -> str:
    """A path as messages name it: relative to the source folder, and printable."""
    rel = path[len(root) + 1 :] if path.startswith(root + os.sep) else path
    return (rel or path).encode("utf-8", "backslashreplace").decode("utf-8")
