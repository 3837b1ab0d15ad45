"""Which files in a source folder are posts.

A Jekyll site root (it has `_config.yml` or `_posts/`): every file under a `_posts/` folder at
any depth, where `<category>/_posts/` adds the category as Jekyll does; `_drafts/` too when
drafts are wanted. Any other folder: every post file in it, recursively. Hidden files, editor
backups, `_site` and friends are never posts; symlinks that lead outside the source are not
followed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from feeds.model import Problem, SourceFile

POST_SUFFIXES = frozenset({".md", ".markdown", ".mkdown", ".mkdn", ".mkd", ".html", ".htm"})
_SKIP_DIRS = frozenset(
    {"_site", "node_modules", "vendor", ".git", ".jekyll-cache", ".sass-cache", "__pycache__"}
)


def _is_candidate(name: str) -> bool:
    return (
        not name.startswith((".", "#"))
        and not name.endswith("~")
        and Path(name).suffix.lower() in POST_SUFFIXES
    )


def _walk(root: Path, top: Path) -> Iterator[tuple[Path, bool]]:
    """Files below `top` in a stable order, with whether each is a symlink leading outside `root`."""
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            path = here / name
            outside = path.is_symlink() and not _inside(path.resolve(), root)
            yield path, outside


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def discover(
    source: Path, *, jekyll: bool, drafts: bool = False
) -> tuple[list[SourceFile], list[Problem]]:
    """Every post file under `source`, sorted by relative path, and the files refused on the way."""
    root = source.resolve()
    found: list[SourceFile] = []
    problems: list[Problem] = []
    for path, outside in _walk(root, root):
        if not _is_candidate(path.name):
            continue
        rel_parts = path.relative_to(root).parts
        rel = "/".join(rel_parts)
        if jekyll:
            special = [i for i, part in enumerate(rel_parts[:-1]) if part in ("_posts", "_drafts")]
            if not special:
                continue
            at = special[-1]
            draft = rel_parts[at] == "_drafts"
            if draft and not drafts:
                continue
            categories = tuple(p for p in rel_parts[:at] if p and not p.startswith("_"))
        else:
            if any(part.startswith("_") for part in rel_parts[:-1]):
                continue
            draft, categories = False, ()
        if outside:
            problems.append(
                Problem(rel, "symlink to a file outside the source folder; not followed", "error")
            )
            continue
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            shown = rel.encode("utf-8", "backslashreplace").decode("utf-8")
            problems.append(
                Problem(shown, "file name is not valid UTF-8; rename the file", "error")
            )
            continue
        if not path.is_file():
            continue
        found.append(SourceFile(path=path, rel=rel, categories=categories, draft=draft))
    return found, problems
