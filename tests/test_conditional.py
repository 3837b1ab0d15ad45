"""server/conditional.py: conditional requests (RFC 9110 section 13) and content coding, as tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from feedsmith.server.conditional import (
    CODINGS,
    MAX_ETAGS,
    MAX_VALIDATOR,
    choose_coding,
    etag_matches,
    http_date,
    is_not_modified,
    parse_http_date,
)

ETAG = '"6fb754ca23eadf0e917f6ad694970d85"'
LAST_MODIFIED = datetime(2022, 4, 12, 12, 26, 14, tzinfo=UTC)
LAST_MODIFIED_HTTP = "Tue, 12 Apr 2022 12:26:14 GMT"
EARLIER_HTTP = "Tue, 12 Apr 2022 12:26:13 GMT"  # one second before LAST_MODIFIED
LATER_HTTP = "Wed, 13 Apr 2022 00:00:00 GMT"


def many_etags(count: int) -> list[str]:
    """`count` distinct entity-tags, none of them ETAG."""
    return [f'"tag-{i}"' for i in range(count)]


# --- etag_matches ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("if_none_match", "etag", "expected"),
    [
        pytest.param(ETAG, ETAG, True, id="exact"),
        pytest.param('"abc"', '"abd"', False, id="different"),
        pytest.param('"ABC"', '"abc"', False, id="case-sensitive"),
        pytest.param('""', '"abc"', False, id="empty-tag"),
        pytest.param('W/"abc"', '"abc"', True, id="weak-request"),
        pytest.param('"abc"', 'W/"abc"', True, id="weak-current"),
        pytest.param('W/"abc"', 'W/"abc"', True, id="weak-both"),
        pytest.param('"x","abc"', '"abc"', True, id="list-no-spaces"),
        pytest.param('"x", "abc", "y"', '"abc"', True, id="list-with-spaces"),
        pytest.param('  "x"  ,\t"abc"  ', '"abc"', True, id="list-with-tabs-and-padding"),
        pytest.param('"x", W/"abc"', '"abc"', True, id="list-with-weak"),
        pytest.param('"x", "y"', '"abc"', False, id="list-without"),
        pytest.param("*", '"abc"', True, id="star"),
        pytest.param(" * ", 'W/"abc"', True, id="star-padded"),
    ],
)
def test_etag_matches_uses_weak_comparison(if_none_match: str, etag: str, expected: bool) -> None:
    """If-None-Match compares entity-tags weakly and `*` matches any (RFC 9110 8.8.3.2, 13.1.2)."""
    assert etag_matches(if_none_match, etag) is expected


@pytest.mark.parametrize(
    ("if_none_match", "expected"),
    [
        pytest.param("abc", False, id="unquoted"),
        pytest.param('"abc', False, id="unterminated"),
        pytest.param("W/abc", False, id="weak-unquoted"),
        pytest.param('W/"abc', False, id="weak-unterminated"),
        pytest.param(",,,", False, id="only-commas"),
        pytest.param('garbage, "abc"', True, id="garbage-then-valid"),
        pytest.param('"abc", garbage', True, id="valid-then-garbage"),
        pytest.param('"a b", "abc"', True, id="space-inside-tag-then-valid"),
    ],
)
def test_etag_matches_ignores_malformed_entries(if_none_match: str, expected: bool) -> None:
    """Malformed list members never match, and the well-formed ones still do (RFC 9110 8.8.3)."""
    assert etag_matches(if_none_match, '"abc"') is expected


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        pytest.param(0, True, id="first"),
        pytest.param(MAX_ETAGS - 1, True, id="last-compared"),
        pytest.param(MAX_ETAGS, False, id="first-beyond-limit"),
        pytest.param(9_999, False, id="last-of-10000"),
    ],
)
def test_etag_matches_compares_only_the_first_max_etags(position: int, expected: bool) -> None:
    """A 10,000-item If-None-Match is handled; only its first MAX_ETAGS members are compared.

    RFC 9110 13.1.2 sets no limit; the server bounds its work, so a match placed beyond
    MAX_ETAGS is deliberately not found (the client then gets a 200, which is always correct).
    """
    tags = many_etags(10_000)
    tags[position] = ETAG
    assert etag_matches(", ".join(tags), ETAG) is expected


@pytest.mark.parametrize(
    "if_none_match",
    [
        pytest.param("", id="empty"),
        pytest.param("W/", id="bare-weak-prefix"),
        pytest.param('W/""', id="weak-empty"),
        pytest.param('"' * 10_001, id="quotes"),
        pytest.param("W/" * 5_000, id="weak-prefixes"),
        pytest.param("\x00\x7f\xff\ufffd", id="control-and-high"),
        pytest.param("😀, 东财, \U0010ffff", id="non-latin-1"),
        pytest.param("*, *", id="star-list"),
        pytest.param(", ".join(many_etags(10_000)), id="10000-items"),
    ],
)
def test_etag_matches_never_raises_on_garbage(if_none_match: str) -> None:
    """Any header value gives an answer, never an exception: a malformed header is ignored (RFC 9110 13.1.2)."""
    assert etag_matches(if_none_match, ETAG) in (True, False)


@pytest.mark.parametrize(
    "if_none_match",
    [
        pytest.param(" " * 16_000 + "x", id="spaces-then-garbage"),
        pytest.param("\t" * 16_000 + "x", id="tabs-then-garbage"),
    ],
)
def test_etag_matches_reads_a_long_malformed_header_as_no_match(if_none_match: str) -> None:
    """A 16,000-character malformed If-None-Match (h11's limit is 16 KiB) simply does not match.

    The server calls this on the event loop; the scan is one left-to-right pass (RFC 9110
    13.1.2 reads the field as a list of entity-tags). Its speed is measured in bench/, not here.
    """
    assert etag_matches(if_none_match, ETAG) is False


def test_etag_matches_looks_only_at_the_first_validator_bytes() -> None:
    """Work per request is bounded: a tag beyond MAX_VALIDATOR characters is not looked at."""
    assert etag_matches(" " * MAX_VALIDATOR + ETAG, ETAG) is False
    assert etag_matches(" " * (MAX_VALIDATOR - len(ETAG)) + ETAG, ETAG) is True


# --- parse_http_date -------------------------------------------------------------------------

NOV_6_1994 = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Sun, 06 Nov 1994 08:49:37 GMT", NOV_6_1994, id="imf-fixdate"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", NOV_6_1994, id="rfc850"),
        pytest.param("Sun Nov  6 08:49:37 1994", NOV_6_1994, id="asctime"),
        pytest.param("  Sun, 06 Nov 1994 08:49:37 GMT  ", NOV_6_1994, id="padded"),
    ],
)
def test_parse_http_date_reads_all_three_formats(value: str, expected: datetime) -> None:
    """IMF-fixdate and the obsolete RFC 850 and asctime forms all parse, as UTC (RFC 9110 5.6.7)."""
    parsed = parse_http_date(value)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("garbage", id="garbage"),
        pytest.param("x" * 10_000, id="long"),
        pytest.param("1994-11-06T08:49:37Z", id="iso-8601"),
        pytest.param("Sun, 31 Feb 1994 08:49:37 GMT", id="no-such-day"),
        pytest.param("Sun, 06 Nov 1994 24:00:00 GMT", id="hour-24"),
        pytest.param("Mon, 01 Jan 99999 00:00:00 GMT", id="year-overflow"),
        pytest.param("Sun, 06 Nov 1994 99999999999999999999:49:37 GMT", id="hour-overflow"),
        pytest.param("Sun, 06 Nov 1994 08:49:37 +99999999999999999999", id="offset-overflow"),
    ],
)
def test_parse_http_date_returns_none_for_non_dates(value: str) -> None:
    """Anything that is not an HTTP-date is None, never an exception (RFC 9110 5.6.7, 13.1.3)."""
    assert parse_http_date(value) is None


# --- is_not_modified ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("if_none_match", "if_modified_since", "expected"),
    [
        pytest.param(ETAG, EARLIER_HTTP, True, id="inm-match-beats-ims-200"),
        pytest.param('"stale"', LATER_HTTP, False, id="inm-miss-beats-ims-304"),
        pytest.param('"stale"', LAST_MODIFIED_HTTP, False, id="inm-miss-beats-ims-equal"),
        pytest.param("", LATER_HTTP, False, id="empty-inm-beats-ims-304"),
        pytest.param("garbage", LATER_HTTP, False, id="malformed-inm-beats-ims-304"),
        pytest.param("*", EARLIER_HTTP, True, id="inm-star-beats-ims-200"),
    ],
)
def test_if_none_match_takes_precedence_over_if_modified_since(
    if_none_match: str, if_modified_since: str, expected: bool
) -> None:
    """With If-None-Match present, If-Modified-Since is not evaluated at all (RFC 9110 13.1.3, 13.2.2)."""
    answer = is_not_modified(
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
        etag=ETAG,
        last_modified=LAST_MODIFIED,
    )
    assert answer is expected


@pytest.mark.parametrize(
    ("last_modified", "if_modified_since", "expected"),
    [
        pytest.param(LAST_MODIFIED, LAST_MODIFIED_HTTP, True, id="equal"),
        pytest.param(LAST_MODIFIED, LATER_HTTP, False, id="later"),
        pytest.param(LAST_MODIFIED, EARLIER_HTTP, False, id="one-second-earlier"),
        pytest.param(
            LAST_MODIFIED.replace(microsecond=999_999), LAST_MODIFIED_HTTP, True, id="same-second"
        ),
        pytest.param(
            LAST_MODIFIED.astimezone(timezone(timedelta(hours=8))),
            LAST_MODIFIED_HTTP,
            True,
            id="same-instant-other-offset",
        ),
        pytest.param(LAST_MODIFIED, "Tuesday, 12-Apr-22 12:26:14 GMT", True, id="rfc850-equal"),
        pytest.param(LAST_MODIFIED, "Tue Apr 12 12:26:14 2022", True, id="asctime-equal"),
    ],
)
def test_if_modified_since_compares_at_one_second_precision(
    last_modified: datetime, if_modified_since: str, expected: bool
) -> None:
    """Without If-None-Match, 304 iff the date sent is Last-Modified itself, to the second (the
    exact match of nginx's default): a later date is a client's own clock, not proof that it
    holds these bytes."""
    answer = is_not_modified(
        if_none_match=None,
        if_modified_since=if_modified_since,
        etag=ETAG,
        last_modified=last_modified,
    )
    assert answer is expected


@pytest.mark.parametrize(
    "if_modified_since",
    [
        pytest.param("", id="empty"),
        pytest.param("garbage", id="garbage"),
        pytest.param("x" * 10_000, id="long"),
        pytest.param("Mon, 01 Jan 99999 00:00:00 GMT", id="overflow"),
        pytest.param("2099-01-01T00:00:00Z", id="iso-8601-future"),
    ],
)
def test_invalid_if_modified_since_is_ignored(if_modified_since: str) -> None:
    """An If-Modified-Since that is not a valid HTTP-date never yields 304 (RFC 9110 13.1.3)."""
    answer = is_not_modified(
        if_none_match=None,
        if_modified_since=if_modified_since,
        etag=ETAG,
        last_modified=LAST_MODIFIED,
    )
    assert answer is False


@pytest.mark.parametrize(
    "if_modified_since",
    [
        pytest.param(LAST_MODIFIED_HTTP, id="equal-to-nothing"),
        pytest.param("Fri, 31 Dec 9999 23:59:59 GMT", id="far-future"),
    ],
)
def test_no_last_modified_never_gives_304_by_date(if_modified_since: str) -> None:
    """A representation without a modification date cannot be validated by date (RFC 9110 13.1.3)."""
    answer = is_not_modified(
        if_none_match=None, if_modified_since=if_modified_since, etag=ETAG, last_modified=None
    )
    assert answer is False


def test_no_conditional_headers_means_no_304() -> None:
    """An unconditional GET is answered in full (RFC 9110 13.2.1)."""
    answer = is_not_modified(
        if_none_match=None, if_modified_since=None, etag=ETAG, last_modified=LAST_MODIFIED
    )
    assert answer is False


# --- http_date ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        pytest.param(NOV_6_1994, "Sun, 06 Nov 1994 08:49:37 GMT", id="utc"),
        pytest.param(
            datetime(1994, 11, 6, 16, 49, 37, tzinfo=timezone(timedelta(hours=8))),
            "Sun, 06 Nov 1994 08:49:37 GMT",
            id="offset-converted-to-gmt",
        ),
        pytest.param(
            NOV_6_1994.replace(microsecond=999_999),
            "Sun, 06 Nov 1994 08:49:37 GMT",
            id="microseconds-dropped",
        ),
        pytest.param(
            datetime(2022, 1, 1, 0, 0, 0, tzinfo=timezone(timedelta(hours=8))),
            "Fri, 31 Dec 2021 16:00:00 GMT",
            id="day-and-year-roll-back",
        ),
    ],
)
def test_http_date_writes_imf_fixdate_in_gmt(when: datetime, expected: str) -> None:
    """Last-Modified is an IMF-fixdate, always in GMT (RFC 9110 5.6.7, 8.8.2)."""
    assert http_date(when) == expected


def test_http_date_round_trips_through_parse_http_date() -> None:
    """What the server writes, it reads back to the same second (RFC 9110 5.6.7)."""
    when = datetime(2022, 4, 12, 20, 26, 14, 123_456, tzinfo=timezone(timedelta(hours=8)))
    assert parse_http_date(http_date(when)) == when.replace(microsecond=0)


# --- choose_coding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_encoding", "expected"),
    [
        pytest.param(None, "identity", id="no-header"),
        pytest.param("", "identity", id="empty"),
        pytest.param("gzip", "gzip", id="gzip"),
        pytest.param("GZip", "gzip", id="case-insensitive"),
        pytest.param("br", "br", id="br"),
        pytest.param("zstd", "zstd", id="zstd"),
        pytest.param("deflate", "identity", id="unsupported-only"),
        pytest.param("br, gzip", "br", id="br-gzip"),
        pytest.param("gzip, br", "br", id="tie-goes-to-server-preference"),
        pytest.param("gzip, deflate, br, zstd", "br", id="browser-like"),
        pytest.param("gzip;q=0.5, br;q=0.4", "gzip", id="q-values"),
        pytest.param("gzip ; q=0.9 , br ; q = 0.8", "gzip", id="q-values-with-spaces"),
        pytest.param("br;q=0.1, zstd;q=0.2, gzip;q=0.3", "gzip", id="q-values-three"),
        pytest.param("gzip;q=0", "identity", id="gzip-refused"),
        pytest.param("gzip;q=0.000", "identity", id="gzip-refused-decimals"),
        pytest.param("br;q=0, gzip", "gzip", id="br-refused-gzip-accepted"),
        pytest.param("*", "br", id="star"),
        pytest.param("br;q=0, *", "zstd", id="star-covers-unnamed"),
        pytest.param("*;q=0.5, gzip;q=0.1", "br", id="star-rates-unnamed-higher"),
        pytest.param("*;q=0", "identity", id="star-refused"),
        pytest.param("identity, *;q=0", "identity", id="star-refused-identity-named"),
        pytest.param("gzip;q=0.5, identity", "identity", id="identity-rated-higher"),
        pytest.param("gzip;q=0.5, identity;q=0.5", "gzip", id="identity-tie-compresses"),
        pytest.param("identity;q=0, gzip", "gzip", id="identity-refused"),
    ],
)
def test_choose_coding_follows_accept_encoding(accept_encoding: str | None, expected: str) -> None:
    """The highest-rated coding the server has, q=0 refusing, `*` for the unnamed (RFC 9110 12.5.3)."""
    assert choose_coding(accept_encoding) == expected


@pytest.mark.parametrize(
    "accept_encoding",
    [
        pytest.param("gzip;q=abc", id="letters"),
        pytest.param("gzip;q=", id="missing"),
        pytest.param("gzip;q=1..2", id="two-dots"),
        pytest.param("gzip;q=-1", id="negative"),
        pytest.param("gzip;q=2", id="above-one"),
        pytest.param("gzip;q=1e999", id="exponent"),
        pytest.param("gzip;q=nan", id="nan"),
        pytest.param("gzip;q=inf", id="inf"),
        pytest.param("gzip;;;q=0.5;q=0.1", id="repeated"),
        pytest.param(";q=0.5, ,", id="nameless"),
        pytest.param("\x00\xff😀", id="binary"),
    ],
)
def test_choose_coding_survives_garbage_q_values(accept_encoding: str) -> None:
    """A malformed weight gives some coding the server has, never an exception (RFC 9110 12.4.2)."""
    assert choose_coding(accept_encoding) in (*CODINGS, "identity")


def test_choose_coding_handles_a_1000_item_header() -> None:
    """A 1,000-member Accept-Encoding is answered, from its leading members (RFC 9110 12.5.3)."""
    header = "gzip, " + ", ".join(f"x-coding-{i};q=0.{i % 10}" for i in range(1_000))
    assert choose_coding(header) == "gzip"


def test_choose_coding_handles_1000_refusals() -> None:
    """A 1,000-member Accept-Encoding of q=0 entries does not raise and falls back to identity."""
    header = ", ".join(["gzip;q=0", "br;q=0", "zstd;q=0", "*;q=0"] * 250)
    assert choose_coding(header) == "identity"
