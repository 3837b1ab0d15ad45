"""REDbot, the HTTP linter, on the real server: no response it checks has a warning."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import POSTS
from tests.test_serve_process import serving

PATHS = (
    "feed.xml",
    "feed.rss",
    "feed.json",
    "feed/by_tag/东财滚动新闻.xml",
    "feeds.opml",
    "",
    "preview/feed.xml",
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> object:
    source = tmp_path_factory.mktemp("lint") / "posts"
    shutil.copytree(POSTS, source)
    with serving(source, "--no-reload", "--no-access-log") as url:
        time.sleep(1.1)  # past a first start's Last-Modified (REDbot checks it against Date)
        yield url


@pytest.mark.parametrize("path", PATHS)
def test_redbot_finds_nothing_to_warn_about(base: str, path: str) -> None:
    redbot = Path(sys.executable).with_name("redbot")
    result = subprocess.run(
        [str(redbot), "-o", "har", f"{base}/{quote(path)}"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    notes = [
        (note["level"], note["note_id"], note["summary"])
        for entry in json.loads(result.stdout)["log"]["entries"]
        for note in entry["_red_messages"]
    ]
    assert notes, "REDbot said nothing at all"
    assert not [note for note in notes if note[0] in ("WARN", "BAD")], notes
