"""Query benchmark: search and filter queries against the real `feedsmith serve` process.

    python bench/query.py [--posts 10000] [--connections 16] [--requests 2000] [--source DIR]
                          [--state DIR]

Makes a synthetic archive of `--posts` posts (bench/archive.py; or serves `--source`), builds
its search index once in this process (time and size printed), starts `feedsmith serve` on
127.0.0.1 on the same state folder (one worker, no reload, no access log), waits until it
has checked that index (it serves feeds meanwhile), then loads it from `--connections`
concurrent keep-alive connections:

- search: `/search.xml?q=…`, each request a different term (Chinese bigrams and trigrams,
  English words), so nearly every one is searched and rendered, not taken from the cache;
- filter: `/feed.xml?category=…&tag=…&limit=…`, each a different combination;
- cached: one search query asked again and again (the answer kept in memory).

Prints requests per second, p50/p90/p99 latency and the statuses seen (a 503 is a query
that ran out of `serve_query_time`). `--posts 1000000` works too; it takes a while to make.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from archive import _HANZI, _WORDS, make_archive


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


LOOKUPS = 100  # targets of each case looked up in the index alone, one after another


def index_figures(
    source: Path, folder: Path, cases: dict[str, list[str]]
) -> tuple[float, float, int, int, dict[str, list[float]]]:
    """(seconds to read the site, seconds to build its index, bytes on disk, posts, and the
    seconds each target's lookup takes in the index alone, by case). `folder`: the state
    folder; an index and build cache already there are brought up to date, not made anew."""
    from feedsmith import SearchIndex, known_states, load_config, read_site, scope_of
    from feedsmith.search import SearchTimeout
    from feedsmith.server.query import parse

    started = time.perf_counter()
    config = load_config(source, overrides={"cache_dir": str(folder)})
    site = read_site(config, known=known_states(config))
    read = time.perf_counter() - started
    index = SearchIndex(folder)
    done = index.update(site)
    size = index.size()
    lookups: dict[str, list[float]] = {}
    for case, targets in cases.items():
        for target in targets[:LOOKUPS]:
            path, _, query = target.partition("?")
            base = site.routes.get(path.lstrip("/"))
            asked = parse(query.encode("ascii"), config)
            started = time.perf_counter()
            with contextlib.suppress(SearchTimeout):  # counted at its budget: the server's 503
                index.search(scope_of(base), asked.query, budget=config.serve_query_time)
            lookups.setdefault(case, []).append(time.perf_counter() - started)
    index.close()
    return read, done.seconds, size, len(site.index.posts), lookups


async def _one(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str
) -> tuple[int, float]:
    started = time.perf_counter()
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode("ascii"))
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status, time.perf_counter() - started


async def load(
    port: int, targets: list[str], connections: int
) -> tuple[list[float], Counter[int], float]:
    """Ask every target once, over `connections` keep-alive connections at once."""
    queue = iter(targets)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for target in queue:
                status, seconds = await _one(reader, writer, target)
                statuses[status] += 1
                latencies.append(seconds)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, statuses, time.perf_counter() - started


def search_targets(rng: random.Random, count: int) -> list[str]:
    terms: set[str] = set()
    while len(terms) < count:
        kind = rng.random()
        if kind < 0.4:
            terms.add(rng.choice(_HANZI) + rng.choice(_HANZI))  # two characters: scanned
        elif kind < 0.8:
            terms.add("".join(rng.choice(_HANZI) for _ in range(3)))  # trigram index
        else:
            terms.add(f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {len(terms)}"[:30])
    return [f"/search.xml?q={quote(t)}" for t in sorted(terms)]


def filter_targets(rng: random.Random, count: int) -> list[str]:
    found: set[str] = set()
    for n in itertools.count():
        if len(found) >= count:
            break
        category = f"cat{rng.randint(0, 9):02d}"
        i = rng.randint(0, 39)  # archive.py's tags: tag-000, 标签001, tag-002, …
        tag = ("标签" if i % 2 else "tag-") + f"{i:03d}"
        limit = rng.randint(1, 50)
        found.add(
            f"/feed.xml?category={category}&not_tag={quote(tag)}&limit={limit}"
            if n % 3 == 0
            else f"/feed.xml?category={category}&tag={quote(tag)}&any=1&limit={limit}"
        )
    return sorted(found)


def report(case: str, latencies: list[float], statuses: Counter[int], seconds: float) -> None:
    ordered = sorted(latencies)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    shown = " ".join(f"{code}:{n}" for code, n in sorted(statuses.items()))
    print(
        f"{case:<8} {len(ordered):>6} {len(ordered) / seconds:>8.0f} {at(0.5):>8.1f} "
        f"{at(0.9):>8.1f} {at(0.99):>8.1f} {statistics.fmean(ordered) * 1000:>8.1f}   {shown}"
    )


def wait_until_ready(server: subprocess.Popen[bytes], port: int, started: float) -> float:
    """Seconds until the server answered /healthz; returns once its search index is ready."""
    serving: float | None = None
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                state = json.loads(answer.read())
            serving = serving or time.perf_counter() - started
            if state["search"] == "ready":
                break
        except OSError:
            if server.poll() is not None:
                raise SystemExit("the server did not start") from None
        time.sleep(0.2)
    return serving or 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="per case")
    parser.add_argument("--source", type=Path, help="serve this site instead of a new archive")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--state",
        type=Path,
        help="state folder to use and keep (its build cache and search index are reused: "
        "an index of 1,000,000 posts takes about 20 minutes to make)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="feedsmith-query-bench-"))
    try:
        source = args.source
        if source is None:
            source = work / "site"
            started = time.perf_counter()
            make_archive(source, posts=args.posts)
            print(f"archive: {args.posts} posts made in {time.perf_counter() - started:.1f} s")
        rng = random.Random(args.seed)
        cases = {
            "search": search_targets(rng, args.requests),
            "filter": filter_targets(rng, args.requests),
            "cached": [search_targets(rng, 1)[0]] * args.requests,
        }
        state = args.state or work / "state"
        read, built, size, posts, lookups = index_figures(source, state, cases)
        print(
            f"index: {posts} posts; site read in {read:.1f} s, index built in {built:.1f} s "
            f"({posts / max(built, 1e-9):.0f} posts/s), {size / 2**20:.1f} MiB on disk"
        )
        for case in ("search", "filter"):
            ordered = sorted(lookups[case])
            p50 = ordered[len(ordered) // 2] * 1000
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
            print(
                f"index alone, {case}: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
                f"({len(ordered)} lookups, one thread)"
            )
        port = free_port()
        argv = [sys.executable, "-m", "feedsmith", "serve", str(source), "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--no-reload", "--no-access-log", "--cache-dir", str(state)]
        started = time.perf_counter()
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            serving = wait_until_ready(server, port, started)
            print(
                f"server: serving feeds in {serving:.1f} s, its own search index ready in "
                f"{time.perf_counter() - started:.1f} s"
            )
            print(
                f"\n{args.connections} connections, {os.cpu_count()} CPUs, 1 worker\n"
                f"{'case':<8} {'reqs':>6} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} "
                f"{'p99 ms':>8} {'mean ms':>8}   statuses"
            )
            for case, targets in cases.items():
                report(case, *asyncio.run(load(port, targets, args.connections)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
