"""config.py: `load_config` reading Jekyll's `_config.yml`, `feedsmith.toml`, `-c` and overrides.

Every setting is validated once, before any post is read; a bad one is a ConfigError that names
the file and the key. The README's reference table is generated from SETTINGS and checked here.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from feedsmith.config import (
    BUILTIN_RULES,
    PERMALINK_STYLES,
    CleanRules,
    Config,
    FeedGroup,
    load_config,
    settings_reference,
)
from feedsmith.errors import ConfigError
from feedsmith.model import Author

from tests.conftest import ROOT


def load(*args: Any, **kwargs: Any) -> Config:
    """load_config for tests about other keys: a missing url is the subject of its own test."""
    kwargs.setdefault("require_url", False)
    return load_config(*args, **kwargs)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """An empty source folder: no _config.yml and no feedsmith.toml yet."""
    folder = tmp_path / "src"
    folder.mkdir()
    return folder


def jekyll(source: Path, data: Any) -> Path:
    """Write `data` as the site's `_config.yml` (YAML, as Jekyll users write it)."""
    path = source / "_config.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- Jekyll's _config.yml ----------------------------------------------------------------


def test_config_yml_makes_the_source_a_jekyll_site(source: Path) -> None:
    """A `_config.yml` marks a Jekyll site root (posts are then read from `_posts/`)."""
    assert load(source).jekyll is False
    jekyll(source, {"title": "Site"})
    assert load(source).jekyll is True


@pytest.mark.parametrize(
    ("data", "title"),
    [
        pytest.param({"title": "Notes"}, "Notes", id="title"),
        pytest.param({"name": "Named"}, "Named", id="name"),
        pytest.param({"title": "Notes", "name": "Named"}, "Notes", id="title-wins"),
        pytest.param({"title": "", "name": "Named"}, "Named", id="empty-title"),
        pytest.param({}, "", id="none"),
    ],
)
def test_title_is_jekylls_title_else_name(source: Path, data: dict[str, Any], title: str) -> None:
    """`title`, or Jekyll's older `name` when there is no title."""
    jekyll(source, data)
    assert load(source).title == title


@pytest.mark.parametrize(
    ("data", "attr", "expected"),
    [
        pytest.param({"description": "About"}, "description", "About", id="description"),
        pytest.param({"url": "https://example.org/"}, "url", "https://example.org", id="url-slash"),
        pytest.param({"url": "https://Example.ORG"}, "url", "https://example.org", id="url-case"),
        pytest.param({"url": "http://localhost:4000"}, "url", "http://localhost:4000", id="port"),
        pytest.param({"url": ""}, "url", "", id="url-empty"),
        pytest.param({"baseurl": "/blog"}, "baseurl", "/blog", id="baseurl"),
        pytest.param({"baseurl": "/blog/"}, "baseurl", "/blog", id="baseurl-slash"),
        pytest.param({"baseurl": "blog/sub"}, "baseurl", "/blog/sub", id="baseurl-bare"),
        pytest.param({"baseurl": "/"}, "baseurl", "", id="baseurl-root"),
        pytest.param({"baseurl": ""}, "baseurl", "", id="baseurl-empty"),
        pytest.param({"timezone": "Asia/Shanghai"}, "timezone", "Asia/Shanghai", id="timezone"),
        pytest.param({"lang": "zh-CN"}, "lang", "zh-CN", id="lang"),
        pytest.param({"future": True}, "future", True, id="future"),
        pytest.param({"show_drafts": True}, "drafts", True, id="show_drafts"),
    ],
)
def test_jekyll_keys_are_read(source: Path, data: dict[str, Any], attr: str, expected: Any) -> None:
    """Jekyll's own keys become settings, normalised (no trailing slash, lower-case host)."""
    jekyll(source, data)
    assert getattr(load(source), attr) == expected


def test_site_url_joins_url_and_baseurl_with_a_trailing_slash(source: Path) -> None:
    """`url: https://example.org/` + `baseurl: /blog/` is the home page https://example.org/blog/."""
    jekyll(source, {"url": "https://example.org/", "baseurl": "/blog/"})
    assert load(source).site_url == "https://example.org/blog/"


def test_timezone_is_usable_as_a_zoneinfo(source: Path) -> None:
    """The stored name resolves to a ZoneInfo for dates written without an offset."""
    jekyll(source, {"timezone": "Asia/Shanghai"})
    assert load(source).tz.key == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        pytest.param("Ann Lee", Author(name="Ann Lee"), id="string"),
        pytest.param({"name": "Ann"}, Author(name="Ann"), id="name-only"),
        pytest.param(
            {"name": "Ann", "email": "ann@example.org", "uri": "https://ann.example.org"},
            Author(name="Ann", email="ann@example.org", uri="https://ann.example.org"),
            id="uri",
        ),
        pytest.param(
            {"name": "Ann", "url": "https://ann.example.org", "twitter": "ann"},
            Author(name="Ann", uri="https://ann.example.org"),
            id="url-and-extra-keys",
        ),
    ],
)
def test_site_author_is_a_name_or_a_mapping(source: Path, author: Any, expected: Author) -> None:
    """`author` as a plain name or `{name, email, uri}` (Jekyll themes' `url` is the uri)."""
    jekyll(source, {"author": author})
    assert load(source).author == expected


@pytest.mark.parametrize("style", sorted(PERMALINK_STYLES))
def test_permalink_style_names_become_their_jekyll_templates(source: Path, style: str) -> None:
    """date, pretty, ordinal, none, weekdate: Jekyll's built-in templates."""
    jekyll(source, {"permalink": style})
    assert load(source).permalink == PERMALINK_STYLES[style]


def test_permalink_pattern_is_kept_as_written(source: Path) -> None:
    """A custom pattern such as `/:categories/:title/` is used verbatim."""
    jekyll(source, {"permalink": "/:categories/:title/"})
    assert load(source).permalink == "/:categories/:title/"


def test_default_permalink_is_jekylls_date_style(source: Path) -> None:
    """No `permalink`: Jekyll's default, the date style."""
    jekyll(source, {"title": "Site"})
    assert load(source).permalink == PERMALINK_STYLES["date"]


def test_posts_collection_permalink_wins_over_site_permalink(source: Path) -> None:
    """`collections.posts.permalink` is what Jekyll uses for posts when both are set."""
    jekyll(source, {"permalink": "none", "collections": {"posts": {"permalink": "pretty"}}})
    assert load(source).permalink == PERMALINK_STYLES["pretty"]


def test_posts_collection_declared_without_settings_is_accepted(source: Path) -> None:
    """`collections: {posts: }` (no metadata, valid for Jekyll) leaves the default permalink."""
    jekyll(source, {"collections": {"posts": None, "docs": None}})
    assert load(source).permalink == PERMALINK_STYLES["date"]


def test_other_jekyll_keys_are_ignored_not_refused(source: Path) -> None:
    """Jekyll's and plugins' own keys (markdown, plugins, defaults…) are none of our business."""
    jekyll(
        source,
        {"markdown": "kramdown", "plugins": ["jekyll-feed"], "defaults": [], "exclude": ["x"]},
    )
    assert load(source).title == ""


# --- jekyll-feed's feed: ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("feed", "attr", "expected"),
    [
        pytest.param({"path": "atom.xml"}, "path", "atom.xml", id="path"),
        pytest.param({"path": "/feeds/all.xml"}, "path", "feeds/all.xml", id="path-absolute"),
        pytest.param({"posts_limit": 5}, "posts_limit", 5, id="posts_limit"),
        pytest.param({"excerpt_only": True}, "excerpt_only", True, id="excerpt_only"),
        pytest.param(
            {"categories": ["news", "tech"]},
            "categories",
            FeedGroup(only=("news", "tech"), path="feed/"),
            id="categories-list",
        ),
        pytest.param({"tags": True}, "tags", FeedGroup(path="feed/by_tag/"), id="tags-true"),
        pytest.param(
            {"tags": False}, "tags", FeedGroup(enabled=False, path="feed/by_tag/"), id="tags-false"
        ),
        pytest.param(
            {"tags": {"only": ["a", "b"], "except": ["b"], "path": "alternative/tags/"}},
            "tags",
            FeedGroup(only=("a", "b"), exclude=("b",), path="alternative/tags/"),
            id="tags-mapping",
        ),
        pytest.param(
            {"tags": {"except": ["站长消息"]}},
            "tags",
            FeedGroup(exclude=("站长消息",), path="feed/by_tag/"),
            id="tags-except-only",
        ),
        pytest.param({"icon": "/icon.png"}, "icon", "/icon.png", id="icon"),
        pytest.param(
            {"logo": "https://cdn.example.org/l.png"},
            "logo",
            "https://cdn.example.org/l.png",
            id="logo",
        ),
    ],
)
def test_jekyll_feed_keys_are_read(
    source: Path, feed: dict[str, Any], attr: str, expected: Any
) -> None:
    """jekyll-feed's `feed:` settings mean the same to feedsmith."""
    jekyll(source, {"feed": feed})
    assert getattr(load(source), attr) == expected


def test_jekyll_feed_keys_that_mean_nothing_here_are_accepted(source: Path) -> None:
    """`feed: {collections, disable_in_development, xsl}` are valid jekyll-feed keys: no error."""
    jekyll(source, {"feed": {"collections": ["docs"], "disable_in_development": True, "xsl": True}})
    assert load(source).posts_limit == 20


def test_defaults_differ_from_jekyll_feed_on_purpose(source: Path) -> None:
    """Without settings: 20 entries, every category and every tag gets a feed."""
    jekyll(source, {"title": "Site"})
    config = load(source)
    assert config.posts_limit == 20
    assert config.categories == FeedGroup(path="feed/")
    assert config.tags == FeedGroup(path="feed/by_tag/")
    assert config.path == "feed.xml"


# --- precedence --------------------------------------------------------------------------


def test_feedsmith_section_overrides_jekyll_keys(source: Path) -> None:
    """`feedsmith:` in `_config.yml` wins over Jekyll's keys and jekyll-feed's `feed:`."""
    jekyll(
        source,
        {
            "title": "Jekyll",
            "feed": {"posts_limit": 5},
            "feedsmith": {"title": "Section", "posts_limit": 7},
        },
    )
    config = load(source)
    assert (config.title, config.posts_limit) == ("Section", 7)


def test_feedsmith_toml_overrides_config_yml_and_its_section(source: Path) -> None:
    """`feedsmith.toml` in the source folder wins over everything in `_config.yml`."""
    jekyll(source, {"title": "Jekyll", "lang": "en", "feedsmith": {"title": "Section"}})
    toml(source / "feedsmith.toml", 'title = "Toml"\n')
    config = load(source)
    assert (config.title, config.lang) == ("Toml", "en")


def test_config_file_overrides_config_yml_and_its_section(source: Path, tmp_path: Path) -> None:
    """A file given with `-c` (config_file=) wins over `_config.yml` and its `feedsmith:`."""
    jekyll(
        source, {"title": "Jekyll", "feed": {"posts_limit": 3}, "feedsmith": {"title": "Section"}}
    )
    given = toml(tmp_path / "elsewhere.toml", 'title = "Given"\nposts_limit = 9\n')
    config = load(source, config_file=given)
    assert (config.title, config.posts_limit) == ("Given", 9)


def test_config_file_may_be_yaml_with_a_feedsmith_section(source: Path, tmp_path: Path) -> None:
    """`-c settings.yml` reads its `feedsmith:` section (or the whole file if it has none)."""
    given = tmp_path / "settings.yml"
    given.write_text("feedsmith:\n  title: From YAML\n", encoding="utf-8")
    assert load(source, config_file=given).title == "From YAML"


def test_overrides_come_last(source: Path, tmp_path: Path) -> None:
    """Command-line options beat `_config.yml`, its section, and the TOML file."""
    jekyll(source, {"title": "Jekyll", "future": False, "feedsmith": {"title": "Section"}})
    toml(source / "feedsmith.toml", 'title = "Toml"\nfuture = false\n')
    config = load(source, overrides={"title": "Command line", "future": True})
    assert (config.title, config.future) == ("Command line", True)


def test_output_folder_is_taken_as_given(source: Path, tmp_path: Path) -> None:
    """`output=` (the `-o` option) is stored unchanged."""
    assert load(source, output=tmp_path / "out").output == tmp_path / "out"


# --- refused: unknown keys ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("write", "origin", "key", "hint"),
    [
        pytest.param(
            lambda s: toml(s / "feedsmith.toml", "posts_limt = 5\n"),
            "feedsmith.toml",
            "posts_limt",
            "posts_limit",
            id="toml",
        ),
        pytest.param(
            lambda s: jekyll(s, {"feedsmith": {"posts_limt": 5}}),
            "_config.yml (feedsmith:)",
            "posts_limt",
            "posts_limit",
            id="feedsmith-section",
        ),
        pytest.param(
            lambda s: jekyll(s, {"feed": {"posts_limt": 5}}),
            "_config.yml",
            "feed.posts_limt",
            "posts_limit",
            id="jekyll-feed",
        ),
        pytest.param(
            lambda s: toml(s / "feedsmith.toml", '[clean]\ndorp = ["p"]\n'),
            "feedsmith.toml",
            "clean.dorp",
            "drop",
            id="clean",
        ),
        pytest.param(
            lambda s: toml(s / "feedsmith.toml", 'tags = { excpet = ["x"] }\n'),
            "feedsmith.toml",
            "tags.excpet",
            "except",
            id="tags",
        ),
    ],
)
def test_unknown_key_names_file_and_key_and_suggests_the_close_one(
    source: Path, write: Any, origin: str, key: str, hint: str
) -> None:
    """`posts_limt: unknown key; did you mean 'posts_limit'?`, with the file it is in."""
    write(source)
    with pytest.raises(ConfigError) as caught:
        load(source)
    error = caught.value
    assert error.key == key
    assert error.origin is not None and error.origin.endswith(origin)
    assert f"{key}: unknown key; did you mean {hint!r}?" in str(error)
    assert str(source) in str(error)


def test_unknown_override_is_refused(source: Path) -> None:
    """A misspelt option from the command line is refused too, named as such."""
    with pytest.raises(
        ConfigError, match=r"command line: titel: unknown key; did you mean 'title'"
    ):
        load(source, overrides={"titel": "x"})


@pytest.mark.parametrize(
    ("feed", "key"),
    [
        pytest.param({"tags": {"onyl": ["a"]}}, "feed.tags.onyl", id="unknown-nested-key"),
        pytest.param({"posts_limit": -1}, "feed.posts_limit", id="bad-value"),
        pytest.param({"categories": "news"}, "feed.categories", id="bad-type"),
    ],
)
def test_errors_inside_jekyll_feed_section_name_the_feed_key(
    source: Path, feed: dict[str, Any], key: str
) -> None:
    """A bad `feed:` entry is named where it is in `_config.yml`: `feed.<key>`."""
    jekyll(source, {"feed": feed})
    with pytest.raises(ConfigError) as caught:
        load(source)
    assert caught.value.key == key


# --- refused: wrong values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "key", "message"),
    [
        pytest.param({"posts_limit": -1}, "posts_limit", "whole number >= 0", id="limit-negative"),
        pytest.param({"posts_limit": "ten"}, "posts_limit", "whole number >= 0", id="limit-text"),
        pytest.param({"posts_limit": True}, "posts_limit", "whole number >= 0", id="limit-bool"),
        pytest.param({"posts_limit": 2.5}, "posts_limit", "whole number >= 0", id="limit-float"),
        pytest.param({"url": "example.com"}, "url", "absolute http(s) URL", id="url-no-scheme"),
        pytest.param({"url": "ftp://example.com"}, "url", "absolute http(s) URL", id="url-ftp"),
        pytest.param({"url": "https://x/y"}, "url", "put a path in baseurl", id="url-path"),
        pytest.param({"url": "https://x?y=1"}, "url", "put a path in baseurl", id="url-query"),
        pytest.param(
            {"baseurl": "https://x/blog"}, "baseurl", "a path such as /blog", id="baseurl"
        ),
        pytest.param({"timezone": "Mars/Base"}, "timezone", "unknown time zone", id="timezone"),
        pytest.param({"formats": ["atom", "xml"]}, "formats", "drawn from", id="formats-xml"),
        pytest.param({"formats": []}, "formats", "drawn from", id="formats-empty"),
        pytest.param({"permalink": "blog"}, "permalink", "pattern like", id="permalink"),
        pytest.param({"path": "feeds/"}, "path", "inside the output folder", id="path-folder"),
        pytest.param({"excerpt_only": "yes"}, "excerpt_only", "true or false", id="excerpt"),
        pytest.param({"summary_length": 0}, "summary_length", "at least 1", id="summary-zero"),
        pytest.param({"title": ["a"]}, "title", "expected a string", id="title-list"),
        pytest.param({"author": {"email": "a@x.org"}}, "author.name", "needs a name", id="author"),
        pytest.param({"author": ["Ann"]}, "author", "name or a mapping", id="author-list"),
        pytest.param({"tags": "news"}, "tags", "true, false, a list", id="tags-string"),
        pytest.param({"clean": ["drop"]}, "clean", "expected a mapping", id="clean-list"),
        pytest.param(
            {"clean": {"drop_paragraphs": ["(unclosed"]}},
            "clean.drop_paragraphs",
            "not a valid regular expression",
            id="clean-regex",
        ),
        pytest.param(
            {"clean": {"drop": ["p[["]}}, "clean.drop", "not a valid CSS selector", id="clean-drop"
        ),
        pytest.param(
            {"clean": {"unwrap": ["a >> b"]}},
            "clean.unwrap",
            "not a valid CSS selector",
            id="clean-unwrap",
        ),
        pytest.param(
            {"clean": {"builtin": ["hidden", "adverts"]}},
            "clean.builtin",
            "unknown rule 'adverts'; known: comments, hidden",
            id="clean-builtin",
        ),
    ],
)
def test_wrong_value_is_refused_naming_the_key(
    source: Path, settings: dict[str, Any], key: str, message: str
) -> None:
    """Each checker refuses what it cannot use, with the key and what it expected."""
    jekyll(source, {"feedsmith": settings})
    with pytest.raises(ConfigError) as caught:
        load(source)
    assert caught.value.key == key
    assert message in caught.value.reason
    assert caught.value.origin is not None and caught.value.origin.endswith("(feedsmith:)")


@pytest.mark.parametrize(
    ("settings", "field", "made"),
    [
        pytest.param({"path": "../feed.xml"}, "path", "feed.xml", id="path"),
        pytest.param({"opml": "../../lists/feeds.opml"}, "opml", "lists/feeds.opml", id="opml"),
        pytest.param({"tags": {"path": "../../etc/"}}, "tags", "etc/", id="tags-path"),
        pytest.param({"categories": {"path": "~/feeds"}}, "categories", "~/feeds/", id="home"),
    ],
)
def test_a_path_that_climbs_out_is_kept_inside_with_a_warning(
    source: Path, settings: dict[str, Any], field: str, made: str
) -> None:
    """As jekyll-feed (Jekyll's sanitized_path): never a refused build, never a file outside."""
    jekyll(source, {"feedsmith": settings})
    config = load(source)
    value = getattr(config, field)
    assert (value if isinstance(value, str) else value.path) == made
    (note,) = config.notes
    assert "leads outside the site" in note[1] and note[0].endswith("(feedsmith:)")


def test_wrong_value_in_toml_names_the_toml_file(source: Path) -> None:
    """A bad value in `feedsmith.toml` is reported against that file."""
    toml(source / "feedsmith.toml", 'posts_limit = "ten"\n')
    with pytest.raises(ConfigError, match=r"feedsmith\.toml: posts_limit: expected a whole number"):
        load(source)


@pytest.mark.parametrize(
    ("clean", "expected"),
    [
        pytest.param({}, CleanRules(), id="defaults"),
        pytest.param({"builtin": False}, CleanRules(builtin=()), id="builtin-off"),
        pytest.param({"builtin": True}, CleanRules(builtin=BUILTIN_RULES), id="builtin-on"),
        pytest.param(
            {"builtin": ["hidden"], "drop": "p.em_media", "drop_paragraphs": ["^责任编辑"]},
            CleanRules(builtin=("hidden",), drop=("p.em_media",), drop_paragraphs=("^责任编辑",)),
            id="site-rules",
        ),
    ],
)
def test_clean_rules_are_read(source: Path, clean: dict[str, Any], expected: CleanRules) -> None:
    """`clean`: builtin list (or true/false), drop, unwrap and drop_paragraphs."""
    jekyll(source, {"feedsmith": {"clean": clean}})
    assert load(source).clean == expected


# --- refused: files and folders ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("- title\n- url\n", "expected a mapping of keys at the top level", id="list"),
        pytest.param("title: [unclosed\n", "cannot read", id="invalid-yaml"),
        pytest.param("title: x\n\tbad: tab\n", "cannot read", id="tab-indent"),
        pytest.param(b"title: \xff\xfe\n", "cannot read", id="not-utf8"),
    ],
)
def test_unusable_config_yml_is_refused_naming_it(
    source: Path, text: str | bytes, reason: str
) -> None:
    """A `_config.yml` that is not a YAML mapping is a ConfigError naming the file."""
    path = source / "_config.yml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(source)
    assert caught.value.origin == str(path)
    assert reason in caught.value.reason


def test_feedsmith_section_that_is_not_a_mapping_is_refused(source: Path) -> None:
    """`feedsmith:` holding a list instead of settings is refused, naming `_config.yml`."""
    jekyll(source, {"feedsmith": ["title"]})
    with pytest.raises(ConfigError, match=r"_config\.yml: feedsmith: expected a mapping"):
        load(source)


def test_invalid_toml_is_refused_naming_it(source: Path) -> None:
    """A `feedsmith.toml` that is not valid TOML is a ConfigError naming the file."""
    path = toml(source / "feedsmith.toml", "title = \n")
    with pytest.raises(ConfigError) as caught:
        load(source)
    assert caught.value.origin == str(path)
    assert "cannot read" in caught.value.reason


def test_missing_config_file_is_refused(source: Path, tmp_path: Path) -> None:
    """`-c` naming a file that does not exist is an error, not a silent fallback."""
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load(source, config_file=missing)
    assert caught.value.key == "-c"
    assert str(missing) in str(caught.value)


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_source_that_is_not_a_folder_is_refused(tmp_path: Path, kind: str) -> None:
    """SOURCE missing, or a file instead of a folder, is refused before anything is read."""
    target = tmp_path / "posts"
    if kind == "file":
        target.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a folder of posts") as caught:
        load(target)
    assert caught.value.key == "source"


# --- fingerprint -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"title": "Other"}, id="title"),
        pytest.param({"url": "https://other.example.org"}, id="url"),
        pytest.param({"baseurl": "/blog"}, id="baseurl"),
        pytest.param({"author": "Ann"}, id="author"),
        pytest.param({"timezone": "Europe/Berlin"}, id="timezone"),
        pytest.param({"lang": "de"}, id="lang"),
        pytest.param({"permalink": "pretty"}, id="permalink"),
        pytest.param({"posts_limit": 3}, id="posts_limit"),
        pytest.param({"excerpt_only": True}, id="excerpt_only"),
        pytest.param({"tags": {"except": ["x"]}}, id="tags"),
        pytest.param({"formats": ["rss"]}, id="formats"),
        pytest.param({"summary_length": 50}, id="summary_length"),
        pytest.param({"clean": {"drop": ["p.ad"]}}, id="clean"),
        pytest.param({"future": True}, id="future"),
    ],
)
def test_fingerprint_changes_with_every_output_setting(
    source: Path, change: dict[str, Any]
) -> None:
    """Anything that can change the bytes written changes the fingerprint (cache keys)."""
    toml(source / "feedsmith.toml", 'title = "Site"\nurl = "https://example.org"\n')
    base = load(source)
    assert load(source, overrides=change).fingerprint() != base.fingerprint()


def test_fingerprint_ignores_the_output_folder(source: Path, tmp_path: Path) -> None:
    """Building the same site into another folder reuses the same cache entries."""
    toml(source / "feedsmith.toml", 'title = "Site"\nurl = "https://example.org"\n')
    one = load(source, output=tmp_path / "a")
    two = load(source, output=tmp_path / "b")
    assert one.fingerprint() == two.fingerprint()
    assert replace(one, output=Path("/elsewhere")).fingerprint() == one.fingerprint()


def test_fingerprint_is_stable_for_equal_configs(source: Path) -> None:
    """Two loads of the same files give the same digest (no ids or memory addresses in it)."""
    jekyll(source, {"title": "Site", "author": {"name": "Ann"}, "feed": {"tags": ["a"]}})
    assert load(source).fingerprint() == load(source).fingerprint()


# --- the README's reference ----------------------------------------------------------------


def test_readme_settings_reference_is_generated_from_settings() -> None:
    """The README's table between the markers is exactly settings_reference(): no drift."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- settings-reference:start -->\n(.*?)\n<!-- settings-reference:end -->",
        readme,
        re.DOTALL,
    )
    assert match is not None, "README.md lacks the settings-reference markers"
    assert match.group(1) == settings_reference()


def test_every_setting_is_a_config_field() -> None:
    """Each documented key lands on a Config attribute of the same name."""
    keys = re.findall(r"^\| `(\w+)` \|", settings_reference(), re.MULTILINE)
    assert keys
    assert all(hasattr(Config(), key) for key in keys)


def test_missing_url_is_refused_naming_where_to_set_it(source: Path) -> None:
    """Feeds need absolute links: without `url` the configuration is refused, before any work."""
    with pytest.raises(ConfigError) as caught:
        load_config(source)
    assert caught.value.key == "url"
    assert "feedsmith.toml" in caught.value.reason and "--url" in caught.value.reason


def test_url_from_the_command_line_is_enough(source: Path) -> None:
    assert (
        load_config(source, overrides={"url": "https://example.org"}).url == "https://example.org"
    )
