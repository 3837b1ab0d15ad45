"""What a person sees while feedsmith works: the real CLI on a real pseudo-terminal, read
into pyte (a terminal emulator); the same build into a pipe, as in a CI log; a build waiting
for another; `serve` saying when it is ready. And, for any sequence of updates of any width,
the emulated screen shows exactly the last state."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pyte
import pytest
from feedsmith.progress import STAGES, Phases, TerminalRows, worth_a_row
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from tests.terminal import as_html, lines, on_terminal
from tests.test_browser import ARTIFACTS, browser  # noqa: F401 - a fixture
from tests.test_serve_process import fetch, free_port

FEEDSMITH = [sys.executable, "-m", "feedsmith"]
TIMEOUT = 300  # a guard against hangs, not a speed test

# One phase row as drawn: the stage, a bar of 24 cells, the count (or what the step does),
# then the rate and the time (taken, left, or spent so far).
TIME = r"(?:in )?(?:\d+(?:\.\d)? s|\d+ min \d\d s)(?: left)?"
ROW = re.compile(
    r"^(?P<stage>[a-z]+) +[━╺╸ ]{24} (?P<count>.+?)(?: +(?P<rate>[\d,]+/s))?(?: +(?P<time>"
    + TIME
    + r"))?$"
)
COUNT = re.compile(r"^(?P<done>[\d,]+)/(?P<total>[\d,]+)(?: (?P<unit>posts|files))?$")
SUMMARY = re.compile(r"^posts: (\d+) read, .*$|^feeds: (\d+) written, (\d+) unchanged, .*$")


def tiny_site(root: Path, posts: int) -> Path:
    """A Jekyll site of `posts` one-line posts over 40 categories and 200 tags: many feeds."""
    folder = root / "_posts"
    folder.mkdir(parents=True)
    (root / "_config.yml").write_text(
        "title: Progress\nurl: https://progress.example\n", encoding="utf-8"
    )
    for n in range(posts):
        day = f"20{10 + n % 14:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        (folder / f"{day}-post{n}.md").write_text(
            f"---\ntitle: Post {n}\ncategories: [c{n % 40}]\ntags: [t{n % 200}, u{n % 7}]\n---\n"
            f"Post *{n}* says hello.\n",
            encoding="utf-8",
        )
    return root


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough posts that a build on one process takes a few seconds on any machine."""
    return tiny_site(tmp_path_factory.mktemp("progress") / "site", 3000)


def build_argv(site: Path, out: Path, *extra: str) -> list[str]:
    return [
        *FEEDSMITH,
        "build",
        str(site),
        "-o",
        str(out),
        "--cache-dir",
        str(out) + ".cache",
        *extra,
    ]


def rows(screen: tuple[str, ...]) -> list[re.Match[str]]:
    """The phase rows on a screen (every line that starts with a stage's name)."""
    found = []
    for line in screen:
        if line.strip().split(" ", 1)[0] in STAGES:
            match = ROW.match(line)
            assert match is not None, f"not a whole phase row: {line!r}\n" + "\n".join(screen)
            found.append(match)
    return found


def counts(match: re.Match[str]) -> tuple[int, int] | None:
    count = COUNT.match(match["count"])
    if count is None:
        return None
    return int(count["done"].replace(",", "")), int(count["total"].replace(",", ""))


# --- any sequence of updates -------------------------------------------------------------------

numbers = st.one_of(st.integers(0, 9), st.integers(0, 10**9))
updates = st.lists(
    st.tuples(st.sampled_from(sorted(STAGES)), numbers, numbers), min_size=1, max_size=25
)


@settings(max_examples=60, deadline=None)
@given(updates=updates, width=st.integers(100, 180))
def test_any_updates_leave_the_screen_showing_exactly_the_last_state(
    updates: list[tuple[str, int, int]], width: int
) -> None:
    """Counts of 1 to 10 digits in any order: after every redraw the screen holds one row
    per phase with its last count and nothing else; when stopped, nothing at all."""
    clock = iter(range(10**6))
    phases = Phases(clock=lambda: next(clock) / 20)  # 0.05 s a reading: some steps are brief
    out = io.StringIO()
    console = Console(
        file=out, force_terminal=True, width=width, height=40, color_system="standard"
    )
    display = TerminalRows(phases, console)
    screen = pyte.Screen(width, 40)
    screen.set_mode(pyte.modes.LNM)  # a line feed returns the carriage, as a tty's ONLCR does
    stream = pyte.Stream(screen)
    for stage, a, b in updates:
        done, total = min(a, b), max(a, b)
        phases(stage, done, total)
        display.show(phases.snapshot())
        stream.feed(out.getvalue())
        out.seek(0)
        out.truncate()
        shown = [line for line in lines(screen) if line]
        expected = [phase for phase in phases.snapshot() if worth_a_row(phase)]
        assert [m["stage"] for m in rows(tuple(shown))] == [p.stage for p in expected]
        assert len(shown) == len(expected), "\n".join(shown)
        for match, phase in zip(rows(tuple(shown)), expected, strict=True):
            if phase.total > 0:
                assert counts(match) == (phase.done, phase.total), match[0]
            else:
                assert match["count"] == phase.note, match[0]
    display.stop()
    stream.feed(out.getvalue())
    assert not any(lines(screen)), "\n".join(lines(screen))


# --- the real CLI on a terminal ----------------------------------------------------------------


def test_a_build_on_a_terminal_shows_true_phases_and_leaves_only_its_summary(
    big_site: Path, tmp_path: Path
) -> None:
    """Every screen seen during the build: whole rows only, counts within totals and never
    going back, the read total the number of posts, the write total the number
    of files; at the end the summary and no row."""
    out = tmp_path / "out"
    seen: list[tuple[str, ...]] = []
    run = on_terminal(
        build_argv(big_site, out, "-j", "1"),
        columns=220,
        seen=lambda screen: seen.append(lines(screen)),
    )
    assert run.returncode == 0, "\n".join(run.final)
    final = [line for line in run.final if line]
    assert [bool(SUMMARY.match(line)) for line in final] == [True, True], final
    posts_read = int(final[0].split()[1])
    files = sum(int(n) for n in re.findall(r"(\d+) (?:written|unchanged)", final[1]))
    assert posts_read == 3000
    last: dict[str, tuple[int, int]] = {}
    order: list[str] = []
    for screen in seen:
        for match in rows(screen):
            stage = match["stage"]
            if stage not in order:
                order.append(stage)
            count = counts(match)
            if count is None:
                continue
            done, total = count
            assert done <= total, match[0]
            before = last.get(stage)
            assert before is None or (before[1] != total or before[0] <= done), match[0]
            last[stage] = count
    assert order == sorted(order, key=list(STAGES).index), order  # phases in the build's order
    assert {"read", "render"} <= set(order), order
    assert last["read"] == (3000, 3000)
    assert 0 < last["render"][1] <= 3000
    assert last["write"][1] == files, (last["write"], files)


def test_quiet_shows_nothing_on_a_terminal(tmp_path: Path) -> None:
    site = tiny_site(tmp_path / "site", 600)
    run = on_terminal(build_argv(site, tmp_path / "out", "-q", "-j", "1"))
    assert run.returncode == 0
    assert run.raw == b""


# --- the real CLI into a pipe ------------------------------------------------------------------


def test_into_a_pipe_a_plain_line_every_interval_and_no_escape_code(
    big_site: Path, tmp_path: Path
) -> None:
    """FEEDSMITH_PROGRESS_INTERVAL=0.3: plain lines, no carriage return or escape code, never
    more than one per interval, each a phase with a count within its total."""
    every = 0.3
    started = time.monotonic()
    result = subprocess.run(
        build_argv(big_site, tmp_path / "out", "-j", "1"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "FEEDSMITH_PROGRESS_INTERVAL": str(every)},
        check=False,
    )
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    for text in (result.stdout, result.stderr):
        assert "\r" not in text and "\x1b" not in text
    progress = result.stderr.splitlines()
    assert progress, "a build of several seconds says how far it is"
    assert len(progress) <= took / every + 1
    line = re.compile(
        r"^feedsmith: (?:([a-z]+) ([\d,]+)/([\d,]+) (?:posts|files)(?:, .*)?|[a-z]+: .+)$"
    )
    for text in progress:
        match = line.match(text)
        assert match is not None, text
        if match[1]:
            assert match[1] in STAGES
            assert int(match[2].replace(",", "")) <= int(match[3].replace(",", ""))
    assert [bool(SUMMARY.match(text)) for text in result.stdout.splitlines()] == [True, True]


def test_a_quick_build_into_a_pipe_prints_only_its_summary(tmp_path: Path) -> None:
    site = tiny_site(tmp_path / "site", 20)
    result = subprocess.run(
        build_argv(site, tmp_path / "out"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    assert [bool(SUMMARY.match(text)) for text in result.stdout.splitlines()] == [True, True]


# --- a build waiting for another ---------------------------------------------------------------

HOLD = """
import sys
from pathlib import Path
from feedsmith.state import locked
with locked(Path(sys.argv[1]), Path(sys.argv[2])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _lines_of(stream: IO[str] | None) -> Iterator[str]:
    assert stream is not None
    yield from iter(stream.readline, "")


@contextmanager
def _killed_on_failure(process: subprocess.Popen[str]) -> Iterator[None]:
    try:
        yield
    except BaseException:
        process.kill()
        raise


def test_a_build_waiting_for_another_says_for_which(tmp_path: Path) -> None:
    """Another process holds the output folder's lock: the build says it waits, naming the
    folder and that process, and builds once the lock is let go."""
    site = tiny_site(tmp_path / "site", 20)
    out = tmp_path / "out"
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out) + ".cache", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None and holder.stdout is not None
        try:
            assert holder.stdout.readline() == "held\n"
            with (
                subprocess.Popen(
                    build_argv(site, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                ) as build,
                _killed_on_failure(build),
            ):
                said: list[str] = []
                reader = threading.Thread(
                    target=lambda: said.extend(_lines_of(build.stderr)), daemon=True
                )
                reader.start()
                deadline = time.monotonic() + 60
                while not said and time.monotonic() < deadline and build.poll() is None:
                    time.sleep(0.05)
                assert said == [
                    f"feedsmith: waiting for another build of {out}/ to finish (pid {holder.pid})…\n"
                ]
                assert build.poll() is None  # still waiting
                holder.stdin.write("\n")
                holder.stdin.flush()
                build.wait(timeout=TIMEOUT)
                reader.join(timeout=10)
                assert build.stdout is not None
                stdout = build.stdout.read()
            assert build.returncode == 0
            assert [bool(SUMMARY.match(text)) for text in stdout.splitlines()] == [True, True]
        finally:
            holder.kill()


# --- serve -------------------------------------------------------------------------------------


@contextmanager
def _serve(site: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                *FEEDSMITH,
                "serve",
                str(site),
                "--port",
                str(port),
                "--no-reload",
                "--cache-dir",
                str(log) + ".cache",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "FEEDSMITH_PROGRESS_INTERVAL": "0.2"},
        )
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=60)


def test_serve_says_it_reads_then_prints_its_address_once_it_answers(
    big_site: Path, tmp_path: Path
) -> None:
    """Before the address: a line saying the posts are read (and how far, every interval).
    The address line comes when the server answers: the one request made on seeing it
    succeeds, and the server serves the number of feeds it said."""
    port = free_port()
    log = tmp_path / "serve.log"
    address = f"http://127.0.0.1:{port}"
    with _serve(big_site, port, log) as process:
        deadline = time.monotonic() + TIMEOUT
        text = ""
        while time.monotonic() < deadline and process.poll() is None:
            text = log.read_text(encoding="utf-8", errors="replace")
            if re.search(rf"serving \d+ feeds on {re.escape(address)} ", text):
                break
            time.sleep(0.01)
        else:
            raise AssertionError(f"no address said: {text}")
        status, _, body = fetch(f"{address}/healthz")  # once: no retry
        assert status == 200
    said = [line for line in text.splitlines() if "serving" in line or "reading" in line]
    reading = text.index(f"reading the posts in {big_site}")
    serving = re.search(rf"serving (\d+) feeds on {re.escape(address)} ", text)
    assert serving is not None and reading < serving.start(), said
    assert int(serving[1]) == json.loads(body)["feeds"]


# --- the README's picture ----------------------------------------------------------------------


def test_a_screenshot_of_a_build_in_progress(
    big_site: Path,
    tmp_path: Path,
    browser: Any,  # noqa: F811 - the fixture imported above
) -> None:
    """The real terminal screen in the middle of a build (posts rendering, the phases before
    them done), drawn as a page in headless Chromium: ARTIFACTS/progress.png, the README's
    tests/screenshots/progress.png."""
    shots: list[str] = []

    def look(screen: pyte.Screen) -> None:
        found = {match["stage"]: counts(match) for match in rows(lines(screen))}
        render = found.get("render")
        if render is not None and 0 < render[0] < render[1] and found.get("read"):
            shots.append(as_html(screen, "feedsmith build"))

    run = on_terminal(
        build_argv(big_site, tmp_path / "out", "-j", "1"), columns=96, rows=6, seen=look
    )
    assert run.returncode == 0
    assert shots, "the build showed its rendering on the screen"
    page = tmp_path / "progress.html"
    page.write_text(shots[len(shots) // 2], encoding="utf-8")
    browser.set_window_size(1280, 600)
    browser.get(page.as_uri())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    from selenium.webdriver.common.by import By

    browser.find_element(By.TAG_NAME, "pre").screenshot(str(ARTIFACTS / "progress.png"))
    assert (ARTIFACTS / "progress.png").stat().st_size > 1000
