"""The URL Jekyll publishes a post at, and the entry id jekyll-feed gives it.

Follows Jekyll 4 (`Jekyll::URL`, `Drops::UrlDrop`, `Utils.slugify`, `Document#id`) closely,
because a feed link must reach the page that exists, and an entry id must not change when a
site moves from jekyll-feed to feedsmith.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, unquote

from feedsmith.text import has_scheme

_PLACEHOLDER = re.compile(r":([a-z_]+)")
_DASHES = re.compile(r"-+")
_SLASHES = re.compile(r"/{2,}")
_PLAIN_PATH = re.compile(r"[a-zA-Z0-9./-]+")
# RFC 3986 pchar minus what quote() keeps anyway: what Jekyll's escape_path leaves alone.
_PATH_SAFE = "/!$&'()*+,;=:@~"
_PRETTY_KEEP = set("._~!$&'()+,;=@")


def ruby_downcase(text: str) -> str:
    """Ruby's String#downcase: per character, so a final capital sigma is σ, never ς."""
    return "".join(c.lower() for c in text)


def _keep_default(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd"


_ASCII_SLUG = {
    "default": re.compile(r"[A-Za-z0-9-]*"),
    "pretty": re.compile(r"[A-Za-z0-9._~!$&'()+,;=@-]*"),
}


def slugify(text: str, *, mode: str = "default", cased: bool = False) -> str:
    """Jekyll's `Utils.slugify` for the modes URLs use: default, pretty and raw."""
    plain = _ASCII_SLUG.get(mode)
    if plain is not None and plain.fullmatch(text):
        # Letters, digits and the kept marks stay as they are: only dashes need work (and
        # this is most slugs, read for each of 100,000 posts).
        slug = _DASHES.sub("-", text).strip("-")
        return slug if cased else slug.lower()
    return _slugify_general(text, mode=mode, cased=cased)


def _slugify_general(text: str, *, mode: str, cased: bool) -> str:
    if mode == "raw":
        slug = re.sub(r"[ \t\r\n\f\v]+", "-", text)  # Ruby's \s is ASCII whitespace only
    else:
        keep = (
            (lambda c: _keep_default(c) or c in _PRETTY_KEEP) if mode == "pretty" else _keep_default
        )
        slug = re.sub(r"-+", "-", "".join(c if keep(c) else "-" for c in text))
    slug = slug.strip("-") if mode != "raw" else re.sub(r"^-|-$", "", slug)
    return slug if cased else ruby_downcase(slug)


def titleize(slug: str) -> str:
    """Jekyll's default title for a post whose front matter has none."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in slug.split("-"))


def escape_path(value: str) -> str:
    """Percent-encode what may not stand in a URL path, as Jekyll's URL.escape_path does."""
    if not value or _PLAIN_PATH.fullmatch(value):
        return value
    return quote(value, safe=_PATH_SAFE)


def sanitize(url: str) -> str:
    """Jekyll's URL#sanitize_url: no `..`, no `./`, no doubled slashes, one leading slash."""
    result = f"/{url}".replace("..", "/").replace("./", "")
    return _SLASHES.sub("/", result)


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")  # fmt: skip


class _Post(NamedTuple):
    """What a permalink placeholder can be made from."""

    date: datetime
    slug: str
    basename: str
    categories: Sequence[str]
    collection: str
    path: str


_MAKERS: dict[str, Callable[[_Post], str]] = {
    "collection": lambda p: p.collection,
    "path": lambda p: p.path,
    "output_ext": lambda p: ".html",
    "name": lambda p: slugify(p.basename),
    "title": lambda p: slugify(p.slug, mode="pretty", cased=True),
    "slug": lambda p: slugify(p.slug),
    "categories": lambda p: "/".join(dict.fromkeys(ruby_downcase(c) for c in p.categories)),
    "slugified_categories": lambda p: "/".join(dict.fromkeys(slugify(c) for c in p.categories)),
    "year": lambda p: f"{p.date.year:04d}",
    "month": lambda p: f"{p.date.month:02d}",
    "day": lambda p: f"{p.date.day:02d}",
    "hour": lambda p: f"{p.date.hour:02d}",
    "minute": lambda p: f"{p.date.minute:02d}",
    "second": lambda p: f"{p.date.second:02d}",
    "i_day": lambda p: str(p.date.day),
    "i_month": lambda p: str(p.date.month),
    "short_month": lambda p: _MONTHS[p.date.month - 1][:3],
    "long_month": lambda p: _MONTHS[p.date.month - 1],
    "short_year": lambda p: f"{p.date.year % 100:02d}",
    "w_year": lambda p: str(p.date.isocalendar().year),
    "week": lambda p: f"{p.date.isocalendar().week:02d}",
    "w_day": lambda p: str(p.date.isoweekday()),
    "short_day": lambda p: _DAYS[p.date.weekday()][:3],
    "long_day": lambda p: _DAYS[p.date.weekday()],
    "y_day": lambda p: f"{p.date.timetuple().tm_yday:03d}",
}


def _placeholders(template: str, post: _Post) -> dict[str, str]:
    """The values of the placeholders `template` uses (only those: a post is one of 100,000)."""
    return {name: _MAKERS[name](post) for name in _wanted(template)}


@lru_cache(maxsize=256)
def _wanted(template: str) -> tuple[str, ...]:
    names = set(_PLACEHOLDER.findall(template))
    names |= {name.rstrip("_") for name in names}
    return tuple(name for name in _MAKERS if name in names)


@lru_cache(maxsize=256)
def _pieces(template: str) -> tuple[str, ...]:
    """`template` split as text, placeholder name, text, placeholder name, ..., text."""
    return tuple(_PLACEHOLDER.split(template))


def expand(template: str, values: Mapping[str, str]) -> str:
    """Fill `:placeholders` in a permalink template; unknown names stay as written."""
    pieces = _pieces(template)
    out = list(pieces)
    for i in range(1, len(pieces), 2):
        name = pieces[i]
        out[i] = f":{name}"
        for candidate in (name, name.rstrip("_")) if name.endswith("_") else (name,):
            if candidate in values:
                out[i] = escape_path(values[candidate]) + name[len(candidate) :]
                break
    return sanitize("".join(out))


def post_path(
    template: str,
    *,
    date: datetime,
    slug: str,
    basename: str,
    categories: Sequence[str],
    permalink: str | None = None,
    path: str | None = None,
) -> str:
    """The site-relative, percent-encoded path of a post (`/emnews/2022/01/26/x.html`).

    `path` is Jekyll's `:path`: the file's path below `_posts/` without extension (default:
    the file name without extension).
    """
    values = _placeholders(
        permalink or template,
        _Post(date, slug, basename, categories, "posts", basename if path is None else path),
    )
    return expand(permalink or template, values)


def collection_path(template: str, *, collection: str, relative: str) -> str:
    """The path of a document in a Jekyll collection (`_docs/history.md` -> `/docs/history/`)."""
    stem = relative.rsplit(".", 1)[0]
    name = stem.rsplit("/", 1)[-1]
    values = {
        "collection": collection,
        "path": stem,
        "name": slugify(name),
        "title": slugify(name, mode="pretty", cased=True),
        "slug": slugify(name),
        "output_ext": ".html",
        "categories": "",
    }
    return expand(template, values)


def ruby_dirname(path: str) -> str:
    """Ruby's File.dirname: a trailing slash does not make a directory of the last segment."""
    trimmed = re.sub(r"/{2,}", "/", path).rstrip("/")
    if "/" not in trimmed:
        return "/" if path.startswith("/") else "."
    head = trimmed.rsplit("/", 1)[0]
    return head or "/"


def jekyll_id_path(url_path: str, slug: str) -> str:
    """Jekyll's Document#id: the post URL's folder joined with its slug (no extension)."""
    folder = ruby_dirname(url_path)
    return f"{folder.rstrip('/')}/{slug}"


def absolute_id(site_url: str, baseurl: str, path: str) -> str:
    """jekyll-feed's entry id: `absolute_url`, whose Addressable normalisation applies NFKC.

    Only ids are normalised: a link must reach the file as it is named on disk, but an id must
    equal the one readers already stored.
    """
    return absolute(
        site_url, baseurl, quote(unicodedata.normalize("NFKC", unquote(path)), safe=_PATH_SAFE)
    )


def site_path(baseurl: str, path: str) -> str:
    """A site-relative path under `baseurl`, percent-encoded: Jekyll's `relative_url`."""
    joined = f"{baseurl}/{path.lstrip('/')}" if path else f"{baseurl}/"
    return quote(joined, safe=_PATH_SAFE + "%#?")


def absolute(site_url: str, baseurl: str, path: str) -> str:
    """Join the site and a site-relative path the way Jekyll's `absolute_url` filter does;
    a path that is a URI already is kept."""
    return path if has_scheme(path) else site_url + site_path(baseurl, path)


def site_link(ref: str, site_url: str, baseurl: str) -> str:
    """A link a setting or a front matter gives (`icon`, `image`): absolute as it is,
    protocol-relative made https, else relative to the site."""
    return f"https:{ref}" if ref.startswith("//") else absolute(site_url, baseurl, ref)
