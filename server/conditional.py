"""Conditional requests (RFC 9110 section 13) and content coding, as pure functions.

`is_not_modified` answers the one question a feed server must get right for aggregators:
may this GET be answered `304 Not Modified`? If-None-Match takes precedence; If-Modified-Since
is looked at only when there is no If-None-Match; a malformed header is ignored, never an error.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime

MAX_ETAGS = 100  # an If-None-Match list longer than this is not worth comparing in full
MAX_VALIDATOR = 8192  # characters of a validator header looked at; the rest is ignored
# No quantified prefix: each scan step is constant work, so a 16 KiB header of spaces costs
# microseconds, not the quadratic backtracking of a leading `\s*`.
_ETAG = re.compile(r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"')
CODINGS = ("br", "zstd", "gzip")  # the server's preference when the client rates them equally


def _opaque(tag: str) -> str:
    """An entity-tag without its weakness flag: weak comparison (RFC 9110 8.8.3.2)."""
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match value matches `etag` under weak comparison; `*` matches any."""
    if if_none_match.strip() == "*":
        return True
    wanted = _opaque(etag)
    for count, match in enumerate(_ETAG.finditer(if_none_match, 0, MAX_VALIDATOR)):
        if count >= MAX_ETAGS:
            break
        if _opaque(match.group(0)) == wanted:
            return True
    return False


def parse_http_date(value: str) -> datetime | None:
    """An HTTP-date (IMF-fixdate or the obsolete forms), or None when it is not one."""
    if len(value) > 100:  # no HTTP-date is this long
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def is_not_modified(
    *,
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    last_modified: datetime | None,
) -> bool:
    """Whether a GET or HEAD with these request headers may be answered 304.

    RFC 9110 13.2.2: If-None-Match is evaluated first; when present, If-Modified-Since is
    ignored. If-Modified-Since counts only when it is a valid date and the representation has
    a modification date, and only when it is that very date (to the second: HTTP dates have
    no finer grain), as nginx's `if_modified_since exact`. A date the server never sent for
    these bytes (a client's own clock, another replica's time for other bytes) proves nothing
    about what the client holds, so it gets the full answer; RFC 9110 allows a 200 there.
    """
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if if_modified_since is None or last_modified is None:
        return False
    since = parse_http_date(if_modified_since)
    if since is None:
        return False
    return since.replace(microsecond=0) == last_modified.replace(microsecond=0)


def http_date(when: datetime) -> str:
    """An IMF-fixdate, as Last-Modified wants it."""
    return email.utils.format_datetime(when.astimezone(UTC), usegmt=True)


def choose_coding(accept_encoding: str | None, available: tuple[str, ...] = CODINGS) -> str:
    """The content coding to send: the client's highest-rated one we have, else identity.

    `gzip;q=0` refuses gzip; `*` stands for every coding not named; ties go to the order of
    `available` (smaller first).
    """
    if not accept_encoding:
        return "identity"
    ratings: dict[str, float] = {}
    for part in accept_encoding.split(",")[:50]:
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        ratings[name] = max(0.0, min(quality, 1.0))
    star = ratings.get("*")
    best, best_quality = "identity", 0.0
    for coding in available:
        quality = ratings.get(coding, star if star is not None else 0.0)
        if quality > best_quality:
            best, best_quality = coding, quality
    if ratings.get("identity", 0.0) > best_quality:
        return "identity"
    return best
