"""A live change costs what changed: `update_index` and `read_site(changed=…)` give exactly
what a full read gives, for any change, or step aside for the full read."""

from __future__ import annotations

import os
import pickle
import re
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import feedparser
import feedsmith.discover
import pytest
from feedsmith import load_config, place_of, read_site
from feedsmith.discover import POST_SUFFIXES, _is_candidate
from feedsmith.index import build_index, positions, update_index
from feedsmith.model import Author, Index, Overlay, Post
from feedsmith.site import Site
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, write_post
from tests.test_serve_process import fetch, serving, wait_for

NAMES = ["a", "b", "c", "金融"]


def _post(n: int, version: int, day: int, names: dict[str, Any]) -> Post:
    when = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=day)
    url = f"https://live.example/{names['url']}/"
    return Post(
        path=f"/site/_posts/p{n}.md",
        rel=f"_posts/p{n}.md",
        digest=f"{n}.{version}",
        markup="markdown",
        title=f"P{n}",
        date=when,
        updated=when,
        url=url,
        id=names["id"] or url,
        slug=f"p{n}",
        categories=tuple(names["categories"]),
        tags=tuple(names["tags"]),
        authors=tuple(Author(name) for name in names["authors"]),
        collection=names["collection"],
    )


_fields = st.fixed_dictionaries(
    {
        "url": st.text("wxyz", min_size=1, max_size=4),  # a short alphabet: some URLs meet
        "id": st.sampled_from(["", "", "", "", "", "", "", "tag:live.example,2024:same"]),
        "categories": st.lists(st.sampled_from(NAMES), max_size=2, unique=True),
        "tags": st.lists(st.sampled_from(NAMES), max_size=3, unique=True),
        "authors": st.lists(st.sampled_from(["Ann", "Bo"]), max_size=2),
        "collection": st.sampled_from(["posts", "posts", "docs"]),
    }
)
_posts = st.lists(st.tuples(st.integers(0, 6), _fields), max_size=12)


def _shape(index: Index) -> tuple[Any, ...]:
    return (
        [(p.rel, p.id, p.digest) for p in index.posts],
        dict(index.categories),
        dict(index.tags),
        dict(index.collections),
        dict(index.authors),
        dict(index.ids),
        dict(index.urls),
        index.clashing,
    )


@settings(max_examples=300, deadline=None)
@given(
    before=_posts,
    removed=st.sets(st.integers(0, 11)),
    edited=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 6), _fields), max_size=3),
    added=st.lists(st.tuples(st.integers(0, 6), _fields), max_size=3),
)
def test_an_updated_index_is_the_index_built_anew(
    before: list[tuple[int, dict[str, Any]]],
    removed: set[int],
    edited: list[tuple[int, int, dict[str, Any]]],
    added: list[tuple[int, dict[str, Any]]],
) -> None:
    old = {n: _post(n, 0, day, names) for n, (day, names) in enumerate(before)}
    index, _ = build_index(old.values())
    posts = dict(old)
    taken, put = [], []
    for n in removed & set(old):
        taken.append(old[n])
        del posts[n]
    for n, day, names in edited:
        if n in posts and n not in removed and posts[n] is old[n]:
            taken.append(old[n])
            posts[n] = put_post = _post(n, 1, day, names)
            put.append(put_post)
    for k, (day, names) in enumerate(added):
        n = 100 + k
        posts[n] = put_post = _post(n, 0, day, names)
        put.append(put_post)
    # As the index holds them: where build_index renamed a post's id, that copy.
    held = {post.rel: post for post in index.posts}
    made = update_index(index, [held[p.rel] for p in taken], put)
    updated = made.index if made is not None else None
    anew, _ = build_index(posts.values())
    event("updated" if updated is not None else "built anew")
    if updated is None:
        # Only where build_index had to rename an id or warn of a shared URL.
        assert anew.clashing or index.clashing
        return
    assert _shape(updated) == _shape(anew)
    # The very post objects given, so entry keys and states still line up with them (where
    # build_index renamed an id, its copy of the post, equal to the one made anew).
    for a, b in zip(updated.posts, anew.posts, strict=True):
        assert a is b or (a.rel in anew.clashing and a == b)
    # What goes along with the posts (their entry keys) goes along in the same way.
    assert made is not None
    carried = made.carry([p.rel for p in index.posts], [p.rel for p in made.added])
    assert carried == tuple(p.rel for p in anew.posts)


def test_an_index_with_no_clash_is_always_updated_in_place() -> None:
    names = {"url": "", "id": "", "categories": ["a"], "tags": ["b"], "authors": []}
    posts = [_post(n, 0, n % 3, {**names, "url": f"u{n}", "collection": "posts"}) for n in range(9)]
    index, _ = build_index(posts)
    newest = _post(50, 0, 9, {**names, "url": "u50", "collection": "posts"})
    made = update_index(index, [posts[4]], [newest])
    assert made is not None
    updated = made.index
    assert updated.posts[0] is newest
    assert posts[4] not in updated.posts
    assert updated.tags["b"] == tuple(range(9))  # by age: 0 the oldest
    assert positions(updated.tags["b"], 9, 2) == (0, 1)


@settings(max_examples=200, deadline=None)
@given(
    start=st.dictionaries(st.integers(0, 20), st.integers()),
    changes=st.lists(
        st.tuples(st.dictionaries(st.integers(0, 25), st.integers()), st.sets(st.integers(0, 25))),
        max_size=8,
    ),
    fold=st.sampled_from([2, 5, 4096]),
)
def test_an_overlay_is_the_dict_it_stands_for(
    start: dict[int, int], changes: list[tuple[dict[int, int], set[int]]], fold: int
) -> None:
    plain = dict(start)
    mapping: Any = start
    with mock.patch.object(Overlay, "FOLD", fold):
        for put, gone in changes:
            mapping = Overlay.changed(mapping, put, gone)
            for key in gone:
                plain.pop(key, None)
            plain.update(put)
            assert dict(mapping) == plain
            assert len(mapping) == len(plain) == len(list(mapping))
            assert all((k in mapping) == (k in plain) for k in range(-1, 27))
            assert all(mapping.get(k) == plain.get(k) for k in range(-1, 27))
    assert pickle.loads(pickle.dumps(mapping)) == plain


# --- read_site(changed=…): a live change to real files -------------------------------------

SITE_CONFIG = """\
title: Live
url: https://live.example
timezone: Asia/Shanghai
feed:
  tags: true
"""

_op = st.one_of(
    st.tuples(st.just("write"), st.integers(0, 7), st.integers(0, 9), _fields),
    st.tuples(st.just("delete"), st.integers(0, 7)),
    st.tuples(st.just("broken"), st.integers(0, 7)),
    st.tuples(st.just("future"), st.integers(0, 7)),
    st.tuples(st.just("rename"), st.integers(0, 7), st.integers(0, 7)),
    st.tuples(st.just("folder"), st.integers(0, 7)),  # a folder of posts: only a walk tells
    st.tuples(
        st.just("include"),
    ),  # not a post: only a full read tells
)


def _name(n: int) -> str:
    return f"2024-03-0{1 + n % 9}-post-{n}.md"


def _write(folder: Path, n: int, day: int, names: dict[str, Any]) -> Path:
    lines = [
        f'title: "Post {n} {names["url"]}"',
        f"date: 2024-03-{1 + day:02d} 08:00:00 +0800",
        f"categories: [{', '.join(names['categories'])}]",
        f"tags: [{', '.join(names['tags'])}]",
    ]
    if names["id"]:
        lines.append(f"id: {names['id']}")
    if names["url"] == "w":  # some posts share a permalink
        lines.append("permalink: /shared/")
    return write_post(folder, _name(n), "\n".join(lines) + "\n", f"Body {n}, see {names['url']}.\n")


def _apply_op(source: Path, op: tuple[Any, ...]) -> list[Path]:  # noqa: PLR0911 - one an op
    """Do `op` to the site; the paths a watcher hears of."""
    posts = source / "_posts"
    kind = op[0]
    if kind == "write":
        return [_write(posts, op[1], op[2], op[3])]
    if kind == "delete":
        path = posts / _name(op[1])
        path.unlink(missing_ok=True)
        return [path]
    if kind == "broken":
        path = posts / _name(op[1])
        path.write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")
        return [path]
    if kind == "future":
        return [write_post(posts, _name(op[1]), "title: Later\ndate: 2099-01-01 08:00:00 +0800\n")]
    if kind == "rename":
        old, new = posts / _name(op[1]), posts / _name(op[2])
        if old.exists() and old != new:
            old.rename(new)
        return [old, new]
    if kind == "folder":
        folder = source / f"c{op[1]}" / "_posts"
        folder.mkdir(parents=True, exist_ok=True)
        write_post(folder, _name(op[1] + 20), f"title: Filed {op[1]}\ndate: 2024-03-05\n")
        return [source / f"c{op[1]}"]
    (source / "_includes").mkdir(exist_ok=True)
    path = source / "_includes" / "note.html"
    path.write_text(f"note {time.time_ns()}\n", encoding="utf-8")
    return [path]


def _site_shape(site: Site) -> tuple[Any, ...]:
    return (
        [(p.rel, p.id, p.url, p.title, p.digest) for p in site.index.posts],
        _shape(site.index),
        [(s.path, s.title, s.posts, s.total, s.links) for s in site.specs],
        site.entry_keys,
        dict(site.links.by_rel),
        dict(site.links.by_name),
        site.links.version,
        {rel: (s.post and s.post.digest, s.held_back, s.problems) for rel, s in site.files.items()},
        [str(p) for p in site.problems],  # in the same order too
        dict(site.held_back),
        site.timed,
        sorted(site.routes),
        sorted(site.pages),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 9), _fields), max_size=6),
    ops=st.lists(st.lists(_op, min_size=1, max_size=3), min_size=1, max_size=4),
)
def test_a_live_change_reads_as_a_full_read(
    tmp_path_factory: pytest.TempPathFactory,
    start: list[tuple[int, int, dict[str, Any]]],
    ops: list[list[tuple[Any, ...]]],
) -> None:
    source = tmp_path_factory.mktemp("live")
    (source / "_config.yml").write_text(SITE_CONFIG, encoding="utf-8")
    (source / "_posts").mkdir()
    for n, day, names in start:
        _write(source / "_posts", n, day, names)
    config = load_config(source)
    site = read_site(config, now=NOW)
    for batch in ops:
        heard = [str(path) for op in batch for path in _apply_op(source, op)]
        with mock.patch("feedsmith.site.discover", wraps=feedsmith.discover.discover) as walk:
            live = read_site(config, now=NOW, previous=site, changed=heard)
        event("walked" if walk.called else "updated in place")
        anew = read_site(config, now=NOW)
        assert _site_shape(live) == _site_shape(anew)
        # Each post found where it is, by its date; a file that publishes nothing, nowhere.
        published = {p.rel: i for i, p in enumerate(live.index.posts)}
        assert {rel: place_of(live, rel) for rel in live.files} == {
            rel: published.get(rel) for rel in live.files
        }
        site = live


def test_a_post_written_deleted_or_edited_is_read_without_a_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "_config.yml").write_text(SITE_CONFIG, encoding="utf-8")
    names = {"url": "x", "id": "", "categories": ["a"], "tags": ["b"], "authors": []}
    for n in range(5):
        _write(tmp_path / "_posts", n, n, {**names, "url": f"x{n}"})
    config = load_config(tmp_path)
    site = read_site(config, now=NOW)
    walks: list[Any] = []

    def no_walk(*args: Any, **kwargs: Any) -> tuple[list[Any], list[Any]]:
        walks.append(args)
        return [], []

    monkeypatch.setattr("feedsmith.site.discover", no_walk)
    added = _write(tmp_path / "_posts", 7, 9, {**names, "url": "new", "tags": ["新"]})
    site = read_site(config, now=NOW, previous=site, changed=[str(added)])
    assert site.index.posts[0].rel == "_posts/" + added.name
    assert positions(site.index.tags["新"], len(site.index.posts)) == (0,)
    edited = _write(tmp_path / "_posts", 2, 2, {**names, "url": "edited"})
    (tmp_path / "_posts" / _name(3)).unlink()
    site = read_site(
        config, now=NOW, previous=site, changed=[str(edited), str(tmp_path / "_posts" / _name(3))]
    )
    assert [p.title for p in site.index.posts] == [
        "Post 7 new",
        "Post 4 x4",
        "Post 2 edited",
        "Post 1 x1",
        "Post 0 x0",
    ]
    assert walks == []
    # A folder is only read by a walk: the stand-in walk above finds nothing.
    (tmp_path / "c" / "_posts").mkdir(parents=True)
    assert (
        read_site(config, now=NOW, previous=site, changed=[str(tmp_path / "c")]).index.posts == ()
    )
    assert len(walks) == 1


def test_the_real_server_follows_every_kind_of_change_as_it_happens(tmp_path: Path) -> None:
    """Over HTTP, through the real watcher: an editor's save (a new file renamed over the
    post), a post renamed, one deleted while another is written, a folder of posts moved
    in and out, an include changed. Each shows as a fresh read of the site shows it, and the
    log tells how long each reload took."""
    source = tmp_path / "site"
    posts = source / "_posts"
    posts.mkdir(parents=True)
    (source / "_config.yml").write_text(SITE_CONFIG, encoding="utf-8")
    names = {"url": "x", "id": "", "categories": ["a"], "tags": ["金融"], "authors": []}
    for n in range(4):
        _write(posts, n, n, {**names, "url": f"x{n}"})
    log = tmp_path / "serve.log"

    def titles(path: str = "/feed.xml") -> list[str]:
        return [e.title for e in feedparser.parse(fetch(base + path)[2]).entries]

    def full_read() -> list[str]:
        return [p.title for p in read_site(load_config(source)).index.posts]

    with serving(source, log=log) as base:
        assert titles() == full_read()
        # An editor's save: the new text written beside the post, then renamed over it.
        saved = posts / f".{_name(1)}.swp"
        saved.write_text(
            "---\ntitle: Saved again\ndate: 2024-03-02 08:00:00 +0800\ntags: [金融]\n---\nNew.\n",
            encoding="utf-8",
        )
        saved.rename(posts / _name(1))
        wait_for(lambda: "Saved again" in titles())
        assert titles() == full_read()
        (posts / _name(2)).rename(posts / "2024-03-09-moved.md")
        wait_for(lambda: titles() == full_read())
        (posts / _name(0)).unlink()
        _write(posts, 8, 9, {**names, "url": "newest"})
        wait_for(lambda: titles()[:1] == ["Post 8 newest"] and titles() == full_read())
        tag_feed = "/feed/by_tag/" + urllib.parse.quote("金融") + ".xml"
        assert titles(tag_feed) == full_read()  # every post so far has the tag
        # A folder of posts moved in, then out: only a walk can tell what it held.
        outside = tmp_path / "elsewhere" / "_posts"
        write_post(outside, "2024-03-20-filed.md", "title: Filed away\ndate: 2024-03-20\n")
        (tmp_path / "elsewhere").rename(source / "news")
        wait_for(lambda: titles()[:1] == ["Filed away"])
        assert fetch(base + "/feed/news.xml")[0] == 200  # its folder is its category
        (source / "news").rename(tmp_path / "elsewhere")
        wait_for(lambda: "Filed away" not in titles())
        assert titles() == full_read()
    said = log.read_text(encoding="utf-8")
    assert re.search(r"reloaded: \d+ posts in \d+ feeds \(\d+\.\d\d s\)", said), said


@settings(max_examples=500, deadline=None)
@given(name=st.text(st.sampled_from(".#~mdhtlMDHTLkx-é"), min_size=1, max_size=9))
def test_a_post_file_name_is_told_as_splitext_tells_it(name: str) -> None:
    """The walk's fast test of a name (`rfind`) agrees with os.path.splitext's."""
    told = (
        not name.startswith((".", "#"))
        and not name.endswith("~")
        and os.path.splitext(name)[1].lower() in POST_SUFFIXES  # noqa: PTH122 - what it agrees with
    )
    assert _is_candidate(name) == told
