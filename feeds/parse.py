"""One file -> one Post: bytes decoded, front matter read, dates, names, URL and id resolved.

Front matter follows Jekyll: it counts only when the file's very first line is `---`, and
ends at the next `---` or `...` line. What Jekyll publishes at a URL is what a feed must link
to, so the URL rules follow Jekyll too (see permalink.py).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import dateutil.parser
import yaml
from feedsmith import permalink
from feedsmith.charsets import UndecidedError, read_legacy
from feedsmith.config import Config, FrontDefault
from feedsmith.errors import PostError, UnreadableError, os_reason
from feedsmith.files import GONE, NotRegularFileError, open_regular, read_descriptor
from feedsmith.model import Author, Markup, Post, Problem, SourceFile
from feedsmith.text import (
    UNSAFE_SCHEMES,
    URL_SCHEMES,
    absolute_url,
    has_scheme,
    plain_name,
    plain_text,
    smartify,
    url_scheme,
    xml_safe,
)
from frontmatter.default_handlers import YAMLHandler

_MARKDOWN = frozenset({".md", ".markdown", ".mkdown", ".mkdn", ".mkd"})
_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\n(.*?\n?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE
)
_DATE_NAME = re.compile(r"^(\d{2,4})-(\d{1,2})-(\d{1,2})-(.*)$")
_DATE_TEXT = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:[Tt]|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{1,2})?$"
)
MAX_ALIASES = 64  # YAML anchors are rare in front matter; many aliases mean an alias bomb


class _Timestamp(str):
    """A YAML timestamp, kept as written so Jekyll's reading of it can be reproduced."""

    __slots__ = ()


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> _Timestamp:
    return _Timestamp(loader.construct_scalar(node))  # type: ignore[arg-type]


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


class _CountingLoader(yaml.SafeLoader):
    """The pure-Python loader, refusing documents with too many aliases."""

    aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (an alias bomb?)")
        return super().compose_node(parent, index)


for _loader in (_FastLoader, _CountingLoader):
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


class _FrontMatter(YAMLHandler):
    """python-frontmatter's YAML handler with the safe, timestamp-preserving loaders."""

    def load(self, fm: str, **kwargs: object) -> Any:
        if "*" in fm or "<<" in fm:
            value = yaml.load(fm, Loader=_CountingLoader)  # noqa: S506 - a SafeLoader
            _check_expansion(value)
            return value
        try:
            return yaml.load(fm, Loader=_FastLoader)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError:
            # libyaml refuses some escapes the YAML spec allows ("\ud800"): ask the Python reader
            # before calling the front matter broken.
            return yaml.load(fm, Loader=_CountingLoader)  # noqa: S506


MAX_EXPANDED = 100_000  # values a front matter may hold once its aliases are expanded


def _check_expansion(value: Any) -> None:
    """Refuse aliases that multiply: 30 levels of `[*a, *a]` are 2**31 strings when walked."""
    seen = 0
    todo = [value]
    while todo:
        item = todo.pop()
        seen += 1
        if seen > MAX_EXPANDED:
            raise yaml.YAMLError(
                f"aliases expand to more than {MAX_EXPANDED} values (an alias bomb?)"
            )
        if isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)


_HANDLER = _FrontMatter()


@dataclass(frozen=True, slots=True)
class Source:
    """A post file read and split: its front matter and its body text."""

    front: dict[str, Any]
    body: str
    digest: str
    has_front_matter: bool
    problems: tuple[Problem, ...] = ()


def decode(data: bytes, rel: str, *, html: bool = False) -> tuple[str, list[Problem]]:
    """Bytes -> text. UTF-8 (BOM or not) and UTF-16 with a BOM; a legacy encoding (GB18030,
    Big5, Shift_JIS, EUC-KR, windows-1252) only when its reading is clear, with a warning.
    `html`: the file is HTML, whose `<meta charset>` counts."""
    problems: list[Problem] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise PostError(
                rel, f"starts with a UTF-16 byte order mark but is not valid UTF-16 ({exc.reason})"
            ) from exc
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if b"\x00" in data:
                raise PostError(rel, "binary file (contains NUL bytes), not a post") from exc
            try:
                reading = read_legacy(data, html=html)
            except UndecidedError as undecided:
                raise PostError(
                    rel,
                    f"not UTF-8 (invalid byte at offset {exc.start}), and {undecided}; "
                    "save the file as UTF-8",
                ) from exc
            text = reading.text
            problems.append(
                Problem(rel, f"not UTF-8; read as {reading.encoding}, save it as UTF-8 to be sure")
            )
    if "\x00" in text:
        raise PostError(rel, "binary file (contains NUL bytes), not a post")
    # One line-end convention from here on: CRLF and lone CR (old Mac) both become LF.
    return text.replace("\r\n", "\n").replace("\r", "\n"), problems


def _read_bytes(path: str | os.PathLike[str], rel: str, max_bytes: int) -> bytes:
    """The file's bytes, up to max_bytes + 1. A FIFO, socket or device is refused (see
    feedsmith.files); a file that exists but cannot be read raises UnreadableError."""
    try:
        fd = open_regular(path)
        try:
            size = os.fstat(fd).st_size
            if size > max_bytes:
                raise PostError(rel, f"{size} bytes, larger than max_post_bytes ({max_bytes})")
            return read_descriptor(fd, max_bytes)
        finally:
            os.close(fd)
    except NotRegularFileError as exc:
        raise PostError(rel, os_reason(exc)) from exc
    except OSError as exc:
        if exc.errno in GONE:
            raise PostError(rel, f"cannot read: {os_reason(exc)}") from exc
        raise UnreadableError(rel, f"cannot read: {os_reason(exc)}") from exc


def content_digest(data: bytes) -> str:
    """A post file's digest (Post.digest): what tells an unchanged file from a changed one."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_source(
    path: str | os.PathLike[str], rel: str, *, max_bytes: int, front_matter: bool = True
) -> Source:
    """Read and split one post file. Raises PostError with the reason it cannot be used.

    With `front_matter=False` the YAML is located but not loaded (`front` is empty): the entry
    stage needs it only when the body uses Liquid.
    """
    data = _read_bytes(path, rel, max_bytes)
    if not data.strip():
        raise PostError(rel, "empty file")
    digest = content_digest(data)
    text, problems = decode(data, rel, html=markup_of(str(path)) == "html")
    match = _FRONT_MATTER.match(text)
    if match is None:
        if re.match(r"\A---[ \t]*\n", text):
            raise PostError(rel, "front matter is not closed: no second '---' line")
        if re.match(r"\A\s*\n---[ \t]*\n", text):
            problems.append(
                Problem(
                    rel,
                    "front matter ignored: the file has blank lines before '---' (Jekyll ignores it too)",
                )
            )
        return Source({}, text, digest, has_front_matter=False, problems=tuple(problems))
    if not front_matter:
        return Source(
            {}, text[match.end() :], digest, has_front_matter=True, problems=tuple(problems)
        )
    try:
        front = _HANDLER.load(match.group(1))
    except yaml.YAMLError as exc:
        raise PostError(rel, f"front matter is not valid YAML: {_yaml_reason(exc)}") from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise PostError(rel, f"front matter cannot be read: {exc}") from exc
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise PostError(rel, f"front matter must be 'key: value' lines, not {_shape(front)}")
    body = text[match.end() :]
    return Source(
        {str(k): v for k, v in front.items()},
        body,
        digest,
        has_front_matter=True,
        problems=tuple(problems),
    )


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    # The front matter starts on the file's second line.
    return f"{problem} (line {mark.line + 2}, column {mark.column + 1})" if mark else str(problem)


def _shape(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return f"{type(value).__name__} {value!r}"


# --- field readers ---------------------------------------------------------------------------


def _text_field(front: Mapping[str, Any], key: str, rel: str) -> str | None:
    value = front.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise PostError(rel, f"{key}: expected text, got {_shape(value)}")
    return str(value)


def _names(value: Any, key: str, rel: str, *, split: bool) -> list[str]:
    """Category or tag values: a list, or a string (split on whitespace for plural keys)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return value.split() if split else [value]
    if isinstance(value, (int, float, date)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, list):
                out.extend(_names(item, key, rel, split=False))
            elif isinstance(item, dict):
                raise PostError(rel, f"{key}: expected names, found a mapping in the list")
            elif item is not None:
                out.append(str(item))
        return out
    raise PostError(rel, f"{key}: expected a name or a list of names, got {_shape(value)}")


def clean_name(name: str) -> str:
    """One spelling per name: NFC, no XML-illegal or reordering characters, single spaces,
    trimmed, and plain text where it held markup (`plain_name`).

    Interned: a tag carried by 30,000 posts is one string in memory, not 30,000.
    """
    return sys.intern(plain_name(name))


@dataclass(frozen=True, slots=True)
class NameLimits:
    """How many names one post may carry of a kind, and how long one name may be."""

    most: int
    longest: int
    setting: str  # the setting of `most`, named in the warning


def _unique(
    names: Sequence[str], limits: NameLimits | None = None, kind: str = "names"
) -> tuple[tuple[str, ...], list[str]]:
    """Each name once, in the order written; with `limits`, the first `most` of them, each
    at most `longest` characters, and what was cut or left out.

    Names past the limit are never cleaned: a post of 50,000 tags costs 50,000 splits, not
    50,000 feeds (and each of those feeds would list all 50,000).
    """
    if limits is None:
        return tuple(dict.fromkeys(n for n in (clean_name(x) for x in names) if n)), []
    kept: dict[str, None] = {}
    notes: list[str] = []
    cut: list[tuple[str, int]] = []  # (the name as cut, its length before)
    distinct = list(dict.fromkeys(names))
    at = 0
    while at < len(distinct) and len(kept) < limits.most:
        raw = distinct[at]
        at += 1
        # Markup in a name shrinks when cleaned: cut generously first, exactly after.
        name = clean_name(raw[: limits.longest * 8] if len(raw) > limits.longest * 8 else raw)
        if len(name) > limits.longest:
            length = max(len(raw), len(name))
            name = clean_name(name[: limits.longest])
            cut.append((name, length))
        if name:
            kept[name] = None
    if cut:
        first, length = cut[0]
        more = f" and {len(cut) - 1:,} more" if len(cut) > 1 else ""
        notes.append(
            f"{_singular(kind)} '{first[:40]}…' ({length:,} characters){more} cut to "
            f"{limits.longest:,} characters (max_name_length)"
        )
    rest = sum(1 for raw in distinct[at:] if raw.strip())
    if rest:
        notes.append(
            f"{len(kept) + rest:,} {kind}; only the first {limits.most:,} are used "
            f"({limits.setting}), {rest:,} left out"
        )
    return tuple(kept), notes


def _singular(kind: str) -> str:
    return {"categories": "category", "tags": "tag"}.get(kind, kind)


def categories_of(
    front: Mapping[str, Any],
    folders: tuple[str, ...],
    rel: str,
    limits: NameLimits | None = None,
) -> tuple[tuple[str, ...], list[str]]:
    """Jekyll's populate_categories: folder categories, `categories` (split) and `category`;
    and what `limits` cut or left out."""
    plural = _names(front.get("categories"), "categories", rel, split=True)
    singular = _names(front.get("category"), "category", rel, split=False)
    return _unique([*folders, *plural, *(singular or plural)], limits, "categories")


def tags_of(
    front: Mapping[str, Any], rel: str, limits: NameLimits | None = None
) -> tuple[tuple[str, ...], list[str]]:
    """Jekyll's populate_tags: `tag` (one name) if present, else `tags` (split); and what
    `limits` cut or left out."""
    if front.get("tag") not in (None, ""):
        return _unique(_names(front["tag"], "tag", rel, split=False), limits, "tags")
    return _unique(_names(front.get("tags"), "tags", rel, split=True), limits, "tags")


def parse_date(value: Any, tz: ZoneInfo, key: str, rel: str) -> tuple[datetime, bool]:
    """A front matter date -> aware datetime, and whether YAML read it as a naive timestamp.

    Dates without an offset are in the site's time zone.
    """
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)), value.tzinfo is None
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=tz), False
    if not isinstance(value, str):
        raise PostError(
            rel, f"{key}: expected a date like 2022-01-26 04:35:02 +0800, got {_shape(value)}"
        )
    text = value.strip()
    match = _DATE_TEXT.match(text)
    if match is None:
        return _lenient_date(text, tz, key, rel), False
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
        )
    except ValueError as exc:
        raise PostError(rel, f"{key}: {text!r} is not a valid date ({exc})") from exc
    naive = zone is None
    if naive:
        return parsed.replace(tzinfo=tz), isinstance(value, _Timestamp) and hour is not None
    if zone in ("Z", "z", "UTC", "GMT"):
        return parsed.replace(tzinfo=UTC), False
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = (
        (int(digits[:2]), int(digits[2:] or 0)) if len(digits) > 2 else (int(digits), 0)
    )
    if hours > 23 or minutes > 59:
        raise PostError(rel, f"{key}: {value.strip()!r} has an impossible offset")
    return parsed.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes))), False


_ISO_PREFIX = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2}(?:[Tt ]\d{1,2}:\d{2}(?::\d{2})?)?)\b.*?\s([+-]\d{2}:?\d{2}|Z|UTC)?$"
)


def _lenient_date(text: str, tz: ZoneInfo, key: str, rel: str) -> datetime:
    """Dates Jekyll (Ruby's Time.parse) accepts in other spellings: `Jan 26, 2022 4:35 PM`.

    A date is accepted only when year, month and day are all written: Ruby fills the
    missing ones from today, which silently gives a post a wrong date.
    """
    complaint = f"{key}: {text!r} is not a date (expected e.g. 2022-01-26 04:35:02 +0800)"
    results = []
    for default in (datetime(2001, 2, 3), datetime(2002, 4, 5)):
        try:
            with warnings.catch_warnings():  # a zone it cannot name (CEST) reads as no zone,
                warnings.simplefilter("ignore")  # as Ruby's Time.parse reads it
                results.append(dateutil.parser.parse(text, default=default))
        except (ValueError, OverflowError):
            break
    if len(results) == 2 and results[0].date() == results[1].date():
        parsed = results[0]
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    salvage = _ISO_PREFIX.match(text)
    if salvage is None:
        raise PostError(rel, complaint)
    return parse_date(f"{salvage.group(1)} {salvage.group(2) or ''}".strip(), tz, key, rel)[0]


def _author_name(text: str) -> str:
    """A post's author name: read as HTML (entities decoded, markup removed), NFC."""
    return sys.intern(plain_text(text, nfc=True))


def _author(value: Any, rel: str) -> Author | None:
    if value in (None, ""):
        return None
    if isinstance(value, Mapping):
        name = value.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PostError(rel, "author: a mapping needs a name")
        email = value.get("email")
        uri = value.get("uri") or value.get("url")
        return Author(
            name=_author_name(name),
            email=_author_name(str(email)) if email else None,
            uri=absolute_url(str(uri), "", URL_SCHEMES) if uri else None,  # absolute only
        )
    if isinstance(value, (str, int)):
        name = _author_name(str(value))
        return Author(name=name) if name else None
    raise PostError(rel, f"author: expected a name or a mapping, got {_shape(value)}")


MAX_AUTHORS = 100  # more names than any byline has: the rest are left out


def authors_of(
    front: Mapping[str, Any], rel: str, known: Mapping[str, Author] | None = None
) -> tuple[Author, ...]:
    """Every author: `author` (a name, a mapping, or a list of them), else `authors` (a list,
    or one name), as jekyll-seo-tag and jekyll-feed read them; each name once. A name that is
    a key of `known` (the site's `_data/authors.yml`) is that author, as jekyll-feed has it."""
    value = front.get("author")
    if value in (None, "", []):
        value = front.get("authors")
    values = value if isinstance(value, list) else [value]
    found: dict[str, Author] = {}
    for item in values[:MAX_AUTHORS]:
        if isinstance(item, list):
            raise PostError(rel, "author: expected names, found a list in the list")
        author = _author(item, rel)
        if author is not None and known and isinstance(item, (str, int)):
            author = known.get(str(item).strip(), author)
        if author is not None:
            found.setdefault(author.name, author)
    return tuple(found.values())


def _flag(front: Mapping[str, Any], key: str, rel: str) -> bool | None:
    value = front.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
        return value.lower() in ("true", "yes")
    raise PostError(rel, f"{key}: expected true or false, got {_shape(value)}")


@dataclass(frozen=True, slots=True)
class Parsed:
    """What parsing one file gave: the post, or the reason it is not published."""

    post: Post | None
    problems: tuple[Problem, ...]
    held_back: str | None = None  # why a readable post is not published (draft, future…)


def _slug_and_date(name: str, rel: str) -> tuple[str, str, date | None]:
    """Split a file name like `2022-01-26-slug.md` into (stem, slug, date from the name)."""
    stem = PurePosixPath(name).stem
    match = _DATE_NAME.match(stem)
    if match is None:
        return stem, stem.rstrip("."), None
    year, month, day, slug = match.groups()
    try:
        named = date(int(year), int(month), int(day))
    except ValueError as exc:
        raise PostError(
            rel, f"the file name's date {year}-{month}-{day} is not a valid date"
        ) from exc
    return stem, slug.rstrip("."), named


def _dates(
    front: Mapping[str, Any], file: SourceFile, named: date | None, config: Config
) -> tuple[datetime, datetime, datetime]:
    """(published, the date Jekyll builds the URL from, updated), all in the site zone."""
    rel, tz = file.rel, config.tz
    raw = front.get("date")
    if raw not in (None, ""):
        when, naive_timestamp = parse_date(raw, tz, "date", rel)
    elif named is not None:
        when, naive_timestamp = datetime.combine(named, time(), tzinfo=tz), False
    elif file.draft or file.collection != "posts":
        # Jekyll dates undated drafts by their modification time; an undated document of a
        # collection it dates by the build's time, which would change every feed every build.
        when, naive_timestamp = datetime.fromtimestamp(os.stat(file.path).st_mtime, tz), False
    else:
        raise PostError(
            rel,
            "no date: the front matter has no usable `date` and the file name does not start with YYYY-MM-DD-",
        )
    when = when.astimezone(tz)
    # Jekyll (Psych) reads an unquoted timestamp without offset as UTC and builds the URL from
    # that; the page lives there, so the link must follow even though the real time is local.
    url_date = (
        when.replace(tzinfo=UTC).astimezone(tz) if (naive_timestamp and config.jekyll) else when
    )
    updated = when
    for key in ("last_modified_at", "updated", "modified"):
        if front.get(key) not in (None, ""):
            updated = max(parse_date(front[key], tz, key, rel)[0].astimezone(tz), when)
            break
    return when, url_date, updated


def _held_back(
    front: Mapping[str, Any], file: SourceFile, when: datetime, now: datetime, config: Config
) -> str | None:
    """Why a readable post is not published, or None when it is."""
    if _flag(front, "published", file.rel) is False:
        return "published: false"
    if (file.draft or _flag(front, "draft", file.rel)) and not config.drafts:
        return "draft"
    if when > now and not config.future:
        return "dated in the future"
    if front.get("feed") is False:
        return "feed: false"
    return None


def _title(front: Mapping[str, Any], slug: str, rel: str, *, smart: bool) -> str:
    """Front matter title as plain text; else Jekyll's title from the slug, if it has words;
    with `smart`, with typographic quotes and dashes, as jekyll-feed's `smartify`."""
    title = _text_field(front, "title", rel)
    if title:
        title = plain_text(title)
    elif "title" not in front and re.search(r"[^\W\d_]", slug):
        title = plain_text(permalink.titleize(slug))  # a file name can hold markup too
    else:
        return ""  # the entry stage derives one from the body
    # smartypants reads HTML: what it gives is made plain text again (it stays as it is).
    return plain_text(smartify(title)) if smart else title


def _summary(front: Mapping[str, Any], rel: str) -> str | None:
    """The summary the front matter gives, as jekyll-feed reads it: `description`, else
    `excerpt` (else feedsmith's `summary`). None: none is given, the body makes one; "": an
    `excerpt: ""` that says there is none (Jekyll keeps it, and jekyll-feed then writes none).
    """
    for key in ("description", "excerpt", "summary"):
        text = _text_field(front, key, rel)
        if text and text.strip():
            return plain_text(text)
    return "" if front.get("excerpt") == "" else None


def _image(front: Mapping[str, Any], config: Config) -> str | None:
    image = front.get("image")
    if isinstance(image, Mapping):
        image = image.get("path") or image.get("url")
    return _site_link(image.strip(), config) if isinstance(image, str) and image.strip() else None


def _scoped_path(path: str) -> str:
    """Jekyll's FrontmatterDefaults#sanitize_path: no leading slash, no trailing one."""
    return path.strip("/") if path.startswith("/") else path


def _deep_merge(low: Mapping[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    """Jekyll's Utils.deep_merge_hashes: `high` wins, mappings are merged key by key."""
    merged = dict(low)
    for key, value in high.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def front_defaults(config: Config, rel: str, kind: str) -> dict[str, Any]:
    """The front matter defaults (Jekyll's `defaults:`) a post at `rel` of collection `kind`
    takes, merged in Jekyll's order: a longer scope path wins, then one that names a type."""
    if config.collections_dir and rel.startswith(config.collections_dir + "/"):
        rel = rel[len(config.collections_dir) + 1 :]
    merged: dict[str, Any] = {}
    best: FrontDefault | None = None
    for item in config.front_defaults:
        scope = _scoped_path(item.path)
        if item.type is not None and item.type != kind:
            continue
        if scope and "*" in scope:
            parts = rel.split("/")
            prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
            if not any(fnmatch.fnmatchcase(prefix, scope) for prefix in prefixes):
                continue
        elif scope and not rel.startswith(scope):
            continue
        if best is None or _precedes(best, item):
            merged = _deep_merge(merged, item.values)
            best = item
        else:
            merged = _deep_merge(item.values, merged)
    return merged


def _precedes(old: FrontDefault, new: FrontDefault) -> bool:
    """Jekyll's has_precedence?: the longer path, then the one naming a type."""
    old_path, new_path = _scoped_path(old.path), _scoped_path(new.path)
    if len(new_path) != len(old_path):
        return len(new_path) >= len(old_path)
    return new.type is not None or old.type is None


def parse_post(file: SourceFile, config: Config, *, now: datetime) -> Parsed:
    """Read one post file into a Post; raise PostError when it cannot be used at all."""
    rel = file.rel
    source = read_source(file.path, rel, max_bytes=config.max_post_bytes)
    front, problems = source.front, source.problems
    if config.front_defaults:
        front = _deep_merge(front_defaults(config, rel, file.collection), front)

    stem, slug, named = _slug_and_date(os.path.basename(file.path), rel)
    if isinstance(front.get("slug"), (str, int)) and str(front["slug"]).strip():
        slug = str(front["slug"]).strip()
    when, url_date, updated = _dates(front, file, named, config)
    reason = _held_back(front, file, when, now, config)
    if reason is not None:
        return Parsed(None, problems, held_back=reason)

    feed_setting = front.get("feed")
    excerpt_only = feed_setting.get("excerpt_only") if isinstance(feed_setting, Mapping) else None
    categories, cut = categories_of(
        front,
        file.categories,
        rel,
        NameLimits(
            config.max_categories_per_post, config.max_name_length, "max_categories_per_post"
        ),
    )
    tags, cut_tags = tags_of(
        front,
        rel,
        NameLimits(config.max_tags_per_post, config.max_name_length, "max_tags_per_post"),
    )
    custom = _text_field(front, "permalink", rel)
    if file.collection == "posts" or custom:
        path = permalink.post_path(
            config.permalink,
            date=url_date,
            slug=slug,
            basename=stem,
            categories=categories,
            permalink=custom.strip() if custom else None,
            path=_jekyll_path(rel),
        )
    else:  # a document of another collection: that collection's URL template
        template = config.collections.get(file.collection) or config.collections.get(
            "*", "/:collection/:path:output_ext"
        )
        inside = rel.split(f"_{file.collection}/", 1)[-1]
        path = permalink.collection_path(template, collection=file.collection, relative=inside)
    url = permalink.absolute(config.url, config.baseurl, path)
    told = [Problem(rel, note) for note in (*cut, *cut_tags)]
    entry_id = _entry_id(
        (_text_field(front, "id", rel) or "").strip(),
        rel,
        url,
        permalink.jekyll_id_path(path, slug),
        config,
        warn=lambda reason: told.append(Problem(rel, reason)),
    )
    lang = _text_field(front, "lang", rel)
    post = Post(
        path=file.path,
        rel=rel,
        digest=source.digest,
        markup=markup_of(file.path),
        title=_title(front, slug, rel, smart=config.smart_titles),
        date=when,
        updated=updated,
        url=url,
        id=entry_id,
        slug=slug,
        categories=categories,
        tags=tags,
        authors=authors_of(front, rel, config.author_data),
        summary=_summary(front, rel),
        image=_image(front, config),
        lang=clean_name(lang) if lang else None,
        excerpt_only=excerpt_only if isinstance(excerpt_only, bool) else None,
        collection=file.collection,
    )
    return Parsed(post, (*problems, *told))


def _jekyll_path(rel: str) -> str:
    """Jekyll's `:path` for a post: its source path without extension, `_posts` left out."""
    stem = rel.rsplit(".", 1)[0]
    return stem.replace("_posts", "", 1) if "_posts/" in stem else stem


def _entry_id(
    explicit: str,
    rel: str,
    url: str,
    id_path: str,
    config: Config,
    *,
    warn: Callable[[str], None],
) -> str:
    """The entry id: front matter `id`, else the `ids` map (by file or URL), else jekyll-feed's.

    jekyll-feed's id is built on `id_base` when one is set, so a site that moves to another
    host or path keeps the ids its readers already have. An id that is a `javascript:`,
    `vbscript:` or `data:` URL however spelled is refused (readers link to ids that are URLs):
    the next id in that order is used, with a warning.
    """
    site_id = permalink.absolute_id(config.url, config.baseurl, id_path)
    mapped = config.ids.get(rel) or config.ids.get(url) or config.ids.get(site_id)
    for given, where in ((explicit, "id"), (mapped, "the ids setting's id")):
        if not given:
            continue
        scheme = url_scheme(given)
        if scheme in UNSAFE_SCHEMES:
            warn(
                f"{where} {given[:80]!r} is a {scheme}: URL, which a feed never carries as an"
                " entry id; using the default id instead"
            )
            continue
        return _absolute_id(given, config)
    if config.id_base:
        parts = urlsplit(config.id_base)
        return permalink.absolute_id(
            f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/"), id_path
        )
    return site_id


def _absolute_id(value: str, config: Config) -> str:
    """A front matter `id`: kept when it is a URI, else made absolute like jekyll-feed's ids
    (on `id_base` when set: such ids must survive a move too)."""
    if has_scheme(value):
        return xml_safe(value)
    if config.id_base:
        parts = urlsplit(config.id_base)
        return permalink.absolute(f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/"), value)
    return permalink.absolute(config.url, config.baseurl, value)


def _site_link(ref: str, config: Config) -> str | None:
    """A front matter link such as `image:`: absolute, or relative to the site (jekyll-feed);
    None unless it is http(s) — a feed never carries a `javascript:` link."""
    link = permalink.site_link(xml_safe(ref.strip()), config.url, config.baseurl)
    return absolute_url(link, config.site_url, frozenset({"http", "https"}))


def markup_of(path: str) -> Markup:
    return "markdown" if os.path.splitext(path)[1].lower() in _MARKDOWN else "html"
