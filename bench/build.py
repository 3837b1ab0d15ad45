"""Build benchmark on synthetic archives shaped like the real site, with Hugo in the same run.

    python bench/build.py --sizes 10000 100000 [--archives bench/archives] [--no-hugo] [--no-serve]
    python bench/build.py --sizes 1000000 --serve-only [--state DIR]   # serve alone, cache warm

For each size: a deterministic archive (bench/archive.py; generated once and kept), then
`feedsmith build` as a user runs it (a new process each time): cold (empty output and cache),
no-change rebuild, one post added, one post edited; the peak RSS of the whole process tree and
the feeds written. Then `feedsmith serve` on the same archive: time until it answers, its
memory, the first request for a few feeds, and how soon a post written while it runs is served. Where Hugo is installed (apt-get install hugo),
the same posts are built with Hugo in the same run and every time is also given as a ratio to
Hugo's cold build. Memory is the peak of the whole process tree (parent and worker processes),
summing proportional set sizes so that pages a worker shares with its parent count once.

Each time is the median of --repeat runs (default 3) from the same starting state, for
feedsmith and Hugo alike, and is taken without memory sampling: reading /proc/PID/smaps_rollup
walks a process's memory under its lock, which slows a tree of several processes more than one.
Peak memory comes from one more run of each, sampled every 0.1 s. Every run starts after a
sync, with no other run's files still to be written back. The cold builds of the two
tools alternate (feedsmith, Hugo, feedsmith, Hugo…), so a machine that speeds up or slows down
during the run weighs on both sides of the ratio alike. feedsmith's modules are byte-compiled
first, as pip does when it installs a package.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive import make_archive

ROOT = Path(__file__).resolve().parent.parent
HUGO_CONFIG = """baseURL = "https://finews.withounder.com/"
languageCode = "zh-cn"
title = "金融消息"
timeZone = "Asia/Shanghai"
[taxonomies]
  category = "categories"
  tag = "tags"
[markup.goldmark.renderer]
  unsafe = true
"""


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_rss_kb(pid: int) -> int:
    """Memory of a process and all its descendants (kB): the sum of their proportional set
    sizes, so pages forked workers share with their parent are counted once, not per process."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
        todo.extend(_children(current))
    return total


def run(argv: list[str], cwd: Path | None = None, *, sample: bool = False) -> tuple[float, int]:
    """(seconds, peak tree memory in MB, or 0 unless `sample`) of one command."""
    # Each run starts with nothing left to write back: the files the run before wrote (the
    # other tool's, when runs alternate) are not flushed to disk on this run's time.
    os.sync()
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd
    )
    peak = 0
    stop = threading.Event()

    def sampler() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss_kb(process.pid))
            time.sleep(0.1)

    thread = threading.Thread(target=sampler, daemon=True)
    if sample:
        thread.start()
    out, _ = process.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    if sample:
        thread.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{out}")
    return seconds, peak // 1024


def measure(
    command: Callable[[], list[str]], cwd: Path | None = None, *, repeat: int
) -> tuple[float, int]:
    """(median seconds of `repeat` runs, peak MB of one more run) of the command that
    `command()` prepares and returns, once per run."""
    times = [run(command(), cwd)[0] for _ in range(repeat)]
    return statistics.median(times), run(command(), cwd, sample=True)[1]


def measure_paired(
    commands: list[tuple[Callable[[], list[str]], Path | None]], *, repeat: int
) -> list[tuple[float, int]]:
    """`measure` for several commands whose runs alternate, one of each per round."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for (command, cwd), taken in zip(commands, times, strict=True):
            taken.append(run(command(), cwd)[0])
    return [
        (statistics.median(taken), run(command(), cwd, sample=True)[1])
        for (command, cwd), taken in zip(commands, times, strict=True)
    ]


FORMATS_CONFIG: list[str] = []  # ["-c", FILE] when --formats narrows the formats
FORMATS_NAMES: list[str] = ["Atom", "RSS", "JSON Feed"]


def feedsmith_argv(archive: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "feedsmith",
        "build",
        str(archive),
        "-o",
        str(out),
        "-q",
        *FORMATS_CONFIG,
    ]


def newest_post(archive: Path) -> Path:
    return max((archive / "_posts").iterdir())


def add_post(archive: Path, name: str = "2099-01-01-bench-added.md", title: str = "新增") -> Path:
    """A post like the newest, dated after every other (archives end in 2024) and before now
    (a post dated in the future is held back), with `title` before its own."""
    template = max(p for p in (archive / "_posts").iterdir() if "-bench-" not in p.name).read_text(
        encoding="utf-8"
    )
    added = archive / "_posts" / name
    text = template.replace("date: ", "date: 2025-01-01 08:00:00 +0800\nold_date: ", 1)
    added.write_text(text.replace('title: "', f'title: "{title} ', 1), encoding="utf-8")
    return added


def hugo_site(archive: Path, folder: Path) -> Path:
    posts = folder / "content" / "posts"
    posts.mkdir(parents=True)
    (folder / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for post in (archive / "_posts").iterdir():
        (posts / post.name).symlink_to(post)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seconds_until_visible(archive: Path, port: int, n: int = 0, timeout: float = 600) -> float:
    """A new post written into the archive, then `/feed.xml` polled (every 50 ms) until it
    holds the post's title: how long a reader waits for it. `n` makes each post its own."""
    title = f"实时新增{n}号"
    added = add_post(archive, name=f"2099-01-02-bench-live-{n}.md", title=title)
    try:
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/feed.xml", timeout=30) as feed:
                if title.encode() in feed.read():
                    return time.perf_counter() - started
            time.sleep(0.05)
        return float("inf")
    finally:
        added.unlink(missing_ok=True)


def measure_serve(archive: Path, paths: list[str], state: Path | None = None) -> dict[str, float]:
    """`serve` from the warm cache the builds left (or the state folder `state`, with its
    search index made): seconds until it answers, its memory, the first request of each of
    `paths`, then how soon a post written meanwhile is served."""
    port = free_port()
    started = time.perf_counter()
    chosen = ["--cache-dir", str(state)] if state else []
    process = subprocess.Popen(
        [sys.executable, "-m", "feedsmith", "serve", str(archive), "--port", str(port), *chosen],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None:
                    raise SystemExit("feedsmith serve exited") from None
                time.sleep(0.05)
        figures = {
            "ready_s": time.perf_counter() - started,
            "rss_mb": tree_rss_kb(process.pid) / 1024,
        }
        firsts = []
        for path in paths:
            t = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
                response.read()
            firsts.append(time.perf_counter() - t)
        figures["first_ms_max"] = max(firsts) * 1000
        figures["first_ms_mean"] = sum(firsts) / len(firsts) * 1000
        figures["rss_after_mb"] = tree_rss_kb(process.pid) / 1024
        # Three posts one after another (each removed before the next): the median.
        waits = [seconds_until_visible(archive, port, n) for n in range(3)]
        figures["visible_s"] = statistics.median(waits)
        figures["visible_max_s"] = max(waits)
        return figures
    finally:
        process.terminate()
        process.wait()


class HugoBuild:
    """Hugo's cold build of the same posts, each run into a new folder."""

    def __init__(self, archive: Path, scratch: Path) -> None:
        self.site = hugo_site(archive, scratch / "hugo")
        self.publics = (self.site / f"public-{n}" for n in itertools.count())
        self.public = self.site / "public"

    def __call__(self) -> list[str]:
        self.public = next(self.publics)
        shutil.rmtree(self.site / "resources", ignore_errors=True)  # Hugo's own cache
        return ["hugo", "--quiet", "-s", str(self.site), "-d", str(self.public)]

    def feeds(self) -> int:
        """The RSS feeds the last run wrote."""
        return sum(1 for _ in self.public.rglob("index.xml"))


SERVED_PATHS = [
    "/feed.xml",
    "/feed/cat00.rss",
    "/feed/by_tag/tag-000.xml",
    "/feed/by_tag/标签001.rss",
]


def bench(
    size: int,
    archives: Path,
    *,
    hugo: bool,
    serve: bool,
    repeat: int,
    only_serve: bool = False,
    state: Path | None = None,
) -> None:
    archive = archives / f"posts-{size}"
    if not (archive / "_posts").is_dir():
        print(f"generating {size} posts in {archive} …", flush=True)
        make_archive(archive, posts=size)
    if only_serve:  # on the warm cache an earlier run of this script left
        figures = measure_serve(archive, [urllib.parse.quote(p) for p in SERVED_PATHS], state)
        print(f"  {size} posts, serve:", {k: round(v, 2) for k, v in figures.items()})
        return
    with tempfile.TemporaryDirectory() as scratch:
        # Cold builds go to a new, empty folder each time rather than one emptied just before:
        # the file system then does not charge the build for the files the last run left.
        # The same holds for Hugo below.
        folders = (Path(scratch) / f"out-{n}" for n in itertools.count())
        out = Path(scratch) / "out"
        rows: list[tuple[str, float, int]] = []

        def cold() -> list[str]:
            nonlocal out
            out = next(folders)
            return feedsmith_argv(archive, out)

        def again() -> list[str]:
            return feedsmith_argv(archive, out)

        added = newest_post(archive).with_name("2099-01-01-bench-added.md")

        def one_added() -> list[str]:  # from the archive as generated, built
            added.unlink(missing_ok=True)
            run(again(), ROOT)
            add_post(archive)
            return again()

        def one_edited() -> list[str]:
            run(one_added(), ROOT)
            added.write_text(
                added.read_text(encoding="utf-8").replace("</p>", "</p><p>编辑过的段落。</p>", 1),
                encoding="utf-8",
            )
            return again()

        hugo_build = HugoBuild(archive, Path(scratch)) if hugo and shutil.which("hugo") else None
        if hugo_build is not None:
            (cold_s, cold_mb), (hugo_seconds, hugo_mb) = measure_paired(
                [(cold, ROOT), (hugo_build, None)], repeat=repeat
            )
            hugo_feeds = hugo_build.feeds()
            rows.append(("cold build (empty cache)", cold_s, cold_mb))
        else:
            hugo_seconds = None
            rows.append(("cold build (empty cache)", *measure(cold, ROOT, repeat=repeat)))
        rows.append(("no-change rebuild", *measure(again, ROOT, repeat=repeat)))
        try:
            rows.append(("rebuild, one post added", *measure(one_added, ROOT, repeat=repeat)))
            rows.append(("rebuild, one post edited", *measure(one_edited, ROOT, repeat=repeat)))
        finally:
            added.unlink(missing_ok=True)
        feeds_written = sum(
            1
            for p in out.rglob("*")
            if p.suffix in (".xml", ".rss", ".json") and not p.name.startswith(".")
        )
        formats = " + ".join(FORMATS_NAMES)
        print(f"\n{size} posts ({feeds_written} feed files written: {formats}, full content)")
        print(f"  {'':28} {'seconds':>8} {'peak mem MB':>12} {'x Hugo cold':>12}")
        for name, seconds, mb in rows:
            ratio = f"{seconds / hugo_seconds:12.2f}" if hugo_seconds else f"{'':>12}"
            print(f"  {name:28} {seconds:8.2f} {mb:12d} {ratio}")
        if hugo_seconds is not None:
            print(
                f"  {'Hugo cold build':28} {hugo_seconds:8.2f} {hugo_mb:12d} {1:12.2f}   ({hugo_feeds} RSS feeds, summaries only)"
            )
        if serve:
            figures = measure_serve(archive, [urllib.parse.quote(p) for p in SERVED_PATHS])
            print(
                f"  serve: ready in {figures['ready_s']:.2f} s, {figures['rss_mb']:.0f} MB; first request "
                f"per feed: mean {figures['first_ms_mean']:.0f} ms, max {figures['first_ms_max']:.0f} ms; "
                f"{figures['rss_after_mb']:.0f} MB after; a new post served "
                f"{figures['visible_s']:.2f} s after it was written (median of 3, max "
                f"{figures['visible_max_s']:.2f} s)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--archives", type=Path, default=ROOT / "bench" / "archives")
    parser.add_argument("--no-hugo", action="store_true")
    parser.add_argument("--no-serve", action="store_true")
    parser.add_argument(
        "--serve-only", action="store_true", help="only `serve`, on the cache of an earlier run"
    )
    parser.add_argument(
        "--state", type=Path, help="with --serve-only: the state folder to serve with"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per time, the median is shown")
    parser.add_argument(
        "--formats",
        nargs="+",
        choices=["atom", "rss", "json"],
        help="formats to build (default: all three)",
    )
    args = parser.parse_args()
    if args.formats:
        chosen = Path(tempfile.mkdtemp()) / "formats.toml"
        chosen.write_text(
            "formats = [" + ", ".join(f'"{f}"' for f in args.formats) + "]\n", encoding="utf-8"
        )
        FORMATS_CONFIG[:] = ["-c", str(chosen)]
        names = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
        FORMATS_NAMES[:] = [names[f] for f in args.formats]
    print(
        f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}; {time.strftime('%Y-%m-%d')}"
    )
    # Measured as installed: pip byte-compiles a package when it installs it, but a checkout
    # run with PYTHONDONTWRITEBYTECODE set (common in container images) would compile every module
    # again in every run and charge that to each build.
    for package in ("feeds", "server"):
        compileall.compile_dir(ROOT / package, quiet=1)
    if shutil.which("hugo"):
        print(
            subprocess.run(
                ["hugo", "version"], capture_output=True, text=True, check=False
            ).stdout.strip()
        )
    for size in args.sizes:
        bench(
            size,
            args.archives,
            hugo=not args.no_hugo,
            serve=not args.no_serve,
            repeat=max(1, args.repeat),
            only_serve=args.serve_only,
            state=args.state,
        )


if __name__ == "__main__":
    main()
