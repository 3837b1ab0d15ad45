"""The `feedsmith` command: parse options, build a Config, call one library function, report.

Exit codes (the README's table, which tests/test_exit_codes.py holds to them): 0 success
(warnings allowed), 1 problems under `--strict`, a failed `--check`, a failed build or a server
that cannot listen, 2 usage, configuration errors or a source without posts, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import yaml
from feedsmith.config import DEFAULT_OUTPUT, DEFAULT_SOURCE, Config, load_config
from feedsmith.errors import (
    ConfigError,
    EmptySourceError,
    FeedsError,
    message,
    os_reason,
    printable,
)
from feedsmith.model import BuildReport, quiet
from feedsmith.outputs import links_data
from feedsmith.pipeline import build, known_states
from feedsmith.progress import Shown, shown
from feedsmith.render import render_links
from feedsmith.site import never_posts, read_site
from feedsmith.version import __version__

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        help=f"a Jekyll site root or a folder of posts (default: the folder you are in, if it is a Jekyll site root; else {DEFAULT_SOURCE}/)",
    )


def _add_config(
    parser: argparse.ArgumentParser, text: str = "a feedsmith.toml or _config.yml"
) -> None:
    parser.add_argument("-c", "--config", type=Path, metavar="CONFIG", help=text)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where feedsmith keeps its state (the `cache_dir` setting; default SOURCE/.feedsmith-cache)",
    )


def _add_serve_limits(parser: argparse.ArgumentParser) -> None:
    """What `serve` holds out with against clients that would exhaust it."""
    parser.add_argument(
        "--limit-concurrency",
        type=int,
        metavar="N",
        help="answer 503 beyond N simultaneous connections (per worker; default: no limit)",
    )
    parser.add_argument(
        "--cache-memory",
        metavar="SIZE",
        help="most memory rendered files are kept in, e.g. 256MB or 1GiB (per worker; the `serve_cache_memory` setting; default 256MiB)",
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        metavar="SECONDS",
        help="close a connection whose request headers are not in after this long (the `serve_header_timeout` setting; default 10)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedsmith", description="Atom and RSS feeds for a Jekyll site or a folder of posts."
    )
    parser.add_argument("--version", action="version", version=f"feedsmith {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = commands.add_parser(
        "build",
        help="write every feed as files",
        description="Write the site feed and one feed per category and tag, in every format, into OUT.",
    )
    _add_source(b)
    b.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT",
        help=f"where feeds are written (default: the `output` setting, else {DEFAULT_OUTPUT}/)",
    )
    _add_config(
        b, "a feedsmith.toml or _config.yml (default: SOURCE/_config.yml and SOURCE/feedsmith.toml)"
    )
    b.add_argument("--url", help="the site's public URL, overriding the configuration")
    b.add_argument(
        "--future", action="store_true", default=None, help="publish posts dated in the future"
    )
    b.add_argument("--drafts", action="store_true", default=None, help="publish drafts")
    b.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any post is skipped or any warning is given (notices do not count)",
    )
    b.add_argument(
        "--allow-empty",
        action="store_true",
        help="write feeds without entries when SOURCE holds no posts (otherwise that is an error, exit 2)",
    )
    b.add_argument(
        "--ping", action="store_true", help="tell the configured WebSub hubs which feeds changed"
    )
    b.add_argument(
        "--links-include",
        type=Path,
        metavar="FILE",
        help="also write the feeds' <link rel=alternate> tags as a Jekyll include (e.g. SITE/_includes/feedsmith-links.html)",
    )
    b.add_argument(
        "--no-cache",
        action="store_true",
        help="build from scratch without reading or writing the cache",
    )
    b.add_argument(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="processes for large builds (default: one per core)",
    )
    b.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if OUT is not what a build would write",
    )
    b.add_argument(
        "--jekyll-content",
        type=Path,
        metavar="FILE",
        help="entries take Jekyll's own rendering of each post from FILE (the Jekyll plugin of `feedsmith init` writes it)",
    )
    volume = b.add_mutually_exclusive_group()
    volume.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    volume.add_argument(
        "-v", "--verbose", action="store_true", help="also list every file written or removed"
    )

    s = commands.add_parser(
        "serve",
        help="serve every feed live over HTTP",
        description="Serve the files `build` writes, live from the posts, with conditional GET and compression.",
    )
    _add_source(s)
    _add_config(s)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    s.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes (default: 1)"
    )
    s.add_argument(
        "--reload",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="watch the source and update feeds when posts change (default: on)",
    )
    s.add_argument(
        "--url", help="the site's public URL (default: configured url, else http://HOST:PORT)"
    )
    s.add_argument(
        "--future", action="store_true", default=None, help="publish posts dated in the future"
    )
    s.add_argument("--drafts", action="store_true", default=None, help="publish drafts")
    _add_serve_limits(s)
    s.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="access log and messages as text lines or as JSON objects (default: text)",
    )
    s.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one line per request on standard output (default: on)",
    )
    s.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        metavar="IPS",
        help="proxies whose X-Forwarded-For gives the client address: comma-separated addresses or networks, or * (default: 127.0.0.1)",
    )
    for name, text in (
        ("links", "print the <link rel=alternate> autodiscovery tags of every feed"),
        ("ids", "print every post's entry id by file, for the `ids` setting (before a site moves)"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        _add_source(sub)
        _add_config(sub)
        sub.add_argument("--url", help="the site's public URL, overriding the configuration")
        sub.set_defaults(future=None, drafts=None)
        if name == "links":
            sub.add_argument(
                "--json",
                action="store_true",
                help="as JSON: the tags of the site, of each category and each tag, and the files a build into OUT writes (what the Jekyll plugin reads)",
            )
            sub.add_argument("-o", "--output", type=Path, metavar="OUT", help="the output folder")
    i = commands.add_parser(
        "init",
        help="set a Jekyll site up so that `jekyll build` gives feedsmith's feeds",
        description="Set a Jekyll site up for feedsmith: a Jekyll plugin where the site's builder runs plugins, committed feeds in safe mode (GitHub Pages). Says every file it writes.",
    )
    i.add_argument("site", nargs="?", type=Path, default=Path(), help="the site root (default: .)")
    how = i.add_mutually_exclusive_group()
    how.add_argument(
        "--plugin",
        action="store_const",
        const="plugin",
        dest="mode",
        help="the Jekyll plugin, whatever the site says",
    )
    how.add_argument(
        "--safe",
        action="store_const",
        const="safe",
        dest="mode",
        help="committed feeds, whatever the site says",
    )
    i.add_argument(
        "--dry-run", action="store_true", help="say what would be written; write nothing"
    )
    s.add_argument(
        "--get",
        metavar="PATH",
        help="answer one GET for PATH (to standard output, headers to standard error) and exit; no port is opened",
    )
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {key: True for key in ("future", "drafts") if getattr(args, key)}
    if args.url:
        overrides["url"] = args.url
    if getattr(args, "cache_dir", None) is not None:
        overrides["cache_dir"] = str(args.cache_dir)
    for option, key in (
        ("cache_memory", "serve_cache_memory"),
        ("header_timeout", "serve_header_timeout"),
    ):
        if getattr(args, option, None) is not None:
            overrides[key] = getattr(args, option)
    return overrides


def _count(n: int, thing: str) -> str:
    """`1 warning`, `2 warnings`: a count as a sentence says it."""
    return f"{n} {thing if n == 1 else thing + 's'}"


def _held_back(report: BuildReport) -> str:
    if not report.held_back:
        return ""
    parts = ", ".join(f"{reason} {n}" for reason, n in sorted(report.held_back.items()))
    return f", {sum(report.held_back.values())} held back ({parts})"


def _report(
    report: BuildReport, args: argparse.Namespace, output: Path, out: TextIO, err: TextIO
) -> None:
    for problem in report.errors:
        err.write(message(problem.where, problem.reason, "skipped") + "\n")
    if not args.quiet:
        for problem in report.warnings:
            err.write(message(problem.where, problem.reason, "warning") + "\n")
        for problem in report.notices:
            err.write(message(problem.where, problem.reason, "notice") + "\n")
    if args.verbose:
        for rel in report.written:
            out.write(f"  wrote   {printable(rel)}\n")
        for rel in report.removed:
            out.write(f"  removed {printable(rel)}\n")
    if args.quiet:
        return
    out.write(
        f"posts: {report.posts_read} read, {report.posts_published} published{_held_back(report)}, "
        f"{len(report.errors)} skipped, {_count(len(report.warnings), 'warning')}"
        + (f", {_count(len(report.notices), 'notice')}" if report.notices else "")
        + "\n"
    )
    if args.check:
        count = len(report.check_failed)
        state = (
            f"{printable(str(output))}/ is up to date"
            if not count
            else f"{count} {'file' if count == 1 else 'files'} in {printable(str(output))}/ "
            f"{'is' if count == 1 else 'are'} not what a build would write"
        )
        out.write(f"check: {state} ({report.seconds:.2f} s)\n")
    else:
        out.write(
            f"feeds: {len(report.written)} written, {len(report.unchanged)} unchanged, "
            f"{len(report.removed)} removed in {printable(str(output))}/ ({report.seconds:.2f} s)\n"
        )


def _waiting(screen: Shown, output: Path) -> Callable[[int | None], None]:
    def say(pid: int | None) -> None:
        holder = f" (pid {pid})" if pid is not None else ""
        screen.say(f"waiting for another build of {printable(str(output))}/ to finish{holder}…")

    return say


def _build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = load_config(
        args.source, config_file=args.config, output=args.output, overrides=_overrides(args)
    )
    if args.jekyll_content is not None:
        config = replace(config, jekyll_content=args.jekyll_content)
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError("--jobs", "must be at least 1")
    display: contextlib.AbstractContextManager[Shown | None] = (
        contextlib.nullcontext() if args.quiet else shown(err)
    )
    with display as screen:
        report = build(
            config,
            check=args.check,
            progress=screen.progress if screen is not None else quiet,
            jobs=args.jobs,
            use_cache=not args.no_cache,
            links_include=args.links_include,
            allow_empty=args.allow_empty,
            waiting=_waiting(screen, config.output) if screen is not None else None,
        )
    _report(report, args, config.output, out, err)
    if args.links_include is not None and not args.check and not args.quiet:
        out.write(f"links: {printable(str(args.links_include))} is up to date\n")
    if args.ping and not args.check:
        _ping(config.hub, report.changed, out, err, quiet=args.quiet)
    if args.check and report.check_failed:
        for difference in report.check_failed:
            err.write(f"{difference}\n")
        return EXIT_PROBLEMS
    if args.strict and (report.errors or report.warnings):
        return EXIT_PROBLEMS
    return EXIT_OK


def _ping(
    hubs: tuple[str, ...], urls: tuple[str, ...], out: TextIO, err: TextIO, *, quiet: bool
) -> None:
    """WebSub publish for the changed feeds; a hub that cannot be reached is only reported."""
    if not hubs:
        err.write("feedsmith: --ping: no hub configured (set `hub`)\n")
        return
    from feedsmith.websub import publish  # noqa: PLC0415 - the HTTP client loads only for --ping

    failures = publish(hubs, urls)
    for problem in failures:
        err.write(message(problem.where, problem.reason, "warning") + "\n")
    if not quiet:
        out.write(
            f"ping: {_count(len(urls), 'changed feed')} sent to {_count(len(hubs), 'hub')}, "
            f"{len(failures)} failed\n"
        )


def _links(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = load_config(
        args.source, config_file=args.config, output=args.output, overrides=_overrides(args)
    )
    site = read_site(config, known=known_states(config), skip=never_posts(config, ()))
    if not args.json:
        out.write(render_links(site.specs))
        return EXIT_OK
    out.write(json.dumps(links_data(site), ensure_ascii=False) + "\n")
    return EXIT_OK


def _init(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from feedsmith.jekyll import init  # noqa: PLC0415 - only for `init`

    def first_build(site: Path) -> str:
        report = build(load_config(site), allow_empty=True)  # a new site may have no posts yet
        return f"built the feeds into the site: {len(report.written)} written, {len(report.unchanged)} unchanged"

    for step in init(args.site, mode=args.mode, dry_run=args.dry_run, build=first_build):
        out.write(f"{step}\n")
    return EXIT_OK


def _ids(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = load_config(args.source, config_file=args.config, overrides=_overrides(args))
    site = read_site(config)
    ids = {post.rel: post.id for post in sorted(site.index.posts, key=lambda p: p.rel)}
    out.write("# Entry ids by post file, for the `ids` setting: keeps them when the site moves.\n")
    out.write(yaml.safe_dump(ids, allow_unicode=True, sort_keys=False, width=1000))
    return EXIT_OK


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # Validate before starting workers: a bad configuration must exit 2 with a message here.
    overrides = _overrides(args)
    own = f"http://{args.host}:{args.port}"
    config = load_config(
        args.source, config_file=args.config, overrides=overrides, fallback_url=own
    )
    if args.workers < 1:
        raise ConfigError("--workers", "must be at least 1")
    if config.url_is_fallback and not _is_loopback(args.host):
        raise ConfigError(
            "url",
            f"not set: serving on {args.host} would publish entry ids built on {own}, which "
            "change when the real url is set. Set url in the configuration or pass --url "
            "(or serve on 127.0.0.1 for a local preview)",
        )
    if args.get is not None:
        return _get_once(config, args.get, out, err)
    from feedsmith.server.run import ServeOptions, run  # noqa: PLC0415 - loaded only to serve

    if config.url_is_fallback:
        err.write(
            f"feedsmith: warning: no url is configured; serving a local preview on {own}: entry "
            "ids built on it change once the real url is set (set url, or pass --url)\n"
        )
    run(
        config,
        ServeOptions(
            source=args.source,
            config_file=args.config,
            overrides=overrides,
            fallback_url=own,
            host=args.host,
            port=args.port,
            workers=args.workers,
            reload=args.reload,
            limit_concurrency=args.limit_concurrency,
            access_log=args.access_log,
            log_format=args.log_format,
            forwarded_allow_ips=args.forwarded_allow_ips,
        ),
    )
    return EXIT_OK


def _get_once(config: Config, target: str, out: TextIO, err: TextIO) -> int:
    """`serve --get PATH`: one in-process request through the real app, no port opened."""
    from feedsmith.server.app import create_app  # noqa: PLC0415 - see _serve
    from feedsmith.server.asgi import request_once  # noqa: PLC0415
    from feedsmith.server.store import FeedStore  # noqa: PLC0415

    store = FeedStore(config)
    try:
        if "?" in target:  # a query, answered once the search index is made (not 503)
            store.wait_for_search()
        status, headers, body = request_once(create_app(config, store=store), "GET", target)
    finally:
        store.close()
    err.write(f"HTTP {status}\n")
    for name, value in headers:
        err.write(f"{name}: {value}\n")
    out.write(body.decode("utf-8", "replace"))
    return EXIT_OK if status < 400 else EXIT_PROBLEMS


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 for --help
        return int(exc.code or 0)
    try:
        command = {"serve": _serve, "links": _links, "ids": _ids, "init": _init}.get(
            args.command, _build
        )
        return command(args, out, err)
    except (ConfigError, EmptySourceError) as exc:  # nothing started: asked for the wrong thing
        kind = "configuration error: " if isinstance(exc, ConfigError) else ""
        err.write(f"feedsmith: {kind}{exc}\n")
        return EXIT_USAGE
    except FeedsError as exc:
        err.write(f"feedsmith: {exc}\n")
        return EXIT_PROBLEMS
    except OSError as exc:  # what no stage foresaw: still one line, never a traceback
        where = f"{printable(str(exc.filename))}: " if exc.filename else ""
        err.write(f"feedsmith: {where}{printable(os_reason(exc))}\n")
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        err.write("feedsmith: interrupted; the output folder keeps the last complete build\n")
        return 130
