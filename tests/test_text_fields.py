"""Titles, summaries, author names and category/tag names are plain text, however markup is
spelled; entry ids are never script URLs; messages print names escaped.

Two halves: properties of the text functions for any input (hypothesis), and a whole build of
hostile posts whose feeds are read back both through feedparser and as raw bytes (feedparser
sanitises what it returns, so it alone would hide markup a less careful reader runs).
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import pytest
import yaml
from feedsmith.errors import message, printable
from feedsmith.text import UNSAFE_SCHEMES, plain_name, plain_text, url_scheme, visible
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

PROPERTIES = settings(max_examples=int(os.environ.get("FEEDSMITH_FUZZ_EXAMPLES", "300")))

# Markup HTML reads: `<` before an ASCII letter, `/`, `!` or `?`.
OPENS_MARKUP = re.compile(r"<[A-Za-z/!?]")
# The characters that reorder text (bidi embeddings, overrides, isolates).
REORDERING = re.compile("[\u202a-\u202e\u2066-\u2069]")

# Pieces hostile text is made of: tags and their halves, every spelling of `<` and `&`,
# characters that vanish (controls, bidi, invisible) or change under NFC (KELVIN SIGN -> K,
# GREEK QUESTION MARK -> ;), joiners, letters, spaces.
PIECES = st.sampled_from(
    [
        "<",
        ">",
        "/",
        "!",
        "?",
        "-",
        "--",
        "&",
        ";",
        "#",
        "x",
        "X",
        "3c",
        "60",
        "amp",
        "amp;",
        "lt",
        "lt;",
        "gt;",
        "LT",
        "&lt;",
        "&amp;",
        "&#60;",
        "&#x3c;",
        "&#X3C",
        "&#0060",
        "&ltscript",
        "<!--",
        "-->",
        "<script>",
        "</script>",
        "<b>",
        "<p>",
        "script",
        "img src=x onerror=alert(1)",
        "b",
        "a",
        " ",
        "\n",
        "\x01",
        "&#1;",
        "\u202e",
        "&#x202e;",
        "\u2066",
        "\u200b",
        "\ufeff",
        "\u200d",
        "\u200c",
        "\u212a",
        "\u037e",
        "\u0301",
        "\U000e0041",
        "\U0001f3f4",
        "\U0001f469",
        "东",
        "ی",
    ]
)
HOSTILE = st.one_of(st.lists(PIECES, max_size=24).map("".join), st.text(max_size=40))


def decodings(text: str) -> Iterator[str]:
    """`text`, then what each further round of HTML entity decoding makes of it."""
    yield text
    for _ in range(100):
        decoded = html.unescape(text)
        if decoded == text:
            return
        text = decoded
        yield text


def markup_after_decoding(text: str) -> list[str]:
    """Every form of `text` (decoded any number of times) in which HTML would read markup."""
    return [form for form in decodings(text) if OPENS_MARKUP.search(form)]


# --- plain_text and plain_name for any input ------------------------------------------------


@PROPERTIES
@given(HOSTILE)
@example("<<script>script>alert(1)<</script>/script>")
@example("&amp;#60;script&amp;#62;alert(1)")
@example("&amp;" * 20 + "lt;script>")
@example("<" * 30 + "b>" * 30)
@example("<\u212a>x")
def test_plain_text_leaves_no_markup_even_after_decoding_again(text: str) -> None:
    """Whatever goes in, no `<` that opens markup comes out, however often a reader decodes."""
    assert markup_after_decoding(plain_text(text)) == []
    assert markup_after_decoding(plain_text(text, nfc=True)) == []


@PROPERTIES
@given(HOSTILE)
@example("&amp;" * 20 + "lt;script>")
@example("<" * 30 + "b>" * 30)
def test_plain_text_is_idempotent(text: str) -> None:
    """Plain text made plain again is unchanged: a second pass has nothing left to do."""
    once = plain_text(text)
    assert plain_text(once) == once
    once_nfc = plain_text(text, nfc=True)
    assert plain_text(once_nfc, nfc=True) == once_nfc


@PROPERTIES
@given(HOSTILE)
def test_plain_text_has_no_reordering_or_xml_illegal_characters(text: str) -> None:
    """Bidi controls and characters XML forbids never survive, however they were written."""
    result = plain_text(text)
    assert not REORDERING.search(result)
    assert result == " ".join(result.split())
    etree.fromstring(f"<t>{html.escape(result)}</t>".encode())  # well-formed


@PROPERTIES
@given(HOSTILE)
@example("<b>news</b>")
@example("&lt;i&gt;x&lt;/i&gt;")
@example("&\u212a<\u212a")
def test_plain_name_leaves_no_markup_and_is_idempotent(name: str) -> None:
    """A name never carries markup (decoded or not) and naming it twice changes nothing."""
    once = plain_name(name)
    assert markup_after_decoding(once) == []
    assert plain_name(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert not REORDERING.search(once)


ORDINARY = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"),
        blacklist_characters="<",
    ),
    max_size=30,
)


@PROPERTIES
@given(ORDINARY)
@example("C++")
@example("a&b")
@example("AT&amp;T")
@example("A股 Market")
def test_plain_name_keeps_names_without_markup_as_written(name: str) -> None:
    """A name with no `<` is text: only NFC and single spaces, an `&` (even `&amp;`) kept."""
    if markup_after_decoding(name):  # `&lt;b>` holds markup once decoded
        return
    assert plain_name(name) == " ".join(unicodedata.normalize("NFC", name).split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<<script>script>alert(1)<</script>/script>", "alert(1)"),
        ("&amp;#60;script&amp;#62;x&amp;#60;/script&amp;#62;", "x"),
        ("&amp;lt;b&amp;gt;x", "x"),
        ("&#x3c;script&#x3e;x", "x"),
        ("&ltscript&gtx", "x"),
        ("&LT;b&GT;x", "x"),
        ("<!-- hidden --> x", "x"),
        ("a<b with no end", "a< b with no end"),
        ("1 < 2 > 0, <3", "1 < 2 > 0, <3"),
        ("《<蒙特利尔议定书>基加利修正案》", "《<蒙特利尔议定书>基加利修正案》"),
        ("Q&A, AT&amp;T", "Q&A, AT&T"),
    ],
)
def test_plain_text_examples(text: str, expected: str) -> None:
    """Nested, twice-encoded, hex, upper-case and semicolon-less markup goes; text stays."""
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("<b>news</b>", "news"),
        ("&lt;b&gt;news&lt;/b&gt;", "news"),
        ("C++", "C++"),
        ("a&b", "a&b"),
        ("a&amp;b", "a&amp;b"),
        ("东财滚动新闻", "东财滚动新闻"),
        ("A股  Market", "A股 Market"),
        ("\u202eevil", "evil"),
    ],
)
def test_plain_name_examples(name: str, expected: str) -> None:
    """Markup goes from names; `&` in a name is text; ordinary names are as written."""
    assert plain_name(name) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u202egnp.exe", "gnp.exe"),  # shows as `exe.png` with the override
        ("a\u2066b\u2069c\u202ad\u202c", "abcd"),
        ("zero\u200bwidth\u2060joiner\ufeff", "zerowidthjoiner"),
        ("\u05e9\u05dc\u05d5\u05dd\u200f!", "\u05e9\u05dc\u05d5\u05dd\u200f!"),  # RLM kept
        (
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        ),
        ("\u0915\u094d\u200d\u0937", "\u0915\u094d\u200d\u0937"),  # ZWJ after a virama
        ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),  # woman technologist
        ("\u2764\ufe0f\u200d\U0001f525", "\u2764\ufe0f\u200d\U0001f525"),  # heart on fire
        ("\u200dedge\u200c", "edge"),
        ("a \u200d b", "a b"),
        (
            "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
            "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        ),  # the flag of England
        ("ok\U000e0069\U000e0067\U000e006e", "ok"),  # hidden ASCII in tag characters
    ],
)
def test_reordering_and_invisible_characters(text: str, expected: str) -> None:
    """Characters that reorder text or hide in it go; joiners stay where they join letters
    or emoji, marks stay where right-to-left text needs them."""
    assert " ".join(visible(text).split()) == expected
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " \x01javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\x01script:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "&amp;#106;avascript:alert(1)",
        "javascript&colon;alert(1)",
        "vbscript:msgbox(1)",
        "DATA:text/html,<script>alert(1)</script>",
    ],
)
def test_script_schemes_are_read_however_spelled(url: str) -> None:
    """The scheme is read as a browser reads a link written into a feed."""
    assert url_scheme(url) in UNSAFE_SCHEMES


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("tag:example.org,2024:1", "tag"), ("urn:uuid:1", "urn"), ("/a/b", None), ("x", None)],
)
def test_ordinary_ids_keep_their_scheme(url: str, scheme: str | None) -> None:
    assert url_scheme(url) == scheme


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("_posts/2024-01-01-a.md", "_posts/2024-01-01-a.md"),
        ("_posts/东财 滚动.md", "_posts/东财 滚动.md"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("a\nb: skipped: forged", "a\\nb: skipped: forged"),
        ("a\rb\tc", "a\\rb\\tc"),
        ("\u202egnp.md", "\\u202egnp.md"),
        ("bad\udcffname", "bad\\udcffname"),
        ("\x9b31m", "\\x9b31m"),  # the one-byte CSI
    ],
)
def test_printable_escapes_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_messages_are_one_line() -> None:
    assert message("a\nb.md", "empty\nfile", "skipped") == "a\\nb.md: skipped: empty\\nfile"


# --- a whole build of hostile posts ----------------------------------------------------------

SITE_TOML = 'title = "Test Site"\nurl = "https://example.org"\ntimezone = "UTC"\n'

POSTS: dict[str, dict[str, object]] = {
    "2024-01-01-nested.md": {
        "title": "NESTED <<script>script>alert(1)<</script>/script>",
        "excerpt": "S-NESTED <<script>script>alert(1)<</script>/script>",
        "author": "<<b>b>Mallory</b>",
    },
    "2024-01-02-double.md": {
        "title": "DOUBLE &amp;#60;script&amp;#62;alert(2)&amp;#60;/script&amp;#62;",
        "description": "S-DOUBLE &amp;lt;img src=x onerror=alert(2)&amp;gt;",
        "author": {"name": "&amp;lt;i&amp;gt;Eve", "email": "eve@example.org"},
    },
    "2024-01-03-hex.md": {
        "title": "HEX &#x3c;script&#x3e;alert(3)&#x3c;/script&#x3e; &ltscript&gt",
        "excerpt": "S-HEX &#X3C;svg onload=alert(3)&#X3E; &LT;b&GT;",
        "categories": ["<b>news</b>", "C++"],
        "tags": ["&lt;i&gt;x&lt;/i&gt;", "a&b", "东财滚动新闻", "A股 Market"],
    },
    "2024-01-04-bidi.md": {
        "title": "BIDI \u202egnp.exe",
        "excerpt": "S-BIDI \u2066hidden\u2069 \u200bzero",
        "author": "\u202eMallory",
        "tags": ["\u202eevil", "\U0001f469\u200d\U0001f4bb"],
    },
    "2024-01-05-lead.md": {"title": ""},
    "2024-01-06-id-js.md": {"title": "ID-JS", "id": "JaVaScRiPt:alert(6)"},
    "2024-01-07-id-tab.md": {"title": "ID-TAB", "id": "java&#x09;script:alert(7)"},
    "2024-01-08-id-data.md": {"title": "ID-DATA", "id": " DATA:text/html,<script>x</script>"},
    "2024-01-09-id-vb.md": {"title": "ID-VB", "id": "vbscript&colon;msgbox(9)"},
    "2024-01-10-id-ok.md": {"title": "ID-OK", "id": "tag:example.org,2024:ok"},
}
LEAD_BODY = (
    "&amp;lt;script&amp;gt;alert(5)&amp;lt;/script&amp;gt; LEAD &lt;&lt;b&gt;b&gt;"
    " first paragraph\n\nSecond paragraph.\n"
)
# File names a terminal would act on: each post is skipped or warned about, by name.
BAD_NAMES = {
    "2024-02-30-\x1b[2Jclear.md": "\\x1b[2Jclear",
    "2024-02-31-line\nforged: skipped: fake.md": "line\\nforged",
    "2024-02-30-\u202egnp.md": "\\u202egnp",
}


@dataclass(frozen=True)
class Built:
    out: Path
    stderr: str
    bad_names: tuple[str, ...]  # those of BAD_NAMES the file system took


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    source = tmp_path_factory.mktemp("text-fields") / "site"
    posts = source / "_posts"
    posts.mkdir(parents=True)
    (source / "feedsmith.toml").write_text(SITE_TOML, encoding="utf-8")
    for name, front in POSTS.items():
        # ASCII YAML: the controls and bidi characters are written as escapes.
        text = "---\n" + yaml.safe_dump(front, allow_unicode=False) + "---\n"
        body = LEAD_BODY if name.endswith("lead.md") else "Body of the post.\n"
        (posts / name).write_text(text + body, encoding="utf-8")
    made = []
    for name in BAD_NAMES:
        try:
            (posts / name).write_text("---\ntitle: t\n---\nx\n", encoding="utf-8")
        except OSError:
            continue
        made.append(name)
    out = source.parent / "out"
    result = subprocess.run(
        [sys.executable, "-m", "feedsmith", "build", str(source), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return Built(out, result.stderr, tuple(made))


ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"


Field = tuple[str, str, str]  # (file, field, text)


def _atom_fields(rel: str, root: etree._Element) -> Iterator[Field]:
    yield rel, "feed title", root.findtext(f"{ATOM}title") or ""
    for entry in root.iter(f"{ATOM}entry"):
        for tag in ("title", "summary", "author/" + ATOM + "name"):
            for element in entry.iterfind(ATOM + tag):
                yield rel, tag, element.text or ""
        for category in entry.iterfind(f"{ATOM}category"):
            yield rel, "category", category.get("term") or ""


def _rss_fields(rel: str, root: etree._Element) -> Iterator[Field]:
    yield rel, "feed title", root.findtext("channel/title") or ""
    yield rel, "feed description", root.findtext("channel/description") or ""
    for item in root.iter("item"):
        for tag in ("title", "description", "author", f"{DC}creator", "category"):
            for element in item.iterfind(tag):
                yield rel, tag, element.text or ""


def _json_fields(rel: str, feed: dict[str, Any]) -> Iterator[Field]:
    yield rel, "feed title", feed["title"]
    for item in feed["items"]:
        for key in ("title", "summary", "content_text"):
            yield rel, key, item.get(key, "")
        for author in item.get("authors", []):
            yield rel, "author", author["name"]
        for tag in item.get("tags", []):
            yield rel, "tag", tag


def text_fields(out: Path) -> Iterator[Field]:
    """Every title, summary, author, category and name a reader shows, as the raw file says
    it (XML-unescaped once, as an XML parser hands it over)."""
    for path in sorted(out.rglob("*")):
        rel = str(path.relative_to(out))
        if path.suffix == ".xml":
            yield from _atom_fields(rel, etree.parse(str(path)).getroot())
        elif path.suffix == ".rss":
            yield from _rss_fields(rel, etree.parse(str(path)).getroot())
        elif path.suffix == ".json":
            yield from _json_fields(rel, json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix == ".opml":
            for outline in etree.parse(str(path)).iter("outline"):
                yield rel, "outline text", outline.get("text") or ""
                yield rel, "outline title", outline.get("title") or ""


def test_no_text_field_carries_markup_even_after_decoding(built: Built) -> None:
    """Not in a title, summary, RSS description (which readers render as HTML), author,
    category, tag, feed title or OPML outline: decoded once or many times, still no tag."""
    fields = list(text_fields(built.out))
    assert len(fields) > 100
    found = [(f, k, t) for f, k, t in fields if markup_after_decoding(t)]
    assert found == []
    assert not [(f, k, t) for f, k, t in fields if "script" in t.lower() and "alert" in t]


def test_the_text_around_the_markup_is_kept(built: Built) -> None:
    """Removing markup keeps the words: each post is there under its marker."""
    feed = feedparser.parse((built.out / "feed.xml").read_bytes())
    titles = {e.title for e in feed.entries}
    for marker in ("NESTED alert(1)", "DOUBLE alert(2)", "HEX alert(3)", "BIDI gnp.exe"):
        assert marker in titles, titles
    summaries = " ".join(e.summary for e in feed.entries)
    for marker in ("S-NESTED alert(1)", "S-DOUBLE", "S-HEX", "S-BIDI hidden zero"):
        assert marker in summaries


def test_a_derived_title_and_summary_are_plain_text(built: Built) -> None:
    """A post without a title takes one from its lead paragraph, markup of any spelling gone."""
    items = json.loads((built.out / "feed.json").read_text(encoding="utf-8"))["items"]
    lead = next(item for item in items if "LEAD" in item["title"])
    assert lead["title"].startswith("alert(5) LEAD first paragraph"), lead["title"]
    assert lead["summary"].startswith("alert(5) LEAD first paragraph"), lead["summary"]


def test_names_are_plain_text_and_ordinary_names_unchanged(built: Built) -> None:
    """`<b>news</b>` is the category `news` (its feed too); C++, a&b, Chinese stay as written."""
    items = json.loads((built.out / "feed.json").read_text(encoding="utf-8"))["items"]
    names = {tag for item in items for tag in item.get("tags", [])}
    assert {"news", "C++", "x", "a&b", "东财滚动新闻", "A股 Market", "evil"} <= names
    assert "\U0001f469\u200d\U0001f4bb" in names  # an emoji's joiner is kept
    assert (built.out / "feed" / "news.xml").is_file()
    news = feedparser.parse((built.out / "feed" / "news.xml").read_bytes())
    assert "news" in news.feed.title.lower()
    assert [e.title for e in news.entries] == ["HEX alert(3)"]


def test_authors_are_plain_text(built: Built) -> None:
    feed = feedparser.parse((built.out / "feed.xml").read_bytes())
    authors = {a.get("name") for e in feed.entries for a in e.get("authors", [])}
    assert {"Eve", "Mallory"} <= authors, authors


def test_no_output_holds_a_reordering_character(built: Built) -> None:
    """None of the posts' bodies has one, so none may appear anywhere in any file."""
    for path in built.out.rglob("*"):
        if path.is_file():
            assert not REORDERING.search(path.read_text(encoding="utf-8")), path


def test_script_ids_are_refused_with_a_warning_naming_the_post(built: Built) -> None:
    """Entry ids and RSS guids never carry javascript:, data: or vbscript:, however spelled."""
    ids = []
    for path in built.out.rglob("*.xml"):
        ids += [e.text or "" for e in etree.parse(str(path)).iter(f"{ATOM}id")]
    for path in built.out.rglob("*.rss"):
        ids += [e.text or "" for e in etree.parse(str(path)).iter("guid")]
    for path in built.out.rglob("*.json"):
        ids += [item["id"] for item in json.loads(path.read_text(encoding="utf-8"))["items"]]
    assert ids
    assert [i for i in ids if url_scheme(i) in UNSAFE_SCHEMES] == []
    assert "tag:example.org,2024:ok" in ids
    items = json.loads((built.out / "feed.json").read_text(encoding="utf-8"))["items"]
    by_title = {item["title"]: item["id"] for item in items}
    for name, scheme in (("js", "javascript"), ("tab", "javascript"), ("data", "data")):
        line = next(
            line for line in built.stderr.splitlines() if f"-id-{name}.md: warning:" in line
        )
        assert f"is a {scheme}: URL" in line
        # The default id instead: jekyll-feed's, on the site's URL.
        assert by_title[f"ID-{name.upper()}"].startswith("https://example.org/2024/01/")
    assert "-id-vb.md: warning:" in built.stderr


def test_file_names_are_printed_escaped(built: Built) -> None:
    """A file name with ESC, a newline or an override is shown escaped: no line is forged,
    no screen cleared, nothing reordered."""
    assert built.bad_names, "the file system took none of the names"
    assert "\x1b" not in built.stderr
    assert not REORDERING.search(built.stderr)
    lines = built.stderr.splitlines()
    assert not [line for line in lines if line.startswith("forged")]
    for name in built.bad_names:
        shown = BAD_NAMES[name]
        assert any(shown in line and ": skipped: " in line for line in lines), (shown, lines)
