"""Queries on served feeds, against the real `feedsmith serve` process on 127.0.0.1: every
parameter, combinations, bad values, caching and 304s, a live change, Chinese and English
search, the search index on disk. feedparser reads every answer."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import feedparser
import pytest
from feedsmith.config import load_config
from feedsmith.search import FILE_NAME, SearchIndex
from feedsmith.server.query import parse
from feedsmith.site import read_site
from feedsmith.state import state_folder
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import write_post
from tests.test_serve_process import fetch, serving, wait_for

SITE = """\
title = "Q"
url = "https://q.example.org"
timezone = "Asia/Shanghai"
posts_limit = 3
"""
WIDGET = (
    '<span id="stock_1.600848"><a href="http://quote.eastmoney.com/unify/r/1.600848" '
    'class="keytip" data-code="1,600848">上海临港</a></span><span id="quote_1.600848"></span>'
)
POSTS: tuple[tuple[str, str, str], ...] = (
    (
        "2022-01-26-sensetime.md",
        "title: 商汤科技AIDC在临港投用\ndate: 2022-01-26 10:00:00 +0800\n"
        "categories: emnews\ntags: [东财滚动新闻, AI]\nauthor: 张三",
        f"<p>据介绍，商汤科技位于{WIDGET}的AIDC将成亚洲最大的人工智能计算中心之一。</p>\n",
    ),
    (
        "2022-02-01-liquor.md",
        "title: 白酒股早盘集体走强\ndate: 2022-02-01 10:00:00 +0800\n"
        "categories: emnews\ntags: 东财滚动新闻\nauthor: 李四",
        "贵州茅台涨超3%，北向资金半日净买入25.6亿元。\n",
    ),
    (
        "2022-02-10-rates.md",
        "title: Interest rate outlook\ndate: 2022-02-10 10:00:00 +0800\n"
        "categories: markets\ntags: [rates, bonds]\nauthor: Pat Lee",
        "The central bank kept its **interest rate** unchanged; bond yields fell.\n",
    ),
    (
        "2022-02-20-chips.md",
        "title: HK chipmakers notes\ndate: 2022-02-20 10:00:00 +0800\n"
        "categories: markets\ntags: [AI, chips]\nauthor: [Pat Lee, 张三]",
        "Chip stocks rallied on AI demand; rate cuts were not the story.\n",
    ),
    (
        "2022-03-01-review.md",
        "title: Quarterly market review\ndate: 2022-03-01 10:00:00 +0800\n"
        "categories: markets\ntags: bonds\nauthor: Pat Lee",
        "Equities rose, the rate of inflation eased. Interest in rates stayed high.\n",
    ),
)


@contextmanager
def searching(source: Path, *extra: str) -> Iterator[str]:
    """`serving`, once the server's search index is ready (it is made after the server
    starts, so that feeds are served at once)."""
    with serving(source, *extra) as url:
        wait_for(lambda: json.loads(fetch(f"{url}/healthz")[2])["search"] == "ready", 30)
        yield url


def make_site(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "feedsmith.toml").write_text(SITE + extra, encoding="utf-8")
    for name, front, body in POSTS:
        write_post(folder, name, front, body)
    return folder


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    source = make_site(tmp_path_factory.mktemp("query") / "site")
    with searching(source, "--no-reload") as url:
        yield url


def _iri(url: str) -> str:
    """`url` with its non-ASCII characters percent-encoded, as a browser sends it."""
    return urllib.parse.quote(url, safe=':/?&=%+"')


def feed(url: str, headers: dict[str, str] | None = None) -> Any:
    """feedparser's view of an answer that must be a valid feed (200); a JSON Feed, which
    feedparser does not read, checked as JSON Feed 1.1 and given the same shape."""
    status, answer, body = fetch(_iri(url), headers)
    assert status == 200, body
    if answer["Content-Type"].startswith("application/feed+json"):
        document = json.loads(body)
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert all(item["id"] and item["url"] for item in document["items"])
        return feedparser.FeedParserDict(
            feed=feedparser.FeedParserDict(title=document["title"], links=[]),
            entries=[feedparser.FeedParserDict(item) for item in document["items"]],
        )
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def titles(url: str) -> list[str]:
    return [entry.title for entry in feed(url).entries]


def q(**params: str | list[str]) -> str:
    return urllib.parse.urlencode(params, doseq=True)


SENSE, LIQUOR, RATES, CHIPS, REVIEW = (
    "商汤科技AIDC在临港投用",
    "白酒股早盘集体走强",
    "Interest rate outlook",
    "HK chipmakers notes",
    "Quarterly market review",
)


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("feed.xml", {"limit": "2"}, [REVIEW, CHIPS]),
        ("feed.xml", {"limit": "10"}, [REVIEW, CHIPS, RATES, LIQUOR, SENSE]),  # above posts_limit
        ("feed.xml", {"q": "商汤"}, [SENSE]),  # two characters: below the trigram
        ("feed.xml", {"q": "商汤科技"}, [SENSE]),
        ("feed.xml", {"q": "600848"}, [SENSE]),  # a stock widget's code
        ("feed.xml", {"q": "茅台 北向"}, [LIQUOR]),  # every word must occur
        ("feed.xml", {"q": '"interest rate"'}, [RATES]),  # a phrase, not two words
        ("feed.xml", {"q": "interest rate"}, [REVIEW, RATES]),
        ("feed.xml", {"q": "INTEREST"}, [REVIEW, RATES]),  # case-insensitive
        ("feed.xml", {"q": "AI"}, [CHIPS, SENSE]),  # two ASCII letters, in any case
        ("feed.xml", {"category": "emnews"}, [LIQUOR, SENSE]),
        ("feed.xml", {"tag": ["bonds", "rates"]}, [RATES]),  # all of them
        ("feed.xml", {"tag": ["bonds", "rates"], "any": "1"}, [REVIEW, RATES]),
        (
            "feed.xml",
            {"tag": "AI", "category": "markets", "any": "1", "limit": "9"},
            [REVIEW, CHIPS, RATES, SENSE],
        ),
        ("feed.xml", {"author": "张三"}, [CHIPS, SENSE]),
        ("feed.xml", {"author": ["张三", "Pat Lee"]}, [CHIPS]),
        ("feed.xml", {"not_tag": "AI"}, [REVIEW, RATES, LIQUOR]),
        ("feed.xml", {"not_category": "markets", "not_tag": "AI"}, [LIQUOR]),
        ("feed.xml", {"since": "2022-02-01", "limit": "9"}, [REVIEW, CHIPS, RATES, LIQUOR]),
        ("feed.xml", {"since": "2022-02-11", "category": "markets", "limit": "1"}, [REVIEW]),
        ("feed.xml", {"q": "nothing-like-this"}, []),
        ("feed.xml", {"q": ""}, [REVIEW, CHIPS, RATES]),  # an empty form field asks nothing
        ("feed/by_tag/AI.xml", {"q": "rate"}, [CHIPS]),  # within the tag feed's posts
        ("feed/markets.rss", {"not_tag": "bonds"}, [CHIPS]),
        ("feed/emnews.json", {"q": "商汤"}, [SENSE]),
        ("search.xml", {"q": "rate", "limit": "5"}, [REVIEW, CHIPS, RATES]),
        ("search.rss", {"q": "资金"}, [LIQUOR]),
        ("search.json", {"tag": "东财滚动新闻"}, [LIQUOR, SENSE]),
    ],
)
def test_every_parameter_and_combinations(
    base: str, path: str, params: dict[str, str], expected: list[str]
) -> None:
    """Each parameter filters the feed's own posts, newest first, in the path's format."""
    assert titles(f"{base}/{path}?{q(**params)}") == expected


def test_answers_carry_the_static_entries_and_a_canonical_self(base: str) -> None:
    """Same ids, links and content as the static feed; `self` is the query with its
    parameters sorted, whatever order they came in; the title says what was asked."""
    static = {e.id: e for e in feed(f"{base}/feed.xml").entries}
    one = feed(f"{base}/feed.xml?tag=bonds&limit=2&category=markets")
    other = feed(f"{base}/feed.xml?limit=2&category=markets&tag=bonds")
    for entry in one.entries:
        kept = static[entry.id]
        assert (entry.link, entry.content[0].value) == (kept.link, kept.content[0].value)
    self_links = [link.href for link in one.feed.links if link.rel == "self"]
    assert self_links == ["https://q.example.org/feed.xml?category=markets&limit=2&tag=bonds"]
    assert one.feed.title == other.feed.title == "Q | category markets, tag bonds, the last 2"
    assert (
        fetch(f"{base}/feed.xml?tag=bonds&limit=2&category=markets")[1]["ETag"]
        == (fetch(f"{base}/feed.xml?limit=2&category=markets&tag=bonds")[1]["ETag"])
    )


def test_json_answers_name_their_query_url(base: str) -> None:
    _, headers, body = fetch(f"{base}/feed/markets.json?q=rate")
    assert headers["Content-Type"] == "application/feed+json; charset=utf-8"
    document = json.loads(body)
    assert document["feed_url"] == "https://q.example.org/feed/markets.json?q=rate"


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("qq=1", "unknown parameter 'qq'"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=%EF%BC%91", "limit"),  # a full-width digit
        ("limit=1&limit=2", "more than once"),
        ("q=a&q=b", "more than once"),
        ("since=yesterday", "since"),
        ("since=2022-13-01", "since"),
        ("any=maybe", "any"),
        ("q=" + "x" * 201, "longer than 200"),
        ("q=" + "+".join(f"w{n}" for n in range(11)), "more than 10"),
        ("&".join(f"tag=t{n}" for n in range(21)), "more than 20 parameters"),
        ("q=%FF", "UTF-8"),
        ("q=a%00b", "control characters"),
        ("tag=" + "t" * 2100, "longer than 2048 bytes"),
    ],
)
def test_bad_values_are_400_with_the_known_parameters(base: str, query: str, says: str) -> None:
    """Refused with what is wrong and the list of known parameters, never a traceback."""
    status, headers, body = fetch(f"{base}/feed.xml?{query}")
    text = body.decode("utf-8")
    assert status == 400, text
    assert says in text
    assert (
        "known parameters: any, author, category, limit, not_category, not_tag, q, since, tag"
        in text
    )
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_a_limit_above_the_cap_is_lowered_to_it(tmp_path: Path) -> None:
    source = make_site(tmp_path / "site", "serve_query_limit = 2\n")
    with searching(source, "--no-reload") as url:
        parsed = feed(f"{url}/feed.xml?limit=50")
        assert len(parsed.entries) == 2
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [
            "https://q.example.org/feed.xml?limit=2"
        ]


def test_an_archive_document_takes_no_query(tmp_path: Path) -> None:
    source = make_site(tmp_path / "site", "archive_size = 2\n")
    with searching(source, "--no-reload") as url:
        assert fetch(f"{url}/feed/archive/1.xml")[0] == 200
        assert fetch(f"{url}/feed/archive/1.xml?q=rate")[0] == 400


def test_etag_last_modified_and_304s(base: str) -> None:
    """Each answer has its validators; both kinds of conditional GET get a 304 with them;
    another query gets another ETag; content codings have their own."""
    url = f"{base}/feed/markets.xml?q=rate"
    status, headers, _ = fetch(url)
    assert status == 200 and headers["Cache-Control"] == "max-age=300"
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert fetch(url, {"If-None-Match": etag})[:1] == (304,)
    assert fetch(url, {"If-Modified-Since": modified})[0] == 304
    assert fetch(url, {"If-None-Match": '"other"'})[0] == 200
    assert fetch(f"{base}/feed/markets.xml?q=rates")[1]["ETag"] != etag
    gzip = fetch(url, {"Accept-Encoding": "gzip"})[1]
    assert gzip["Content-Encoding"] == "gzip" and gzip["ETag"] != etag
    assert fetch(url, {"Accept-Encoding": "gzip", "If-None-Match": gzip["ETag"]})[0] == 304


def test_a_live_change_shows_in_the_answers_it_touches(tmp_path: Path) -> None:
    """A post written to the source appears in a query answer; an answer it does not touch
    keeps its ETag, and a client holding it still gets 304."""
    source = make_site(tmp_path / "site")
    with searching(source) as url:
        touched = f"{url}/search.xml?q=商汤"
        untouched = f"{url}/feed/markets.xml?q=rate"
        assert titles(touched) == [SENSE]
        held = fetch(untouched)[1]["ETag"]
        write_post(
            source,
            "2022-03-05-sense.md",
            "title: 商汤发布新模型\ndate: 2022-03-05 10:00:00 +0800\ncategories: emnews",
            "商汤今日发布新一代大模型。\n",
        )
        wait_for(lambda: titles(touched) == ["商汤发布新模型", SENSE], timeout=10)
        assert fetch(untouched, {"If-None-Match": held})[0] == 304
        (source / "2022-01-26-sensetime.md").unlink()
        wait_for(lambda: titles(touched) == ["商汤发布新模型"], timeout=10)


def test_search_can_be_turned_off(tmp_path: Path) -> None:
    source = make_site(tmp_path / "site", "serve_search = false\n")
    with searching(source, "--no-reload") as url:
        assert fetch(f"{url}/search.xml?q=rate")[0] == 404
        assert titles(f"{url}/feed.xml?q=rate") == [REVIEW, CHIPS, RATES]


def test_a_query_over_its_time_budget_is_503_with_retry_after(tmp_path: Path) -> None:
    """SQLite is told to stop the search once the budget is spent: a 503 that says when to
    come back, and the server answers the next request at once."""
    source = make_site(tmp_path / "site", "serve_query_time = 1e-9\n")
    for n in range(300):
        write_post(
            source,
            f"2021-01-01-filler-{n}.md",
            f"title: filler {n}\ndate: 2021-01-01 10:00:00 +0800",
            "word " * 400 + "\n",
        )
    with searching(source, "--no-reload") as url:
        status, headers, body = fetch(f"{url}/feed.xml?q=zz")
        assert status == 503, body
        assert headers["Retry-After"] == "1"
        assert fetch(f"{url}/feed.xml")[0] == 200


def _rows(folder: Path) -> list[tuple[object, ...]]:
    index = SearchIndex(folder)
    try:
        return list(index.rows())
    finally:
        index.close()


def test_the_index_kept_up_to_date_equals_one_made_anew(tmp_path: Path) -> None:
    """After live additions, edits and deletions, the index holds what a fresh one made from
    the same posts holds; deleted, it is made again at start; a damaged file too."""
    source = make_site(tmp_path / "site")
    folder = state_folder(load_config(source))
    with searching(source) as url:
        write_post(
            source,
            "2022-03-09-new.md",
            "title: 新文章\ndate: 2022-03-09 10:00:00 +0800",
            "新内容\n",
        )
        write_post(source, POSTS[2][0], POSTS[2][1].replace("outlook", "view"), "Edited body.\n")
        (source / POSTS[1][0]).unlink()
        wait_for(lambda: titles(f"{url}/search.xml?q=新内容") == ["新文章"], timeout=10)
        wait_for(lambda: titles(f"{url}/search.xml?q=edited") == ["Interest rate view"], timeout=10)
    kept = _rows(folder)
    assert len(kept) == 5 and "Edited body." in str(kept)
    fresh_folder = tmp_path / "fresh"
    fresh = SearchIndex(fresh_folder)
    fresh.update(read_site(load_config(source)))
    fresh.close()
    assert _rows(fresh_folder) == kept

    for name in (FILE_NAME, f"{FILE_NAME}-wal", f"{FILE_NAME}-shm"):
        (folder / name).unlink(missing_ok=True)
    with searching(source, "--no-reload") as url:
        assert titles(f"{url}/search.xml?q=新内容") == ["新文章"]
    assert _rows(folder) == kept

    (folder / FILE_NAME).write_bytes(b"not a database" * 100)
    with searching(source, "--no-reload") as url:
        assert titles(f"{url}/search.xml?q=新内容") == ["新文章"]
    assert _rows(folder) == kept


def test_an_index_of_another_schema_is_made_anew(tmp_path: Path) -> None:
    source = make_site(tmp_path / "site")
    folder = state_folder(load_config(source))
    with searching(source, "--no-reload"):
        pass
    db = sqlite3.connect(folder / FILE_NAME)
    db.execute("UPDATE meta SET value = 'feedsmith-search 0' WHERE key = 'schema'")
    db.execute("DELETE FROM text")  # what an older index might lack
    db.commit()
    db.close()
    with searching(source, "--no-reload") as url:
        assert titles(f"{url}/search.xml?q=商汤") == [SENSE]


def test_answers_keep_nothing_in_the_source(tmp_path: Path) -> None:
    """The index lives in the state folder, never among the posts or in an output."""
    source = make_site(tmp_path / "site")
    before = sorted(p.name for p in source.iterdir())
    with searching(source, "--no-reload") as url:
        assert titles(f"{url}/search.xml?q=商汤") == [SENSE]
    assert sorted(p.name for p in source.iterdir()) == before


def test_the_served_list_of_feeds_has_a_search_box_the_built_one_has_not(tmp_path: Path) -> None:
    """`/` as served: a plain GET form to /search.xml, one button per format, allowed by its
    policy (meta and header); `feeds.html` keeps the bytes `build` writes, without a box that
    could not work there; with search off, `/` has none either."""
    source = make_site(tmp_path / "site")
    with searching(source, "--no-reload") as url:
        status, headers, body = fetch(f"{url}/")
        page = body.decode("utf-8")
        assert status == 200
        assert '<form method=get action="search.xml" role=search>' in page
        assert 'formaction="search.rss"' in page and 'formaction="search.json"' in page
        assert "form-action 'self'" in headers["Content-Security-Policy"]
        assert "form-action 'self'" in page  # the page's own <meta> policy
        listed = fetch(f"{url}/feeds.html")
        assert "<form" not in listed[2].decode("utf-8")
        assert "form-action 'none'" in listed[1]["Content-Security-Policy"]
        # What the form sends: `search.xml?q=…`, a feed to subscribe to.
        assert titles(f"{url}/search.xml?q=商汤") == [SENSE]
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "feedsmith", "build", str(source), "-o", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with searching(source, "--no-reload") as url:
        assert fetch(f"{url}/feeds.html")[2] == (out / "feeds.html").read_bytes()
    assert b"<form" not in (out / "feeds.html").read_bytes()
    off = make_site(tmp_path / "off", "serve_search = false\n")
    with searching(off, "--no-reload") as url:
        assert "<form" not in fetch(f"{url}/")[2].decode("utf-8")


_NAMES = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=8
)


@given(
    params=st.lists(
        st.one_of(
            st.tuples(
                st.sampled_from(["category", "tag", "author", "not_tag", "not_category"]), _NAMES
            ),
        ),
        max_size=8,
    ),
    words=st.lists(_NAMES.filter(lambda w: '"' not in w), max_size=4),
    limit=st.integers(1, 500),
    seed=st.randoms(),
)
def test_the_canonical_query_is_one_whatever_the_order_and_reads_back_the_same(
    params: list[tuple[str, str]], words: list[str], limit: int, seed: random.Random
) -> None:
    """Any order of the same parameters gives one canonical query string, which reads back
    as the same query and is its own canonical form."""
    config = load_config(Path(__file__).parent.parent / "posts")
    pairs = [*params, ("q", " ".join(words)), ("limit", str(limit))]
    shuffled = pairs[:]
    seed.shuffle(shuffled)
    one = parse(urllib.parse.urlencode(pairs).encode(), config)
    other = parse(urllib.parse.urlencode(shuffled).encode(), config)
    assert one == other
    again = parse(one.canonical.encode(), config)
    assert again == one
    assert one.query.limit == min(limit, config.serve_query_limit)


def test_serve_get_answers_a_query_once_the_index_is_made(tmp_path: Path) -> None:
    """`serve --get '/search.xml?q=…'` (no port opened) waits for the search index it makes,
    then answers the feed of the matches, not a 503."""
    source = make_site(tmp_path / "site")
    result = subprocess.run(
        [sys.executable, "-m", "feedsmith", "serve", str(source), "--get", "/search.xml?q=商汤"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("HTTP 200\n")
    parsed = feedparser.parse(result.stdout.encode())
    assert [entry.title for entry in parsed.entries] == [SENSE]


def _archive(folder: Path, seed: int) -> Path:
    """A site of 60 posts with names and dates drawn at random, some at the same second (the
    order is then by path), one of another collection: what the index must order and filter."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    (folder / "feedsmith.toml").write_text(SITE, encoding="utf-8")
    for n in range(60):
        tags = ", ".join(rng.sample(["a", "b", "c", "d", "标签"], rng.randint(0, 3)))
        day, hour = rng.randint(1, 20), rng.choice([10, 10, 11, 12])
        front = (
            f"title: post {n}\ndate: 2022-05-{day:02d} {hour}:00:00 +0800\n"
            f"categories: {rng.choice(['x', 'y', '类'])}\ntags: [{tags}]\n"
            f"author: {rng.choice(['Ann', 'Bo', '张三'])}"
        )
        write_post(folder, f"2022-05-{day:02d}-p{n:02d}.md", front, f"Body {n}.\n")
    return folder


_NAMES = st.sampled_from(["a", "b", "c", "d", "标签", "nothing"])
_QUERIES = st.builds(
    lambda **kw: kw,
    categories=st.lists(st.sampled_from(["x", "y", "类", "z"]), max_size=2),
    tags=st.lists(_NAMES, max_size=3),
    authors=st.lists(st.sampled_from(["Ann", "Bo", "张三"]), max_size=1),
    not_categories=st.lists(st.sampled_from(["x", "y"]), max_size=1),
    not_tags=st.lists(_NAMES, max_size=2),
    any=st.booleans(),
    since=st.sampled_from([None, "2022-05-05", "2022-05-15"]),
    limit=st.integers(1, 70),
    feed=st.sampled_from([None, ("tag", "a"), ("category", "y"), ("tag", "标签")]),
)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, SearchIndex]]:
    from feedsmith.site import without_posts

    site = read_site(load_config(_archive(tmp_path_factory.mktemp("oracle") / "site", 7)))
    index = SearchIndex(tmp_path_factory.mktemp("oracle-index"))
    # Every third post added later, as a live reload adds them: rows are then not in date
    # order, as in any index kept up to date for a while.
    index.update(without_posts(site, frozenset(p.rel for p in site.index.posts[::3])))
    index.update(site)
    yield site, index
    index.close()


@given(asked=_QUERIES)
def test_what_the_index_finds_is_what_reading_every_post_finds(
    indexed: tuple[Any, SearchIndex], asked: dict[str, Any]
) -> None:
    """For any combination of names, exclusions, date and limit, on the site or on a feed of
    one name: the newest `limit` posts that meet it, ties by path, exactly as a walk over
    every post, newest first, finds them (however the index plans it)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from feedsmith.search import Query, Scope

    site, index = indexed
    feed = asked.pop("feed")
    since = asked.pop("since")
    zone = ZoneInfo("Asia/Shanghai")
    query = Query(
        categories=tuple(asked["categories"]),
        tags=tuple(asked["tags"]),
        authors=tuple(asked["authors"]),
        not_categories=tuple(asked["not_categories"]),
        not_tags=tuple(asked["not_tags"]),
        any=asked["any"],
        since=None if since is None else datetime.fromisoformat(since).replace(tzinfo=zone),
        limit=asked["limit"],
    )

    def has(post: Any, kind: str, name: str) -> bool:
        if kind == "category":
            return name in post.categories
        if kind == "tag":
            return name in post.tags
        return name in [author.name for author in post.authors]

    def meets(post: Any) -> bool:
        if feed is not None and not has(post, *feed):
            return False
        named = [
            *(("category", n) for n in query.categories),
            *(("tag", n) for n in query.tags),
            *(("author", n) for n in query.authors),
        ]
        found = [has(post, kind, name) for kind, name in named]
        if named and not (any(found) if query.any else all(found)):
            return False
        if any(has(post, "category", n) for n in query.not_categories):
            return False
        if any(has(post, "tag", n) for n in query.not_tags):
            return False
        return query.since is None or post.date >= query.since

    expected = [post.rel for post in site.index.posts if meets(post)][: query.limit]
    scope = Scope("posts", *feed) if feed is not None else Scope("posts")
    assert index.search(scope, query, budget=10) == expected


def test_an_index_whose_names_have_no_dates_is_brought_up_to_date_in_place(
    tmp_path: Path,
) -> None:
    """The index before names carried their post's date answers the same once started, and
    is not made again for it (a marker only an index made anew would lose is kept)."""
    from feedsmith.search import _DATELESS_NAMES, SCHEMA

    source = make_site(tmp_path / "site")
    folder = state_folder(load_config(source))
    with searching(source, "--no-reload"):
        pass
    kept = _rows(folder)
    db = sqlite3.connect(folder / FILE_NAME)
    for statement in (
        "DROP INDEX names_by_date",
        "DROP INDEX names_of_post",
        "ALTER TABLE names DROP COLUMN at",
        "CREATE INDEX names_by_name ON names (kind, name, post)",
        "CREATE INDEX names_by_post ON names (post)",
        "INSERT INTO meta VALUES ('marker', 'kept')",
    ):
        db.execute(statement)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (_DATELESS_NAMES,))
    db.commit()
    db.close()
    with searching(source, "--no-reload") as url:
        assert titles(f"{url}/feed.xml?{q(tag='AI', category='markets', any='1', limit='9')}") == [
            REVIEW,
            CHIPS,
            RATES,
            SENSE,
        ]
        assert titles(f"{url}/feed.xml?{q(category='markets', not_tag='bonds')}") == [CHIPS]
    db = sqlite3.connect(folder / FILE_NAME)
    meta = dict(db.execute("SELECT key, value FROM meta"))
    dated = db.execute("SELECT count(*) FROM names WHERE at = 0").fetchone()[0]
    db.close()
    assert meta == {"schema": SCHEMA, "marker": "kept"}
    assert dated == 0
    assert _rows(folder) == kept
