"""Hostile and broken input: nothing crashes, nothing leaks, nothing is lost.

Most tests read one real `feedsmith build` (a subprocess) of tests/data/hostile/ plus the cases
that cannot live in a repository (see that folder's README.md): bad posts are reported once
and skipped, good ones are published, no output carries executable markup, every name stays
inside OUT. The rest build generated archives to interrupt, race and read builds.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from feedsmith import Config, state_folder
from feedsmith.state import read_manifest
from lxml import etree

from tests.conftest import DATA

HOSTILE = DATA / "hostile"
SITE_URL = "https://hostile.example.org"
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
XML_SUFFIXES = (".xml", ".rss", ".opml")
FEED_SUFFIXES = (".xml", ".rss")
TIMEOUT = 300  # a guard against hangs, far above any real build here; not a speed test

# Bad posts: file name (or a regex for it) -> what the reason must mention.
BAD_FIXTURES = {
    "2024-01-01-yaml-unescaped-quote.md": r"yaml",
    "2024-01-02-yaml-tab.md": r"yaml|tab",
    "2024-01-03-yaml-unclosed.md": r"not closed|unclosed|no second",
    "2024-01-04-shape-list.md": r"list",
    "2024-01-05-shape-number.md": r"42|number|int",
    "2024-01-06-title-list.md": r"title",
    "2024-01-07-date-yesterday.md": r"yesterday",
    "2024-01-08-alias-bomb.md": r"alias",
    "no-date-anywhere.md": r"date",
    "2022-02-30-invalid-name-date.md": r"2022-02-30",
    "2024-01-09-invalid-front-date.md": r"2022-02-30",
    "2024-01-10-no-encoding.md": r"not UTF-8.*save the file as UTF-8",
    "2024-01-11-empty.md": r"empty",
    "2024-01-13-binary.html": r"binary|utf-8",
}
OVERSIZED = "2024-01-14-oversized.md"
SYMLINK = "2024-01-15-symlink-outside.md"
BAD_NAME = b"2024-01-16-bad-\xff\xfe-name.md"
CONTROL_NAME = "2024-02-18-ctrl\x01\x1bname.md"
GENERATED_BAD = {OVERSIZED: r"max_post_bytes|larger", SYMLINK: r"symlink|outside"}

# Good posts: the marker each one's title carries (markup and controls around it go).
GOOD = {
    "GOOD-FRONT-ONLY": "2024-01-12-front-only.md",  # Jekyll publishes it: so does feedsmith
    "GOOD-BOM": "2024-02-01-utf8-bom.md",
    "GOOD-UTF16LE": "2024-02-02-utf16-le.md",
    "GOOD-UTF16BE": "2024-02-03-utf16-be.md",
    "GOOD-CRLF": "2024-02-04-crlf.md",
    "GOOD-CR": "2024-02-05-cr.md",
    "GOOD-GB18030": "2024-02-06-gb18030.md",
    "GOOD-CP1252": "2024-02-20-windows-1252.md",
    "GOOD-DUPID-A": "2024-02-07-duplicate-id-a.md",
    "GOOD-DUPID-B": "2024-02-07-duplicate-id-b.md",
    "GOOD-DUPLINK-A": "2024-02-08-duplicate-permalink-a.md",
    "GOOD-DUPLINK-B": "2024-02-08-duplicate-permalink-b.md",
    "GOOD-XSS-HTML": "2024-02-09-xss.html",
    "GOOD-XSS-MD": "2024-02-10-xss.md",
    "GOOD-NAMES": "2024-02-11-hostile-names.md",
    "GOOD-CTRL": "2024-02-12-control-chars.md",
    "GOOD-SURROGATE": "2024-02-13-lone-surrogates.md",
    "GOOD-NFC": "2024-02-14-nfc.md",
    "GOOD-NFD": "2024-02-15-nfd.md",
    "GOOD-CASE-UPPER": "2024-02-16-case-upper.md",
    "GOOD-CASE-LOWER": "2024-02-17-case-lower.md",
    "GOOD-CTRL-NAME": CONTROL_NAME,
    "GOOD-DOUBLE-ESCAPED": "2024-02-19-double-escaped.md",
}
# The categories and tags of 2024-02-11-hostile-names.md, as the feeds must name them:
# NUL removed, the newline made a space (names are single-spaced), the 1,000 characters cut
# to `max_name_length`.
HOSTILE_NAMES = {
    "../../etc",
    "/abs",
    "..",
    ".",
    "CON",
    "nul.txt",
    "a/b",
    "a\\b",
    "nulname",
    "new line",
    "n" * 200,
}
WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)

FORBIDDEN_ELEMENTS = frozenset(
    {
        "script", "style", "iframe", "object", "embed", "form", "meta", "base", "link", "svg",
        "frame", "frameset", "applet",
    }
)  # fmt: skip
URL_ATTRIBUTES = (
    "href",
    "src",
    "srcset",
    "poster",
    "cite",
    "action",
    "formaction",
    "background",
    "xlink:href",
)
FORBIDDEN_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]")


def feedsmith(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run the command the way a user or a CI job does."""
    return subprocess.run(  # type: ignore[no-any-return, call-overload]
        [sys.executable, "-m", "feedsmith", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
        **kwargs,
    )


def strict_parse(path: Path) -> etree._Element:
    """The document in `path` read by lxml's strict parser (no recovery, no entities, no network)."""
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
    return etree.fromstring(path.read_bytes(), parser)


def tree_files(out: Path) -> list[Path]:
    """Every file under `out`, hidden ones included."""
    return sorted(p for p in out.rglob("*") if p.is_file() or p.is_symlink())


def published_files(out: Path) -> list[Path]:
    """The files a reader is served: everything but feedsmith's own hidden state."""
    return [
        p
        for p in tree_files(out)
        if not any(part.startswith(".") for part in p.relative_to(out).parts)
    ]


def xml_outputs(out: Path) -> list[Path]:
    return [p for p in published_files(out) if p.suffix in XML_SUFFIXES]


def feed_outputs(out: Path) -> list[Path]:
    return [p for p in published_files(out) if p.suffix in FEED_SUFFIXES]


def entry_titles(path: Path) -> list[str]:
    """The entry titles of an Atom or RSS file, as its XML text says."""
    root = strict_parse(path)
    if root.tag == f"{{{ATOM}}}feed":
        return [e.findtext(f"{{{ATOM}}}title") or "" for e in root.iter(f"{{{ATOM}}}entry")]
    return [item.findtext("title") or "" for item in root.iter("item")]


def feed_title(path: Path) -> str:
    root = strict_parse(path)
    if root.tag == f"{{{ATOM}}}feed":
        return root.findtext(f"{{{ATOM}}}title") or ""
    return root.findtext("channel/title") or ""


def self_link(path: Path) -> str | None:
    root = strict_parse(path)
    channel = root if root.tag == f"{{{ATOM}}}feed" else root.find("channel")
    assert channel is not None, path
    for link in channel.iterfind(f"{{{ATOM}}}link"):
        if link.get("rel") == "self":
            return link.get("href")
    return None


@dataclass(frozen=True)
class Field:
    """One text of one feed: an entry's title, summary or content, or the feed's title."""

    file: str
    kind: str  # "title", "summary", "content", "author"
    text: str


def fields(path: Path, rel: str) -> Iterator[Field]:
    """Every title, summary, content and author text of an Atom or RSS file."""
    root = strict_parse(path)
    if root.tag == f"{{{ATOM}}}feed":
        yield Field(rel, "title", root.findtext(f"{{{ATOM}}}title") or "")
        for entry in root.iter(f"{{{ATOM}}}entry"):
            yield Field(rel, "title", entry.findtext(f"{{{ATOM}}}title") or "")
            yield Field(rel, "summary", entry.findtext(f"{{{ATOM}}}summary") or "")
            yield Field(rel, "content", entry.findtext(f"{{{ATOM}}}content") or "")
            for name in entry.iterfind(f"{{{ATOM}}}author/{{{ATOM}}}name"):
                yield Field(rel, "author", name.text or "")
        return
    yield Field(rel, "title", root.findtext("channel/title") or "")
    for item in root.iter("item"):
        yield Field(rel, "title", item.findtext("title") or "")
        yield Field(rel, "summary", item.findtext("description") or "")
        yield Field(rel, "content", item.findtext(f"{{{CONTENT}}}encoded") or "")
        for tag in ("author", "{http://purl.org/dc/elements/1.1/}creator"):
            for name in item.iterfind(tag):
                yield Field(rel, "author", name.text or "")


def soup(markup: str) -> BeautifulSoup:
    """An independent HTML reader's view of `markup` (bs4 with Python's html.parser)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(markup, "html.parser")


def unsafe_url(attr: str, value: str) -> bool:
    """Whether a URL attribute would run code: entities decoded, spaces and controls removed."""
    for candidate in value.split(",") if attr == "srcset" else [value]:
        plain = _INVISIBLE.sub("", html.unescape(html.unescape(candidate))).lower()
        if plain.startswith(FORBIDDEN_SCHEMES):
            return True
    return False


# --- the end-to-end build of the hostile folder -------------------------------------------------


@dataclass(frozen=True)
class HostileBuild:
    root: Path  # holds src, out and the symlink's target
    src: Path
    out: Path
    result: subprocess.CompletedProcess[str]
    made: frozenset[str]  # generated cases the file system accepted
    outside_before: frozenset[str]  # every path under root but OUT, before the build
    outside_after: frozenset[str]  # the same, right after it (later tests write beside OUT)

    @property
    def stderr_lines(self) -> list[str]:
        return self.result.stderr.splitlines()

    def skipped_lines(self) -> list[str]:
        return [line for line in self.stderr_lines if ": skipped: " in line]

    def site_titles(self) -> list[str]:
        return entry_titles(self.out / "feed.xml")


def copy_fixtures(src: Path) -> None:
    """tests/data/hostile without its README (a `.md` file, it would be read as a post)."""
    shutil.copytree(HOSTILE, src, ignore=shutil.ignore_patterns("README.md"))


def add_generated_cases(src: Path, root: Path) -> frozenset[str]:
    """The cases a repository cannot hold: big, symlinked and oddly named files."""
    made = set()
    (src / OVERSIZED).write_text(
        "---\ntitle: Too big\n---\n" + "An oversized post. " * 11_000 + "\n", encoding="utf-8"
    )
    made.add(OVERSIZED)
    secret = root / "outside-secret.md"
    secret.write_text("---\ntitle: SECRET-OUTSIDE\n---\nNot part of the site.\n", encoding="utf-8")
    try:
        (src / SYMLINK).symlink_to(secret)
        made.add(SYMLINK)
    except OSError:
        pass
    try:
        # os.fsdecode keeps the invalid bytes (surrogateescape); open() writes them back as is.
        (src / os.fsdecode(BAD_NAME)).write_bytes(
            b"---\ntitle: Bad name\n---\nThe file name is not UTF-8.\n"
        )
        made.add("bad-name")
    except (OSError, UnicodeError):
        pass
    try:
        (src / CONTROL_NAME).write_text(
            "---\ntitle: GOOD-CTRL-NAME\n---\nThe file name has control characters.\n",
            encoding="utf-8",
        )
        made.add(CONTROL_NAME)
    except (OSError, ValueError):
        pass
    return frozenset(made)


def paths_outside(root: Path, out: Path) -> frozenset[str]:
    return frozenset(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_relative_to(out))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HostileBuild:
    """tests/data/hostile plus the generated cases, built once by the real command."""
    root = tmp_path_factory.mktemp("hostile")
    src, out = root / "src", root / "out"
    copy_fixtures(src)
    made = add_generated_cases(src, root)
    before = paths_outside(root, out)
    result = feedsmith("build", src, "-o", out)
    return HostileBuild(root, src, out, result, made, before, paths_outside(root, out))


def test_build_of_hostile_posts_exits_0(hostile: HostileBuild) -> None:
    """Bad posts are skipped, not fatal: the build as a whole succeeds."""
    assert hostile.result.returncode == 0, hostile.result.stderr


def skipped_line_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(name)}: skipped: (?P<reason>.+)$")


@pytest.mark.parametrize(("name", "reason"), sorted({**BAD_FIXTURES, **GENERATED_BAD}.items()))
def test_bad_post_gets_exactly_one_skipped_line_with_its_reason(
    hostile: HostileBuild, name: str, reason: str
) -> None:
    """`path: skipped: reason`, once per bad file, naming the file and saying what is wrong."""
    if name in GENERATED_BAD and name not in hostile.made:
        pytest.skip(f"the file system refused to create {name}")
    pattern = skipped_line_pattern(name)
    lines = [m for line in hostile.stderr_lines if (m := pattern.match(line))]
    assert len(lines) == 1, hostile.result.stderr
    assert re.search(reason, lines[0]["reason"], re.IGNORECASE), lines[0].group(0)


def test_file_name_that_is_not_utf8_gets_one_skipped_line(hostile: HostileBuild) -> None:
    """A file name with invalid UTF-8 bytes is reported (shown escaped) and not read."""
    if "bad-name" not in hostile.made:
        pytest.skip("the file system refuses file names that are not UTF-8")
    pattern = re.compile(r"^2024-01-16-bad-.*-name\.md: skipped: .+$")
    lines = [line for line in hostile.stderr_lines if pattern.match(line)]
    assert len(lines) == 1, hostile.result.stderr
    assert "Bad name" not in hostile.site_titles()


def test_only_bad_posts_are_skipped(hostile: HostileBuild) -> None:
    """Every `skipped:` line names one of the bad posts: no good post is lost on the way."""
    bad = [*BAD_FIXTURES, *(n for n in GENERATED_BAD if n in hostile.made)]
    patterns = [skipped_line_pattern(name) for name in bad]
    patterns.append(re.compile(r"^2024-01-16-bad-.*-name\.md: skipped: "))
    unexpected = [
        line for line in hostile.skipped_lines() if not any(p.match(line) for p in patterns)
    ]
    assert unexpected == []


@pytest.mark.parametrize("marker", sorted(GOOD))
def test_good_post_is_published(hostile: HostileBuild, marker: str) -> None:
    """BOM, UTF-16, CRLF, CR, GB18030, duplicates, XSS, hostile names, controls: all published."""
    if marker == "GOOD-CTRL-NAME" and CONTROL_NAME not in hostile.made:
        pytest.skip("the file system refuses control characters in file names")
    titles = hostile.site_titles()
    assert any(marker in title for title in titles), (GOOD[marker], titles)


def test_symlink_target_outside_the_source_is_not_read(hostile: HostileBuild) -> None:
    """The file a symlink points to outside SOURCE never reaches any feed."""
    leaks = [p for p in published_files(hostile.out) if b"SECRET-OUTSIDE" in p.read_bytes()]
    assert leaks == []


def test_gb18030_post_is_read_with_a_warning(hostile: HostileBuild) -> None:
    """A plainly Chinese GB18030 file is decoded, with a warning that says so."""
    warning = [
        line
        for line in hostile.stderr_lines
        if line.startswith("2024-02-06-gb18030.md: warning: ") and "GB18030" in line
    ]
    assert len(warning) == 1, hostile.result.stderr
    assert "GOOD-GB18030 东方财富滚动新闻" in hostile.site_titles()


def test_utf16_and_bom_posts_keep_their_text(hostile: HostileBuild) -> None:
    """Decoded, not mangled: UTF-16 bodies keep their accents and Chinese characters."""
    body = (hostile.out / "feed.xml").read_text(encoding="utf-8")
    assert "UTF-16 little endian: ünïcödé 中文." in body
    assert "UTF-16 big endian: ünïcödé 中文." in body
    assert "UTF-8 with a byte order mark: ünïcödé." in body
    assert "\ufeff" not in body


def test_crlf_and_cr_posts_have_two_paragraphs(hostile: HostileBuild) -> None:
    """CRLF and lone CR line ends are line ends: the blank line still separates paragraphs."""
    feed = parse_feed(hostile.out / "feed/by_tag/line-ends.xml")
    contents = {e.title: e.content[0].value for e in feed.entries}
    assert contents["GOOD-CRLF"].count("<p>") == 2, contents
    assert contents["GOOD-CR"].count("<p>") == 2, contents


def entry_ids(path: Path) -> dict[str, str]:
    root = strict_parse(path)
    return {
        e.findtext(f"{{{ATOM}}}title") or "": e.findtext(f"{{{ATOM}}}id") or ""
        for e in root.iter(f"{{{ATOM}}}entry")
    }


def test_duplicate_ids_are_kept_distinct_with_a_warning(hostile: HostileBuild) -> None:
    """Two posts with one front matter `id`: both published, ids told apart, a warning."""
    ids = entry_ids(hostile.out / "feed.xml")
    assert ids["GOOD-DUPID-A"] != ids["GOOD-DUPID-B"]
    assert any(
        re.match(r"^2024-02-07-duplicate-id-[ab]\.md: warning: .*id", line)
        for line in hostile.stderr_lines
    ), hostile.result.stderr


def test_duplicate_permalinks_are_kept_with_distinct_ids_and_a_warning(
    hostile: HostileBuild,
) -> None:
    """Two posts at one URL: both published with distinct ids, and the clash is reported."""
    ids = entry_ids(hostile.out / "feed.xml")
    assert ids["GOOD-DUPLINK-A"] != ids["GOOD-DUPLINK-B"]
    assert any(
        re.match(r"^2024-02-08-duplicate-permalink-[ab]\.md: warning: ", line)
        for line in hostile.stderr_lines
    ), hostile.result.stderr


def test_every_entry_id_in_every_feed_is_distinct(hostile: HostileBuild) -> None:
    """No feed shows two entries with one id (readers would merge or drop them)."""
    repeated = {}
    for path in feed_outputs(hostile.out):
        if path.suffix != ".xml":
            continue
        ids = [e.findtext(f"{{{ATOM}}}id") for e in strict_parse(path).iter(f"{{{ATOM}}}entry")]
        if len(ids) != len(set(ids)):
            repeated[str(path.relative_to(hostile.out))] = ids
    assert repeated == {}


def parse_feed(path: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
    return parsed


def test_every_output_file_parses_with_lxml_strict(hostile: HostileBuild) -> None:
    """Control characters and lone surrogates never reach the XML: every file is well-formed."""
    broken = {}
    for path in xml_outputs(hostile.out):
        try:
            strict_parse(path)
        except etree.XMLSyntaxError as exc:
            broken[str(path.relative_to(hostile.out))] = str(exc)
    assert xml_outputs(hostile.out)
    assert broken == {}


def test_every_feed_parses_in_feedparser_without_bozo(hostile: HostileBuild) -> None:
    """What aggregators use finds nothing malformed in any Atom or RSS file."""
    bozo = {}
    for path in feed_outputs(hostile.out):
        parsed = feedparser.parse(path.read_bytes())
        if parsed.bozo:
            bozo[str(path.relative_to(hostile.out))] = str(parsed.get("bozo_exception"))
    assert bozo == {}


def test_strict_exits_1_on_the_hostile_folder(hostile: HostileBuild) -> None:
    """`--strict` turns the skipped posts into a failing exit code."""
    result = feedsmith("build", hostile.src, "-o", hostile.root / "strict-out", "--strict")
    assert result.returncode == 1, result.stderr


def test_second_fresh_build_writes_identical_files(hostile: HostileBuild) -> None:
    """Distinct ids and safe paths are deterministic: the same input gives the same bytes."""
    again = hostile.root / "again"
    result = feedsmith("build", hostile.src, "-o", again)
    assert result.returncode == 0, result.stderr
    first = {str(p.relative_to(hostile.out)): p.read_bytes() for p in published_files(hostile.out)}
    second = {str(p.relative_to(again)): p.read_bytes() for p in published_files(again)}
    assert sorted(first) == sorted(second)
    assert [k for k in first if first[k] != second[k]] == []


# --- nothing leaks: markup in every entry of every file -----------------------------------------


def all_fields(out: Path) -> list[Field]:
    found: list[Field] = []
    for path in feed_outputs(out):
        found += fields(path, str(path.relative_to(out)))
    return found


def test_hostile_content_actually_reaches_the_scanned_feeds(hostile: HostileBuild) -> None:
    """The scans below are not vacuous: the XSS posts' harmless parts are in the feeds."""
    contents = [f.text for f in all_fields(hostile.out) if f.kind == "content"]
    assert any("Readable text after the attacks." in c for c in contents)
    assert any('href="https://ok.example/page"' in c for c in contents)
    assert any("raw block" in c for c in contents)


def test_no_forbidden_elements_in_any_content_or_summary(hostile: HostileBuild) -> None:
    """No script, style, iframe, object, embed, form, meta, base, link or svg survives."""
    found = [
        (f.file, f.kind, el.name)
        for f in all_fields(hostile.out)
        if f.kind in ("content", "summary")
        for el in soup(f.text).find_all(True)
        if el.name.lower() in FORBIDDEN_ELEMENTS
    ]
    assert found == []


def test_no_event_handler_attributes(hostile: HostileBuild) -> None:
    """No `on*` attribute (onclick, onerror, onload, ontoggle…) on any element."""
    found = [
        (f.file, el.name, attr)
        for f in all_fields(hostile.out)
        if f.kind in ("content", "summary")
        for el in soup(f.text).find_all(True)
        for attr in el.attrs
        if attr.lower().startswith("on")
    ]
    assert found == []


def test_no_script_urls_in_url_attributes(hostile: HostileBuild) -> None:
    """No javascript:, vbscript: or data:text/html URL, however it is spelt or encoded."""
    found = [
        (f.file, el.name, attr, el.get(attr))
        for f in all_fields(hostile.out)
        if f.kind in ("content", "summary")
        for el in soup(f.text).find_all(True)
        for attr in URL_ATTRIBUTES
        if isinstance(el.get(attr), str) and unsafe_url(attr, str(el.get(attr)))
    ]
    assert found == []


def test_no_css_expression_anywhere(hostile: HostileBuild) -> None:
    """CSS `expression(` appears in no title, summary or content."""
    found = [
        (f.file, f.kind)
        for f in all_fields(hostile.out)
        if "expression(" in _INVISIBLE.sub("", html.unescape(f.text)).lower()
    ]
    assert found == []


def markup_in(text: str) -> list[str]:
    """Elements an HTML reader finds in `text`, as written or once entities are decoded."""
    return [el.name for el in soup(text).find_all(True)] + [
        el.name for el in soup(html.unescape(text)).find_all(True)
    ]


def test_titles_are_plain_text(hostile: HostileBuild) -> None:
    """`<script>` or `&lt;b&gt;` in a title reaches no feed as a tag, decoded or not."""
    found = [
        (f.file, f.text, markup_in(f.text))
        for f in all_fields(hostile.out)
        if f.kind == "title" and markup_in(f.text)
    ]
    assert found == []


def test_summaries_are_plain_text(hostile: HostileBuild) -> None:
    """Summaries (Atom summary, RSS description) carry no markup, decoded or not."""
    found = [
        (f.file, f.text, markup_in(f.text))
        for f in all_fields(hostile.out)
        if f.kind == "summary" and markup_in(f.text)
    ]
    assert found == []


def test_author_names_are_plain_text(hostile: HostileBuild) -> None:
    """An author written as `<b onmouseover=…>Mallory</b>` reaches the feeds as a plain name."""
    authors = [f for f in all_fields(hostile.out) if f.kind == "author"]
    assert any("Mallory" in f.text for f in authors)
    found = sorted({(f.text, tuple(markup_in(f.text))) for f in authors if markup_in(f.text)})
    assert found == []


def test_control_characters_are_dropped_from_titles_authors_and_bodies(
    hostile: HostileBuild,
) -> None:
    """The control-characters post is published with its text and without the controls."""
    ctrl = [f for f in all_fields(hostile.out) if f.file == "feed.xml"]
    title = next(f.text for f in ctrl if f.kind == "title" and "GOOD-CTRL " in f.text)
    assert re.fullmatch(r"GOOD-CTRL\s+\x7f?\s*title", title), repr(title)
    assert any(f.kind == "author" and f.text == "Ctrl Author" for f in ctrl)
    assert any(f.kind == "content" and "html with controls" in f.text for f in ctrl)


# --- names stay inside OUT -----------------------------------------------------------------------


def test_every_written_file_is_inside_out(hostile: HostileBuild) -> None:
    """Every file under OUT resolves inside it, and every file the manifest lists is there."""
    out = hostile.out.resolve()
    escaping = [p for p in tree_files(hostile.out) if not p.resolve().is_relative_to(out)]
    assert escaping == []
    listed = read_manifest(state_folder(Config(source=hostile.src)), hostile.out)
    assert listed
    missing = [rel for rel in listed if not (hostile.out / rel).resolve().is_file()]
    outside = [rel for rel in listed if not (hostile.out / rel).resolve().is_relative_to(out)]
    assert (missing, outside) == ([], [])


def test_nothing_is_written_beside_out(hostile: HostileBuild) -> None:
    """Names like `../../etc` and `/abs` create nothing next to OUT or in SOURCE."""
    assert hostile.outside_after == hostile.outside_before


def test_output_paths_are_plain_and_portable(hostile: HostileBuild) -> None:
    """No `..`, `.`, empty, backslash, control character or over-long part in any path."""
    bad = []
    for path in published_files(hostile.out):
        for part in path.relative_to(hostile.out).parts:
            stem = part.split(".", 1)[0]
            if (
                part in ("", ".", "..")
                or "\\" in part
                or re.search(r"[\x00-\x1f\x7f]", part)
                or len(part.encode("utf-8")) > 255
                or WINDOWS_DEVICES.match(stem)
            ):
                bad.append(str(path.relative_to(hostile.out)))
    assert bad == []


def test_output_paths_are_distinct_case_insensitively(hostile: HostileBuild) -> None:
    """No two files would collide on a case-insensitive, normalising file system."""
    folded: dict[str, list[str]] = {}
    for path in published_files(hostile.out):
        rel = str(path.relative_to(hostile.out))
        folded.setdefault(unicodedata.normalize("NFC", rel.casefold()), []).append(rel)
    assert [rels for rels in folded.values() if len(rels) > 1] == []


def feeds_of(out: Path, kind: str) -> dict[str, Path]:
    """Atom feeds of one kind ("category" under feed/, "tag" under feed/by_tag/) by name (a
    tag feed's title says `Site | #name`)."""
    folder = out / "feed" / "by_tag" if kind == "tag" else out / "feed"
    return {
        feed_title(p).split(" | ", 1)[1].removeprefix("#" if kind == "tag" else ""): p
        for p in sorted(folder.glob("*.xml"))
        if p.is_file() and " | " in feed_title(p)
    }


@pytest.mark.parametrize("kind", ["category", "tag"])
def test_each_hostile_name_gets_its_own_feed(hostile: HostileBuild, kind: str) -> None:
    """`../../etc`, `/abs`, `..`, `.`, `CON`, `a/b`, `a\\b`, NUL, newline, 1,000 characters."""
    named = {
        name: path
        for name, path in feeds_of(hostile.out, kind).items()
        if "GOOD-NAMES" in entry_titles(path)
    }
    assert set(named) == HOSTILE_NAMES
    assert len(set(named.values())) == len(HOSTILE_NAMES)


def test_self_link_of_every_feed_matches_its_file(hostile: HostileBuild) -> None:
    """The percent-decoded path of each feed's self link is the file's path inside OUT."""
    wrong = {}
    for path in feed_outputs(hostile.out):
        rel = path.relative_to(hostile.out).as_posix()
        href = self_link(path)
        parts = urlsplit(href or "")
        same_site = f"{parts.scheme}://{parts.netloc}" == SITE_URL
        if href is None or not same_site or unquote(parts.path, errors="strict").lstrip("/") != rel:
            wrong[rel] = href
    assert feed_outputs(hostile.out)
    assert wrong == {}


def test_nfc_and_nfd_spellings_are_one_tag(hostile: HostileBuild) -> None:
    """`café` precomposed and decomposed: one tag feed holding both posts."""
    holding = {
        name: entry_titles(path)
        for name, path in feeds_of(hostile.out, "tag").items()
        if {"GOOD-NFC", "GOOD-NFD"} & set(entry_titles(path))
    }
    assert list(holding) == ["café"]
    assert sorted(holding["café"]) == ["GOOD-NFC", "GOOD-NFD"]


def test_names_differing_only_in_case_keep_separate_feeds(hostile: HostileBuild) -> None:
    """`AI` and `ai` are two tags with two feeds whose paths differ case-insensitively."""
    tags = feeds_of(hostile.out, "tag")
    assert entry_titles(tags["AI"]) == ["GOOD-CASE-UPPER"]
    assert entry_titles(tags["ai"]) == ["GOOD-CASE-LOWER"]
    upper = tags["AI"].relative_to(hostile.out).as_posix()
    lower = tags["ai"].relative_to(hostile.out).as_posix()
    assert upper.casefold() != lower.casefold()


# --- one post each: too deep, too many tags, too big, a bounded alias bomb ---------------------


def small_site(root: Path, name: str, body: str) -> Path:
    """A folder with one good post and one hostile post called `name`."""
    src = root / "src"
    src.mkdir(parents=True)
    (src / "feedsmith.toml").write_text(f'url = "{SITE_URL}"\ntitle = "Small"\n', encoding="utf-8")
    (src / "2024-01-01-good.md").write_text(
        "---\ntitle: GOOD-NEIGHBOUR\n---\nA normal post.\n", encoding="utf-8"
    )
    (src / name).write_text(body, encoding="utf-8")
    return src


HUGE_MARKUP = {
    "nested-100k.html": "---\ntitle: Deep\n---\n" + "<div>" * 100_000 + "deep" + "</div>" * 100_000,
    "nested-100k-in-markdown.md": "---\ntitle: Deep\n---\n" + "<div><span>" * 100_000 + "deep",
    "unclosed-100k.html": "---\ntitle: Unclosed\n---\n<p>" + "<b>" * 100_000 + "never closed",
    "siblings-120k.html": "---\ntitle: Many\n---\n" + "<i>x</i>" * 120_000,
    "attribute-1mb.html": '---\ntitle: Wide\n---\n<p><a href="https://ok.example/" title="'
    + "A" * 1_000_000
    + '">giant attribute</a></p>',
    "blockquotes-100k.md": "---\ntitle: Quotes\n---\n" + "> " * 100_000 + "deep quote",
    "emphasis-100k.md": "---\ntitle: Stars\n---\n" + "*a " * 100_000 + "text",
}


@pytest.mark.parametrize("name", sorted(HUGE_MARKUP))
def test_huge_or_deep_markup_does_not_stop_the_build(tmp_path: Path, name: str) -> None:
    """100,000 levels, 100,000 unclosed tags, a 1 MB attribute: the neighbour still publishes."""
    src = small_site(tmp_path, f"2024-01-02-{name}", HUGE_MARKUP[name])
    out = tmp_path / "out"
    result = feedsmith("build", src, "-o", out)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "GOOD-NEIGHBOUR" in entry_titles(out / "feed.xml")
    for path in xml_outputs(out):
        strict_parse(path)


def test_alias_bomb_under_the_alias_limit_is_bounded(tmp_path: Path) -> None:
    """60 aliases doubling 30 times (2**31 strings as tags) are refused, not expanded."""
    lines = ["---", "title: Doubling bomb", 'a0: &a0 ["lol", "lol"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 31)]
    lines += ["tags: *a30", "---", "Each level doubles the one before.", ""]
    src = small_site(tmp_path, "2024-01-02-doubling-bomb.md", "\n".join(lines))
    out = tmp_path / "out"
    # The address-space limit keeps a failing run from taking the machine's memory with it.
    runner = (
        "import resource, runpy, sys; "
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
        "sys.argv = ['feedsmith', *sys.argv[1:]]; "
        "runpy.run_module('feeds', run_name='__main__')"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", runner, "build", str(src), "-o", str(out)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the build did not finish within 60 s: the alias bomb is being expanded")
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(
        r"^2024-01-02-doubling-bomb\.md: skipped: .*alias", result.stderr, re.MULTILINE
    ), result.stderr
    assert "GOOD-NEIGHBOUR" in entry_titles(out / "feed.xml")


def test_bad_config_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """An unknown key: exit 2, naming the file and the key, and OUT is not even created."""
    src = tmp_path / "src"
    copy_fixtures(src)
    toml = src / "feedsmith.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "max_post_byte = 1\n", encoding="utf-8")
    out = tmp_path / "out"
    result = feedsmith("build", src, "-o", out)
    assert result.returncode == 2, result.stderr
    assert "feedsmith.toml" in result.stderr and "max_post_byte" in result.stderr
    assert not out.exists()


# --- nothing lost: interrupted, concurrent and watched builds ----------------------------------


def archive(folder: Path, posts: int, version: str) -> Path:
    """A generated folder of posts whose titles all say `version`; two unique tags each."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feedsmith.toml").write_text(
        f'url = "{SITE_URL}"\ntitle = "Archive"\n', encoding="utf-8"
    )
    for i in range(posts):
        day = f"2020-{1 + i % 12:02d}-{1 + i % 28:02d}"
        (folder / f"{day}-post-{i:05d}.md").write_text(
            f"---\ntitle: {version} {i}\ncategories: [c{i % 40}]\ntags: [t{i}, u{i}]\n---\n"
            f"Body of post {i}.\n",
            encoding="utf-8",
        )
    return folder


def set_version(folder: Path, old: str, new: str) -> None:
    for post in folder.glob("*.md"):
        post.write_text(post.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def published_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in published_files(out)}


def differs(out: Path, files: dict[str, bytes]) -> bool:
    try:
        return any((out / rel).read_bytes() != body for rel, body in files.items())
    except OSError:
        return True


def hidden_temporaries(folders: list[Path]) -> bool:
    for folder in folders:
        try:
            with os.scandir(folder) as listing:
                if any(e.name.endswith(".tmp") for e in listing):
                    return True
        except OSError:
            pass
    return False


@dataclass(frozen=True)
class KilledBuild:
    src: Path
    out: Path
    v1: dict[str, bytes]
    pid: int
    returncode: int


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> KilledBuild:
    """v1 of 2,000 posts built; v2 (every title changed) SIGKILLed once its writing began."""
    root = tmp_path_factory.mktemp("killed")
    src, out = archive(root / "src", 2000, "Version one"), root / "out"
    first = feedsmith("build", src, "-o", out, "-q")
    assert first.returncode == 0, first.stderr
    v1 = published_bytes(out)
    top = {rel: body for rel, body in v1.items() if "/" not in rel}
    set_version(src, "Version one", "Version two")
    folders = [out, out / "feed", out / "feed" / "by_tag"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsmith", "build", str(src), "-o", str(out), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while proc.poll() is None:
            if differs(out, top) or hidden_temporaries(folders):
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)  # leave the build a core; this only paces the polling
        proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return KilledBuild(src, out, v1, proc.pid, proc.returncode)


def test_v2_build_was_killed_while_writing(killed: KilledBuild) -> None:
    """The interruption really happened mid-write (else the tests below prove nothing)."""
    assert killed.returncode == -signal.SIGKILL


def test_killed_build_leaves_every_v1_feed_in_place(killed: KilledBuild) -> None:
    """SIGKILL during writing: every feed of the last complete build still exists."""
    missing = [rel for rel in killed.v1 if not (killed.out / rel).is_file()]
    assert missing == []


def test_killed_build_leaves_no_half_written_feed(killed: KilledBuild) -> None:
    """Each feed is whole: byte-identical to v1, or a complete v2 with only v2 titles."""
    half = []
    for rel, before in killed.v1.items():
        path = killed.out / rel
        if path.suffix not in XML_SUFFIXES or path.read_bytes() == before:
            continue
        try:
            titles = entry_titles(path) if path.suffix in FEED_SUFFIXES else []
        except etree.XMLSyntaxError as exc:
            half.append((rel, str(exc)))
            continue
        if any(t.startswith("Version one") for t in titles):
            half.append((rel, "mixes v1 and v2 entries"))
    assert half == []


def test_killed_build_leaves_only_hidden_temporary_files(killed: KilledBuild) -> None:
    """What a killed build leaves behind is named `.*.tmp`: never served, never a feed."""
    leftovers = [p for p in killed.out.rglob("*.tmp") if not p.name.startswith(".")]
    assert leftovers == []


def test_next_build_removes_temporary_files_of_the_killed_one(
    killed: KilledBuild, tmp_path: Path
) -> None:
    """The build after a crash sweeps the dead build's `.*.tmp` files and completes v2."""
    out = tmp_path / "out"
    shutil.copytree(killed.out, out, symlinks=True)
    for folder in (out, out / "feed" / "by_tag"):  # as the killed build would leave them
        (folder / f".feed.xml.{killed.pid}.999.tmp").write_bytes(b"<?xml version='1.0'?><fe")
    result = feedsmith("build", killed.src, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(out.rglob("*.tmp")) == []
    assert all(t.startswith("Version two") for t in entry_titles(out / "feed.xml"))


def test_two_simultaneous_builds_both_succeed_and_equal_a_fresh_one(tmp_path: Path) -> None:
    """Two builds into one folder at once: the lock serialises them; the result is right."""
    src = archive(tmp_path / "src", 300, "Version one")
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    command = [sys.executable, "-m", "feedsmith", "build", str(src), "-o", str(out), "-q"]
    procs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [proc.communicate(timeout=TIMEOUT)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    assert feedsmith("build", src, "-o", fresh, "-q").returncode == 0
    assert published_bytes(out) == published_bytes(fresh)


def test_reader_never_sees_a_partial_feed_while_builds_rewrite_it(tmp_path: Path) -> None:
    """A thread reading OUT/feed.xml in a loop parses every read while builds replace it."""
    one = archive(tmp_path / "one", 300, "Version one")
    two = archive(tmp_path / "two", 300, "Version two")
    out = tmp_path / "out"
    assert feedsmith("build", one, "-o", out, "-q").returncode == 0
    stop = threading.Event()
    reads: list[int] = []
    failures: list[str] = []

    def reader() -> None:
        parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
        while not stop.is_set():
            try:
                body = (out / "feed.xml").read_bytes()
            except OSError as exc:  # a rename never leaves the name missing
                failures.append(f"read failed: {exc}")
                continue
            try:
                etree.fromstring(body, parser)
            except etree.XMLSyntaxError as exc:
                failures.append(f"{len(body)} bytes: {exc}")
            reads.append(len(body))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        codes = [feedsmith("build", src, "-o", out, "-q").returncode for src in (two, one) * 2]
    finally:
        stop.set()
        thread.join(timeout=TIMEOUT)
    assert codes == [0, 0, 0, 0]
    assert reads
    assert failures[:5] == []
