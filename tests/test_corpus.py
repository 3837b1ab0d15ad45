"""End to end on the shared corpus of real Jekyll sites: what readers of those sites would get."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup

from tests.conftest import DATA, NOW, parse_feed

pytestmark = pytest.mark.corpus


def jekyll_golden(site: str) -> dict[str, str]:
    """Entry link -> entry id, as Jekyll 4.3 + jekyll-feed built them (tests/data/jekyll)."""
    rows = (DATA / "jekyll" / f"{site}.tsv").read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t") for line in rows if line and not line.startswith("#"))


@pytest.fixture(scope="module")
def finews(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    from feedsmith.config import load_config
    from feedsmith.pipeline import build

    from tests.conftest import CORPUS

    if not (CORPUS / "finews").is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    out = tmp_path_factory.mktemp("finews")
    report = build(
        load_config(CORPUS / "finews", output=out, overrides={"posts_limit": 0}), now=NOW
    )
    return report, out


def test_every_link_and_id_equals_what_jekyll_publishes(finews: tuple[object, Path]) -> None:
    """Links reach the pages Jekyll builds; ids equal jekyll-feed's, so readers see no duplicates."""
    _, out = finews
    feed = parse_feed(out / "feed.xml")
    ours = {e.link: e.id for e in feed.entries}
    assert ours == jekyll_golden("finews")


def test_the_canonical_post_has_jekyll_feeds_id_and_its_own_offset(
    finews: tuple[object, Path],
) -> None:
    """2022-01-26-202201262261402514.md: id, link and date exactly as its front matter says."""
    _, out = finews
    entry = next(e for e in parse_feed(out / "feed.xml").entries if "202201262261402514" in e.link)
    assert entry.id == "https://finews.withounder.com/emnews/2022/01/26/202201262261402514"
    assert entry.link == "https://finews.withounder.com/emnews/2022/01/26/202201262261402514.html"
    assert entry.published == "2022-01-26T04:35:02+08:00"
    assert entry.title == "强强联手 商汤科技AIDC落户上海临港"
    assert [t.term for t in entry.tags] == ["emnews", "东财滚动新闻"]


def test_dates_without_offset_are_in_the_site_timezone(finews: tuple[object, Path]) -> None:
    """`date: 2021-12-08 10:46:18` on an Asia/Shanghai site is 10:46 in Shanghai (Jekyll says 18:46)."""
    _, out = finews
    entry = next(e for e in parse_feed(out / "feed.xml").entries if "202112082206672930" in e.link)
    assert entry.published == "2021-12-08T10:46:18+08:00"


def test_a_file_jekyll_does_not_publish_is_a_notice_and_the_rest_build(
    finews: tuple[object, Path],
) -> None:
    """`-202205262391921712.md` has no date in its name: Jekyll does not read it as a post
    (checked with Jekyll 4.3), so neither does feedsmith; it says so, and 111 posts publish."""
    report, _ = finews
    assert not report.errors  # type: ignore[attr-defined]
    notices = [str(p) for p in report.notices]  # type: ignore[attr-defined]
    assert [n for n in notices if "-202205262391921712.md" in n] == [
        "_posts/-202205262391921712.md: not a post: Jekyll publishes only the files of _posts/ "
        "named YYYY-MM-DD-title.ext (it leaves this one out too)"
    ]
    assert report.posts_published == 111  # type: ignore[attr-defined]


def test_blank_line_before_front_matter_is_warned_about(finews: tuple[object, Path]) -> None:
    """Jekyll ignores front matter after a blank line; the link follows Jekyll and the owner is told."""
    report, _ = finews
    warnings = [str(p) for p in report.warnings]  # type: ignore[attr-defined]
    assert any(
        w.startswith("_posts/2021-12-08-202112082206703990.md: front matter ignored")
        for w in warnings
    )


def test_every_category_and_chinese_tag_gets_both_formats(
    finews: tuple[object, Path], corpus: Path
) -> None:
    """Every category and every tag (all Chinese here) has an Atom and an RSS feed; none skipped."""
    _, out = finews
    text = "\n".join(
        p.read_text(encoding="utf-8") for p in (corpus / "finews" / "_posts").iterdir()
    )
    categories = set(re.findall(r"(?m)^categories: (\S+)$", text))
    tags = set(re.findall(r"(?m)^tags: (\S+)$", text))
    assert "东财滚动新闻" in tags
    for name in categories:
        assert parse_feed(out / "feed" / f"{name}.xml").entries
        assert parse_feed(out / "feed" / f"{name}.rss").entries
    for name in tags:
        atom = parse_feed(out / "feed" / "by_tag" / f"{name}.xml")
        assert all(name in [t.term for t in e.tags] for e in atom.entries)
        assert parse_feed(out / "feed" / "by_tag" / f"{name}.rss").entries


def test_content_is_clean(finews: tuple[object, Path]) -> None:
    """No quote widgets, placeholders, navigation footer, relative URL or script in any entry."""
    _, out = finews
    entries = parse_feed(out / "feed.xml").entries
    for entry in entries:
        html = entry.content[0].value
        soup = BeautifulSoup(html, "html.parser")
        assert not soup.select("[class], [id], [style], script, iframe, span[web]"), entry.link
        assert "返回首页" not in soup.get_text(), entry.link
        assert "quote.eastmoney.com" not in html, entry.link
        for tag in soup.find_all(["a", "img"]):
            url = str(tag.get("href") or tag.get("src"))
            assert url.startswith(("https://", "http://")), (entry.link, url)
    sensetime = next(e for e in entries if "202201262261402514" in e.link)
    text = BeautifulSoup(sensetime.content[0].value, "html.parser").get_text()
    assert "据介绍，商汤科技位于上海临港的AIDC" in text  # the company name stays, as text
    assert "（文章来源：上海证券报）" in text


def test_source_url_becomes_a_via_link(finews: tuple[object, Path]) -> None:
    """The trailing `<http://source>` line is the entry's via link, not body text."""
    _, out = finews
    entry = next(e for e in parse_feed(out / "feed.xml").entries if "202201262261402514" in e.link)
    via = [link.href for link in entry.links if link.rel == "via"]
    assert via == ["http://hk.eastmoney.com/news/1535,202201262261402514.html"]
    assert "hk.eastmoney.com" not in entry.content[0].value


def test_summary_is_the_lead_paragraph_in_plain_text(finews: tuple[object, Path]) -> None:
    _, out = finews
    entry = next(e for e in parse_feed(out / "feed.xml").entries if "202201262261402514" in e.link)
    assert entry.summary.startswith("1月24日，商汤科技人工智能计算中心(AIDC)点亮仪式")
    assert len(entry.summary) <= 201 and "<" not in entry.summary


@pytest.fixture(scope="module")
def jekyll_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from feedsmith.config import load_config
    from feedsmith.pipeline import build

    from tests.conftest import CORPUS

    if not (CORPUS / "jekyll-docs").is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    out = tmp_path_factory.mktemp("jekyll-docs")
    build(load_config(CORPUS / "jekyll-docs", output=out, overrides={"posts_limit": 0}), now=NOW)
    return out


def test_jekyll_docs_links_and_ids_equal_jekylls(jekyll_docs: Path) -> None:
    """collections.posts.permalink, quoted dates with offsets and dateless front matter, as Jekyll."""
    feed = parse_feed(jekyll_docs / "feed.xml")
    assert {e.link: e.id for e in feed.entries} == jekyll_golden("jekyll-docs")


def test_liquid_resolves_and_never_shows_raw(jekyll_docs: Path, corpus: Path) -> None:
    """{{ site.repository }}, {% link %}, {% post_url %} and for-loops resolve; only {% raw %} text stays."""
    entries = parse_feed(jekyll_docs / "feed.xml").entries
    posts_with_raw = {
        p.stem
        for p in (corpus / "jekyll-docs" / "_posts").iterdir()
        if "{% raw %}" in p.read_text(encoding="utf-8")
    }
    for entry in entries:
        html = entry.content[0].value
        if not any(stem.split("-", 3)[3] in entry.link for stem in posts_with_raw):
            assert "{%" not in html and "{{" not in html, entry.link
    release = next(e for e in entries if e.link.endswith("/news/2013/05/08/jekyll-1-0-1-released/"))
    assert "https://github.com/jekyll/jekyll/issues/1037" in release.content[0].value


def test_category_feed_from_singular_category_key(jekyll_docs: Path) -> None:
    """`category: release` (singular) counts, as in Jekyll."""
    feed = parse_feed(jekyll_docs / "feed" / "release.xml")
    assert len(feed.entries) > 50
    assert all("release" in [t.term for t in e.tags] for e in feed.entries)


@pytest.mark.skipif(
    shutil.which("jekyll") is None,
    reason="Jekyll is not installed (apt-get install jekyll ruby-jekyll-feed)",
)
def test_golden_lists_match_a_fresh_jekyll_build(corpus: Path, tmp_path: Path) -> None:
    """Where Jekyll is installed, the recorded golden lists must still be what it builds."""
    copy = tmp_path / "data"
    shutil.copytree(DATA / "jekyll", copy)
    subprocess.run(
        ["bash", str(copy / "regenerate.sh"), str(corpus)], check=True, capture_output=True
    )
    for site in ("finews", "jekyll-docs"):
        lines = (copy / f"{site}.tsv").read_text(encoding="utf-8").splitlines()
        fresh = dict(line.split("\t") for line in lines if not line.startswith("#"))
        assert fresh == jekyll_golden(site)


def test_no_page_path_is_outside_the_site(finews: tuple[object, Path]) -> None:
    _, out = finews
    for entry in parse_feed(out / "feed.xml").entries:
        path = unquote(entry.link.removeprefix("https://finews.withounder.com"))
        assert path.startswith("/") and ".." not in path
