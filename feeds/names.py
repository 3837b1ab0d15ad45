"""Category and tag names -> file name segments that are safe, distinct and deterministic.

Unicode stays (a Chinese tag keeps its Chinese file name); only what is unsafe in a path or a
URL is replaced. No name can leave the output folder, two names never share a file (also on
case-insensitive file systems), and the same names always give the same segments.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

MAX_SEGMENT_BYTES = 120  # leaves room for an extension and a suffix within 255 bytes
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|#%&+\[\]{}^`\s\u2028\u2029\ufeff]+')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)


def _short_hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def segment(name: str) -> str:
    """The file name segment for one name, before collisions with others are resolved."""
    text = unicodedata.normalize("NFC", name)
    text = _UNSAFE.sub("-", text)
    text = "".join(
        c for c in text if unicodedata.category(c) not in ("Cs", "Co", "Cn", "Cf") or c == "\u200d"
    )
    text = re.sub(r"-{2,}", "-", text).strip("-. ")
    if not text:
        return f"_{_short_hash(name)}"
    reserved = _WINDOWS_RESERVED.match(text)
    if reserved:  # Windows reads `NUL.txt` as the device NUL: mark the part before the dot
        text = f"{reserved.group(1)}_{reserved.group(2) or ''}"
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_SEGMENT_BYTES:
        cut = encoded[:MAX_SEGMENT_BYTES].decode("utf-8", "ignore").rstrip("-. ")
        text = f"{cut}-{_short_hash(name)}"
    return text


_NEVER_IN_A_FILE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def kept(name: str) -> str | None:
    """`name` as the file name jekyll-feed gives it (`feed/A股 Market.xml`), where that is a
    plain file name on every system; else None. Subscribers of those feeds keep their URL."""
    text = unicodedata.normalize("NFC", name)
    if (
        not text.strip(". ")
        or text != text.strip()
        or _NEVER_IN_A_FILE_NAME.search(text)
        or re.search(r'[:*?"<>|]', text)  # refused by Windows
        or _WINDOWS_RESERVED.match(text)
        or len(text.encode("utf-8")) > MAX_SEGMENT_BYTES
    ):
        return None
    return text


def fold(segment_text: str) -> str:
    """What a case-insensitive, normalising file system would consider the same name."""
    return unicodedata.normalize("NFC", segment_text.casefold())


def assign(
    names: Iterable[str], *, as_named: frozenset[str] = frozenset()
) -> tuple[dict[str, str], list[str]]:
    """Segments for a set of names, made distinct; and a note for each collision resolved.

    Names in `as_named` keep their own spelling where it is a plain file name (`kept`), as
    jekyll-feed writes the feeds of the categories it is told of. Among names that fold to
    one segment, the first in code point order keeps the plain segment (so existing
    subscriptions keep their URL); the others get a hash of their name.
    """
    ordered = sorted(set(names))
    result: dict[str, str] = {}
    taken: dict[str, str] = {}
    notes: list[str] = []
    for name in ordered:
        candidate = (kept(name) if name in as_named else None) or segment(name)
        folded = fold(candidate)
        if folded in taken:
            first, plain, width = taken[folded], candidate, 8
            while folded in taken:
                candidate = f"{plain}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:width]}"
                folded, width = fold(candidate), width + 4
            notes.append(
                f"{name!r} and {first!r} would share the file name {plain!r}; using {candidate!r}"
            )
        taken[folded] = name
        result[name] = candidate
    return result, notes
