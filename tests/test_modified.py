"""server/modified.py: a path's Last-Modified moves later whenever its bytes change, and only then."""

from __future__ import annotations

from pathlib import Path

from feedsmith.server.modified import FILE_NAME, ModifiedTimes
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = 1_800_000_000.25


def test_a_new_path_gets_the_next_whole_second(tmp_path: Path) -> None:
    """Later than the moment it was seen, whatever fraction of a second that was."""
    assert ModifiedTimes(tmp_path).assign({"feed.xml": "k1"}, NOW) == {"feed.xml": 1_800_000_001}


def test_an_unchanged_key_keeps_its_time(tmp_path: Path) -> None:
    times = ModifiedTimes(tmp_path)
    first = times.assign({"feed.xml": "k1"}, NOW)
    assert times.assign({"feed.xml": "k1"}, NOW + 500) == first


def test_a_changed_key_moves_later_even_within_the_same_second(tmp_path: Path) -> None:
    times = ModifiedTimes(tmp_path)
    first = times.assign({"feed.xml": "k1"}, NOW)["feed.xml"]
    second = times.assign({"feed.xml": "k2"}, NOW)["feed.xml"]
    assert second > first


def test_bytes_that_come_back_get_a_new_time(tmp_path: Path) -> None:
    """k1 -> k2 -> k1: a client holding k2's time must not be told k1 is what it has."""
    times = ModifiedTimes(tmp_path)
    one = times.assign({"feed.xml": "k1"}, NOW)["feed.xml"]
    two = times.assign({"feed.xml": "k2"}, NOW + 10)["feed.xml"]
    back = times.assign({"feed.xml": "k1"}, NOW + 20)["feed.xml"]
    assert one < two < back


def test_a_clock_set_back_never_moves_a_time_back(tmp_path: Path) -> None:
    times = ModifiedTimes(tmp_path)
    before = times.assign({"feed.xml": "k1"}, NOW)["feed.xml"]
    assert times.assign({"feed.xml": "k2"}, NOW - 3600)["feed.xml"] > before


def test_a_restart_keeps_the_times(tmp_path: Path) -> None:
    ModifiedTimes(tmp_path).assign({"feed.xml": "k1", "feeds.opml": "o1"}, NOW)
    again = ModifiedTimes(tmp_path).assign({"feed.xml": "k1", "feeds.opml": "o2"}, NOW + 60)
    assert again == {"feed.xml": 1_800_000_001, "feeds.opml": 1_800_000_061}


def test_two_workers_on_one_file_agree(tmp_path: Path) -> None:
    """The first to see a change fixes its time; the other, seeing it later, takes that time."""
    one, two = ModifiedTimes(tmp_path), ModifiedTimes(tmp_path)
    assert one.assign({"feed.xml": "k1"}, NOW) == two.assign({"feed.xml": "k1"}, NOW + 5)
    changed = one.assign({"feed.xml": "k2"}, NOW + 10)
    assert two.assign({"feed.xml": "k2"}, NOW + 11) == changed


def test_a_folder_that_cannot_be_made_keeps_times_in_memory(tmp_path: Path) -> None:
    """The state folder's parent is a file (as a read-only disk, it cannot be written)."""
    (tmp_path / "file").write_text("x", encoding="utf-8")
    times = ModifiedTimes(tmp_path / "file" / "state")
    first = times.assign({"feed.xml": "k1"}, NOW)["feed.xml"]
    assert times.assign({"feed.xml": "k2"}, NOW)["feed.xml"] > first


def test_a_damaged_file_keeps_times_in_memory(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"not a database" * 100)
    times = ModifiedTimes(tmp_path)
    first = times.assign({"feed.xml": "k1"}, NOW)["feed.xml"]
    assert times.assign({"feed.xml": "k2"}, NOW)["feed.xml"] > first


def test_no_folder_keeps_times_in_memory() -> None:
    times = ModifiedTimes(None)
    first = times.assign({"feed.xml": "k1"}, NOW)["feed.xml"]
    assert times.assign({"feed.xml": "k1"}, NOW + 9)["feed.xml"] == first


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.floats(-1e6, 1e6), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_any_history_of_changes_and_restarts_is_monotonic(
    history: list[tuple[str, float, bool]],
) -> None:
    """Whatever keys, clock readings and restarts come: a path's time changes exactly when its
    key does, and then only to a value later than every one it had."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        times = ModifiedTimes(Path(folder))
        given_times: list[int] = []
        key_before = None
        for key, offset, restart in history:
            if restart:
                times.close()
                times = ModifiedTimes(Path(folder))
            at = times.assign({"feed.xml": key}, NOW + offset)["feed.xml"]
            if key == key_before:
                assert at == given_times[-1]
            elif given_times:
                assert at > max(given_times)
            given_times.append(at)
            key_before = key
        times.close()
