"""The HTML pages for people: the list of every feed (the subscribe page), and a preview of
each feed.

`build` writes them beside the feeds (`feeds.html`, and `feed.html` beside `feed.xml`), and
`serve` answers the same bytes at the same paths (the list also at `/`): someone who clicks
a feed link on a static site gets a page that says what a feed is and how to subscribe.
Plain HTML with every value escaped; every link relative, so a page works under any host
and base path; no external asset; one small script (the copy buttons), allowed by its hash
in a Content-Security-Policy that allows nothing else. No page depends on XSLT (browsers are
dropping it); the opt-in stylesheet (`stylesheet: builtin`) only adds a readable view of the feed
documents themselves where a browser still runs it.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
from collections.abc import Mapping
from datetime import datetime
from html import escape
from urllib.parse import quote

from feedsmith.config import BUILTIN_STYLESHEET, Config
from feedsmith.model import Entry, FeedSpec, Format, Index
from feedsmith.render import feed_group, feed_label, feed_updated, link_tag
from feedsmith.site import feed_sets, preview_path

INDEX = ""  # `serve` also answers the list of feeds at `/`
HTML = "text/html; charset=utf-8"
FORMAT_NAMES: Mapping[Format, str] = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222;overflow-wrap:anywhere}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}ul.feeds{list-style:none;padding:0}
ul.feeds>li{padding:.6rem 0;border-bottom:1px solid #eee}.name{font-weight:600}
.muted{color:#666;font-size:.9rem}code{word-break:break-all;font-size:.9rem}
.formats{display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin-top:.2rem}
.address{margin:.4rem 0}.address code{background:#f5f5f5;padding:.1rem .3rem}
button{font:inherit;font-size:.8rem;margin-left:.4rem;cursor:pointer}
article{margin:1.5rem 0;padding-bottom:1rem;border-bottom:1px solid #eee}
.warn{background:#fff4d6;border:1px solid #e0b84c;padding:.6rem .8rem}
"""
# Copy buttons: hidden until this runs, so a page without script shows no dead button.
SCRIPT = """
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = button.dataset.copy;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 2000);
  });
}
"""


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


# The policy a page carries in a <meta> (a static host sends no headers of its own); `serve`
# also sends it as a header, with frame-ancestors, which only a header can say.
_POLICY = (
    f"default-src 'none'; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}; "
    "base-uri 'none'; form-action 'none'"
)
CSP = _POLICY + "; frame-ancestors 'none'"
# The list of feeds as `serve` answers it at `/` has a search form, sent to the server itself.
_SEARCH_POLICY = _POLICY.replace("form-action 'none'", "form-action 'self'")
SEARCH_CSP = _SEARCH_POLICY + "; frame-ancestors 'none'"
SEARCH_PATHS: Mapping[Format, str] = {
    "atom": "search.xml",
    "rss": "search.rss",
    "json": "search.json",
}


def _href(page: str, target: str) -> str:
    """`target` (a path in the output folder) as a link from the page at `page`."""
    return escape(quote(relative(target, page)))


def relative(target: str, page: str) -> str:
    """posixpath.relpath(target, dirname(page)) for two plain paths inside the output
    folder, without its two getcwd calls (a page beside each of 20,000 feeds makes
    160,000 links)."""
    here = page.split("/")[:-1]
    there = target.split("/")
    common = 0
    while common < min(len(here), len(there) - 1) and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:])


def _page(title: str, lang: str | None, head: str, body: str, *, policy: str = _POLICY) -> bytes:
    language = f' lang="{escape(lang)}"' if lang else ""
    return (
        f'<!DOCTYPE html>\n<html{language}><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        f"<title>{escape(title)}</title><style>{STYLE}</style>{head}</head>"
        f"<body>{body}<script>{SCRIPT}</script></body></html>\n"
    ).encode()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %z") if moment else "—"


def _copy(url: str) -> str:
    return f'<button type="button" data-copy="{escape(url)}" hidden>Copy</button>'


def _held(spec: FeedSpec) -> str:
    held = len(spec.posts)
    noun = "entry" if held == 1 else "entries"
    return f"{held} {noun}" if held == spec.total else f"the newest {held} {noun} of {spec.total}"


def _search_form(path: str, config: Config) -> str:
    """A plain GET form to `/search.xml` (one button per format): what it leads to is the
    address of a feed of the posts that match, to subscribe to. No script."""
    formats = [fmt for fmt in config.formats if fmt in SEARCH_PATHS]
    buttons = "".join(
        f'<button type=submit formaction="{_href(path, SEARCH_PATHS[fmt])}">'
        f"{FORMAT_NAMES[fmt]}</button>"
        for fmt in formats
    )
    return (
        f'<form method=get action="{_href(path, SEARCH_PATHS[formats[0]])}" role=search>'
        "<h2><label for=q>Search every post</label></h2>"
        '<input id=q type=search name=q required maxlength=200 placeholder="商汤, 600848, '
        '&quot;interest rate&quot;"> '
        f"{buttons}</form>"
        "<p class=muted>Each button leads to a feed of the posts that match, newest first: "
        "subscribe to its address to get every new one. Feeds take the same questions: "
        "<code>?q=</code>, <code>category=</code>, <code>tag=</code>, <code>author=</code>, "
        "<code>not_tag=</code>, <code>not_category=</code>, <code>since=2022-03-14</code>, "
        "<code>limit=5</code>, <code>any=1</code>.</p>"
    )


def index_page(
    specs: tuple[FeedSpec, ...], index: Index, config: Config, path: str, *, search: bool = False
) -> bytes:
    """Every feed with what it holds, its last update, its addresses and its preview page;
    the site's own feeds for autodiscovery (a big blog has a thousand others). `search`: with
    a search box, for `serve`, which alone can answer it (the page's policy then lets the
    form be sent to the page's own server)."""
    title = config.site_title or "Feeds"
    sets = feed_sets(specs)
    head = "".join(link_tag(s) for s in specs if s.kind == "site" and not s.archive)
    groups: dict[str, list[tuple[FeedSpec, ...]]] = {}
    for formats in sets:
        groups.setdefault(feed_group(formats[0]), []).append(formats)
    labels = {
        "site": "Site",
        "category": "Categories",
        "tag": "Tags",
        "author": "Authors",
        "collection": "Collections",
    }
    sections = []
    for kind, members in groups.items():
        items = []
        for formats in members:
            first = formats[0]
            name = feed_label(first) or title
            links = "".join(
                f'<span><a href="{_href(path, s.path)}">{FORMAT_NAMES[s.format]}</a>'
                f"{_copy(s.url)}</span>"
                for s in formats
            )
            items.append(
                f'<li><a class=name href="{_href(path, preview_path(first))}">{escape(name)}</a>'
                f" <span class=muted>{_held(first)} · updated "
                f"{escape(_when(feed_updated(first, index)))}</span>"
                f"<div class=formats>{links}</div></li>"
            )
        sections.append(f"<h2>{labels[kind]}</h2><ul class=feeds>{''.join(items)}</ul>")
    intro = f"<p class=muted>{escape(config.description)}</p>" if config.description else ""
    if config.url_is_fallback:
        intro += (
            f"<p class=warn><strong>Preview only.</strong> No <code>url</code> is configured, so "
            f"these feeds link to <code>{escape(config.url)}</code> and their entry ids are built "
            "on it: once the real url is set, every id changes and every reader shows every "
            "post again. Set <code>url</code> (or pass <code>--url</code>) before anyone "
            "subscribes.</p>"
        )
    intro += (
        "<p>A feed brings every new post to a feed reader (NetNewsWire, Feedly, Inoreader, "
        "Miniflux, Thunderbird…) as soon as it is published. To subscribe, copy a feed's "
        "address into your reader.</p>"
    )
    if config.opml:
        intro += (
            f'<p>To subscribe to all of them at once, import <a href="{_href(path, config.opml)}">'
            f"{escape(posixpath.basename(config.opml))}</a> into your reader.</p>"
        )
    shown = f"<p class=muted>{len(index.posts)} posts in {len(sets)} feeds.</p>"
    form = _search_form(path, config) if search else ""
    body = f"<h1>{escape(title)}</h1>{intro}{form}{shown}{''.join(sections)}"
    return _page(title, config.lang, head, body, policy=_SEARCH_POLICY if search else _POLICY)


def preview_page(
    formats: tuple[FeedSpec, ...],
    index: Index,
    entries: Mapping[int, Entry],
    config: Config,
    listing: str | None,
) -> bytes:
    """What a feed holds, readable in a browser, with the addresses to subscribe to."""
    first = formats[0]
    path = preview_path(first)
    items = []
    for i in first.posts:
        post, entry = index.posts[i], entries[i]
        names = ", ".join(escape(n) for n in dict.fromkeys([*post.categories, *post.tags]))
        items.append(
            f'<article><h2><a href="{escape(post.url)}">{escape(post.title or entry.title)}</a></h2>'
            f"<p class=muted>{escape(_when(post.date))}{' · ' + names if names else ''}</p>"
            f"<p>{escape(entry.summary)}</p></article>"
        )
    addresses = "".join(
        f'<p class=address>{FORMAT_NAMES[s.format]}: <a href="{_href(path, s.path)}">'
        f"<code>{escape(s.url)}</code></a>{_copy(s.url)}</p>"
        for s in formats
    )
    back = f' · <a href="{_href(path, listing)}">all feeds</a>' if listing else ""
    body = (
        f"<h1>{escape(first.title)}</h1>"
        "<p>This is a feed: a feed reader shows each new post of it as soon as it is "
        "published. To subscribe, add one of these addresses to your reader (any of them "
        "gives the same posts):</p>"
        f"{addresses}"
        f"<p class=muted>{_held(first)}, newest first{back}</p>{''.join(items)}"
    )
    return _page(first.title, config.lang, "".join(link_tag(s) for s in formats), body)


STYLESHEET = BUILTIN_STYLESHEET  # where `stylesheet: builtin` writes it, in the output folder
STYLESHEET_TYPE = "text/xsl; charset=utf-8"
# The XSLT 1.0 (what browsers run) that shows an Atom or an RSS feed as a page: title, what a
# feed is, its address, every entry with its date and summary. Values are only ever copied
# with value-of (escaped: no disable-output-escaping), links only when they are http(s).
_XSL = """<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
<xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>
<xsl:template name="page">
  <xsl:param name="title"/><xsl:param name="subtitle"/><xsl:param name="lang"/>
  <xsl:param name="self"/><xsl:param name="home"/>
  <html>
    <xsl:if test="$lang"><xsl:attribute name="lang"><xsl:value-of select="$lang"/></xsl:attribute></xsl:if>
    <head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>
      <title><xsl:value-of select="$title"/></title><style>STYLE</style></head>
    <body>
      <h1><xsl:value-of select="$title"/></h1>
      <xsl:if test="$subtitle"><p class="muted"><xsl:value-of select="$subtitle"/></p></xsl:if>
      <p>This is a feed: a feed reader shows each new post of it as soon as it is published.
        To subscribe, add its address to your reader:</p>
      <p class="address"><code><xsl:value-of select="$self"/></code></p>
      <xsl:if test="starts-with($home, 'https://') or starts-with($home, 'http://')">
        <p class="muted"><a href="{$home}">The site</a></p>
      </xsl:if>
      <xsl:apply-templates select="atom:entry | item"/>
    </body>
  </html>
</xsl:template>
<xsl:template name="entry">
  <xsl:param name="title"/><xsl:param name="link"/><xsl:param name="date"/><xsl:param name="summary"/>
  <article>
    <h2><xsl:choose>
      <xsl:when test="starts-with($link, 'https://') or starts-with($link, 'http://')">
        <a href="{$link}"><xsl:value-of select="$title"/></a></xsl:when>
      <xsl:otherwise><xsl:value-of select="$title"/></xsl:otherwise>
    </xsl:choose></h2>
    <p class="muted"><xsl:value-of select="$date"/></p>
    <xsl:if test="$summary"><p><xsl:value-of select="$summary"/></p></xsl:if>
  </article>
</xsl:template>
<xsl:template match="/atom:feed">
  <xsl:call-template name="page">
    <xsl:with-param name="title" select="atom:title"/>
    <xsl:with-param name="subtitle" select="atom:subtitle"/>
    <xsl:with-param name="lang" select="@xml:lang"/>
    <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
    <xsl:with-param name="home" select="atom:link[(@rel='alternate' or not(@rel)) and (not(@type) or @type='text/html')]/@href"/>
  </xsl:call-template>
</xsl:template>
<xsl:template match="/rss">
  <xsl:for-each select="channel">
    <xsl:call-template name="page">
      <xsl:with-param name="title" select="title"/>
      <xsl:with-param name="subtitle" select="description"/>
      <xsl:with-param name="lang" select="language"/>
      <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
      <xsl:with-param name="home" select="link"/>
    </xsl:call-template>
  </xsl:for-each>
</xsl:template>
<xsl:template match="atom:entry">
  <xsl:call-template name="entry">
    <xsl:with-param name="title" select="atom:title"/>
    <xsl:with-param name="link" select="atom:link[(@rel='alternate' or not(@rel)) and (not(@type) or @type='text/html')]/@href"/>
    <xsl:with-param name="date" select="translate(substring(atom:published | atom:updated[not(../atom:published)], 1, 16), 'T', ' ')"/>
    <xsl:with-param name="summary" select="atom:summary"/>
  </xsl:call-template>
</xsl:template>
<xsl:template match="item">
  <xsl:call-template name="entry">
    <xsl:with-param name="title" select="title"/>
    <xsl:with-param name="link" select="link"/>
    <xsl:with-param name="date" select="pubDate"/>
    <xsl:with-param name="summary" select="description"/>
  </xsl:call-template>
</xsl:template>
</xsl:stylesheet>
"""


def stylesheet() -> bytes:
    """The built-in XSLT, styled as the pages are."""
    return _XSL.replace("STYLE", escape(STYLE.strip(), quote=False)).encode()
