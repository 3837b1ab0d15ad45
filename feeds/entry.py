"""Post -> Entry: the body read again, Liquid run, Markdown rendered, HTML cleaned, summarised.

Only posts that some feed shows get here, so the cost follows the feeds, not the archive.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from feedsmith.clean import clean_html, summarize
from feedsmith.config import Config
from feedsmith.errors import PostError
from feedsmith.markup import LINK_TAGS, Includes, render_liquid, to_html
from feedsmith.model import Entry, Globals, Post, Problem
from feedsmith.parse import read_source
from feedsmith.site import jekyll_content
from feedsmith.text import plain_text, truncate

TITLE_LENGTH = 60


def _page_vars(post: Post, front: dict[str, Any]) -> dict[str, Any]:
    """What `{{ page.* }}` means inside a post: its front matter plus what Jekyll adds."""
    return {
        **front,
        "title": post.title,
        "date": post.date,
        "url": post.url,
        "id": post.id,
        "slug": post.slug,
        "categories": list(post.categories),
        "tags": list(post.tags),
        "path": post.rel,
        "name": os.path.basename(post.path),
    }


def _jekylls(post: Post, config: Config) -> str | None:
    """Jekyll's own HTML of the post's body, where the post takes it (`Post.rendered`)."""
    if post.rendered is None or config.jekyll_content is None:
        return None
    found = jekyll_content(config.jekyll_content).get(post.rel)
    if (
        found is None
        or hashlib.sha256(found[1].encode("utf-8", "surrogatepass")).hexdigest() != post.rendered
    ):
        return None
    return found[1]


def make_entry(post: Post, config: Config, site: Globals) -> Entry:
    """Render one post's body into what its feed entries show. Raises PostError if unreadable."""
    source = read_source(post.path, post.rel, max_bytes=config.max_post_bytes, front_matter=False)
    if "{{" in source.body or "{%" in source.body:  # Liquid: `page.*` needs the front matter
        source = read_source(post.path, post.rel, max_bytes=config.max_post_bytes)
    if source.digest != post.digest:
        # The file changed after it was indexed; its metadata and body would not match.
        raise PostError(
            post.rel, "changed while the site was being read; it is read again next time"
        )
    problems: list[Problem] = []

    def warn(reason: str) -> None:
        problems.append(Problem(post.rel, reason))

    inputs: list[tuple[str, str]] = []
    html = _jekylls(post, config)
    if html is None:
        includes = Includes(
            root=config.source,
            folder=str(config.site_vars.get("includes_dir") or "_includes"),
            here=os.path.dirname(post.rel),
            max_bytes=config.max_post_bytes,
        )
        body = render_liquid(
            source.body,
            page=_page_vars(post, source.front),
            site=site,
            warn=warn,
            includes=includes,
            inputs=inputs,
        )
        html = to_html(
            body, post.markup, kramdown_attributes="kramdown_attributes" in config.clean.builtin
        )
    cleaned = clean_html(html, base=post.url, rules=config.clean)
    problems.extend(Problem(post.rel, note) for note in cleaned.notes)
    lead = cleaned.summary
    separator = source.front.get("excerpt_separator") or config.excerpt_separator
    if isinstance(separator, str) and separator:
        # Jekyll's excerpt: the body up to the separator the site or the post names
        # (`<!--more-->`), rendered: several paragraphs where the post says so, all of it
        # where the separator is not there.
        head = source.body.split(separator, 1)[0]
        part = clean_html(to_html(head, post.markup), base=post.url, rules=config.clean)
        lead = plain_text(part.html)
    summary = summarize(lead if post.summary is None else post.summary, config.summary_length)
    return Entry(
        content=cleaned.html,
        summary=summary,
        title=truncate(lead, TITLE_LENGTH) if not post.title else post.title,
        source=cleaned.source,
        problems=tuple(problems),
        links=site.links.version if LINK_TAGS.search(source.body) else None,
        inputs=tuple(dict.fromkeys(inputs)),
    )
