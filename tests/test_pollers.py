"""Every poller gets every post: real clients polling the real `feedsmith serve` process.

A post published later than its date, an edit that keeps the date, a deletion, a change of
configuration and a restart each change (or keep) the bytes of the site feed. After each,
every kind of client polls as it would: by If-Modified-Since only, by If-None-Match only, by
`curl -z`, and the real programs newsboat, sfeed_update and lemon24's `reader`. Each must
end up with every version of every entry, and none may miss a change for want of a newer
Last-Modified.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from feedsmith import build, read_site
from feedsmith.config import load_config

from tests.clients import (
    CurlZ,
    IfModifiedSinceOnly,
    IfNoneMatchOnly,
    Newsboat,
    Poller,
    Reader,
    SfeedUpdate,
    Version,
    need,
    versions_of,
)
from tests.conftest import POSTS
from tests.test_serve_process import fetch, free_port, serving, wait_for

EDITED = "2022-04-12-202204122339508724.md"
DELETED = "2022-04-03-hk-chipmakers-notes.md"


class Site:
    """The served copy of posts/, its server's address, and what the site feed holds now."""

    def __init__(self, source: Path, port: int) -> None:
        self.source = source
        self.base = f"http://127.0.0.1:{port}"
        self.port = port

    @property
    def feed(self) -> str:
        return f"{self.base}/feed.xml"

    def current(self) -> bytes:
        status, _, body = fetch(self.feed)
        assert status == 200
        return body

    def generation(self) -> int:
        return int(json.loads(fetch(f"{self.base}/healthz")[2])["generation"])

    def change(self, edit: Callable[[Path], None]) -> None:
        """Make a change to the source and wait until the server has taken it in."""
        before = self.generation()
        edit(self.source)
        wait_for(lambda: self.generation() > before, timeout=10)
        # A change is given the next whole second as its Last-Modified: poll once the clock
        # has passed it, so that every client sees the time it will keep.
        time.sleep(1.1)


def add_backdated(source: Path) -> None:
    """A post dated before the newest one, published now (a morning post pushed at night)."""
    (source / "2022-04-20-late-arrival.md").write_text(
        "---\ntitle: 迟到的新闻 late arrival\ndate: 2022-04-20 09:00:00 +0800\n"
        "categories: emnews\n---\n今天早上的消息，晚上才发布。\n",
        encoding="utf-8",
    )


def edit_keeping_date(source: Path) -> None:
    """A new title and a new line, the date left as it was (a correction)."""
    path = source / EDITED
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(n for n, line in enumerate(lines) if line.startswith("title: "))
    title = lines[at].removeprefix("title: ").strip('"')
    lines[at] = f'title: "{title} (updated)"'
    path.write_text("\n".join([*lines, "An added line.", ""]), encoding="utf-8")


def delete_one(source: Path) -> None:
    (source / DELETED).unlink()


def change_config(source: Path) -> None:
    config = source / "feedsmith.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'title = "金融消息"', 'title = "金融消息 Daily"'
        ),
        encoding="utf-8",
    )


def add_after_restart(source: Path) -> None:
    (source / "2022-04-21-after-restart.md").write_text(
        "---\ntitle: After the restart\ndate: 2022-04-21 10:00:00 +0800\n---\nStill here.\n",
        encoding="utf-8",
    )


CONDITIONAL = (IfModifiedSinceOnly, IfNoneMatchOnly, CurlZ)
PROGRAMS = (Newsboat, SfeedUpdate, Reader)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    source = tmp_path / "site"
    shutil.copytree(POSTS, source)
    yield Site(source, free_port())


def poll_all(pollers: list[Poller]) -> dict[str, int]:
    return {poller.name: poller.poll() for poller in pollers}


def test_every_client_gets_every_change_exactly_once(site: Site, tmp_path: Path) -> None:
    """Back-dated post, edit, deletion, configuration change, restart, new post: each client
    holds what the server holds after each step, has every version of every entry, and is
    answered 304 (or gets nothing new, for `curl -z`) when nothing changed."""
    need("curl")
    need("newsboat")
    need("sfeed_update")
    pollers: list[Poller] = [
        kind(site.feed, tmp_path / kind.__name__) for kind in (*CONDITIONAL, *PROGRAMS)
    ]
    published: set[Version] = set()

    def check_all_hold_the_current_feed(first: bool = False) -> None:
        current = site.current()
        published.update(versions_of(current))
        for poller in pollers:
            if isinstance(poller, CONDITIONAL):
                assert poller.body == current, f"{poller.name} holds stale bytes"
            elif not (first and isinstance(poller, SfeedUpdate)):
                # sfeed_update touches its file before its first fetch, so `-z` withholds
                # what was there already; every later version must come in.
                missing = versions_of(current) - poller.seen
                assert not missing, f"{poller.name} missed {missing}"

    with serving(site.source, port=site.port):
        time.sleep(1.1)  # past the Last-Modified a first start gives (see Site.change)
        poll_all(pollers)
        check_all_hold_the_current_feed(first=True)
        unchanged = poll_all(pollers)
        assert unchanged["If-Modified-Since only"] == 304
        assert unchanged["If-None-Match only"] == 304
        for step in (add_backdated, edit_keeping_date, delete_one, change_config):
            site.change(step)
            statuses = poll_all(pollers)
            assert statuses["If-Modified-Since only"] == 200, step.__name__
            assert statuses["If-None-Match only"] == 200, step.__name__
            check_all_hold_the_current_feed()

    # The same bytes after a restart: the same validators, so nobody downloads anything.
    with serving(site.source, port=site.port):
        after_restart = poll_all(pollers)
        assert after_restart["If-Modified-Since only"] == 304
        assert after_restart["If-None-Match only"] == 304
        check_all_hold_the_current_feed()
        site.change(add_after_restart)
        poll_all(pollers)
        check_all_hold_the_current_feed()

    assert "迟到的新闻 late arrival" in {title for _, title in published}
    assert any(title.endswith("(updated)") for _, title in published)
    for poller in pollers:
        if not isinstance(poller, SfeedUpdate):
            assert published <= poller.seen, poller.name
    sfeed = next(p for p in pollers if isinstance(p, SfeedUpdate))
    later = {v for v in published if "late arrival" in v[1] or "(updated)" in v[1]}
    assert later <= sfeed.seen
    # No entry twice: the ids stay what they were.
    for poller in pollers:
        items = getattr(poller, "items", None)
        if items is not None and not isinstance(poller, SfeedUpdate):
            ids = [entry_id for entry_id, _ in items]
            assert len(ids) == len(set(ids)), poller.name


def test_workers_agree_on_last_modified_before_and_after_a_change(site: Site) -> None:
    """Two worker processes share the times: whichever answers, one Last-Modified per bytes,
    and the one after a change is later."""
    with serving(site.source, "--workers", "2", port=site.port):

        def answers() -> set[tuple[str, str]]:
            return {
                (headers["ETag"], headers["Last-Modified"])
                for _, headers, _ in (fetch(site.feed) for _ in range(30))
            }

        time.sleep(1.1)
        before = answers()
        assert len(before) == 1
        add_backdated(site.source)
        wait_for(lambda: next(iter(before)) not in answers(), timeout=10)
        time.sleep(1.1)
        after = answers()
        assert len(after) == 1
        (etag, modified), (old_etag, old_modified) = next(iter(after)), next(iter(before))
        assert etag != old_etag
        assert parsedate_to_datetime(modified) > parsedate_to_datetime(old_modified)


# --- OPML import ---------------------------------------------------------------------------


def imported_by_newsboat(opml: Path, folder: Path) -> list[str]:
    newsboat = need("newsboat")
    urls = folder / "urls"
    urls.touch()
    (folder / "config").touch()
    home = {"HOME": str(folder), "XDG_CONFIG_HOME": str(folder), "XDG_DATA_HOME": str(folder)}
    subprocess.run(
        [
            newsboat,
            "-u",
            str(urls),
            "-c",
            str(folder / "cache.db"),
            "-C",
            str(folder / "config"),
            "-i",
            str(opml),
        ],
        check=True,
        capture_output=True,
        timeout=60,
        env={**os.environ, **home},
    )
    return [line.split()[0] for line in urls.read_text(encoding="utf-8").splitlines() if line]


def imported_by_reader(opml: Path, folder: Path) -> list[str]:
    from reader import make_reader

    reader = make_reader(str(folder / "reader.sqlite"))
    try:
        with opml.open("rb") as handle:
            reader.import_feeds(handle)
        return [feed.url for feed in reader.get_feeds()]
    finally:
        reader.close()


def imported_by_listparser(opml: Path, folder: Path) -> list[str]:
    import listparser

    parsed = listparser.parse(opml.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [feed.url for feed in parsed.feeds]


@pytest.mark.parametrize(
    "importer", [imported_by_newsboat, imported_by_reader, imported_by_listparser]
)
def test_opml_import_subscribes_once_per_feed(
    tmp_path: Path, importer: Callable[[Path, Path], list[str]]
) -> None:
    """Importing feeds.opml into a reader gives exactly one subscription per feed (site,
    each category, each tag), not one per format."""
    out = tmp_path / "out"
    build(POSTS, out)
    subscribed = importer(out / "feeds.opml", tmp_path)
    site = read_site(load_config(POSTS))
    feeds = {(spec.kind, spec.name) for spec in site.specs if not spec.archive}
    assert len(subscribed) == len(set(subscribed)) == len(feeds)
    assert all(url.endswith(".xml") for url in subscribed)
