"""Jekyll 4 URL rules: permalink styles and patterns, slugs, categories, ids and absolute URLs.

Every expected string below was produced by real Jekyll 4.3.1 (with jekyll-feed 0.17.0 and
Addressable 2.8.1) from tiny throwaway sites, a post `_posts/2022-01-26-hello-world.md` with
`date: "2022-01-26 04:35:02 +0800"` unless a row says otherwise, and recorded here as literals
so that the tests do not need Jekyll. Jekyll's rules live in lib/jekyll/url.rb,
drops/url_drop.rb, utils.rb (`slugify`), document.rb (`id`) and filters/url_filters.rb.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest
from feedsmith.config import PERMALINK_STYLES
from feedsmith.permalink import (
    absolute,
    absolute_id,
    escape_path,
    expand,
    jekyll_id_path,
    post_path,
    ruby_dirname,
    sanitize,
    slugify,
    titleize,
)
from hypothesis import given, settings
from hypothesis import strategies as st

SHANGHAI = timezone(timedelta(hours=8))
DATE = datetime(2022, 1, 26, 4, 35, 2, tzinfo=SHANGHAI)  # a Wednesday, ISO week 4, day 26

# Jekyll::Configuration::STYLE_TO_PERMALINK (lib/jekyll/configuration.rb).
JEKYLL_STYLES = {
    "none": "/:categories/:title:output_ext",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
}


def url_of(
    template: str,
    *,
    slug: str = "hello-world",
    basename: str | None = None,
    categories: Sequence[str] = (),
    date: datetime = DATE,
    permalink: str | None = None,
) -> str:
    """The post URL for a post named like Jekyll's `_posts/<date>-<slug>.md`."""
    return post_path(
        template,
        date=date,
        slug=slug,
        basename=basename or f"{date:%Y-%m-%d}-{slug}",
        categories=categories,
        permalink=permalink,
    )


def test_style_names_map_to_jekylls_templates() -> None:
    """The permalink style names expand to exactly Jekyll's STYLE_TO_PERMALINK templates."""
    assert dict(PERMALINK_STYLES) == JEKYLL_STYLES


# Jekyll 4.3.1: permalink: <style>, categories: [emnews] (or none), the post above.
@pytest.mark.parametrize(
    ("style", "categories", "expected"),
    [
        ("date", ["emnews"], "/emnews/2022/01/26/hello-world.html"),
        ("date", [], "/2022/01/26/hello-world.html"),
        ("pretty", ["emnews"], "/emnews/2022/01/26/hello-world/"),
        ("pretty", [], "/2022/01/26/hello-world/"),
        ("ordinal", ["emnews"], "/emnews/2022/026/hello-world.html"),
        ("ordinal", [], "/2022/026/hello-world.html"),
        ("none", ["emnews"], "/emnews/hello-world.html"),
        ("none", [], "/hello-world.html"),
        ("weekdate", ["emnews"], "/emnews/2022/W04/Wed/hello-world.html"),
        ("weekdate", [], "/2022/W04/Wed/hello-world.html"),
    ],
)
def test_post_url_for_each_permalink_style(
    style: str, categories: list[str], expected: str
) -> None:
    """Each built-in permalink style gives the URL Jekyll publishes the post at."""
    assert url_of(JEKYLL_STYLES[style], categories=categories) == expected


# Jekyll 4.3.1: permalink: <pattern>, categories: [emnews], the post above.
@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("/:year/:title/", "/2022/hello-world/"),
        ("/:categories/:slug:output_ext", "/emnews/hello-world.html"),
        ("/:slugified_categories/:slug/", "/emnews/hello-world/"),
        (
            "/:i_month/:i_day/:short_month/:long_month/:short_year/:title",
            "/1/26/Jan/January/22/hello-world",
        ),
        ("/:hour:minute:second/:title", "/043502/hello-world"),
        ("/:month_:day/:title", "/01_26/hello-world"),
        ("/:name/", "/2022-01-26-hello-world/"),
        (
            "/:w_year/W:week/:w_day/:long_day/:short_day/:y_day/",
            "/2022/W04/3/Wednesday/Wed/026/",
        ),
        ("/:collection/:title/", "/posts/hello-world/"),
        ("/a/../b/./:title/", "/a/b/hello-world/"),
        ("/:title/:slug/", "/hello-world/hello-world/"),
        (":year//:title", "/2022/hello-world"),
    ],
)
def test_post_url_for_custom_patterns(pattern: str, expected: str) -> None:
    """Custom permalink patterns fill every placeholder as Jekyll's UrlDrop does."""
    assert url_of(pattern, categories=["emnews"]) == expected


def test_path_placeholder_is_the_posts_path_without_extension() -> None:
    """`:path` in a posts pattern is the file's path below `_posts/`, extension dropped."""
    # Jekyll 4.3.1, permalink: /:path/ -> /2022-01-26-hello-world/ (cleaned_relative_path).
    assert url_of("/:path/", categories=["emnews"]) == "/2022-01-26-hello-world/"


# Jekyll 4.3.1, date: "2021-01-01 10:00:00 +0800" (a Friday in ISO week 53 of 2020)
# and "2020-12-31 10:00:00 +0800" (a Thursday, day 366 of a leap year).
@pytest.mark.parametrize(
    ("pattern", "date", "slug", "expected"),
    [
        (
            "weekdate",
            datetime(2021, 1, 1, 10, tzinfo=SHANGHAI),
            "newyear",
            "/2021/W53/Fri/newyear.html",
        ),
        (
            "/:w_year/W:week/:w_day/:y_day/:title/",
            datetime(2021, 1, 1, 10, tzinfo=SHANGHAI),
            "newyear",
            "/2020/W53/5/001/newyear/",
        ),
        (
            "/:w_year/W:week/:w_day/:y_day/:title/",
            datetime(2020, 12, 31, 10, tzinfo=SHANGHAI),
            "leap",
            "/2020/W53/4/366/leap/",
        ),
    ],
)
def test_week_placeholders_follow_iso_8601(
    pattern: str, date: datetime, slug: str, expected: str
) -> None:
    """`:week` and `:w_year` are ISO 8601 weeks; `:year` stays the calendar year."""
    assert url_of(JEKYLL_STYLES.get(pattern, pattern), slug=slug, date=date) == expected


# Jekyll 4.3.1, permalink: /:categories/:slug:output_ext, categories: <list>, slug c.
@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        (
            ["A股 Market", "News", "news", "东财滚动新闻"],
            "/a%E8%82%A1%20market/news/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/c.html",
        ),
        (["c#", "50%"], "/c%23/50%25/c.html"),
        (["a/b", "x y"], "/a/b/x%20y/c.html"),
        (["Ünïcödé", "MiXeD"], "/%C3%BCn%C3%AFc%C3%B6d%C3%A9/mixed/c.html"),
    ],
)
def test_categories_are_downcased_deduplicated_and_percent_encoded(
    categories: list[str], expected: str
) -> None:
    """`:categories` joins the downcased, deduplicated names, percent-encoded, with `/`."""
    assert url_of("/:categories/:slug:output_ext", slug="c", categories=categories) == expected


# Jekyll 4.3.1, permalink: /:slugified_categories/:slug/, categories: <list>, slug c.
@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        (
            ["A股 Market", "News", "news", "东财滚动新闻"],
            "/a%E8%82%A1-market/news/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/c/",
        ),
        (["c#", "50%"], "/c/50/c/"),
        (["a/b", "x y"], "/a-b/x-y/c/"),
        (["Ünïcödé", "MiXeD"], "/%C3%BCn%C3%AFc%C3%B6d%C3%A9/mixed/c/"),
    ],
)
def test_slugified_categories_are_slugs_of_each_category(
    categories: list[str], expected: str
) -> None:
    """`:slugified_categories` joins each category's default slug, deduplicated."""
    assert url_of("/:slugified_categories/:slug/", slug="c", categories=categories) == expected


def test_greek_categories_are_downcased_as_ruby_does() -> None:
    """Uppercase Greek categories are downcased like Ruby's String#downcase (final Σ -> σ)."""
    # Jekyll 4.3.1, categories: [ΕΙΔΗΣΕΙΣ]: Ruby maps every Σ to σ (U+03C3, %CF%83);
    # Python's str.lower() writes a final ς (U+03C2, %CF%82) instead.
    expected = "/%CE%B5%CE%B9%CE%B4%CE%B7%CF%83%CE%B5%CE%B9%CF%83/c.html"
    assert url_of("/:categories/:slug:output_ext", slug="c", categories=["ΕΙΔΗΣΕΙΣ"]) == expected


# Jekyll 4.3.1, permalink: /:title/:slug/, front matter slug: <slug> (the last two rows: no
# front matter slug, files 2022-01-26-v1.2.3.md and 2022-01-26-东财滚动新闻.md).
@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        (
            "东财 新闻",
            "/%E4%B8%9C%E8%B4%A2-%E6%96%B0%E9%97%BB/%E4%B8%9C%E8%B4%A2-%E6%96%B0%E9%97%BB/",
        ),
        ("Hello World", "/Hello-World/hello-world/"),
        ("C# & F#?", "/C-&-F/c-f/"),
        ("it's (ok) + fine!", "/it's-(ok)-+-fine!/it-s-ok-fine/"),
        ("a.b~c@d", "/a.b~c@d/a-b-c-d/"),
        ("Ünïcödé_x", "/%C3%9Cn%C3%AFc%C3%B6d%C3%A9_x/%C3%BCn%C3%AFc%C3%B6d%C3%A9-x/"),
        ("  spaced  out  ", "/spaced-out/spaced-out/"),
        ("e\u0301t\u00e9", "/e%CC%81t%C3%A9/e%CC%81t%C3%A9/"),
        ("v1.2.3", "/v1.2.3/v1-2-3/"),
        (
            "东财滚动新闻",
            "/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/",
        ),
    ],
)
def test_title_is_a_cased_pretty_slug_and_slug_a_default_slug(slug: str, expected: str) -> None:
    """`:title` keeps case and `._~!$&'()+,;=@`; `:slug` is lower case letters and digits."""
    assert url_of("/:title/:slug/", slug=slug) == expected


# Jekyll 4.3.1, permalink: date, file 2022-01-26-v1.2.3.md / front matter slug: Hello World.
@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("v1.2.3", "/2022/01/26/v1.2.3.html"),
        ("Hello World", "/2022/01/26/Hello-World.html"),
        ("东财 滚动", "/2022/01/26/%E4%B8%9C%E8%B4%A2-%E6%BB%9A%E5%8A%A8.html"),
    ],
)
def test_date_style_keeps_dots_and_case_of_the_slug(slug: str, expected: str) -> None:
    """The date style's `:title` keeps dots and capitals and joins words with `-`."""
    assert url_of(JEKYLL_STYLES["date"], slug=slug) == expected


# Jekyll 4.3.1, permalink: date, front matter permalink: <permalink>.
@pytest.mark.parametrize(
    ("permalink", "slug", "categories", "expected"),
    [
        ("/custom/:title.html", "hello-world", [], "/custom/hello-world.html"),
        ("/about/", "about", [], "/about/"),
        ("/:categories/:year/fixed", "fixed", ["Emnews"], "/emnews/2022/fixed"),
        ("/top.html", "top", [], "/top.html"),
    ],
)
def test_front_matter_permalink_replaces_the_template(
    permalink: str, slug: str, categories: list[str], expected: str
) -> None:
    """A post's own `permalink:` wins over the site template, placeholders filled."""
    url = url_of(JEKYLL_STYLES["date"], slug=slug, categories=categories, permalink=permalink)
    assert url == expected


def test_unknown_placeholder_is_left_as_written() -> None:
    """A `:name` that is no placeholder stays in the URL literally (Jekyll would stop)."""
    assert expand("/:nope/:title/", {"title": "x"}) == "/:nope/x/"


# Jekyll 4.3.1 Document#id for these post URLs and `slug` values (same sites as above).
@pytest.mark.parametrize(
    ("url", "slug", "expected"),
    [
        ("/emnews/2022/01/26/hello-world.html", "hello-world", "/emnews/2022/01/26/hello-world"),
        ("/emnews/2022/01/26/hello-world/", "hello-world", "/emnews/2022/01/26/hello-world"),
        ("/2022-01-26-hello-world/", "hello-world", "/hello-world"),
        (
            "/2022/W04/3/Wednesday/Wed/026/",
            "hello-world",
            "/2022/W04/3/Wednesday/Wed/hello-world",
        ),
        ("/about/", "about", "/about"),
        ("/top.html", "top", "/top"),
        ("/emnews/2022/fixed", "fixed", "/emnews/2022/fixed"),
        ("/2022/01/26/v1.2.3.html", "v1.2.3", "/2022/01/26/v1.2.3"),
        ("/Hello-World/hello-world/", "Hello World", "/Hello-World/Hello World"),
        (
            "/2022/01/27/%E4%B8%9C%E8%B4%A2-%E6%BB%9A%E5%8A%A8.html",
            "东财 滚动",
            "/2022/01/27/东财 滚动",
        ),
    ],
)
def test_jekyll_id_is_the_url_folder_joined_with_the_raw_slug(
    url: str, slug: str, expected: str
) -> None:
    """Document#id: File.dirname(url) joined with the unescaped slug, no extension."""
    assert jekyll_id_path(url, slug) == expected


# Ruby 3.1 File.dirname. Python's os.path.dirname("/a/b/") is "/a/b"; Ruby's is "/a".
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/a/b/", "/a"),
        ("/a/b", "/a"),
        ("a/b//", "a"),
        ("a/", "."),
        ("a", "."),
        ("/a", "/"),
        ("//a", "/"),
        ("/", "/"),
        ("///", "/"),
        ("", "."),
    ],
)
def test_ruby_dirname_ignores_trailing_slashes(path: str, expected: str) -> None:
    """ruby_dirname matches Ruby's File.dirname, where a trailing slash names no directory."""
    assert ruby_dirname(path) == expected


@pytest.mark.parametrize(("path", "expected"), [("a//b", "a"), ("//a//b//", "/a")])
def test_ruby_dirname_drops_doubled_slashes_before_the_last_segment(
    path: str, expected: str
) -> None:
    """Like Ruby's File.dirname, ruby_dirname returns no trailing `/` for `a//b`."""
    # Ruby 3.1: File.dirname("a//b") == "a", File.dirname("//a//b//") == "/a".
    assert ruby_dirname(path) == expected


# Jekyll 4.3.1 `{{ path | absolute_url }}` with url: https://example.org, baseurl: <baseurl>.
@pytest.mark.parametrize(
    ("baseurl", "path", "expected"),
    [
        ("", "/2022/01/26/x.html", "https://example.org/2022/01/26/x.html"),
        ("/blog", "/2022/01/26/x.html", "https://example.org/blog/2022/01/26/x.html"),
        ("/blog", "2022/01/26/x.html", "https://example.org/blog/2022/01/26/x.html"),
        ("", "/", "https://example.org/"),
        ("/blog", "/", "https://example.org/blog/"),
        ("", "/%E4%B8%9C%E8%B4%A2/x.html", "https://example.org/%E4%B8%9C%E8%B4%A2/x.html"),
        ("", "/东财/x", "https://example.org/%E4%B8%9C%E8%B4%A2/x"),
        ("", "/Hello-World/Hello World", "https://example.org/Hello-World/Hello%20World"),
        (
            "/blog",
            "/feed/by_tag/%E4%B8%9C%E8%B4%A2.xml",
            "https://example.org/blog/feed/by_tag/%E4%B8%9C%E8%B4%A2.xml",
        ),
        ("", "/c%23/50%25/c2", "https://example.org/c%23/50%25/c2"),
        ("", "/it's-(ok)-+-fine!/x", "https://example.org/it's-(ok)-+-fine!/x"),
        ("", "/a?q=1#frag", "https://example.org/a?q=1#frag"),
        ("", "/a%2Fb", "https://example.org/a%2Fb"),
        ("", "https://other.example/x", "https://other.example/x"),
        ("", "mailto:me@example.org", "mailto:me@example.org"),
    ],
)
def test_absolute_joins_like_jekylls_absolute_url(baseurl: str, path: str, expected: str) -> None:
    """absolute() gives what Jekyll's absolute_url filter gives for the same site and path."""
    assert absolute("https://example.org", baseurl, path) == expected


# jekyll-feed 0.17.0 on Jekyll 4.3.1, url: https://example.org, baseurl: /blog, permalink: date.
# Its <id> is `post.id | absolute_url`; Addressable's normalize re-encodes the path after
# Unicode NFKC, so a decomposed é (a file named on macOS) and a full-width Ａ change.
@pytest.mark.parametrize(
    ("slug", "categories", "day", "expected"),
    [
        ("hello-world", ["emnews"], 20, "https://example.org/blog/emnews/2022/01/20/hello-world"),
        (
            "东财 滚动",
            ["东财滚动新闻"],
            21,
            "https://example.org/blog/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/2022/01/21/%E4%B8%9C%E8%B4%A2%20%E6%BB%9A%E5%8A%A8",
        ),
        ("Hello World", [], 22, "https://example.org/blog/2022/01/22/Hello%20World"),
        (
            "v1.2.3",
            ["A股 Market"],
            25,
            "https://example.org/blog/a%E8%82%A1%20market/2022/01/25/v1.2.3",
        ),
        ("e\u0301te\u0301", [], 23, "https://example.org/blog/2022/01/23/%C3%A9t%C3%A9"),
        ("ai", ["ＡＩ"], 24, "https://example.org/blog/ai/2022/01/24/ai"),
    ],
    ids=["ascii", "chinese", "space-in-slug", "dotted-slug", "decomposed-e-acute", "full-width"],
)
def test_entry_id_equals_jekyll_feeds_id(
    slug: str, categories: list[str], day: int, expected: str
) -> None:
    """The absolute Jekyll id of a post is byte for byte jekyll-feed's entry <id>."""
    date = datetime(2022, 1, day, 4, 35, 2, tzinfo=SHANGHAI)
    path = url_of(JEKYLL_STYLES["date"], slug=slug, categories=categories, date=date)
    assert absolute_id("https://example.org", "/blog", jekyll_id_path(path, slug)) == expected


# Jekyll 4.3.1 Utils.slugify(text, mode:, cased:).
@pytest.mark.parametrize(
    ("text", "default", "pretty", "raw"),
    [
        ("Hello World", "hello-world", "hello-world", "hello-world"),
        ("东财滚动新闻", "东财滚动新闻", "东财滚动新闻", "东财滚动新闻"),
        ("东财 滚动新闻！", "东财-滚动新闻", "东财-滚动新闻", "东财-滚动新闻！"),
        ("A股 Market", "a股-market", "a股-market", "a股-market"),
        ("v1.2.3", "v1-2-3", "v1.2.3", "v1.2.3"),
        ("C# & F#?", "c-f", "c-&-f", "c#-&-f#?"),
        ("it's (ok) + fine!", "it-s-ok-fine", "it's-(ok)-+-fine!", "it's-(ok)-+-fine!"),
        ("a.b~c@d_e", "a-b-c-d-e", "a.b~c@d_e", "a.b~c@d_e"),
        (
            "  --Leading and trailing--  ",
            "leading-and-trailing",
            "leading-and-trailing",
            "--leading-and-trailing--",
        ),
        (
            "The _config.yml file",
            "the-config-yml-file",
            "the-_config.yml-file",
            "the-_config.yml-file",
        ),
        ("Ünïcödé Ñame", "ünïcödé-ñame", "ünïcödé-ñame", "ünïcödé-ñame"),
        ("a\tb\nc", "a-b-c", "a-b-c", "a-b-c"),
        ("日本語のテスト", "日本語のテスト", "日本語のテスト", "日本語のテスト"),
        ("한국어 제목", "한국어-제목", "한국어-제목", "한국어-제목"),
        ("x²+y³", "x-y", "x-+y", "x²+y³"),
        ("١٢٣ arabic digits", "١٢٣-arabic-digits", "١٢٣-arabic-digits", "١٢٣-arabic-digits"),
        ("emoji 🎉 party", "emoji-party", "emoji-party", "emoji-🎉-party"),
        ("50% off", "50-off", "50-off", "50%-off"),
        ("a--b", "a-b", "a-b", "a--b"),
        ("Ⅻ roman", "roman", "roman", "ⅻ-roman"),
        ("---", "", "", "-"),
        ("", "", "", ""),
    ],
)
def test_slugify_modes_match_jekyll(text: str, default: str, pretty: str, raw: str) -> None:
    """slugify's default, pretty and raw modes give Jekyll's slugs, lower-cased."""
    assert (slugify(text), slugify(text, mode="pretty"), slugify(text, mode="raw")) == (
        default,
        pretty,
        raw,
    )


# Jekyll 4.3.1 Utils.slugify(text, mode:, cased: true).
@pytest.mark.parametrize(
    ("text", "mode", "expected"),
    [
        ("Hello World", "default", "Hello-World"),
        ("A股 Market", "pretty", "A股-Market"),
        ("C# & F#?", "pretty", "C-&-F"),
        ("  --Leading and trailing--  ", "raw", "--Leading-and-trailing--"),
        ("Ⅻ roman", "raw", "Ⅻ-roman"),
    ],
)
def test_slugify_cased_keeps_capitals(text: str, mode: str, expected: str) -> None:
    """With `cased=True` slugify keeps the capitals Jekyll keeps."""
    assert slugify(text, mode=mode, cased=True) == expected


def test_slugify_lowercases_greek_as_ruby_does() -> None:
    """slugify lower-cases like Ruby (every Σ becomes σ, no final ς)."""
    # Jekyll 4.3.1: Utils.slugify("ΕΙΔΗΣΕΙΣ") == "ειδησεισ" in every mode.
    assert slugify("ΕΙΔΗΣΕΙΣ") == "ειδησεισ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a\u3000b", "a\u3000b"), ("a\u00a0b", "a\u00a0b")],
    ids=["ideographic-space", "no-break-space"],
)
def test_slugify_raw_replaces_only_ascii_whitespace(text: str, expected: str) -> None:
    """Raw mode replaces Ruby's `\\s` (ASCII whitespace) only; U+3000 and U+00A0 stay."""
    # Jekyll 4.3.1: Utils.slugify("a\u3000b", mode: "raw") == "a\u3000b" (Ruby's \s is ASCII).
    assert slugify(text, mode="raw") == expected


# Jekyll 4.3.1 Utils.titleize_slug.
@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("hello-world", "Hello World"),
        ("东财-news", "东财 News"),
        ("v1.2.3", "V1.2.3"),
        ("iPhone-SE", "Iphone Se"),
        ("ÉCOLE-été", "École Été"),
        ("a--b", "A  B"),
    ],
)
def test_titleize_capitalises_each_dash_separated_word(slug: str, expected: str) -> None:
    """titleize gives Jekyll's default title: words split on `-`, each capitalised."""
    assert titleize(slug) == expected


# Jekyll 4.3.1 URL.escape_path. ("?" is left out: 4.3.1 keeps it, later Jekyll encodes it.)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a b", "a%20b"),
        ("东财滚动新闻", "%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB"),
        ("A股 Market", "A%E8%82%A1%20Market"),
        ("c#", "c%23"),
        ("50%", "50%25"),
        ("[x]", "%5Bx%5D"),
        ("a/b", "a/b"),
        ("~user", "~user"),
        ("it's (ok)+fine!", "it's%20(ok)+fine!"),
        ("a|b^c`d{e}", "a%7Cb%5Ec%60d%7Be%7D"),
        ('a"b<c>', "a%22b%3Cc%3E"),
        ("x:y@z;w=v", "x:y@z;w=v"),
        ("tab\there", "tab%09here"),
        ("é", "%C3%A9"),
        ("plain-ascii./", "plain-ascii./"),
        ("", ""),
    ],
)
def test_escape_path_encodes_what_a_path_may_not_hold(value: str, expected: str) -> None:
    """escape_path percent-encodes all but RFC 3986 path characters, as Jekyll does."""
    assert escape_path(value) == expected


# Jekyll 4.3.1 URL#sanitize_url.
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("a/../b", "/a/b"),
        ("./x", "/x"),
        ("//x//y", "/x/y"),
        ("x/./y", "/x/y"),
        (".../x", "/x"),
        ("/a/..b/", "/a/b/"),
        ("a..b", "/a/b"),
        ("...", "/."),
        ("x/.", "/x/."),
        ("/./", "/"),
        ("", "/"),
    ],
)
def test_sanitize_removes_parent_references_and_doubled_slashes(url: str, expected: str) -> None:
    """sanitize gives Jekyll's sanitize_url: `..` -> `/`, no `./`, one slash at a time."""
    assert sanitize(url) == expected


@settings(max_examples=2000, deadline=None)
@given(
    st.text(alphabet=string.ascii_letters + string.digits + "-_.~!$&'()+,;=@ /:%é中Ǆ", max_size=30),
    st.sampled_from(["default", "pretty", "raw"]),
    st.booleans(),
)
def test_slugify_shortcut_for_plain_names_changes_nothing(
    text: str, mode: str, cased: bool
) -> None:
    """The fast path for ASCII names gives what the character-by-character rules give."""
    from feedsmith.permalink import _slugify_general

    assert slugify(text, mode=mode, cased=cased) == _slugify_general(text, mode=mode, cased=cased)
