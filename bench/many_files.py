"""A build that writes many files: peak memory and where the time goes.

    python bench/many_files.py [--posts 20000] [--tags 100] [--folder /tmp/many] [--profile]

The site: `--posts` posts, each with a tag of its own (so a feed, in every format, and a page
for people each), and one post with `--tags` tags. `feedsmith build` runs in a new process
(cold: empty output and cache), then again with nothing changed, then `--check`; for each
the seconds and the peak resident memory of its largest process (the parent, which renders
and writes every file; `ru_maxrss` of the children). `--profile` runs the cold build under
cProfile instead and prints the functions that took the most time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PARAGRAPH = (
    "A paragraph long enough to look like a real post, with **some** markup and a "
    "[link](https://example.com/a) in it, repeated to give every feed some weight. "
)


def make_site(folder: Path, posts: int, tags: int) -> Path:
    """The site, written once (kept while the same counts are asked for)."""
    marker = folder / f".made-{posts}-{tags}"
    source = folder / "site"
    if marker.exists():
        return source
    shutil.rmtree(folder, ignore_errors=True)
    (source / "_posts").mkdir(parents=True)
    (source / "_config.yml").write_text("title: Many\nurl: https://many.example\n")
    body = PARAGRAPH * 12
    for n in range(posts):
        day = f"20{10 + n // 3650:02d}-{1 + n // 300 % 12:02d}-{1 + n % 28:02d}"
        (source / "_posts" / f"{day}-post-{n}.md").write_text(
            f"---\ntitle: Post {n}\ntags: [own-{n}]\n---\n{body}\n", encoding="utf-8"
        )
    names = ", ".join(f"many-{n}" for n in range(tags))
    (source / "_posts" / "2009-12-31-many-tags.md").write_text(
        f"---\ntitle: Many tags\ntags: [{names}]\n---\n{body}\n", encoding="utf-8"
    )
    marker.touch()
    return source


# Each build runs under a small parent of its own, which reports the peak of its children:
# ru_maxrss of this process's children would only ever grow from one build to the next.
_MEASURED = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:])\n"
    "print('maxrss', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(done.returncode)\n"
)


def run(label: str, command: list[str], env: dict[str, str]) -> None:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, *command],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"{label}: exit {done.returncode}")
    peak = int(done.stderr.rsplit("maxrss ", 1)[1].split()[0])
    last = [line for line in done.stdout.splitlines() if line.startswith(("feeds:", "check"))]
    print(f"{label:<22} {seconds:7.2f} s  peak {peak / 1024:7,.0f} MB  {last[-1] if last else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--tags", type=int, default=100)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/feedsmith-many-files"))
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    source = make_site(args.folder, args.posts, args.tags)
    out, cache = args.folder / "out", args.folder / "cache"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    base = ["build", str(source), "-o", str(out), "--cache-dir", str(cache)]
    env = dict(os.environ)
    if args.profile:
        stats = args.folder / "build.prof"
        command = [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "feedsmith", *base]
        run("cold build (profiled)", command, env)
        import pstats

        pstats.Stats(str(stats)).sort_stats("cumulative").print_stats(25)
        pstats.Stats(str(stats)).sort_stats("tottime").print_stats(15)
        return
    command = [sys.executable, "-m", "feedsmith", *base]
    run("cold build", command, env)
    run("no-change rebuild", command, env)
    run("--check", [*command, "--check"], env)


if __name__ == "__main__":
    main()
