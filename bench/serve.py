"""Serving benchmark: feedsmith's feed route against a bare Starlette endpoint, same settings.

    python bench/serve.py [--duration 10] [--connections 32] [--source posts]

Starts two uvicorn processes on 127.0.0.1 with identical settings (one worker, no access log):
feedsmith's app serving SOURCE, and a bare Starlette app whose one route returns bytes of the
same size as the feed (and a bare empty 304). Loads each with wrk (Debian: apt-get install wrk)
for (a) a cached feed answered 200 and (b) a conditional GET answered 304, and prints requests
per second, latency percentiles and the ratio feedsmith / bare. Target: at least 0.80.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE_APP = """
import os
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

BODY = b"x" * int(os.environ["BARE_SIZE"])

async def full(request):
    return Response(BODY, media_type="application/atom+xml")

async def not_modified(request):
    return Response(status_code=304, headers={"etag": '"bare"'})

app = Starlette(routes=[Route("/bare", full), Route("/bare304", not_modified)])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    app: str, port: int, env: dict[str, str], cwd: Path, factory: bool = False
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--no-access-log", "--log-level", "warning", "--workers", "1"]
    if factory:
        argv.append("--factory")
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError as exc:
            if getattr(exc, "code", None) == 404:  # the bare app has no /healthz: it is up
                return process
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{app} did not start on port {port}")


def wrk(url: str, *, duration: int, connections: int, headers: list[str]) -> dict[str, float]:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for header in headers:
        argv += ["-H", header]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", out, re.MULTILINE)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            figures[f"p{pct}_ms"] = (
                value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
            )
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["bad"] = float(errors.group(1)) if errors else 0.0
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=str(ROOT / "posts"))
    parser.add_argument("--path", default="/feed.xml", help="the feed to load (default /feed.xml)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    ours_port, bare_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "bare_app.py").write_text(BARE_APP, encoding="utf-8")
        source = Path(scratch) / "source"  # serve keeps its state in the folder it serves
        shutil.copytree(args.source, source)
        given = {"source": str(source), "reload": False, "access_log": False}
        env = {"FEEDSMITH_SERVE": json.dumps(given)}
        ours = start(
            "feedsmith.server.run:app_from_environment", ours_port, env, ROOT, factory=True
        )
        try:
            url = f"http://127.0.0.1:{ours_port}{args.path}"
            with urllib.request.urlopen(
                url
            ) as response:  # warms the cache: the feed is rendered now
                body, etag = response.read(), response.headers["ETag"]
            bare = start(
                "bare_app:app",
                bare_port,
                {"BARE_SIZE": str(len(body)), "PYTHONPATH": scratch},
                Path(scratch),
            )
            try:
                cases = [
                    ("200 cached feed", url, f"http://127.0.0.1:{bare_port}/bare", []),
                    (
                        "304 conditional",
                        url,
                        f"http://127.0.0.1:{bare_port}/bare304",
                        [f"If-None-Match: {etag}"],
                    ),
                ]
                print(
                    f"feed {args.path}: {len(body)} bytes; wrk -t1 -c{args.connections} -d{args.duration}s; "
                    f"{os.cpu_count()} CPUs; uvicorn 1 worker, no access log\n"
                )
                print(
                    f"{'case':<17} {'server':<10} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
                )
                for name, ours_url, bare_url, headers in cases:
                    results = {}
                    for label, target in (("feedsmith", ours_url), ("bare", bare_url)):
                        figures = wrk(
                            target,
                            duration=args.duration,
                            connections=args.connections,
                            headers=headers,
                        )
                        results[label] = figures
                        print(
                            f"{name:<17} {label:<10} {figures['rps']:>9.0f} {figures.get('p50_ms', 0):>8.2f} "
                            f"{figures.get('p90_ms', 0):>8.2f} {figures.get('p99_ms', 0):>8.2f}"
                            + (f"  ({figures['bad']:.0f} bad)" if figures["bad"] else "")
                        )
                    ratio = results["feedsmith"]["rps"] / results["bare"]["rps"]
                    print(f"{name:<17} ratio feedsmith/bare: {ratio:.2f} (target >= 0.80)\n")
            finally:
                bare.terminate()
                bare.wait()
        finally:
            ours.terminate()
            ours.wait()


if __name__ == "__main__":
    main()
