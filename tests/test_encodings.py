"""Posts in legacy encodings: real text in each, read with a warning naming the encoding;
bytes that no encoding reads clearly are refused, never published as mojibake."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from feedsmith.charsets import UndecidedError, read_legacy
from feedsmith.errors import PostError
from feedsmith.parse import read_source

from tests.conftest import BuildFn, parse_feed

FRONT = "---\ntitle: {title}\ndate: 2022-04-02\n---\n"
TEXTS = {
    "gb18030": ("GB18030", "市场回顾", "今年第一季度，香港股市经历了剧烈波动。投资者对全球经济前景感到担忧，科技股普遍下跌。分析师认为，随着利率上升，市场将继续面临压力。"),
    "big5": ("Big5", "市場回顧", "今年第一季度，香港股市經歷了劇烈波動。投資者對全球經濟前景感到擔憂，科技股普遍下跌。分析師認為，隨著利率上升，市場將繼續面臨壓力。"),
    "shift_jis": ("Shift_JIS", "市場の振り返り", "今年の第一四半期、東京株式市場は大きく変動しました。投資家は世界経済の先行きを懸念し、ハイテク株は全般的に下落しました。アナリストは、金利の上昇に伴い、市場は引き続き圧力にさらされると見ています。"),
    "euc_kr": ("EUC-KR", "시장 회고", "올해 1분기 서울 주식시장은 큰 변동을 겪었습니다. 투자자들은 세계 경제 전망을 우려했고, 기술주는 전반적으로 하락했습니다. 분석가들은 금리 상승에 따라 시장이 계속 압박을 받을 것으로 보고 있습니다."),
    "cp1252-fr": ("windows-1252", "Revue du marché", "Au premier trimestre, la Bourse de Paris a connu une forte volatilité. Les investisseurs s’inquiètent des perspectives économiques mondiales ; les valeurs technologiques ont reculé. « Les taux d’intérêt vont continuer à peser », a déclaré un analyste."),
    "cp1252-de": ("windows-1252", "Marktrückblick", "Im ersten Quartal erlebte die Frankfurter Börse starke Schwankungen. Die Anleger sorgen sich um die Aussichten der Weltwirtschaft, und Technologiewerte gaben nach. Ein Analyst sagte: „Die Zinsen werden weiter belasten.“ Größere Verluste blieben aus."),
}  # fmt: skip


def _codec(key: str) -> str:
    return key.split("-", maxsplit=1)[0]


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_a_paragraph_in_a_legacy_encoding_is_read_whole(tmp_path: Path, key: str) -> None:
    name, title, body = TEXTS[key]
    text = FRONT.format(title=title) + body + "\n"
    path = tmp_path / "2022-04-02-x.md"
    path.write_bytes(text.encode(_codec(key)))
    source = read_source(path, "x.md", max_bytes=1 << 20)
    assert source.front["title"] == title
    assert source.body == body + "\n"
    assert [p.reason for p in source.problems] == [
        f"not UTF-8; read as {read_legacy(text.encode(_codec(key))).encoding}, "
        "save it as UTF-8 to be sure"
    ]
    assert name in source.problems[0].reason


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_are_refused(tmp_path: Path, seed: int) -> None:
    data = random.Random(seed).randbytes(400)
    path = tmp_path / "x.md"
    path.write_bytes(b"---\ntitle: x\n---\n" + data.replace(b"\x00", b"\x81"))
    with pytest.raises(PostError, match=r"not UTF-8.*save the file as UTF-8"):
        read_source(path, "x.md", max_bytes=1 << 20)


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("---\ntitle: x\n---\nüber\n", "cp1252"),
        ("---\ntitle: 東京\n---\n変動しました。\n", "shift_jis"),
    ],
)
def test_a_short_file_two_encodings_read_alike_is_refused(text: str, codec: str) -> None:
    """Too little text to tell: refused with both readings named, not guessed."""
    with pytest.raises(UndecidedError, match=r"reads as .* and as .*nothing tells which"):
        read_legacy(text.encode(codec))


def test_an_html_posts_meta_charset_decides_a_short_file() -> None:
    text = '<meta charset="shift_jis">\n<p>変動しました。</p>\n'
    reading = read_legacy(text.encode("shift_jis"), html=True)
    assert (reading.text, reading.encoding) == (text, "Shift_JIS (Japanese)")


def test_latin1_bytes_that_are_c1_controls_are_refused() -> None:
    """windows-1252 leaves five bytes undefined; Latin-1 would read them as C1 controls."""
    with pytest.raises(UndecidedError):
        read_legacy("---\ntitle: x\n---\nCafé\x81\n".encode("latin-1"))


def test_utf8_and_utf16_posts_take_no_detour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path: valid UTF-8 (with or without BOM) and UTF-16 with a BOM never reach
    the detection."""
    from feedsmith import parse

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("detection ran on a UTF-8/UTF-16 file")

    monkeypatch.setattr(parse, "read_legacy", refuse)
    text = FRONT.format(title="市场") + "正文\n"
    for data in (text.encode(), b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        path = tmp_path / "x.md"
        path.write_bytes(data)
        assert read_source(path, "x.md", max_bytes=1 << 20).front["title"] == "市场"


def test_a_legacy_post_publishes_in_a_build(site: Path, run_build: BuildFn) -> None:
    _, title, body = TEXTS["big5"]
    (site / "2022-04-02-big5.md").write_bytes(
        (FRONT.format(title=title) + body + "\n").encode("big5")
    )
    report, out = run_build(site)
    assert any("Big5" in p.reason for p in report.warnings)
    assert title in [e.title for e in parse_feed(out / "feed.xml").entries]
