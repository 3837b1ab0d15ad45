"""Category and tag names -> file name segments: safe, distinct, deterministic, Unicode kept."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from feedsmith.names import assign, segment
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HASH_NAME = re.compile(r"_[0-9a-f]{8}")
WINDOWS_DEVICES = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])", re.IGNORECASE)


def fold(text: str) -> str:
    """What a case-insensitive, normalisation-insensitive file system treats as one name."""
    return unicodedata.normalize("NFC", text.casefold())


@pytest.mark.parametrize(
    "name", ["东财滚动新闻", "站长消息", "Café", "日本語のタグ", "한국어", "Ελληνικά", "emnews"]
)
def test_unicode_names_are_kept_as_they_are(name: str) -> None:
    """A name made only of safe characters, Chinese included, is its own segment."""
    assert segment(name) == name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a/b", "a-b"),
        ("a\\b", "a-b"),
        ('a:b*c?d"e<f>g|h', "a-b-c-d-e-f-g-h"),
        ("a#b%c&d+e", "a-b-c-d-e"),
        ("A股 Market", "A股-Market"),
        ("a \t b", "a-b"),
        ("a\x00b", "a-b"),
        ("a\nb", "a-b"),
        ("a\u3000b", "a-b"),
        ("/abs", "abs"),
        ("trailing/", "trailing"),
    ],
)
def test_unsafe_characters_become_one_dash(name: str, expected: str) -> None:
    """Separators, shell and URL specials, controls and whitespace turn into a single `-`."""
    assert segment(name) == expected


@pytest.mark.parametrize("name", ["..", ".", "../etc/passwd", "/abs", "a/../../b", "..\\..\\x"])
def test_path_like_names_stay_one_segment_inside_the_folder(name: str, tmp_path: Path) -> None:
    """A name that looks like a path gives one segment that resolves inside the output folder."""
    seg = segment(name)
    assert (tmp_path / f"{seg}.xml").resolve().parent == tmp_path.resolve()


@pytest.mark.parametrize("name", ["..", ".", "", "///", "\x00", "   ", "-.-", "\u200b"])
def test_names_with_nothing_safe_left_get_a_hash_name(name: str) -> None:
    """An empty, dot-only or only-unsafe name becomes `_` plus eight hex digits."""
    assert HASH_NAME.fullmatch(segment(name))


def test_hash_names_of_different_names_differ() -> None:
    """Two names that both fall back to a hash name get different segments."""
    names = ["..", ".", "", "///", "\x00", "   "]
    assert len({segment(name) for name in names}) == len(names)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("CON", "CON_"), ("nul", "nul_"), ("Aux", "Aux_"), ("com1", "com1_"), ("LPT9", "LPT9_")],
)
def test_windows_device_names_get_an_underscore(name: str, expected: str) -> None:
    """CON, NUL, AUX, COM1, LPT9... get a `_` so Windows can create the file."""
    assert segment(name) == expected


@pytest.mark.parametrize("name", ["nul.txt", "CON.tar.gz", "aux.d", "com1.x"])
def test_windows_device_names_with_an_extension_are_made_safe(name: str) -> None:
    """`nul.txt` is a device on Windows too: the feed file's stem before its first dot is not."""
    # Windows ignores everything from the first dot: NUL.txt and NUL.tar.gz "are both
    # equivalent to NUL" (Microsoft, "Naming Files, Paths, and Namespaces").
    file_name = f"{segment(name)}.xml"
    assert not WINDOWS_DEVICES.fullmatch(file_name.split(".", 1)[0])


@pytest.mark.parametrize("name", ["x" * 1000, "东" * 1000, "😀" * 1000, "a b/" * 250])
def test_long_names_fit_a_file_name_with_extension(name: str) -> None:
    """A 1,000-character name gives a segment that, with `.xml`, fits in 255 bytes."""
    assert len(f"{segment(name)}.xml".encode()) <= 255


def test_long_names_keep_their_beginning() -> None:
    """A cut name keeps its leading characters, so the file stays recognisable."""
    assert segment("东财滚动新闻" * 200).startswith("东财滚动新闻" * 5)


def test_long_names_that_differ_only_at_the_end_get_different_segments() -> None:
    """Two long names sharing their first 1,000 characters still get different segments."""
    assert segment("x" * 1000 + "a") != segment("x" * 1000 + "b")


def test_distinct_safe_names_keep_their_plain_segments() -> None:
    """Names that do not collide are assigned their own segment and no note is written."""
    segments, notes = assign(["东财滚动新闻", "emnews", "A股 Market"])
    assert (segments, notes) == (
        {"东财滚动新闻": "东财滚动新闻", "emnews": "emnews", "A股 Market": "A股-Market"},
        [],
    )


def test_names_differing_only_in_case_get_different_segments() -> None:
    """`AI` and `ai` would share a file on a case-insensitive file system: one gets a hash."""
    segments, _ = assign(["ai", "AI"])
    assert segments["AI"] == "AI"
    assert re.fullmatch(r"ai-[0-9a-f]{8,}", segments["ai"])


def test_names_that_become_the_same_segment_get_different_segments() -> None:
    """`a b` and `a-b` both clean to `a-b`: the first in code point order keeps it."""
    segments, _ = assign(["a-b", "a b"])
    assert segments["a b"] == "a-b"
    assert re.fullmatch(r"a-b-[0-9a-f]{8,}", segments["a-b"])


def test_nfc_and_nfd_spellings_get_different_segments() -> None:
    """`é` composed and `e` + combining accent are one name to macOS: they get two segments."""
    segments, _ = assign(["\u00e9", "e\u0301"])
    assert fold(segments["\u00e9"]) != fold(segments["e\u0301"])


def test_each_resolved_collision_is_noted_with_both_names() -> None:
    """A collision gives exactly one note, naming both names and the segment used."""
    segments, notes = assign(["AI", "ai"])
    assert len(notes) == 1
    assert "'AI'" in notes[0]
    assert "'ai'" in notes[0]
    assert segments["ai"] in notes[0]


def test_three_way_collision_gives_three_distinct_segments_and_two_notes() -> None:
    """`AI`, `Ai` and `ai` get three segments, two of them hashed, with a note each."""
    segments, notes = assign(["ai", "Ai", "AI"])
    assert len({fold(s) for s in segments.values()}) == 3
    assert len(notes) == 2


def test_duplicate_names_are_assigned_once() -> None:
    """A name given twice is one name: one segment, no collision note."""
    segments, notes = assign(["emnews", "emnews"])
    assert (segments, notes) == ({"emnews": "emnews"}, [])


COLLIDING = ["AI", "ai", "Ai", "a b", "a-b", "a/b", "\u00e9", "e\u0301", "..", "东财", "东财 "]


@pytest.mark.parametrize(
    "order",
    [COLLIDING, COLLIDING[::-1], sorted(COLLIDING, key=len), COLLIDING[5:] + COLLIDING[:5]],
    ids=["given", "reversed", "by-length", "rotated"],
)
def test_assignment_does_not_depend_on_input_order(order: list[str]) -> None:
    """The same names give the same segments and notes whatever order they come in."""
    assert assign(order) == assign(COLLIDING)


names_strategy = st.lists(
    st.one_of(
        st.text(st.characters(exclude_categories=()), max_size=40),
        st.text(st.characters(exclude_categories=()), min_size=200, max_size=400),
        st.sampled_from(["AI", "ai", ".", "..", "CON", "nul.txt", "a b", "a-b", "é", "e\u0301"]),
    ),
    max_size=12,
)


@given(names=names_strategy)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # tmp_path is only read
def test_every_assigned_segment_is_a_safe_distinct_file_name(
    names: list[str], tmp_path: Path
) -> None:
    """For any names: non-empty, no separator or NUL, no dot names, <= 200 bytes, distinct, inside OUT."""
    segments, _ = assign(names)
    assert set(segments) == set(names)
    for seg in segments.values():
        assert seg
        assert not {"/", "\\", "\x00"} & set(seg)
        assert seg not in {".", ".."}
        assert len(seg.encode("utf-8")) <= 200
        assert (tmp_path / f"{seg}.xml").resolve().parent == tmp_path.resolve()
    assert len({fold(seg) for seg in segments.values()}) == len(segments)


@given(names=names_strategy, data=st.data())
def test_any_order_of_any_names_gives_the_same_assignment(
    names: list[str], data: st.DataObject
) -> None:
    """For any names, assign() is independent of the order the names come in."""
    shuffled = data.draw(st.permutations(names))
    assert assign(shuffled) == assign(names)
