"""Hostile posts at growing sizes, through the real build: the time of each should double
when its size doubles (linear), not quadruple.

    python bench/hostile.py [--size 20000] [--classes tag-open div-p ...]

Each class is one post repeated `n`, `2n` and `4n` times in a site of one ordinary post,
built by `feedsmith build` in a new process (`--no-cache -j 1`); the time is the median of
three builds minus that of the same site with the post's unit written once. Prints figures
only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# name -> (file name, unit repeated); sizes are in units.
CLASSES: dict[str, tuple[str, str]] = {
    "tag-open": ("a.md", "{% "),
    "output-open": ("a.md", "{{ x {% "),
    "raw-open": ("a.md", "{%raw%}"),
    "highlight-open": ("a.md", "{% highlight py %}x\n"),
    "ial-open": ("a.md", "a {:"),
    "link-open-tab": ("a.md", "[a]( \t"),
    "nested-list": ("a.md", "- "),
    "div-p": ("a.html", "<div><p>"),
    "tables": ("a.html", "<table><tr><td>"),
    "unclosed-a": ("a.html", "<a "),
}


def _build(body: str, name: str) -> float:
    with tempfile.TemporaryDirectory(prefix="feedsmith-hostile-") as folder:
        root = Path(folder)
        (root / "_posts").mkdir()
        (root / "_config.yml").write_text("title: T\nurl: https://bench.example\n")
        (root / "_posts" / "2024-01-01-ok.md").write_text("---\ntitle: OK\n---\nHello.\n")
        (root / "_posts" / f"2023-01-01-{name}").write_text(f"---\ntitle: H\n---\n{body}\n")
        command = [sys.executable, "-m", "feedsmith", "build", str(root), "-o", str(root / "out")]
        start = time.perf_counter()
        subprocess.run(
            [*command, "--no-cache", "--cache-dir", str(root / "cache"), "-j", "1"],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start


def _median(body: str, name: str, repeat: int) -> float:
    return statistics.median(_build(body, name) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20_000, help="n, in units (default 20000)")
    parser.add_argument("--classes", nargs="*", default=list(CLASSES), choices=list(CLASSES))
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    sizes = (options.size, 2 * options.size, 4 * options.size)
    print(f"{'class':<16}" + "".join(f"{f'n={s:,}':>14}" for s in sizes) + "   2n/n  4n/2n")
    for name in options.classes:
        file_name, unit = CLASSES[name]
        base = _median(unit, file_name, options.repeat)
        times = [max(_median(unit * s, file_name, options.repeat) - base, 0.001) for s in sizes]
        print(
            f"{name:<16}"
            + "".join(f"{t:>13.2f}s" for t in times)
            + f"  {times[1] / times[0]:5.1f}  {times[2] / times[1]:5.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
