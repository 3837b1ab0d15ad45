"""Shared text rules: XML-safe strings, markup-free text, and cutting CJK and Latin text."""

from __future__ import annotations

import re
import unicodedata
from xml.sax.saxutils import escape

import pytest
from feedsmith.text import plain_text, truncate, xml_safe
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

ELLIPSIS = "…"
# Any code point at all, lone surrogates included (hypothesis leaves them out by default).
any_text = st.text(st.characters(exclude_categories=()))


def normalised(text: str) -> str:
    """The input as truncate() sees it: whitespace runs made one space, ends trimmed."""
    return " ".join(text.split())


# --- xml_safe -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f"],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_xml_safe_removes_c0_controls(char: str) -> None:
    """C0 control characters other than tab, newline and CR are removed."""
    assert xml_safe(f"a{char}b") == "ab"


@pytest.mark.parametrize("char", ["\ud800", "\udbff", "\udc00", "\udfff"], ids=ascii)
def test_xml_safe_removes_lone_surrogates(char: str) -> None:
    """Unpaired surrogate code points are removed."""
    assert xml_safe(f"a{char}b") == "ab"


@pytest.mark.parametrize("char", ["\ufffe", "\uffff"], ids=ascii)
def test_xml_safe_removes_the_bmp_noncharacters_xml_forbids(char: str) -> None:
    """U+FFFE and U+FFFF are removed."""
    assert xml_safe(f"a{char}b") == "ab"


@pytest.mark.parametrize(
    "text",
    [
        "a\tb\nc\rd",
        "😀 𠀀 𝄞 \U0010fffd",
        "东财滚动新闻",
        "\x7f\x85\ufffd\ue000",
        "<&>\"'",
    ],
    ids=["tab-newline-cr", "astral", "chinese", "allowed-edges", "markup-characters"],
)
def test_xml_safe_keeps_every_character_xml_allows(text: str) -> None:
    """Tab, newline, CR, astral characters and all other XML 1.0 characters are kept."""
    assert xml_safe(text) == text


@given(any_text)
def test_xml_safe_text_always_parses_as_xml_content(text: str) -> None:
    """For any string, `<a>` + escaped xml_safe(text) + `</a>` is well-formed XML with that text."""
    safe = xml_safe(text)
    root = etree.fromstring(f"<a>{escape(safe)}</a>".encode())
    # XML parsers turn CR and CRLF into LF (XML 1.0, 2.11 End-of-Line Handling).
    assert (root.text or "") == safe.replace("\r\n", "\n").replace("\r", "\n")


# --- plain_text -----------------------------------------------------------------------------


def test_plain_text_removes_tags() -> None:
    """Tags go and their text stays."""
    assert plain_text('<p class="lead">Markets <em>rose</em> today</p>') == "Markets rose today"


def test_plain_text_separates_block_elements() -> None:
    """Text of two adjacent paragraphs does not run together."""
    assert plain_text("<p>东财</p><p>滚动</p>") == "东财 滚动"


def test_plain_text_adds_no_space_around_inline_tags_in_chinese() -> None:
    """An inline tag inside a Chinese sentence leaves no space where there was none."""
    assert plain_text("上海<b>临港</b>公司") == "上海临港公司"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("A &amp; B", "A & B"),
        ("caf&eacute;", "café"),
        ("&#128512; &#x4E1C;", "😀 东"),
        ("&amp;lt;", "<"),
        ("&amp;amp;", "&"),
        ("1 &lt; 2 &gt; 0", "1 < 2 > 0"),
        ("《&lt;蒙特利尔议定书&gt;基加利修正案》", "《<蒙特利尔议定书>基加利修正案》"),
    ],
)
def test_plain_text_decodes_entities_until_none_is_left(html: str, expected: str) -> None:
    """Character references are decoded, twice-encoded ones too (`&amp;lt;` is `<`): what is
    left holds none a reader could decode again; a decoded `<` that starts no tag is text."""
    assert plain_text(html) == expected


@pytest.mark.parametrize(
    "escaped",
    ["&lt;script&gt;x&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;x", "&amp;lt;b&amp;gt;x"],
)
def test_plain_text_never_yields_markup_a_reader_could_render(escaped: str) -> None:
    """Escaped markup is removed too: a title or summary never carries a tag, decoded or not."""
    assert "<" not in plain_text(escaped).replace("&lt;", "")
    assert plain_text(escaped).endswith("x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  a \n\t b  ", "a b"),
        ("a&nbsp;&nbsp;b", "a b"),
        ("a\u3000\u3000b", "a b"),
        ("<p>\n  one\n</p>\n<p>two</p>", "one two"),
    ],
)
def test_plain_text_collapses_whitespace(text: str, expected: str) -> None:
    """Whitespace runs, non-breaking and ideographic spaces included, become one space."""
    assert plain_text(text) == expected


def test_plain_text_removes_characters_xml_forbids() -> None:
    """Controls, also ones written as character references, do not survive."""
    assert plain_text("a\x01b&#1;c\ufffe") == "abc"


def test_plain_text_keeps_text_without_markup() -> None:
    """Text without tags or entities is returned as it is, `<` in a comparison included."""
    assert plain_text("1 < 2 and Q&A") == "1 < 2 and Q&A"


# --- truncate -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("东财滚动新闻", 6, "东财滚动新闻"),
        ("short text", 200, "short text"),
        ("  spaced \n out  ", 200, "spaced out"),
        ("", 10, ""),
    ],
)
def test_truncate_returns_short_text_whole(text: str, limit: int, expected: str) -> None:
    """Text within the limit comes back uncut, only its whitespace normalised."""
    assert truncate(text, limit) == expected


def test_truncate_cjk_ends_at_a_sentence_mark() -> None:
    """Chinese text is cut just after the last full stop within the limit."""
    text = "第一句话说完了。第二句话也说完了。第三句话还没有说完就被截断了"
    assert truncate(text, 20) == "第一句话说完了。第二句话也说完了。"


def test_truncate_cjk_ends_at_a_clause_mark_with_an_ellipsis() -> None:
    """Without a sentence end, Chinese text is cut at a comma, the comma replaced by `…`."""
    text = "沪深两市今日震荡走高，创业板指领涨，两市成交额突破万亿元大关并创下新高"
    assert truncate(text, 24) == "沪深两市今日震荡走高，创业板指领涨…"


def test_truncate_cjk_without_marks_cuts_between_characters() -> None:
    """Chinese text without punctuation is cut between two characters, with `…`."""
    text = "东方财富网滚动新闻频道实时报道财经要闻与市场动态"
    assert truncate(text, 10) == "东方财富网滚动新闻频…"


def test_truncate_cuts_between_chinese_and_latin() -> None:
    """A break between a Chinese character and a Latin word is a valid cut."""
    assert truncate("使用Python编程语言进行数据分析和机器学习模型训练", 10) == "使用Python编程…"


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("沪指今日收涨1.25%，深成指涨2.37%，创业板指涨3.08%，两市成交额突破万亿元", 20),
        ("沪指今日收涨1.25%，深成指涨2.37%，创业板指涨3.08%，两市成交额突破万亿元", 30),
        ("We shipped version 10.2.3 today and more words follow here", 30),
        ("Revenue rose to 1,234,567 dollars in the quarter", 24),
    ],
    ids=["cjk-decimals-20", "cjk-decimals-30", "version-number", "thousands-separators"],
)
def test_truncate_never_cuts_inside_a_number(text: str, limit: int) -> None:
    """A decimal point or thousands separator is no sentence or clause end: numbers stay whole."""
    kept = truncate(text, limit).removesuffix(ELLIPSIS)
    cut = len(kept)
    numbers = [m.span() for m in re.finditer(r"\d+(?:[.,]\d+)+", text)]
    assert not any(start < cut < end for start, end in numbers), kept


def test_truncate_english_cuts_between_words() -> None:
    """English text is cut at the last space within the limit, with `…`."""
    assert truncate("The quick brown fox jumps over the lazy dog", 20) == "The quick brown fox…"


def test_truncate_english_ends_at_a_clause_mark() -> None:
    """A comma near the limit is preferred to a space, and replaced by `…`."""
    assert truncate("Hello world, this is a test of the truncation", 15) == "Hello world…"


def test_truncate_english_never_splits_a_long_word() -> None:
    """When a long word spans the whole cutting window, the cut falls before that word."""
    assert truncate("A supercalifragilisticexpialidocious day", 20) == "A…"


def test_truncate_keeps_combining_marks_with_their_letter() -> None:
    """A cut never separates a letter from the accent that follows it (decomposed `é`)."""
    text = "cafe\u0301 cafe\u0301 cafe\u0301"
    kept = truncate(text, 10).removesuffix(ELLIPSIS)
    assert not unicodedata.combining(text[len(kept)]), kept


@given(text=any_text, limit=st.integers(min_value=0, max_value=300))
def test_truncate_result_is_a_bounded_prefix(text: str, limit: int) -> None:
    """For any text: at most limit + 1 characters, and without `…` a prefix of the input."""
    result = truncate(text, limit)
    assert len(result) <= limit + 1
    assert normalised(text).startswith(result.removesuffix(ELLIPSIS))


short_words = st.lists(
    st.text(st.characters(min_codepoint=ord("a"), max_codepoint=ord("z")), min_size=1, max_size=7),
    min_size=1,
)


@given(words=short_words, limit=st.integers(min_value=20, max_value=120))
def test_truncate_english_result_ends_at_a_word_boundary(words: list[str], limit: int) -> None:
    """For text of short English words, a cut result always ends with a whole word."""
    text = " ".join(words)
    kept = truncate(text, limit).removesuffix(ELLIPSIS)
    assert kept == text or text[len(kept)] == " "
