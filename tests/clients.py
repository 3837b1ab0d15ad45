"""Real feed consumers, driven as their users run them, for tests against the real server.

Each poller keeps what it was given between polls, the way that client does, and records
every entry version (id, title) it has taken in. The Python pollers stand for the two
kinds of conditional GET a client can make on its own (only If-Modified-Since, only
If-None-Match); the others are the programs themselves: curl with `-z` (as sfeed's
conditional fetch does), sfeed_update, newsboat and lemon24's `reader`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import feedparser
import pytest

Version = tuple[str, str]  # (entry id, title): an edit that keeps the id is another version


def need(program: str) -> str:
    """The path of `program`; skips the test where it is not installed, but fails it where
    FEEDSMITH_NO_SKIP is set (.ci/run sets it after installing them all)."""
    found = shutil.which(program)
    if found is None:
        reason = f"{program} is not installed (apt-get install it; .ci/run does)"
        if os.environ.get("FEEDSMITH_NO_SKIP"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def versions_of(document: bytes) -> set[Version]:
    parsed = feedparser.parse(document)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return {(entry.id, entry.title) for entry in parsed.entries}


class Poller:
    """A client polling one URL with conditional GET, holding the last body it was given."""

    name = "poller"

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.body = b""
        self.seen: set[Version] = set()
        self.statuses: list[int] = []

    def conditions(self) -> dict[str, str]:
        return {}

    def keep(self, headers: object) -> None:
        """Remember the validators of a 200."""

    def poll(self) -> int:
        request = urllib.request.Request(self.url, headers=self.conditions())
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, body, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            with error:
                status, body, headers = error.code, b"", error.headers
        status = int(status)
        self.statuses.append(status)
        if status == 200:
            self.body = body
            self.seen |= versions_of(body)
            self.keep(headers)
        return status


class IfModifiedSinceOnly(Poller):
    """Sends back only the Last-Modified it was given (many scripts and old readers)."""

    name = "If-Modified-Since only"
    last_modified: str | None = None

    def conditions(self) -> dict[str, str]:
        return {"If-Modified-Since": self.last_modified} if self.last_modified else {}

    def keep(self, headers: object) -> None:
        self.last_modified = headers["Last-Modified"]  # type: ignore[index]


class IfNoneMatchOnly(Poller):
    """Sends back only the ETag it was given."""

    name = "If-None-Match only"
    etag: str | None = None

    def conditions(self) -> dict[str, str]:
        return {"If-None-Match": self.etag} if self.etag else {}

    def keep(self, headers: object) -> None:
        self.etag = headers["ETag"]  # type: ignore[index]


class CurlZ(Poller):
    """`curl -z FILE`, as sfeed's conditional fetch (sfeedrc(5)): the condition is the time
    the local copy was last written, and curl itself throws away a body whose Last-Modified
    is not later than that ("The requested document is not new enough")."""

    name = "curl -z"

    def poll(self) -> int:
        curl = need("curl")
        local = self.folder / "feed.xml"
        fetched = self.folder / "fetched.xml"
        fetched.unlink(missing_ok=True)
        condition = ["-z", str(local)] if local.exists() else []
        result = subprocess.run(
            [
                curl,
                "-s",
                "-f",
                "-m",
                "15",
                *condition,
                "-o",
                str(fetched),
                "-w",
                "%{http_code}",
                self.url,
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        status = int(result.stdout.decode())
        self.statuses.append(status)
        if fetched.exists() and fetched.stat().st_size:
            self.body = fetched.read_bytes()
            self.seen |= versions_of(self.body)
            local.write_bytes(self.body)  # written now: its time is the next condition
        return status


class Newsboat(Poller):
    """newsboat reloading its feeds from the command line (`-x reload`), with its own cache."""

    name = "newsboat"

    def poll(self) -> int:
        newsboat = need("newsboat")
        urls = self.folder / "urls"
        urls.write_text(self.url + "\n", encoding="utf-8")
        (self.folder / "config").touch()
        home = {
            "HOME": str(self.folder),
            "XDG_CONFIG_HOME": str(self.folder / "cfg"),
            "XDG_DATA_HOME": str(self.folder / "data"),
        }
        result = subprocess.run(
            [
                newsboat,
                "-u",
                str(urls),
                "-c",
                str(self.folder / "cache.db"),
                "-C",
                str(self.folder / "config"),
                "-x",
                "reload",
            ],
            capture_output=True,
            timeout=60,
            check=False,
            env={**os.environ, **home},
        )
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(self.folder / "cache.db") as db:
            rows = db.execute(
                "SELECT guid, title FROM rss_item WHERE feedurl = ?", (self.url,)
            ).fetchall()
        self.items = rows
        self.seen |= {(guid, title) for guid, title in rows}
        return 0


class Reader(Poller):
    """lemon24's `reader` library updating its one feed."""

    name = "reader"

    def poll(self) -> int:
        from reader import make_reader

        reader = make_reader(str(self.folder / "reader.sqlite"))
        try:
            if reader.get_feed(self.url, None) is None:
                reader.add_feed(self.url)
            reader.update_feeds(scheduled=False)  # now, as "update" in its app; still conditional
            entries = list(reader.get_entries(feed=self.url))
        finally:
            reader.close()
        self.items = [(entry.id, entry.title or "") for entry in entries]
        self.seen |= set(self.items)
        return 0


class SfeedUpdate(Poller):
    """`sfeed_update` with the conditional fetch its manual page gives (`curl -z "$3"`)."""

    name = "sfeed_update -z"

    def poll(self) -> int:
        sfeed_update = need("sfeed_update")
        need("curl")
        rc = self.folder / "sfeedrc"
        rc.write_text(
            textwrap.dedent(
                f"""\
                sfeedpath="{self.folder / "feeds"}"
                fetch() {{
                    curl -L --max-redirs 0 -f -s -m 15 -z "$3" "$2" 2>/dev/null
                }}
                feeds() {{
                    feed "site" "{self.url}"
                }}
                """
            ),
            encoding="utf-8",
        )
        result = subprocess.run(
            [sfeed_update, str(rc)], capture_output=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        lines = (self.folder / "feeds" / "site").read_text(encoding="utf-8").splitlines()
        # sfeed(5): timestamp, title, link, content, content-type, id, author, enclosure, category
        self.items = [(line.split("\t")[5], line.split("\t")[1]) for line in lines if line]
        self.seen |= set(self.items)
        return 0
