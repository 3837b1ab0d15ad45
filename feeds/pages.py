"""The HTML pages for people: the list of feeds, and a preview of one feed.

Plain HTML with every value escaped, meant to be sent with `CSP`, a Content-Security-Policy
that allows no script at all; no XSLT (browsers are dropping it). Feed readers never get
these: they are separate URLs, so a cache or CDN can never hand a reader HTML where it asked
for a feed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html import escape

from feedsmith.config import Config
from feedsmith.model import Entry, FeedSpec, Index
from feedsmith.render import feed_group, feed_label, feed_updated, link_tag

INDEX = ""  # the path of the list of feeds: `/`
PREVIEW = "preview/"  # `/preview/feed.xml` shows feed.xml for people
HTML = "text/html; charset=utf-8"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
_STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}table{border-collapse:collapse;width:100%}
td,th{padding:.3rem .5rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
.n{text-align:right;white-space:nowrap}.muted{color:#666;font-size:.9rem}code{word-break:break-all}
article{margin:1.5rem 0;padding-bottom:1rem;border-bottom:1px solid #eee}
.warn{background:#fff4d6;border:1px solid #e0b84c;padding:.6rem .8rem}
"""


def _page(title: str, head: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style>{head}</head>"
        f"<body>{body}</body></html>\n"
    ).encode()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %z") if moment else "—"


def index_page(specs: tuple[FeedSpec, ...], index: Index, config: Config) -> bytes:
    """Every feed with its title, entry count and last update; autodiscovery for each."""
    title = config.title or "Feeds"
    feeds = [spec for spec in specs if not spec.archive]
    head = "".join(link_tag(spec) for spec in feeds)
    groups: dict[str, list[FeedSpec]] = {}
    for spec in feeds:
        groups.setdefault(feed_group(spec), []).append(spec)
    sections = []
    labels = {"site": "Site", "category": "Categories", "tag": "Tags", "collection": "Collections"}
    for kind, members in groups.items():
        rows = []
        by_feed: dict[tuple[str | None], list[FeedSpec]] = {}
        for spec in members:
            by_feed.setdefault((feed_label(spec) or None,), []).append(spec)
        for (name,), formats in by_feed.items():
            first = formats[0]
            links = " · ".join(
                f'<a href="/{escape(s.path)}">{s.format.upper()}</a> (<a href="/{PREVIEW}{escape(s.path)}">preview</a>)'
                for s in formats
            )
            label = escape(name) if name is not None else escape(title)
            held = len(first.posts)
            count = f"{held}" if held == first.total else f"{held} of {first.total}"
            rows.append(
                f"<tr><td>{label}</td><td class=n>{count}</td>"
                f"<td class=n>{escape(_when(feed_updated(first, index)))}</td><td>{links}</td></tr>"
            )
        sections.append(
            f"<h2>{labels[kind]}</h2><table><tr><th>feed</th><th class=n>entries held</th>"
            f"<th class=n>updated</th><th>formats</th></tr>{''.join(rows)}</table>"
        )
    intro = f"<p class=muted>{escape(config.description)}</p>" if config.description else ""
    if config.url_is_fallback:
        intro += (
            f"<p class=warn><strong>Preview only.</strong> No <code>url</code> is configured, so "
            f"these feeds link to <code>{escape(config.url)}</code> and their entry ids are built "
            "on it: once the real url is set, every id changes and every reader shows every "
            "post again. Set <code>url</code> (or pass <code>--url</code>) before anyone "
            "subscribes.</p>"
        )
    body = f"<h1>{escape(title)}</h1>{intro}<p>{len(index.posts)} posts in {len(feeds)} feeds.</p>{''.join(sections)}"
    return _page(title, head, body)


def preview_page(spec: FeedSpec, index: Index, entries: Mapping[int, Entry]) -> bytes:
    """What a feed holds, readable in a browser, with the address to subscribe to."""
    items = []
    for i in spec.posts:
        post, entry = index.posts[i], entries[i]
        names = ", ".join(escape(n) for n in dict.fromkeys([*post.categories, *post.tags]))
        items.append(
            f'<article><h2><a href="{escape(post.url)}">{escape(post.title or entry.title)}</a></h2>'
            f"<p class=muted>{escape(_when(post.date))}{' · ' + names if names else ''}</p>"
            f"<p>{escape(entry.summary)}</p></article>"
        )
    body = (
        f"<h1>{escape(spec.title)}</h1>"
        f"<p>This is a {spec.format.upper()} feed. To subscribe, add this address to your feed reader:</p>"
        f"<p><code>{escape(spec.url)}</code></p>"
        f'<p class=muted><a href="/{escape(spec.path)}">the feed itself</a> · <a href="/">all feeds</a> · '
        f"{len(spec.posts)} of {spec.total} posts shown</p>{''.join(items)}"
    )
    return _page(spec.title, link_tag(spec), body)
