"""How many names one post may carry, and how long one may be: a post of 50,000 tags or of
2,000 long categories builds like any other, with a warning, instead of filling the memory
or the disk (each name is a feed, and each feed lists every name of its posts)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import feedparser
from feedsmith.parse import NameLimits, _unique
from hypothesis import given
from hypothesis import strategies as st

TIMEOUT = 120  # a guard against hangs, not a speed test: the old code ran for minutes
MEMORY = 2 * 1024**3  # the old code was killed at 2.5 GB on the 50,000 tags


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _site(root: Path, front: str, config: str = "") -> Path:
    posts = root / "_posts"
    posts.mkdir(parents=True)
    (root / "_config.yml").write_text(
        f"title: T\nurl: https://limits.example\n{config}", encoding="utf-8"
    )
    (posts / "2024-01-01-ordinary.md").write_text(
        "---\ntitle: Ordinary\ntags: [plain]\ncategories: [news]\n---\nHello.\n", encoding="utf-8"
    )
    (posts / "2024-01-02-many.md").write_text(
        f"---\ntitle: Many\n{front}\n---\nBody.\n", encoding="utf-8"
    )
    return root


def _build(site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsmith", "build", str(site), "-o", str(site / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_limit_memory,
        check=False,
    )


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_a_post_of_50000_tags_keeps_the_first_100_with_a_warning(tmp_path: Path) -> None:
    """The first `max_tags_per_post` tags as written make feeds; the rest are left out, and a
    warning names the post and how many; the other posts are untouched."""
    tags = " ".join(f"t{n}" for n in range(50_000))
    site = _site(tmp_path, f"tags: {tags}")
    done = _build(site)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (
        "_posts/2024-01-02-many.md: warning: 50,000 tags; only the first 100 are used "
        "(max_tags_per_post), 49,900 left out"
    ) in done.stdout
    by_tag = site / "out" / "feed" / "by_tag"
    assert sorted(p.stem for p in by_tag.glob("*.xml")) == sorted(
        ["plain", *(f"t{n}" for n in range(100))]
    )
    entry = feedparser.parse(str(by_tag / "t99.xml")).entries[0]
    assert [t.term for t in entry.tags] == [f"t{n}" for n in range(100)]
    ordinary = feedparser.parse(str(by_tag / "plain.xml"))
    assert [e.title for e in ordinary.entries] == ["Ordinary"]
    assert _size(site / "out") < 20_000_000


def test_2000_long_categories_are_bounded_in_number_and_length(tmp_path: Path) -> None:
    """2,000 categories of 5,000 characters (a 10 MB post made 470 MB of feeds): each name
    is cut to `max_name_length` and only the first `max_categories_per_post` are kept."""
    names = ", ".join(f"c{n:04d}{'x' * 5000}" for n in range(2000))
    site = _site(tmp_path, f"categories: [{names}]", "feedsmith:\n  max_post_bytes: 20000000\n")
    done = _build(site)
    assert done.returncode == 0, done.stdout[-3000:]
    warnings = [line for line in done.stdout.splitlines() if "2024-01-02-many.md" in line]
    assert any(
        "(5,005 characters) and 99 more cut to 200 characters (max_name_length)" in w
        for w in warnings
    ), warnings
    assert any(
        "2,000 categories; only the first 100 are used (max_categories_per_post), 1,900 left out"
        in w
        for w in warnings
    ), warnings
    site_feed = feedparser.parse(str(site / "out" / "feed.xml"))
    many = next(e for e in site_feed.entries if e.title == "Many")
    terms = [t.term for t in many.tags]
    assert terms == [f"c{n:04d}{'x' * 195}" for n in range(100)]
    assert _size(site / "out") < 40_000_000


def test_the_limits_are_settings(tmp_path: Path) -> None:
    """`max_tags_per_post` and `max_name_length` set in the site's configuration apply."""
    site = _site(
        tmp_path,
        "tags: [a, b, c, dddddddddd]",
        "feedsmith:\n  max_tags_per_post: 2\n  max_name_length: 5\n",
    )
    done = _build(site)
    assert done.returncode == 0, done.stdout
    assert "4 tags; only the first 2 are used (max_tags_per_post), 2 left out" in done.stdout
    many = next(
        e for e in feedparser.parse(str(site / "out" / "feed.xml")).entries if e.title == "Many"
    )
    assert [t.term for t in many.tags] == ["a", "b"]


NAMES = st.lists(st.text(min_size=0, max_size=30), max_size=60)


@given(NAMES, st.integers(1, 20), st.integers(1, 25))
def test_names_kept_are_bounded_and_the_first_as_written(
    names: list[str], most: int, longest: int
) -> None:
    """Whatever the names: at most `most` kept, none longer than `longest`, distinct, and
    those that needed no cut are the first distinct clean names in the order written."""
    kept, notes = _unique(names, NameLimits(most, longest, "max_tags_per_post"), "tags")
    assert len(kept) <= most
    assert all(0 < len(name) <= longest for name in kept)
    assert len(set(kept)) == len(kept)
    unlimited, _ = _unique(names)
    if all(len(n) <= longest for n in unlimited):
        assert kept == unlimited[:most]
        assert bool(notes) == (len(unlimited) > most)


def test_names_within_the_defaults_are_untouched() -> None:
    """The defaults are far above what real sites use: the corpus's names pass unchanged."""
    names = ["东财滚动新闻", "zhongguozhengquanbao", "release", "A股 Market"]
    assert _unique(names, NameLimits(100, 200, "max_tags_per_post"), "tags") == (
        tuple(names),
        [],
    )


def test_the_count_left_out_counts_distinct_names() -> None:
    """A name written twice is one name, before and after the limit."""
    names = [*(f"tag{n}" for n in range(102)), "tag0", "tag101", " "]
    kept, notes = _unique(names, NameLimits(100, 200, "max_tags_per_post"), "tags")
    assert kept == tuple(f"tag{n}" for n in range(100))
    assert notes == ["102 tags; only the first 100 are used (max_tags_per_post), 2 left out"]
