"""The nesting guard counts the tree the HTML parser builds: for any mix of the tags that
nest implicitly, either the guard fires or every word of the input reaches the output; and
the linear scanners of markup.py read what the regexes they replaced read."""

from __future__ import annotations

import re

from feedsmith import markup
from feedsmith.clean import clean_html
from feedsmith.config import CleanRules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TAGS = (
    "<div>", "<p>", "<li>", "<ul>", "<ol>", "<table>", "<tr>", "<td>", "<th>", "<tbody>",
    "<caption>", "<b>", "<i>", "<em>", "<font>", "<span>", "<a href=x>", "<blockquote>",
    "<dl>", "<dd>", "<dt>", "<h2>", "<section>", "<center>", "<div/>", "<p/>", "<b class=1>",
    "<b class=2>", "</div>", "</p>", "</li>", "</ul>", "</table>", "</tr>", "</td>", "</b>",
    "</i>", "</span>", "</a>", "</blockquote>", "<!-- </div> -->", "<div title='</div>'>",
)  # fmt: skip


@st.composite
def _documents(draw: st.DrawFn) -> str:
    """A pattern of tags repeated up to 400 times, numbered words between them."""
    unit = draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=6))
    every = draw(st.integers(1, 3))
    parts = []
    for r in range(draw(st.integers(1, 400))):
        for j, tag in enumerate(unit):
            parts.append(tag)
            if (r + j) % every == 0:
                parts.append(f"w{r}z{j} ")
    return "".join(parts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents())
def test_guard_fires_or_every_word_survives(markup_: str) -> None:
    """The old guard counted tags as written: `<div><p>` × 300 passed it at depth 2, and lxml
    then dropped the words below its 255 levels."""
    cleaned = clean_html(markup_, base="https://x.example/", rules=CleanRules())
    if any("nested more than" in note for note in cleaned.notes):
        return
    missing = [w for w in re.findall(r"w\d+z\d+", markup_) if w not in cleaned.html]
    assert not missing


# The regexes the scanners replaced (each quadratic on unclosed openers), as references.
_RAW = re.compile(r"({%-?\s*raw\s*-?%}.*?{%-?\s*endraw\s*-?%})", re.DOTALL)
_TAG = re.compile(r"{%-?\s*(\w*)(.*?)-?%}", re.DOTALL)
_OUTPUT = re.compile(r"{{.*?}}", re.DOTALL)
_LIQUID_SPAN = re.compile(r"{{.*?}}|{%.*?%}", re.DOTALL)
_IAL_TAIL = re.compile(r"(?<=\S)[ \t]*\{:[^}\n]*\}[ \t]*$", re.MULTILINE)
_PIECES = (
    "{%", "%}", "{{", "}}", "-", " ", "\n", "\t", "\xa0", "raw", "endraw", "{% raw %}",
    "{%- endraw -%}", "{% highlight py %}\n", "{%- endhighlight %}", "x", "{:", "}", ":", "{",
    "%", "include.a", "```\n",
)  # fmt: skip
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(_TEXTS)
def test_scanners_read_what_the_regexes_read(text: str) -> None:
    """Same tags, blocks, attribute lists and parameters as before, on any mix of delimiters."""
    assert markup._raw_split(text) == _RAW.split(text)
    assert markup._sub_tags(text, lambda m: repr(m.groups())) == _TAG.sub(
        lambda m: repr(m.groups()), text
    )
    assert markup._without_ial_tails(text) == _IAL_TAIL.sub("", text)
    stripped = _OUTPUT.sub("", _TAG.sub("", text))
    expected = markup._UNCLOSED.sub("", stripped)
    if _RAW.search(text) is None:
        assert markup._strip_liquid(text) == expected
    refs = _LIQUID_SPAN.sub(
        lambda m: markup._INCLUDE_REF.sub(lambda r: markup._parameter(r.group(1)), m.group(0)),
        text,
    )
    assert markup._include_refs(text) == refs
