"""One Config, read from a Jekyll `_config.yml` and/or `feedsmith.toml`, validated once.

Precedence, lowest first: built-in defaults < Jekyll's own keys (and jekyll-feed's `feed:`) <
the `feedsmith:` section of `_config.yml` < `feedsmith.toml` (or the file given with `-c`) <
command-line options. Every feedsmith key is declared once in SETTINGS: the loader, the
validation and the README's reference all come from that table.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import posixpath
import re
import stat
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import cssselect
import yaml
from feedsmith.errors import ConfigError
from feedsmith.files import GONE, read_text
from feedsmith.model import FORMATS, Author, Format
from feedsmith.text import plain_name, smartify
from feedsmith.version import __version__

PERMALINK_STYLES: Mapping[str, str] = {
    "none": "/:categories/:title:output_ext",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
}

BUILTIN_RULES: tuple[str, ...] = (
    "comments",
    "hidden",
    "stock_widgets",
    "quote_placeholders",
    "nav_footer",
    "source_link",
    "indent_spaces",
    "empty_paragraphs",
    "lazy_images",
    "kramdown_attributes",
)

CONFIG_FILES = ("_config.yml", "feedsmith.toml")
BUILTIN_STYLESHEET = "feeds.xsl"  # what `stylesheet: builtin` writes into the output folder
# What Jekyll 4 always excludes, whatever `exclude:` says (Jekyll::Configuration::DEFAULTS).
JEKYLL_EXCLUDES = (
    ".sass-cache", ".jekyll-cache", "gemfiles", "Gemfile", "Gemfile.lock", "node_modules",
    "vendor/bundle/", "vendor/cache/", "vendor/gems/", "vendor/ruby/",
)  # fmt: skip  # read from a source folder, in this order
DEFAULT_SOURCE = Path("posts")
DEFAULT_OUTPUT = Path("_site")


@dataclass(frozen=True, slots=True)
class FeedGroup:
    """Which categories (or tags) get feeds, and under which folder."""

    enabled: bool = True
    only: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    path: str = "feed/"

    def includes(self, name: str) -> bool:
        if not self.enabled or name in self.exclude:
            return False
        return self.only is None or name in self.only


@dataclass(frozen=True, slots=True)
class FrontDefault:
    """One of Jekyll's front matter defaults (`defaults:` in _config.yml): values a post takes
    where its own front matter says nothing, when its path (and type) are in scope."""

    path: str = ""  # a prefix of the post's path, or a glob
    type: str | None = None  # "posts", or a collection's name
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CollectionFeed:
    """jekyll-feed's feed of a Jekyll collection: where it goes, and which of its categories
    get feeds of their own."""

    path: str | None = None  # default `feed/<collection>.xml`
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedOverride:
    """One feed's own settings (`feeds: {categories: {emnews: {...}}}`); None keeps the site's."""

    posts_limit: int | None = None
    excerpt_only: bool | None = None
    formats: tuple[Format, ...] | None = None


@dataclass(frozen=True, slots=True)
class CleanRules:
    builtin: tuple[str, ...] = BUILTIN_RULES
    drop: tuple[str, ...] = ()  # CSS selectors whose elements are removed
    unwrap: tuple[str, ...] = ()  # CSS selectors whose elements are replaced by their content
    drop_paragraphs: tuple[str, ...] = ()  # regexes: a block whose text matches is removed


@dataclass(frozen=True, slots=True)
class Config:
    source: Path = DEFAULT_SOURCE
    output: Path = DEFAULT_OUTPUT
    jekyll: bool = False  # the source is a Jekyll site root: posts live in `_posts/`
    title: str = ""
    description: str = ""
    url: str = ""  # scheme://host[:port], no trailing slash
    baseurl: str = ""  # "" or "/path", no trailing slash
    author: Author | None = None
    timezone: str = "UTC"
    lang: str | None = None
    permalink: str = PERMALINK_STYLES["date"]  # the posts' URL template
    icon: str | None = None
    logo: str | None = None
    path: str = "feed.xml"
    posts_limit: int = 20
    excerpt_only: bool = False
    categories: FeedGroup = FeedGroup(path="feed/")
    tags: FeedGroup = FeedGroup(path="feed/by_tag/")
    authors: FeedGroup = FeedGroup(enabled=False, path="feed/by_author/")  # opt-in, as Pelican's
    formats: tuple[Format, ...] = FORMATS
    opml: str | None = "feeds.opml"
    opml_format: Format = "atom"
    # The pages for people: the list of feeds, and a page beside each feed (`feed.html`).
    subscribe_page: str | None = "feeds.html"
    preview_pages: bool = True
    summary_length: int = 200
    smartify: bool | None = None  # None: in a Jekyll site
    clean: CleanRules = CleanRules()
    future: bool = False
    drafts: bool = False
    max_post_bytes: int = 5_000_000
    # Names one post may carry: each is a feed of its own that lists them all, so their
    # number and length multiply (50,000 tags made 150,000 feeds of 50,000 names each).
    max_tags_per_post: int = 100
    max_categories_per_post: int = 100
    max_name_length: int = 200  # characters of one category or tag name (WordPress's own bound)
    cache_max_age: int = 300
    serve_cache_memory: int = 256 * 2**20  # bytes `serve` keeps rendered, for all its files
    serve_header_timeout: float = 10.0  # seconds a client has to send its request headers
    serve_search: bool = True  # `serve` answers `/search.xml?q=…` over the whole site
    serve_query_limit: int = 100  # the most entries one query's answer holds
    serve_query_time: float = 2.0  # seconds one query may search for; then 503
    cache_dir: Path | None = field(default=None, compare=False)
    archive_size: int = 0  # RFC 5005 archive documents of this many entries; 0: none
    hub: tuple[str, ...] = ()  # WebSub hubs
    id_base: str = ""  # scheme://host[/path] default entry ids are built on, if not the site's
    ids: Mapping[str, str] = field(default_factory=dict)  # post path or URL -> entry id
    max_bytes: int = 0  # per feed; 0: no limit
    max_bytes_trim: str = "summary"  # how a feed is made to fit: "summary" or "oldest"
    feeds: Mapping[str, Mapping[str, FeedOverride]] = field(default_factory=dict)
    collection_feeds: Mapping[str, CollectionFeed] = field(default_factory=dict)
    site_vars: Mapping[str, Any] = field(default_factory=dict, compare=False)
    collections: Mapping[str, str] = field(default_factory=dict)
    # `url` is a stand-in (`serve` on its own address, no url configured): entry ids built on
    # it are throw-away, so nothing served may be cached, and the server says so.
    url_is_fallback: bool = False
    # Jekyll's own keys that decide what is a post: `exclude:` less `include:` (with Jekyll's
    # defaults), and the folder collections (and so `_posts/`) live in.
    jekyll_exclude: tuple[str, ...] = ()
    collections_dir: str = ""
    # Jekyll's own HTML of each post's body (written by the Jekyll plugin `feedsmith init`
    # installs): entries take it instead of rendering the body again.
    jekyll_content: Path | None = field(default=None, compare=False)
    # `builtin` (BUILTIN_STYLESHEET, written with the feeds) or the path of the site's own XSLT.
    stylesheet: str | None = None
    # jekyll-feed's `feed.xslt.xml` at the site root: its URL, named in every Atom feed
    # (unless `stylesheet` names another).
    xslt: str | None = None
    # Jekyll's front matter defaults, and the `excerpt_separator` that ends a post's excerpt.
    front_defaults: tuple[FrontDefault, ...] = ()
    excerpt_separator: str | None = None  # None: Jekyll's own "\n\n" (the first paragraph)
    # The site's `_data/authors.yml`: a post's `author: garthdb` is that author.
    author_data: Mapping[str, Author] = field(default_factory=dict)
    # What loading had to say without refusing (a feed path kept inside the site, ...).
    notes: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (file, what)
    # Where the settings came from, so that `reload_config` can read them again.
    config_file: Path | None = field(default=None, compare=False)
    overrides: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        """Every setting checked (and written the one way it is kept) however the Config is
        made: by load_config, by hand, or by dataclasses.replace."""
        for setting in SETTINGS:
            value = getattr(self, setting.field)
            checked = setting.check(setting.key, value)
            if checked != value:
                object.__setattr__(self, setting.field, checked)
        _check_folders(self)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def smart_titles(self) -> bool:
        """Whether titles get typographic quotes and dashes (`smartify`; Jekyll sites: yes)."""
        return self.jekyll if self.smartify is None else self.smartify

    @property
    def site_title(self) -> str:
        """The title feeds name the site by: `title`, else its host."""
        title = self.title or self.url.split("://", 1)[-1]
        return smartify(title) if self.smart_titles else title

    @property
    def site_url(self) -> str:
        """The site's home page, absolute, with a trailing slash."""
        return f"{self.url}{self.baseurl}/"

    def fingerprint(self) -> str:
        """A digest of every setting that can change output bytes (keys caches)."""
        settings = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("source", "output", "site_vars", "cache_dir", *_PROVENANCE, *_SERVING)
        }
        settings["site_vars"] = self.site_vars
        blob = json.dumps(settings, default=repr, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(f"{__version__}\0{blob}".encode()).hexdigest()


def _check_folders(config: Config) -> None:
    """A file the settings name (the site feed, the OPML list, the list of feeds) may not
    stand where category or tag feeds need a folder: `path: feed` with categories in `feed/`.
    (Files made from names are kept apart when feed paths are made: feedsmith.index.)"""
    files = {"path": config.path, "opml": config.opml, "subscribe_page": config.subscribe_page}
    for group_key, group in (("categories", config.categories), ("tags", config.tags)):
        if not group.enabled or not group.path:
            continue
        folder = unicodedata.normalize("NFC", group.path.casefold())
        for key, path in files.items():
            if path and folder.startswith(unicodedata.normalize("NFC", path.casefold()) + "/"):
                raise ConfigError(
                    key,
                    f"{path!r} is a file, but {group_key} feeds go in the folder "
                    f"{group.path!r} ({group_key}.path); choose another path for one of them",
                )


# Not settings of the output: what they made is in the others (the posts carry the digest of
# the Jekyll content they take).
_PROVENANCE = ("config_file", "overrides", "notes", "jekyll_content")
# How `serve` holds out, not what it serves.
_SERVING = (
    "serve_cache_memory",
    "serve_header_timeout",
    "serve_search",
    "serve_query_limit",
    "serve_query_time",
)


# --- value checkers: each takes (key, value) and returns the value Config stores ---------


def _str(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(key, f"expected a string, got {_describe(value)}")
    return str(value)


def _opt_str(key: str, value: Any) -> str | None:
    return None if value in (None, "", False) else _str(key, value)


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(key, f"expected true or false, got {_describe(value)}")
    return value


def _opt_bool(key: str, value: Any) -> bool | None:
    return None if value is None else _bool(key, value)


def _count(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(key, f"expected a whole number >= 0, got {_describe(value)}")
    return value


def _positive(key: str, value: Any) -> int:
    number = _count(key, value)
    if number == 0:
        raise ConfigError(key, "must be at least 1")
    return number


_UNITS = {
    "": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def _size(key: str, value: Any) -> int:
    """A number of bytes: a whole number, or a string such as `256MB` or `1.5GiB`."""
    if isinstance(value, str):
        match = _SIZE.fullmatch(value)
        unit = _UNITS.get(match.group(2).lower()) if match else None
        if match is None or unit is None:
            raise ConfigError(
                key,
                f"expected a size such as 256MB, 256MiB or 268435456 (bytes), got {value!r}",
            )
        return int(float(match.group(1)) * unit)
    return _count(key, value)


def _seconds(key: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value < math.inf  # NaN fails too
    ):
        raise ConfigError(key, f"expected a number of seconds > 0, got {_describe(value)}")
    return float(value)


def _str_list(key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (str, int)) for v in value):
        raise ConfigError(key, f"expected a list of strings, got {_describe(value)}")
    return tuple(str(v) for v in value)


def _url(key: str, value: Any) -> str:
    text = _str(key, value).strip().rstrip("/")
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            key, f"expected an absolute http(s) URL like https://example.com, got {text!r}"
        )
    if parts.path or parts.query or parts.fragment:
        raise ConfigError(
            key,
            f"give only scheme and host here ({parts.scheme}://{parts.netloc}); put a path in baseurl",
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _baseurl(key: str, value: Any) -> str:
    text = (_opt_str(key, value) or "").strip().strip("/")
    if "://" in text or "?" in text or "#" in text:
        raise ConfigError(key, f"expected a path such as /blog, got {text!r}")
    return f"/{text}" if text else ""


def _timezone(key: str, value: Any) -> str:
    name = _str(key, value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            key, f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)"
        ) from exc
    return name


def _author(key: str, value: Any) -> Author | None:
    if value in (None, "", False):
        return None
    if isinstance(value, Author):
        if not value.name.strip():
            raise ConfigError(f"{key}.name", "an author needs a name")
        return value
    if isinstance(value, (str, int)):
        return Author(name=plain_name(str(value)))
    if isinstance(value, Mapping):
        name = value.get("name")
        if not isinstance(name, str) or not plain_name(name):
            raise ConfigError(f"{key}.name", "an author needs a name")
        email, uri = value.get("email"), value.get("uri", value.get("url"))
        return Author(
            name=plain_name(name),
            email=_opt_str(f"{key}.email", email),
            uri=_opt_str(f"{key}.uri", uri),
        )
    raise ConfigError(
        key, f"expected a name or a mapping with name/email/uri, got {_describe(value)}"
    )


def _permalink(key: str, value: Any) -> str:
    text = _str(key, value).strip()
    template = PERMALINK_STYLES.get(text, text)
    if not template.startswith("/") and ":" not in template:
        raise ConfigError(
            key,
            f"expected one of {', '.join(PERMALINK_STYLES)} or a pattern like /:year/:title/, got {text!r}",
        )
    return template


def _inside(text: str) -> str:
    """A path kept inside the output folder the way Jekyll's `sanitized_path` keeps it: `..`
    climbs no higher than the top (`../../etc/x.xml` -> `etc/x.xml`)."""
    return posixpath.normpath("/" + text).lstrip("/") if text.strip("/") else ""


def climbs(text: str) -> bool:
    """Whether a configured path tries to leave the output folder (`..`, `~`)."""
    return ".." in text.replace("\\", "/").split("/") or text.startswith("~")


def _feed_path(key: str, value: Any) -> str:
    text = _inside(_str(key, value).strip())
    if not text or _str(key, value).strip().endswith("/") or "\\" in text:
        raise ConfigError(
            key, f"expected a file path inside the output folder such as feed.xml, got {text!r}"
        )
    return text


def _opt_feed_path(key: str, value: Any) -> str | None:
    return None if value in (None, False, "") else _feed_path(key, value)


def _stylesheet(key: str, value: Any) -> str | None:
    if value in (None, False, "", "none"):
        return None
    return "builtin" if value == "builtin" else _feed_path(key, value)


def _folder(key: str, value: Any) -> str:
    text = _inside(_str(key, value).strip())
    if "\\" in text:
        raise ConfigError(
            key, f"expected a folder inside the output folder such as feed/, got {text!r}"
        )
    return f"{text}/" if text else ""


def _formats(key: str, value: Any) -> tuple[Format, ...]:
    names = _str_list(key, value)
    chosen = tuple(f for f in FORMATS if f in names)
    if len(chosen) != len(set(names)) or not chosen:
        raise ConfigError(key, f"expected a list drawn from {list(FORMATS)}, got {list(names)}")
    return chosen


def _group(default_path: str) -> Callable[[str, Any], FeedGroup]:
    """categories / tags: true, false, a list (only these), or {only, except, path}."""

    def check(key: str, value: Any) -> FeedGroup:
        if isinstance(value, FeedGroup):
            return replace(
                value,
                only=None if value.only is None else _str_list(f"{key}.only", value.only),
                exclude=_str_list(f"{key}.except", value.exclude),
                path=_folder(f"{key}.path", value.path),
            )
        if value is None or value is True:
            return FeedGroup(path=default_path)
        if value is False:
            return FeedGroup(enabled=False, path=default_path)
        if isinstance(value, list):
            return FeedGroup(only=_str_list(key, value), path=default_path)
        if isinstance(value, Mapping):
            _reject_unknown(key, value, ("only", "except", "path", "enabled"))
            only = value.get("only")
            return FeedGroup(
                enabled=_bool(f"{key}.enabled", value.get("enabled", True)),
                only=None if only is None else _str_list(f"{key}.only", only),
                exclude=_str_list(f"{key}.except", value.get("except")),
                path=_folder(f"{key}.path", value.get("path", default_path)),
            )
        raise ConfigError(key, f"expected true, false, a list or a mapping, got {_describe(value)}")

    return check


def _clean(key: str, value: Any) -> CleanRules:
    if value is None:
        return CleanRules()
    if isinstance(value, CleanRules):
        value = {
            "builtin": list(value.builtin),
            "drop": list(value.drop),
            "unwrap": list(value.unwrap),
            "drop_paragraphs": list(value.drop_paragraphs),
        }
    if not isinstance(value, Mapping):
        raise ConfigError(
            key,
            f"expected a mapping with builtin/drop/unwrap/drop_paragraphs, got {_describe(value)}",
        )
    _reject_unknown(key, value, ("builtin", "drop", "unwrap", "drop_paragraphs"))
    builtin: tuple[str, ...] = BUILTIN_RULES
    if "builtin" in value:
        raw = value["builtin"]
        if isinstance(raw, bool):
            builtin = BUILTIN_RULES if raw else ()
        else:
            builtin = _str_list(f"{key}.builtin", raw)
            unknown = [r for r in builtin if r not in BUILTIN_RULES]
            if unknown:
                listed = ", ".join(repr(rule) for rule in unknown)
                raise ConfigError(
                    f"{key}.builtin",
                    f"unknown {'rule' if len(unknown) == 1 else 'rules'} {listed}; known: "
                    + ", ".join(BUILTIN_RULES),
                )
    patterns = _str_list(f"{key}.drop_paragraphs", value.get("drop_paragraphs"))
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"{key}.drop_paragraphs", f"{pattern!r} is not a valid regular expression: {exc}"
            ) from exc
    selectors = {
        "drop": _str_list(f"{key}.drop", value.get("drop")),
        "unwrap": _str_list(f"{key}.unwrap", value.get("unwrap")),
    }
    for name, found in selectors.items():
        for selector in found:
            _check_selector(f"{key}.{name}", selector)
    return CleanRules(builtin=builtin, drop_paragraphs=patterns, **selectors)


def _hubs(key: str, value: Any) -> tuple[str, ...]:
    hubs = _str_list(key, value if value not in (None, False, "") else [])
    for hub in hubs:
        parts = urlsplit(hub)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(key, f"expected the http(s) URL of a WebSub hub, got {hub!r}")
    return hubs


def _id_base(key: str, value: Any) -> str:
    text = (_opt_str(key, value) or "").strip().rstrip("/")
    if text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https", "tag", "urn") or not (parts.netloc or parts.path):
            raise ConfigError(
                key, f"expected an absolute URL such as https://old.example.com, got {text!r}"
            )
    return text


def _ids(key: str, value: Any) -> Mapping[str, str]:
    """A mapping of post path or URL to entry id, or the path of a YAML/JSON/TOML file of one."""
    if value in (None, "", False):
        return MappingProxyType({})
    if isinstance(value, str):
        path = Path(value)
        try:
            text = read_text(path)
        except OSError as exc:
            raise ConfigError(key, f"cannot read {value}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(key, f"cannot read {value}: not UTF-8 ({exc.reason})") from exc
        try:
            value = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
        except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(key, f"{value} is not valid YAML, JSON or TOML: {exc}") from exc
    if not isinstance(value, Mapping) or not all(isinstance(v, (str, int)) for v in value.values()):
        raise ConfigError(
            key, f"expected a mapping of post path or URL to id, got {_describe(value)}"
        )
    return MappingProxyType({str(k): str(v) for k, v in value.items()})


def _choice(*choices: str) -> Callable[[str, Any], str]:
    def check(key: str, value: Any) -> str:
        if value not in choices:
            raise ConfigError(key, f"expected one of {', '.join(choices)}, got {_describe(value)}")
        return str(value)

    return check


def _override(key: str, value: Any) -> FeedOverride:
    if isinstance(value, FeedOverride):
        value = {name: getattr(value, name) for name in FeedOverride.__slots__}
        value = {name: list(v) if isinstance(v, tuple) else v for name, v in value.items()}
    if not isinstance(value, Mapping):
        raise ConfigError(
            key, f"expected a mapping of posts_limit/excerpt_only/formats, got {_describe(value)}"
        )
    _reject_unknown(key, value, ("posts_limit", "excerpt_only", "formats"))
    return FeedOverride(
        posts_limit=None
        if value.get("posts_limit") is None
        else _count(f"{key}.posts_limit", value["posts_limit"]),
        excerpt_only=None
        if value.get("excerpt_only") is None
        else _bool(f"{key}.excerpt_only", value["excerpt_only"]),
        formats=None
        if value.get("formats") is None
        else _formats(f"{key}.formats", value["formats"]),
    )


def _feeds(key: str, value: Any) -> Mapping[str, Mapping[str, FeedOverride]]:
    """Per-feed settings: `{site: {...}, categories: {name: {...}}, tags: {name: {...}}}`."""
    if value in (None, False):
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise ConfigError(
            key, f"expected a mapping with site/categories/tags, got {_describe(value)}"
        )
    _reject_unknown(key, value, ("site", "categories", "tags"))
    result: dict[str, Mapping[str, FeedOverride]] = {}
    site = value.get("site")
    if isinstance(site, Mapping) and set(site) == {""}:  # as a Config holds it
        site = site[""]
    if site is not None:
        result["site"] = MappingProxyType({"": _override(f"{key}.site", site)})
    for group in ("categories", "tags"):
        members = value.get(group)
        if members is None:
            continue
        if not isinstance(members, Mapping):
            raise ConfigError(
                f"{key}.{group}",
                f"expected a mapping of names to settings, got {_describe(members)}",
            )
        result[group] = MappingProxyType(
            {str(name): _override(f"{key}.{group}.{name}", v) for name, v in members.items()}
        )
    return MappingProxyType(result)


def _collection_feeds(key: str, value: Any) -> Mapping[str, CollectionFeed]:
    """jekyll-feed's `collections`: a list of names, or `{name: {path, categories}}`."""
    if value in (None, False, "", [], {}):
        return MappingProxyType({})
    if isinstance(value, (list, tuple)):
        value = {str(name): {} for name in _str_list(key, value)}
    if not isinstance(value, Mapping):
        raise ConfigError(
            key, f"expected a list of collections or a mapping, got {_describe(value)}"
        )
    found: dict[str, CollectionFeed] = {}
    for name, given in value.items():
        where = f"{key}.{name}"
        meta = given if given is not None else {}
        if isinstance(meta, CollectionFeed):
            meta = {"path": meta.path, "categories": list(meta.categories)}
        if not isinstance(meta, Mapping) or not re.fullmatch(r"[A-Za-z0-9_-]+", str(name)):
            raise ConfigError(where, "expected a collection name with {path, categories}")
        _reject_unknown(where, meta, ("path", "categories"))
        path = meta.get("path")
        found[str(name)] = CollectionFeed(
            path=None if path in (None, "") else _feed_path(f"{where}.path", path),
            categories=_str_list(f"{where}.categories", meta.get("categories")),
        )
    return MappingProxyType(found)


def _output(key: str, value: Any) -> Path:
    if isinstance(value, Path):
        return value
    text = _str(key, value).strip()
    if not text:
        raise ConfigError(key, "expected a folder")
    return Path(text)


def _cache_dir(key: str, value: Any) -> Path | None:
    if isinstance(value, Path):
        return value
    return Path(_str(key, value)) if value not in (None, "", False) else None


def _check_selector(key: str, selector: str) -> None:
    try:
        cssselect.HTMLTranslator().css_to_xpath(selector)
    except cssselect.SelectorError as exc:
        raise ConfigError(key, f"{selector!r} is not a valid CSS selector: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    check: Callable[[str, Any], Any]
    help: str
    attr: str = ""  # the Config field, when it differs from the key

    @property
    def field(self) -> str:
        return self.attr or self.key


SETTINGS: tuple[Setting, ...] = (
    Setting("title", _str, "Feed title; Jekyll's `title` (or `name`)."),
    Setting("description", _str, "Feed subtitle / RSS description; Jekyll's `description`."),
    Setting(
        "url",
        _url,
        "The site's scheme and host, e.g. `https://finews.withounder.com`. Needed for absolute links.",
    ),
    Setting("baseurl", _baseurl, "Path the site lives under, e.g. `/blog`; Jekyll's `baseurl`."),
    Setting(
        "author",
        _author,
        "Site author: a name, or `{name, email, uri}`; used where a post names none.",
    ),
    Setting("timezone", _timezone, "IANA zone for dates written without an offset (default UTC)."),
    Setting("lang", _opt_str, "Language of the feeds (`xml:lang`, RSS `language`), e.g. `zh-CN`."),
    Setting(
        "permalink",
        _permalink,
        "Post URL style or pattern, as in Jekyll: date (default), pretty, ordinal, none, weekdate or `/:categories/:title/`…",
    ),
    Setting("icon", _opt_str, "Feed icon (Atom `icon`), absolute or site-relative."),
    Setting("logo", _opt_str, "Feed logo (Atom `logo`, RSS `image`), absolute or site-relative."),
    Setting(
        "path",
        _feed_path,
        "Path of the site's Atom feed (default `feed.xml`); RSS uses the same name ending `.rss`.",
    ),
    Setting("posts_limit", _count, "Entries per feed, newest first (default 20; 0 means all)."),
    Setting(
        "excerpt_only",
        _bool,
        "Leave full content out of every feed; summaries only (default false).",
    ),
    Setting(
        "categories",
        _group("feed/"),
        "Category feeds: true (all, default), false, a list (only these), or `{only, except, path}` (default path `feed/`).",
    ),
    Setting(
        "tags",
        _group("feed/by_tag/"),
        "Tag feeds: true (all, default), false, a list, or `{only, except, path}` (default path `feed/by_tag/`).",
    ),
    Setting(
        "authors",
        _group("feed/by_author/"),
        "Author feeds, one per author a post names: false (default), true (all), a list, or `{only, except, path}` (default path `feed/by_author/`); named as tag feeds are.",
    ),
    Setting(
        "formats", _formats, f"Formats to write for every feed (default `[{', '.join(FORMATS)}]`)."
    ),
    Setting(
        "opml",
        _opt_feed_path,
        "Path of the OPML list of all feeds (default `feeds.opml`; false for none).",
    ),
    Setting(
        "subscribe_page",
        _opt_feed_path,
        "Path of the page for people listing every feed, with its addresses and how to subscribe (default `feeds.html`; false for none).",
    ),
    Setting(
        "preview_pages",
        _bool,
        "Write a page for people beside each feed (`feed.html` beside `feed.xml`): what it holds and its addresses (default true).",
    ),
    Setting(
        "stylesheet",
        _stylesheet,
        f"An `<?xml-stylesheet?>` in every Atom and RSS feed, so that a browser that still runs XSLT (Firefox, Safari) shows it as a page: `builtin` (feedsmith's, written as `{BUILTIN_STYLESHEET}`) or the path of the site's own XSLT (default: none; a Jekyll site's `feed.xslt.xml` is named in its Atom feeds, as jekyll-feed does).",
    ),
    Setting(
        "opml_format",
        _choice(*FORMATS),
        "The format OPML lists each feed in, once per feed (default `atom`; a feed without it is listed in its first format).",
    ),
    Setting(
        "smartify",
        _opt_bool,
        "Typographic quotes and dashes in titles (`Pat’s Site`), as jekyll-feed's `smartify` (default: on for a Jekyll site, off for a folder of posts).",
    ),
    Setting(
        "summary_length", _positive, "Characters in a summary made from the body (default 200)."
    ),
    Setting(
        "clean",
        _clean,
        "Cleaning rules: `{builtin, drop, unwrap, drop_paragraphs}`; see 'Cleaning' below.",
    ),
    Setting("future", _bool, "Publish posts dated in the future (default false; `--future`)."),
    Setting(
        "drafts", _bool, "Publish drafts: `_drafts/` and `draft: true` (default false; `--drafts`)."
    ),
    Setting("max_post_bytes", _positive, "Skip post files larger than this (default 5000000)."),
    Setting(
        "max_tags_per_post",
        _positive,
        "Tags one post may carry; the first ones as written are used, the rest left out with a warning (default 100).",
    ),
    Setting(
        "max_categories_per_post",
        _positive,
        "Categories one post may carry (folder categories first, as Jekyll counts them); the rest are left out with a warning (default 100).",
    ),
    Setting(
        "max_name_length",
        _positive,
        "Characters of one category or tag name; a longer name is cut to this, with a warning (default 200).",
    ),
    Setting(
        "cache_max_age",
        _count,
        "`serve`: seconds in `Cache-Control: max-age=N` (default 300).",
    ),
    Setting(
        "serve_cache_memory",
        _size,
        "`serve`: most bytes of rendered entries, feeds and prepared responses kept in memory, all files together; the least recently used go first (default `256MiB`; `--cache-memory`).",
    ),
    Setting(
        "serve_header_timeout",
        _seconds,
        "`serve`: seconds a client has to send a request's headers, from connecting or from its last response; then 408 and the connection is closed (default 10; `--header-timeout`).",
    ),
    Setting(
        "serve_search",
        _bool,
        "`serve`: answer `/search.xml?q=…` (and `.rss`, `.json`) over every post of the site, and show a search box on `/` (default true). Queries on the feeds' own URLs are answered either way.",
    ),
    Setting(
        "serve_query_limit",
        _positive,
        "`serve`: the most entries a query's answer holds; a larger `limit=` is lowered to it (default 100).",
    ),
    Setting(
        "serve_query_time",
        _seconds,
        "`serve`: seconds one query may search for before it is stopped and answered 503 with `Retry-After` (default 2).",
    ),
    Setting(
        "archive_size",
        _count,
        "Entries per RFC 5005 archive document; every feed then links to its complete history (default 0: no archives).",
    ),
    Setting(
        "hub",
        _hubs,
        "WebSub hub URL (or a list): feeds link to it, `build --ping` and `serve` notify it of changed feeds.",
    ),
    Setting(
        "id_base",
        _id_base,
        "Build default entry ids on this URL instead of `url` + `baseurl` (keep ids when a site moves).",
    ),
    Setting(
        "ids",
        _ids,
        "Entry ids by post path (`_posts/x.md`) or URL, or the path of a YAML/JSON/TOML file of them (`feedsmith ids` writes one).",
    ),
    Setting("max_bytes", _count, "Largest size of one feed file in bytes (default 0: no limit)."),
    Setting(
        "max_bytes_trim",
        _choice("summary", "oldest"),
        "How a feed over `max_bytes` is made to fit: `summary` (content becomes the summary, oldest first, then oldest entries go) or `oldest` (oldest entries go).",
    ),
    Setting(
        "feeds",
        _feeds,
        "Per-feed `posts_limit`, `excerpt_only`, `formats`: `{site: {...}, categories: {name: {...}}, tags: {name: {...}}}`.",
    ),
    Setting(
        "collection_feeds",
        _collection_feeds,
        "Feeds for other Jekyll collections, as jekyll-feed's `feed.collections`: a list of names, or `{name: {path, categories}}` (`feed/<name>.xml`, `feed/<name>/<category>.xml`).",
    ),
    Setting(
        "output",
        _output,
        'Where `feedsmith build` writes (default `_site`; `-o` wins); relative to the file that sets it. `"."` builds the feeds into the site itself, to be committed (GitHub Pages).',
    ),
    Setting(
        "cache_dir",
        _cache_dir,
        "Folder of feedsmith's state: the build cache, the list of files it wrote, its lock (default `SOURCE/.feedsmith-cache`); safe to delete. Relative to the working folder.",
    ),
)
SETTING_KEYS = tuple(s.key for s in SETTINGS)
_BY_KEY = {s.key: s for s in SETTINGS}

# jekyll-feed's keys under `feed:` that feedsmith reads, and what they become.
_JEKYLL_FEED_KEYS = {
    "path": "path",
    "posts_limit": "posts_limit",
    "excerpt_only": "excerpt_only",
    "categories": "categories",
    "tags": "tags",
    "icon": "icon",
    "logo": "logo",
    "collections": "collection_feeds",
}
# jekyll-feed keys that are fine to meet but have no meaning here.
_JEKYLL_FEED_IGNORED = ("disable_in_development", "xsl")


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _reject_unknown(
    where: str, mapping: Mapping[str, Any], known: tuple[str, ...], origin: str | None = None
) -> None:
    for key in mapping:
        if key not in known:
            hint = difflib.get_close_matches(str(key), known, n=1)
            suggestion = (
                f"; did you mean {hint[0]!r}?" if hint else f"; known keys: {', '.join(known)}"
            )
            raise ConfigError(
                f"{where}.{key}" if where else str(key), f"unknown key{suggestion}", origin=origin
            )


def _present(path: Path) -> bool:
    """Whether a configuration file is there to be read: anything but a folder, so that a
    FIFO or a socket in its place is refused by name rather than taken for no file."""
    try:
        return not stat.S_ISDIR(path.stat().st_mode)
    except OSError as exc:
        return exc.errno not in GONE  # there, but unreadable: reading it says why


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(read_text(path)) or {}
    except OSError as exc:
        raise ConfigError(path.name, f"cannot read: {exc.strerror}", origin=str(path)) from exc
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(path.name, f"cannot read: {exc}", origin=str(path)) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            path.name, "expected a mapping of keys at the top level", origin=str(path)
        )
    return data


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_text(path))
    except OSError as exc:
        raise ConfigError(path.name, f"cannot read: {exc.strerror}", origin=str(path)) from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path.name, f"cannot read: {exc}", origin=str(path)) from exc


def _jekyll_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of a Jekyll `_config.yml` feedsmith honours (jekyll-feed's `feed:` apart)."""
    out: dict[str, Any] = {}
    title = data.get("title") or data.get("name")
    if title:
        out["title"] = title
    for key in ("description", "url", "baseurl", "author", "timezone", "lang", "future"):
        if data.get(key) is not None:
            out[key] = data[key]
    if data.get("show_drafts") is not None:
        out["drafts"] = data["show_drafts"]
    collections = data.get("collections")
    posts = collections.get("posts") if isinstance(collections, Mapping) else None
    posts_permalink = posts.get("permalink") if isinstance(posts, Mapping) else None
    if posts_permalink or data.get("permalink"):
        out["permalink"] = posts_permalink or data["permalink"]
    return out


def _jekyll_reading(data: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Jekyll's keys that decide which files are posts: `exclude`, `include`, `collections_dir`."""
    exclude = _str_list("exclude", data.get("exclude"))
    include = set(_str_list("include", data.get("include")))
    folder = data.get("collections_dir") or ""
    if not isinstance(folder, str) or ".." in folder.split("/"):
        raise ConfigError(
            "collections_dir", f"expected a folder of the site, got {folder!r}", origin=origin
        )
    separator = data.get("excerpt_separator")
    return {
        "jekyll_exclude": tuple(p for p in (*JEKYLL_EXCLUDES, *exclude) if p not in include),
        "collections_dir": folder.strip("/"),
        "front_defaults": _front_defaults(data.get("defaults")),
        "excerpt_separator": separator if isinstance(separator, str) and separator else None,
    }


def _front_defaults(sets: Any) -> tuple[FrontDefault, ...]:
    """Jekyll's `defaults:` list; a set Jekyll would refuse (no `values` mapping) is skipped,
    as Jekyll skips it."""
    if not isinstance(sets, list):
        return ()
    found = []
    for item in sets:
        if not isinstance(item, Mapping) or not isinstance(item.get("values"), Mapping):
            continue
        given = item.get("scope")
        scope: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        given_type = scope.get("type")
        kind = None if given_type is None else str(given_type)
        kind = {"post": "posts", "page": "pages", "draft": "drafts"}.get(kind or "", kind)
        path = scope.get("path")
        found.append(
            FrontDefault(
                path=path if isinstance(path, str) else "",
                type=kind,
                values=MappingProxyType(dict(item["values"])),
            )
        )
    return tuple(found)


def _author_data(source: Path, data: Mapping[str, Any]) -> dict[str, Author]:
    """`_data/authors.yml` (or .yaml, .json) of a Jekyll site: key -> Author, as jekyll-feed
    reads it (`name`, defaulting to the key; `email`; `uri`, or `url`)."""
    folder = source / str(data.get("data_dir") or "_data")
    for name in ("authors.yml", "authors.yaml", "authors.json"):
        path = folder / name
        if _present(path):
            break
    else:
        return {}
    raw = _read_yaml(path)  # YAML reads JSON too
    found: dict[str, Author] = {}
    for key, value in raw.items():
        entry = value if isinstance(value, Mapping) else {"name": value}
        name = entry.get("name") or key
        if not isinstance(name, (str, int)) or not str(name).strip():
            continue
        email, uri = entry.get("email"), entry.get("uri") or entry.get("url")
        found[str(key)] = Author(
            name=plain_name(str(name)),
            email=str(email) if isinstance(email, str) and email.strip() else None,
            uri=str(uri) if isinstance(uri, str) and uri.strip() else None,
        )
    return found


def _feed_section(data: Mapping[str, Any]) -> Mapping[str, Any]:
    feed = data.get("feed")
    return feed if isinstance(feed, Mapping) else {}


def _given(mapping: Mapping[str, Any]) -> set[str]:
    return {key for key, value in mapping.items() if value is not None}


def _jekyll_feed_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """jekyll-feed's `feed:` keys feedsmith honours, by feedsmith's names."""
    feed = data.get("feed")
    if not isinstance(feed, Mapping):
        return {}
    return {_JEKYLL_FEED_KEYS[k]: v for k, v in feed.items() if k in _JEKYLL_FEED_KEYS}


def _collection_permalinks(data: Mapping[str, Any], style: str) -> dict[str, str]:
    """URL templates of Jekyll collections, for `{% link _docs/x.md %}`."""
    collections = data.get("collections")
    result: dict[str, str] = {}
    if isinstance(collections, Mapping):
        for label, meta in collections.items():
            template = meta.get("permalink") if isinstance(meta, Mapping) else None
            if isinstance(template, str):
                result[str(label)] = PERMALINK_STYLES.get(template, template)
    suffix = "/" if style.endswith("/") else ":output_ext"
    result.setdefault("*", f"/:collection/:path{suffix}")
    return result


def _apply(
    values: dict[str, Any],
    raw: Mapping[str, Any],
    origin: str,
    *,
    strict: bool = True,
    prefix: str = "",
    base: Path | None = None,
) -> None:
    if strict:
        _reject_unknown("", raw, SETTING_KEYS, origin=origin)
    for key, value in raw.items():
        setting = _BY_KEY.get(key)
        if setting is None:
            continue
        given = value
        if key in ("ids", "output") and isinstance(value, str) and value and base is not None:
            given = str(base / value)  # with the file that names it, not where one runs
        try:
            values[setting.field] = setting.check(key, given)
        except ConfigError as exc:
            raise ConfigError(f"{prefix}{exc.key}", exc.reason, origin=origin) from exc
        for where, path in _paths_in(key, given):
            if climbs(path):
                made = _inside(path.strip())
                values.setdefault("notes", []).append(
                    (
                        origin,
                        f"{prefix}{where}: {path!r} leads outside the site; "
                        f"using {made!r} inside it, as Jekyll does",
                    )
                )


def _paths_in(key: str, value: Any) -> list[tuple[str, str]]:
    """The output paths a setting gives, with where each is: `tags.path`, `path`."""
    if key in ("path", "opml", "subscribe_page") and isinstance(value, str):
        return [(key, value)]
    if key in ("categories", "tags", "authors") and isinstance(value, Mapping):
        path = value.get("path")
        return [(f"{key}.path", path)] if isinstance(path, str) else []
    return []


def default_source() -> Path:
    """The source when none is named: the folder one stands in where it is a Jekyll site root
    (it has `_config.yml`, and no `posts/` folder), else `posts/`."""
    here = Path()
    if (here / "_config.yml").is_file() and not (here / DEFAULT_SOURCE).is_dir():
        return here
    return DEFAULT_SOURCE


def load_config(
    source: Path | None = None,
    *,
    config_file: Path | None = None,
    output: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    require_url: bool = True,
    fallback_url: str | None = None,
) -> Config:
    """Read and validate every setting for building `source`; raise ConfigError on any bad one.

    Nothing is written and no post is read: a bad configuration is refused before work starts.
    `fallback_url`: the url to use when none is configured (`serve` on its own address); the
    config then says `url_is_fallback`.
    """
    source = source or default_source()
    if not source.is_dir():
        raise ConfigError("source", f"{source} is not a folder of posts")
    jekyll_config = source / "_config.yml"
    jekyll = _present(jekyll_config) or (source / "_posts").is_dir()
    values: dict[str, Any] = {
        "source": source,
        "output": DEFAULT_OUTPUT,
        "jekyll": jekyll,
        "jekyll_exclude": JEKYLL_EXCLUDES if jekyll else (),
    }
    site_vars = _read_jekyll(jekyll_config, values) if _present(jekyll_config) else {}
    own = config_file or (source / "feedsmith.toml")
    if config_file is not None and not _present(config_file):
        raise ConfigError("-c", f"{config_file} does not exist")
    if _present(own):
        raw = _read_yaml(own) if own.suffix in (".yml", ".yaml") else _read_toml(own)
        if own.suffix in (".yml", ".yaml") and isinstance(raw.get("feedsmith"), Mapping):
            raw = raw["feedsmith"]
        _apply(values, raw, str(own), base=own.parent)
        site_vars = {**site_vars, **raw}
    if overrides:
        _apply(values, overrides, "command line")
    if output is not None:  # -o
        values["output"] = output
    _derive(values, site_vars, fallback_url)
    values["config_file"] = config_file
    values["overrides"] = MappingProxyType(dict(overrides or {}))
    config = Config(**values)
    if require_url and not config.url:
        where = f"{jekyll_config}" if _present(jekyll_config) else f"{own} or _config.yml"
        raise ConfigError(
            "url",
            f"not set: feeds need absolute links. Add url (e.g. https://example.com) to {where}, or pass --url",
        )
    # What Liquid sees as `site.*`: the file's keys plus the resolved values users rely on.
    resolved = {
        "url": config.url,
        "baseurl": config.baseurl,
        "title": config.title,
        "description": config.description,
    }
    return replace(config, site_vars=MappingProxyType({**site_vars, **resolved}))


def _read_jekyll(path: Path, values: dict[str, Any]) -> dict[str, Any]:
    """A Jekyll `_config.yml` into `values`: Jekyll's keys, jekyll-feed's `feed:`, the
    `feedsmith:` section, what decides which files are posts, the site's data. Returns the
    file's keys (what Liquid sees as `site.*`)."""
    data = _read_yaml(path)
    source = path.parent
    values.update(_jekyll_reading(data, str(path)))
    values["author_data"] = MappingProxyType(_author_data(source, data))
    if (source / "feed.xslt.xml").is_file():
        values["xslt"] = "feed.xslt.xml"  # made absolute once url and baseurl are known
    feed = data.get("feed")
    if isinstance(feed, Mapping):
        known = tuple(_JEKYLL_FEED_KEYS) + _JEKYLL_FEED_IGNORED
        _reject_unknown("feed", feed, known, origin=str(path))
    _apply(values, _jekyll_settings(data), str(path), strict=False)
    _apply(values, _jekyll_feed_settings(data), str(path), strict=False, prefix="feed.")
    section = data.get("feedsmith")
    if section is not None:
        if not isinstance(section, Mapping):
            raise ConfigError(
                "feedsmith", "expected a mapping of feedsmith settings", origin=str(path)
            )
        _apply(values, section, f"{path} (feedsmith:)", base=source)
    return data


def _derive(values: dict[str, Any], site_vars: Mapping[str, Any], fallback_url: str | None) -> None:
    """What follows from the settings once all are read: collections' URL templates, the
    main feed by jekyll-feed's `collections.posts`, authors by their key in the site's data,
    the fallback url, the stylesheet's address."""
    style = str(site_vars.get("permalink", "date"))
    values["collections"] = MappingProxyType(
        _collection_permalinks(site_vars, PERMALINK_STYLES.get(style, style))
    )
    posts = (values.get("collection_feeds") or {}).get("posts")
    if posts is not None:  # jekyll-feed: `collections.posts` sets the main feed and categories
        if posts.path:
            values["path"] = posts.path
        if posts.categories and "categories" not in _given(_feed_section(site_vars)):
            values["categories"] = FeedGroup(only=posts.categories, path="feed/")
    known = values.get("author_data") or {}
    if isinstance(values.get("author"), Author) and values["author"].name in known:
        values["author"] = known[values["author"].name]  # the site's author by key, too
    if fallback_url and not values.get("url"):
        values["url"] = _url("url", fallback_url)
        values["url_is_fallback"] = True
    if values.get("xslt"):
        values["xslt"] = f"{values.get('url', '')}{values.get('baseurl', '')}/feed.xslt.xml"
    values["notes"] = tuple(values.get("notes", ()))


def reload_config(config: Config) -> Config:
    """The configuration read again from where `config` came from (its files may have
    changed); ConfigError when it is no longer valid."""
    return load_config(
        config.source,
        config_file=config.config_file,
        output=config.output,
        overrides=config.overrides,
        fallback_url=config.url if config.url_is_fallback else None,
    )


def settings_reference() -> str:
    """The configuration reference as a Markdown table (kept in the README, checked by a test)."""
    rows = ["| key | meaning |", "|---|---|"]
    rows += [f"| `{s.key}` | {s.help} |" for s in SETTINGS]
    return "\n".join(rows)
