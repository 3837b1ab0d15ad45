"""Property-based fuzzing of the whole build: random front matter and bodies -> feed files.

Each example writes a small folder of 1-4 posts (front matter from random YAML values under the
keys feedsmith reads, bodies mixing Markdown, HTML, Liquid, hostile markup and random text,
file names valid or not, in UTF-8, UTF-8 with BOM or UTF-16, with LF, CRLF or CR line ends)
and builds it through `feedsmith.build`, as the library user and the CLI do.

By default each property tries 40 examples, enough for every run of the suite. To search
longer, say before a release or after touching parse/markup/clean:

    FEEDSMITH_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py

Hypothesis keeps every failing example in `.hypothesis/` (in the folder pytest runs from) and
replays it first on the next run, so a failure found in a long run is reproduced by a short one
until it is fixed. The failing example is also printed as Python values in the test report.
"""

from __future__ import annotations

import json
import os
import string
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from feedsmith.config import load_config
from feedsmith.model import BuildReport, Problem
from feedsmith.pages import SCRIPT as PAGE_SCRIPT
from feedsmith.pages import STYLE as PAGE_STYLE
from feedsmith.pipeline import build
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import NOW

FUZZ = settings(
    max_examples=int(os.environ.get("FEEDSMITH_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

KEYS = (
    "title",
    "date",
    "categories",
    "category",
    "tags",
    "tag",
    "author",
    "id",
    "permalink",
    "excerpt",
    "description",
    "image",
    "lang",
    "published",
    "draft",
    "feed",
    "last_modified_at",
    "slug",
)
NESTED_KEYS = ("name", "email", "uri", "excerpt_only", "path", *KEYS)

# --- front matter ------------------------------------------------------------------------

offsets = st.integers(-24 * 60 + 1, 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
date_like = st.one_of(
    st.from_regex(
        r"\A-?\d{1,5}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{1,2}(:\d{1,2}(\.\d{1,9})?)?)?( ?([+-]\d{2}:?\d{2}|Z|UTC|[A-Z][a-z]+/[A-Z][a-z]+))?\Z",
        fullmatch=True,
    ),
    st.sampled_from(
        [
            "+0800",
            "2022-02-30",
            "2022-13-01 10:00:00 +0800",
            "2022-01-26 04:35:02 +0800",
            "2022-01-26 24:00:00",
            "0000-00-00",
            "9999-12-31 23:59:59 -2359",
            "0001-01-01 00:00:00 +2359",
            "Tue, 12 Apr 2022 12:26:14 GMT",
            "yesterday",
            "2022年1月26日",
            "１９９９-０１-０１",
        ]
    ),
)
scalars = st.one_of(
    st.text(),  # any code point: controls, lone surrogates, U+FFFE; YAML escapes them
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(timezones=st.none() | offsets),
    date_like,
    st.sampled_from(
        ["javascript:alert(1)", "//evil.example/x.png", "../../../etc/passwd", "", " "]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(NESTED_KEYS) | st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=10,
)


urls = st.sampled_from(
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "//evil.example/x.png",
        "/img/x.png",
        "img/x.png",
        "https://cdn.example.com/x.png",
        "mailto:someone@example.org",
        "../../../etc/passwd",
        "",
        " ",
    ]
)
names = st.text(max_size=20)
dates = st.one_of(
    st.datetimes(timezones=st.none() | offsets),
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2025, 12, 31), timezones=offsets
    ),
    st.dates(),
    date_like,
)
# Values of the type each key expects (often with hostile content); any value at all otherwise.
TYPED: dict[str, st.SearchStrategy[Any]] = {
    "title": st.text(),
    "date": dates,
    "last_modified_at": dates,
    "categories": st.lists(names, max_size=4) | names,
    "tags": st.lists(names, max_size=4) | names,
    "category": names,
    "tag": names,
    "author": st.text()
    | st.fixed_dictionaries(
        {"name": st.text()}, optional={"email": st.text() | urls, "uri": urls | st.text()}
    ),
    "id": urls | st.text(),
    "permalink": st.sampled_from(
        ["pretty", "none", "/:categories/:title/", "/:year/:month/:day/:title:output_ext"]
    )
    | urls
    | st.text(),
    "excerpt": st.text(),
    "description": st.text(),
    "image": urls | st.text(),
    "lang": st.sampled_from(["en", "zh-CN", "x-\u0000", ""]) | st.text(max_size=8),
    "published": st.booleans(),
    "draft": st.booleans(),
    "feed": st.booleans() | st.fixed_dictionaries({}, optional={"excerpt_only": st.booleans()}),
    "slug": st.text(),
}


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    """The front matter block's text: YAML dumped from values, or (rarely) broken text."""
    if draw(st.integers(0, 9)) == 0:
        return draw(
            st.sampled_from(
                [
                    "title: 'unclosed\n",
                    "\ttitle: tab\n",
                    "- a\n- list\n",
                    "just a string\n",
                    "a: &x [*x]\n",
                    "a: &a [1]\nb: [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n",
                    "<<: {title: merged}\n",
                    "title: !!python/object:os.system ls\n",
                    "",
                ]
            )
        )
    data: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=8, unique=True)):
        data[key] = draw(values if draw(st.integers(0, 4)) == 0 else TYPED[key])
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=draw(st.booleans()))


# --- bodies --------------------------------------------------------------------------------

SNIPPETS = (
    # Markdown
    "# Heading",
    "Some *emphasis* and **strong** text.",
    "> A quoted lead paragraph.",
    "- item one\n- item two",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "```python\nprint('<script>')\n```",
    "Footnote[^1].\n\n[^1]: The note.",
    "Term\n: Definition",
    "{: .note}",
    "~~struck~~",
    "[a link](../emnews/)",
    "[proto-relative](//host/x)",
    "![image](/img/x.png)",
    "<http://example.com/source>",
    "[md js](javascript:alert(1))",
    "[md js entity](javascript&#58;alert(1))",
    "[md vb](vbscript:msgbox(1))",
    "[md data](data:text/html;base64,PHNjcmlwdD4=)",
    # HTML fragments, closed and not
    "<p>para</p>",
    "<div><span>unclosed",
    "</div></p></table>",
    "<table><tr><td>cell",
    '<span id="stock_1.600848"><a class="keytip" href="x">上海临港</a></span>',
    '<p style="display:none">hidden</p>',
    "<!-- EM_StockImg_Start -->",
    '<img data-src="/lazy.png">',
    "\u3000\u3000全角缩进",
    # Liquid, closed and unclosed
    "{{ site.title }}",
    "{{ page.title | slugify }}",
    "{{ '/x' | absolute_url }} {{ '/y' | relative_url }}",
    "{% assign a = 'b' %}{{ a }}",
    "{% for i in (1..50) %}{{ i }}{% endfor %}",
    "{% if page.title %}yes{% else %}no{% endif %}",
    "{% raw %}{{ not liquid }}{% endraw %}",
    "{% highlight ruby %}puts 1{% endhighlight %}",
    "{% include widget.html %}",
    "{% post_url 2022-01-01-missing %}",
    "{% link _posts/missing.md %}",
    "{{ unclosed",
    "{% unclosed tag",
    "{% for x in site.posts %}",
    "{% raw %}",
    "}} %} {{{ {%%}",
    # Hostile HTML
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">js</a>',
    '<a href="jav&#x61;script:alert(1)">entity</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">dec</a>',
    '<a href=" \tjava\nscript:alert(1)">ws</a>',
    '<a href="JaVaScRiPt:alert(1)">case</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="data:text/html,<script>alert(1)</script>">data</a>',
    '<iframe src="//evil/"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="//evil/"><input name="q"><button formaction="javascript:alert(1)">go</button></form>',
    "<svg onload=alert(1)><circle /></svg>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    "<style>body{background:red}</style>",
    '<base href="javascript:/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<video poster="javascript:alert(1)"><source src="javascript:alert(1)"></video>',
    '<img srcset="javascript:alert(1) 1x, /ok.png 2x">',
    '<blockquote cite="javascript:alert(1)">q</blockquote>',
    "<![CDATA[ ]]> ]]> <!DOCTYPE x> <?php echo 1; ?>",
    "&lt;script&gt; &amp;amp; &#0; &#xD800; &#x110000; &bogus;",
)
body_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40
)
bodies = st.builds(
    lambda parts, sep: sep.join(parts),
    st.lists(st.sampled_from(SNIPPETS) | body_text, max_size=8),
    st.sampled_from(["\n", "\n\n", "", " "]),
)

# --- files ---------------------------------------------------------------------------------

name_chars = st.characters(
    exclude_categories=["Cs"], exclude_characters="/\x00", max_codepoint=0x2FFF
)
dated_names = st.builds(
    lambda d, slug, ext: f"{d:%Y-%m-%d}-{slug}{ext}",
    st.dates(min_value=date(1970, 1, 1), max_value=date(2030, 12, 31)),
    st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=20)
    | st.text(name_chars, min_size=1, max_size=20),
    st.sampled_from([".md", ".markdown", ".html", ".htm", ".MD"]),
)
other_names = st.builds(
    lambda stem, ext: stem + ext,
    st.text(name_chars, min_size=1, max_size=30).filter(lambda s: s not in (".", "..")),
    st.sampled_from([".md", ".html", ".markdown", ""]),
) | st.sampled_from(
    [
        "2022-13-45-bad-date.md",
        "-202205262391921712.md",
        "2022-01-01-.md",
        "2022-01-01-a b%20c#d?.md",
        "2022-01-01-..md",
    ]
)
# Mostly names Jekyll accepts, so that most examples publish posts whose content is checked.
# Never a configuration file's name: a broken one is refused before any post is read, by design
# (ConfigError, exit code 2), and hypothesis does find these names in feedsmith's source.
CONFIG_NAMES = frozenset({"feedsmith.toml", "_config.yml", "_config.yaml", "_config.toml"})
file_names = st.one_of(dated_names, dated_names, dated_names, other_names).filter(
    lambda name: name not in CONFIG_NAMES
)


@dataclass(frozen=True)
class PostFile:
    name: str
    front: str | None  # None: no front matter block at all
    body: str
    encoding: str = "utf-8"
    newline: str = "\n"
    trailer: bytes = b""  # raw bytes appended after encoding: sometimes invalid UTF-8

    def data(self) -> bytes:
        text = self.body if self.front is None else f"---\n{self.front}---\n{self.body}"
        text = text.replace("\r\n", "\n").replace("\n", self.newline)
        return text.encode(self.encoding, errors="surrogatepass") + self.trailer


posts = st.builds(
    PostFile,
    name=file_names,
    front=st.one_of(st.none(), *[front_matter()] * 4),
    body=bodies,
    encoding=st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16"]),
    newline=st.sampled_from(["\n", "\n", "\r\n", "\r"]),
    trailer=st.sampled_from([b""] * 8 + [b"\xff\xfe\x80 \xc0\xae", b"\x00"]),
)
sites = st.lists(posts, min_size=1, max_size=4, unique_by=lambda p: p.name.casefold())

# Failures found by long runs, replayed on every run whatever the example budget.
# A slug of characters XML forbids, and a body with no text: the title ends up empty.
EMPTY_TITLE = [PostFile("2000-01-01-\x1f.md", None, "{% include widget.html %}")]
SCRIPT_IMAGE = [PostFile("2000-01-01-a.md", "title: A\nimage: javascript:alert(1)\n", "Text.")]
SCRIPT_AUTHOR_URI = [
    PostFile(
        "2000-01-01-a.md", "title: A\nauthor: {name: A, uri: 'javascript:alert(1)'}\n", "Text."
    )
]


# --- building ------------------------------------------------------------------------------


@contextmanager
def workspace() -> Iterator[Path]:
    """A fresh folder per example: hypothesis reruns the test body, pytest fixtures would not."""
    with tempfile.TemporaryDirectory(prefix="feedsmith-fuzz-") as folder:
        yield Path(folder)


def write_site(root: Path, site: list[PostFile]) -> Path:
    source = root / "src"
    source.mkdir()
    for post in site:
        (source / post.name).write_bytes(post.data())
    return source


def build_into(source: Path, out: Path) -> BuildReport:
    config = load_config(source, output=out, overrides={"url": "https://example.org"})
    # allow_empty: a generated site may hold no post file at all (names without a post's suffix)
    return build(config, now=NOW, jobs=1, allow_empty=True)


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` by relative path, the build cache excepted (it is not output)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".feedsmith-cache" not in path.relative_to(folder).parts
    }


def strict_xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    return etree.fromstring(data, parser)


# --- properties ----------------------------------------------------------------------------


@FUZZ
@given(site=sites)
@example(site=EMPTY_TITLE)
def test_build_never_raises_and_reports_what_it_skips(site: list[PostFile]) -> None:
    """Any posts build without an exception; a post not published is held back or reported."""
    with workspace() as root:
        report = build_into(write_site(root, site), root / "out")
    assert all(isinstance(p, Problem) and p.where and p.reason for p in report.problems)
    unpublished = report.posts_read - report.posts_published - sum(report.held_back.values())
    assert len(report.errors) >= unpublished >= 0, report


def strict_json(data: bytes) -> Any:
    """JSON as RFC 8259 has it: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


@FUZZ
@given(site=sites)
def test_every_written_file_is_well_formed(site: list[PostFile]) -> None:
    """Every feed and the OPML list parse with lxml's strict XML parser (JSON feeds as JSON)."""
    with workspace() as root:
        out = root / "out"
        report = build_into(write_site(root, site), out)
        assert report.written
        for rel in report.written:
            data = (out / rel).read_bytes()
            if rel.endswith(".json"):
                strict_json(data)
            elif rel.endswith(".html"):  # a page for people: HTML, whole
                assert data.startswith(b"<!DOCTYPE html>") and data.endswith(b"</html>\n"), rel
            else:
                strict_xml(data)


# Elements and attributes that would run code or submit data in a reader that shows the HTML.
ACTIVE_ELEMENTS = frozenset({"script", "style", "iframe", "object", "embed", "form", "svg"})
URL_ATTRIBUTES = frozenset(
    {"href", "src", "srcset", "poster", "cite", "action", "formaction", "data", "background"}
)
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")  # README: only http, https and mailto stay
SCRIPT_SCHEMES = ("javascript:", "vbscript:")
C0_AND_SPACE = "".join(map(chr, range(33)))


def scheme_text(url: str) -> str:
    """A URL as a browser reads its scheme: tabs and newlines dropped, edges trimmed, lowercase."""
    return "".join(c for c in url if c not in "\t\n\r").strip(C0_AND_SPACE).lower()


def entry_html(rel: str, data: bytes) -> Iterator[str]:
    """The HTML of every entry: Atom content/summary, RSS content:encoded/description, JSON;
    and a page for people whole, less its own style and script (the copy buttons')."""
    if rel.endswith(".html"):
        page = data.decode("utf-8")
        own = (f"<script>{PAGE_SCRIPT}</script>", f"<style>{PAGE_STYLE}</style>")
        for part in own:
            assert page.count(part[:6]) == 1 and page.count(part) == 1, rel
            page = page.replace(part, "")
        yield page
        return
    if rel.endswith(".json"):
        for item in strict_json(data).get("items", []):
            yield item.get("content_html", "")
        return
    for element in strict_xml(data).iter():
        if not isinstance(element.tag, str):
            continue
        parent = element.getparent()
        in_entry = parent is not None and etree.QName(parent).localname in ("entry", "item")
        name = etree.QName(element).localname
        if in_entry and name in ("content", "summary", "encoded", "description"):
            yield element.text or ""


def active_content(html: str) -> list[str]:
    """Every script-like element, event handler and script URL in an HTML fragment."""
    found = []
    with warnings.catch_warnings():
        # Content such as `https://x` or `a.md` alone is HTML too, whatever bs4 suspects.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        if tag.name in ACTIVE_ELEMENTS:
            found.append(f"<{tag.name}>")
        for attribute, value in tag.attrs.items():
            if attribute.lower().startswith("on"):
                found.append(f"<{tag.name} {attribute}>")
            values = value if isinstance(value, list) else [value]
            if attribute.lower() in URL_ATTRIBUTES and any(
                scheme_text(v).startswith(BAD_SCHEMES) for v in values
            ):
                found.append(f"<{tag.name} {attribute}={value!r}>")
    return found


@FUZZ
@given(site=sites)
def test_entry_content_carries_no_active_content(site: list[PostFile]) -> None:
    """Entry HTML has no script-like element, on* attribute or javascript:/vbscript:/data: URL."""
    with workspace() as root:
        out = root / "out"
        report = build_into(write_site(root, site), out)
        found = [
            (rel, problem)
            for rel in report.written
            if not rel.endswith(".opml")
            for html in entry_html(rel, (out / rel).read_bytes())
            for problem in active_content(html)
        ]
    assert found == []


LINK_KEYS = frozenset(
    {"url", "external_url", "image", "home_page_url", "feed_url", "icon", "favicon", "avatar"}
)
LINK_ATTRIBUTES = frozenset({"href", "url", "src", "xmlUrl", "htmlUrl", "base"})
LINK_ELEMENTS = frozenset({"uri", "link", "url", "icon", "logo", "comments"})


def links(rel: str, data: bytes) -> Iterator[str]:
    """Every URL a reader may follow or fetch outside the entry HTML."""
    if rel.endswith(".json"):
        stack = [strict_json(data)]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                for key, inner in value.items():
                    if key in LINK_KEYS and isinstance(inner, str):
                        yield inner
                    else:
                        stack.append(inner)
            elif isinstance(value, list):
                stack.extend(value)
        return
    for element in strict_xml(data).iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if etree.QName(name).localname in LINK_ATTRIBUTES:
                yield value
        if etree.QName(element).localname in LINK_ELEMENTS:
            yield element.text or ""


@FUZZ
@given(site=sites)
@example(site=SCRIPT_IMAGE)
@example(site=SCRIPT_AUTHOR_URI)
def test_feed_links_are_never_script_urls(site: list[PostFile]) -> None:
    """Links, thumbnails, author URIs and icons in every feed are never javascript:/vbscript:."""
    with workspace() as root:
        out = root / "out"
        report = build_into(write_site(root, site), out)
        found = [
            (rel, url)
            for rel in report.written
            if not rel.endswith(".html")  # a page's links are checked with its HTML
            for url in links(rel, (out / rel).read_bytes())
            if scheme_text(url).startswith(SCRIPT_SCHEMES)
        ]
    assert found == []


@FUZZ
@given(site=sites)
def test_every_written_path_is_inside_out(site: list[PostFile]) -> None:
    """Whatever names posts carry, every file the build writes lies inside OUT, and only there."""
    with workspace() as root:
        source = write_site(root, site)
        before = files_under(source)
        out = root / "out"
        report = build_into(source, out)
        for rel in report.written:
            path = (out / rel).resolve()
            assert path.is_relative_to(out.resolve()), rel
            assert path.is_file(), rel
        assert sorted(p.name for p in root.iterdir()) == ["out", "src"]
        assert files_under(source) == before


@FUZZ
@given(site=sites)
def test_building_twice_gives_identical_bytes(site: list[PostFile]) -> None:
    """Two builds into fresh folders, and a rebuild over the first, write the same bytes."""
    with workspace() as root:
        source = write_site(root, site)
        first, second = root / "first", root / "second"
        build_into(source, first)
        build_into(source, second)
        written = files_under(first)
        assert files_under(second) == written
        rebuilt = build_into(source, first)
        assert rebuilt.written == ()
        assert files_under(first) == written
