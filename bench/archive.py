"""A synthetic archive shaped like the real site: for benchmarks at 10,000 to 100,000+ posts.

    python bench/archive.py OUT --posts 10000 [--categories 40] [--tags 400] [--seed 1]

Writes a Jekyll site root (`_config.yml`, `_posts/`): 80% Chinese news with the site's widget
HTML (stock widgets, quote placeholders, a `> ` lead, a source autolink and the navigation
footer), 20% English Markdown with lists, tables and links; categories and tags drawn with a
Zipf-like spread, one category and 1-3 tags a post. The same arguments always give the same
files.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta
from pathlib import Path

_HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
_COMPANIES = [
    ("1.600519", "贵州茅台"), ("0.300750", "宁德时代"), ("1.601318", "中国平安"), ("0.000858", "五粮液"),
    ("1.600036", "招商银行"), ("0.002594", "比亚迪"), ("1.600900", "长江电力"), ("0.000333", "美的集团"),
    ("1.601012", "隆基绿能"), ("0.300059", "东方财富"), ("1.688981", "中芯国际"), ("1.600848", "上海临港"),
]  # fmt: skip
_BOARDS = [
    ("90.BK0473", "证券"),
    ("90.BK0493", "新能源"),
    ("90.BK0839", "知识产权"),
    ("90.BK1037", "消费电子"),
]
_WORDS = [
    "market",
    "equity",
    "bond",
    "yield",
    "rally",
    "earnings",
    "guidance",
    "inflation",
    "rate",
    "policy",
    "liquidity",
    "sector",
    "index",
    "growth",
    "margin",
    "revenue",
    "quarter",
    "demand",
    "supply",
    "outlook",
    "investor",
    "volatility",
    "currency",
    "export",
]


def _sentence(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(_HANZI) for _ in range(rng.randint(low, high))) + rng.choice("。，；")


def _widget(rng: random.Random) -> str:
    if rng.random() < 0.6:
        code, name = rng.choice(_COMPANIES)
        return (
            f'<span id="stock_{code}"><a href="http://quote.eastmoney.com/unify/r/{code}" class="keytip" '
            f'data-code="{code.replace(".", ",")}">{name}</a></span><span id="quote_{code}"></span>'
        )
    code, name = rng.choice(_BOARDS)
    return (
        f'<span id="bk_{code}"><a href="http://quote.eastmoney.com/unify/r/{code}" class="keytip" '
        f'data-code="{code.replace(".", ",")}">{name}</a></span><span id="bkquote_{code}"></span>'
    )


def _chinese_body(rng: random.Random, ident: str, category: str, tag: str) -> str:
    lead = _sentence(rng, 40, 90)
    paragraphs = []
    for _ in range(rng.randint(3, 9)):
        parts = [_sentence(rng, 15, 50) for _ in range(rng.randint(2, 5))]
        for _ in range(rng.randint(0, 3)):
            parts.insert(rng.randrange(len(parts) + 1), _widget(rng))
        paragraphs.append(f"<p>{'　　' if rng.random() < 0.3 else ''}{''.join(parts)}</p>")
    if rng.random() < 0.3:
        paragraphs.insert(
            1,
            f'<center><img src="//dfscdn.dfcfw.com/download/D{ident}_w800h555.jpg" width="552" /></center>',
        )
    paragraphs.append('<p class="em_media">（文章来源：证券时报）</p>')
    return (
        f"> {lead}\n\n{''.join(paragraphs)}\n\n<http://finance.eastmoney.com/a/{ident}.html>\n\n"
        f"[返回{tag}](//finews.withounder.com/{category}/)｜[返回首页](//finews.withounder.com/)"
    )


def _english_body(rng: random.Random) -> str:
    def words(n: int) -> str:
        return " ".join(rng.choice(_WORDS) for _ in range(n))

    rows = "\n".join(
        f"| {words(1)} | {rng.randint(1, 999)} | {rng.uniform(-9, 9):.1f}% |" for _ in range(4)
    )
    return (
        f"{words(40).capitalize()}.\n\n## {words(3).title()}\n\n{words(60).capitalize()}, see "
        f"[the archive](/archive/) and <https://example.com/{words(1)}>.\n\n"
        f"| name | value | change |\n|---|---:|---:|\n{rows}\n\n- {words(8)}\n- ~~{words(5)}~~ {words(6)}\n\n"
        f"{words(50).capitalize()}.\n"
    )


def zipf_choice(rng: random.Random, names: list[str], weights: list[float]) -> str:
    return rng.choices(names, weights=weights, k=1)[0]


def make_archive(
    out: Path, *, posts: int, categories: int = 40, tags: int = 400, seed: int = 1
) -> None:
    rng = random.Random(seed)
    category_names = [f"cat{i:02d}" for i in range(categories)]
    tag_names = [("标签" if i % 2 else "tag-") + f"{i:03d}" for i in range(tags)]
    category_weights = [1 / (i + 1) for i in range(categories)]
    tag_weights = [1 / (i + 1) for i in range(tags)]
    folder = out / "_posts"
    folder.mkdir(parents=True, exist_ok=True)
    (out / "_config.yml").write_text(
        "title: 金融消息\nurl: https://finews.withounder.com\ntimezone: Asia/Shanghai\nlang: zh-CN\n"
        "author: ZNing\nplugins:\n  - jekyll-feed\n",
        encoding="utf-8",
    )
    start = datetime(2021, 12, 1, 8, 0, 0)
    step = timedelta(days=3 * 365) / max(posts, 1)
    for n in range(posts):
        when = start + step * n + timedelta(seconds=rng.randint(0, 59))
        ident = f"{when:%Y%m%d}{2200000000 + n:010d}"
        category = zipf_choice(rng, category_names, category_weights)
        chosen = sorted(
            {zipf_choice(rng, tag_names, tag_weights) for _ in range(rng.randint(1, 3))}
        )
        tag_field = chosen[0] if len(chosen) == 1 else "[" + ", ".join(chosen) + "]"
        if rng.random() < 0.8:
            title = _sentence(rng, 12, 28).rstrip("。，；")
            body = _chinese_body(rng, ident, category, chosen[0])
        else:
            title = " ".join(rng.choice(_WORDS) for _ in range(6)).title()
            body = _english_body(rng)
        front = (
            f'---\nlayout: post\ntitle: "{title}"\ndate: {when:%Y-%m-%d %H:%M:%S} +0800\n'
            f"categories: {category}\ntags: {tag_field}\n---\n"
        )
        (folder / f"{when:%Y-%m-%d}-{ident}.md").write_text(front + body + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--categories", type=int, default=40)
    parser.add_argument("--tags", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    make_archive(
        args.out, posts=args.posts, categories=args.categories, tags=args.tags, seed=args.seed
    )
    print(f"{args.posts} posts in {args.out / '_posts'}")


if __name__ == "__main__":
    main()
