"""The README's deployment files, as written there: the systemd unit and the nginx `server`
block, run for real on 127.0.0.1 in front of the real `feedsmith serve`.

Only the addresses and paths this machine cannot have are replaced (the TLS port by a free
local one, /srv/site by a copy of the bundled posts, the cache folders by temporary ones);
each replacement must find its text, so a README that changes shape fails here first.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import feedparser

from tests.clients import need
from tests.conftest import POSTS
from tests.test_serve_process import fetch, free_port, serving, wait_for

README = Path(__file__).resolve().parent.parent / "README.md"
MAX_AGE = 2  # seconds: the feeds go stale in nginx's cache within the test


def readme_block(language: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, f"the README should have one {language} block"
    return str(blocks[0])


def replaced(text: str, changes: dict[str, str]) -> str:
    for old, new in changes.items():
        assert old in text, f"the README's block no longer says {old!r}"
        text = text.replace(old, new)
    return text


def site_copy(root: Path) -> Path:
    source = root / "site"
    shutil.copytree(POSTS, source)
    with (source / "feedsmith.toml").open("a", encoding="utf-8") as config:
        config.write(f"cache_max_age = {MAX_AGE}\n")
    return source


# --- systemd ---------------------------------------------------------------------------------


def unit_values(unit: str, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith(f"{key}=")]


def test_the_systemd_unit_verifies_and_its_command_serves(tmp_path: Path) -> None:
    analyze = need("systemd-analyze")
    unit = readme_block("ini")
    # systemd-analyze checks that ExecStart's program exists: point it at this install.
    program = Path(sys.executable).parent / "feedsmith"
    assert program.is_file(), "the feedsmith console script is not installed beside python"
    path = tmp_path / "feedsmith.service"
    path.write_text(
        replaced(unit, {"/opt/feedsmith/bin/feedsmith": str(program)}), encoding="utf-8"
    )
    verified = subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [
        line
        for line in (verified.stdout + verified.stderr).splitlines()
        # A container without a running systemd says so; that is not about the unit.
        if "feedsmith.service" in line and "Failed to" not in line.split("feedsmith.service")[0]
    ]
    assert verified.returncode == 0 and complaints == [], verified.stdout + verified.stderr

    # Its ExecStart, run as the unit runs it (paths made local), serves and stops on SIGTERM.
    (command,) = unit_values(unit, "ExecStart")
    port = free_port()
    argv = shlex.split(
        replaced(
            command,
            {
                "/opt/feedsmith/bin/feedsmith": f"{sys.executable} -m feedsmith",
                "/srv/site": str(site_copy(tmp_path)),
                "/var/lib/feedsmith": str(tmp_path / "state"),
                "--port 8000": f"--port {port}",
            },
        )
    )
    log = (tmp_path / "journal").open("w+b")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:

        def healthy() -> bool:
            try:
                return fetch(f"http://127.0.0.1:{port}/healthz")[0] == 200
            except OSError:
                return False

        wait_for(healthy, timeout=60)
        status, _, body = fetch(f"http://127.0.0.1:{port}/feed.xml")
        assert status == 200 and feedparser.parse(body).entries
        assert (tmp_path / "state").is_dir()  # the state goes where the unit allows writing
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=int(unit_values(unit, "TimeoutStopSec")[0]))
        log.seek(0)
        printed = log.read().decode("utf-8", "replace")
        log.close()
    assert code == 0, printed  # a clean stop: systemd does not count it as a failure
    assert "Traceback" not in printed


# --- nginx ------------------------------------------------------------------------------------


@contextmanager
def nginx_in_front(root: Path, upstream: str) -> Iterator[str]:
    """nginx on a free port of 127.0.0.1 with the README's `server` block; yields its URL."""
    binary = need("nginx")
    root.mkdir()
    port = free_port()
    upstream_port = upstream.rsplit(":", 1)[1]
    site = replaced(
        readme_block("nginx"),
        {
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
            "/var/cache/nginx/feeds": str(root / "cache"),
            "listen 443 ssl http2;": f"listen 127.0.0.1:{port};",
        },
    )
    (root / "site.conf").write_text(site, encoding="utf-8")
    # The main file a distribution ships, reduced to what a test needs (everything in `root`).
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"{kind}_temp_path {root / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (root / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {root / 'nginx.pid'};\n"
        f"error_log {root / 'error.log'} warn;\nevents {{}}\n"
        f"http {{\naccess_log {root / 'access.log'};\n{temp}include {root / 'site.conf'};\n}}\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert process.poll() is None, (root / "error.log").read_text()
            try:
                return fetch(f"{base}/healthz")[0] == 200
            except OSError:
                return False

        wait_for(up, timeout=20)
        yield base
    finally:
        process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def cache_status(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    status, answer, _ = fetch(f"{base}{path}", headers)
    return status, str(answer["X-Cache-Status"])


def test_nginx_in_front_caches_revalidates_and_passes_new_posts(tmp_path: Path) -> None:
    source = site_copy(tmp_path)
    log = tmp_path / "feedsmith.log"
    with serving(source, log=log) as upstream, nginx_in_front(tmp_path / "nginx", upstream) as base:
        direct = fetch(f"{upstream}/feed.xml")[2]
        status, headers, body = fetch(f"{base}/feed.xml")
        assert (status, headers["X-Cache-Status"], body) == (200, "MISS", direct)
        assert cache_status(base, "/feed.xml") == (200, "HIT")
        # A reader's own conditional GET is answered by nginx from its cache.
        assert cache_status(base, "/feed.xml", {"If-None-Match": headers["ETag"]}) == (304, "HIT")

        # Once max-age has run out nginx asks feedsmith again, with the ETag, and gets a 304.
        time.sleep(MAX_AGE + 1)
        assert cache_status(base, "/feed.xml") == (200, "REVALIDATED")
        conditional = [
            line for line in log.read_text(encoding="utf-8").splitlines() if "/feed.xml" in line
        ]
        assert " 304 " in conditional[-1], conditional

        # A new post: feedsmith has it at once; nginx's readers get it once max-age runs out.
        (source / "2026-06-01-new.md").write_text(
            "---\ntitle: Through nginx\ndate: 2026-06-01 10:00:00 +0800\n---\nNew.\n",
            encoding="utf-8",
        )

        def titles(url: str) -> list[str]:
            return [entry.title for entry in feedparser.parse(fetch(url)[2]).entries]

        wait_for(lambda: titles(f"{upstream}/feed.xml")[0] == "Through nginx", timeout=10)
        wait_for(lambda: titles(f"{base}/feed.xml")[0] == "Through nginx", timeout=MAX_AGE + 5)

        # The other locations the block passes on: the pages, the OPML list, the health check.
        for path in (
            "/",
            "/feeds.opml",
            "/feeds.html",
            "/feed.html",
            "/healthz",
            quote("/feed/by_tag/东财滚动新闻.rss"),
        ):
            assert fetch(f"{base}{path}")[0] == 200, path
