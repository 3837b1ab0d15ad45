"""`feedsmith init`: set a Jekyll site up so that its own build gives feedsmith's feeds.

Two ways, by what the site's builder allows:

- plugins allowed (a local `jekyll build` or `jekyll serve`, GitHub Actions): a small
  `_plugins/feedsmith.rb` runs feedsmith after Jekyll writes the site, keeps its files when
  Jekyll cleans the destination, and defines `{% feed_meta %}`;
- safe mode (`safe: true`, GitHub Pages' own builder, which runs no custom plugin): the feeds
  are built into the site's source and committed (`feedsmith: {output: .}` in _config.yml,
  so that no feedsmith.toml gets published), and Jekyll copies them; `feedsmith build
  --check` in CI fails when they are stale.

Every file it writes or would change is said; none is edited without saying so; running it
again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from feedsmith.errors import ConfigError

PLUGIN = Path(__file__).with_name("jekyll_plugin.rb")
PLUGIN_PATH = Path("_plugins/feedsmith.rb")
_PLUGIN_MARK = "written by `feedsmith init`"


@dataclass(frozen=True, slots=True)
class Step:
    """One thing `init` did, or would do: a file written or changed, or advice."""

    path: str  # relative to the site, "" for advice
    action: str  # "wrote", "updated", "unchanged", "would write", "would update", "advice"
    reason: str

    def __str__(self) -> str:
        if not self.path:
            return f"  {self.reason}"
        return f"{self.action:>12}  {self.path}  ({self.reason})"


def _jekyll_feed_mentions(site: Path, data: dict[str, object]) -> list[str]:
    """Where jekyll-feed is still named: the `plugins:`/`gems:` lists, the Gemfile."""
    found = []
    for key in ("plugins", "gems"):
        value = data.get(key)
        if isinstance(value, list) and "jekyll-feed" in value:
            found.append(f"_config.yml: `{key}:` lists jekyll-feed")
    gemfile = site / "Gemfile"
    if gemfile.is_file():
        for number, line in enumerate(gemfile.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"""\s*gem\s+['"]jekyll-feed['"]""", line):
                found.append(f"Gemfile line {number}: {line.strip()}")
    return found


def safe_mode(site: Path, data: dict[str, object]) -> bool:
    """Whether the site is built without custom plugins: `safe: true`, or the github-pages
    gem (GitHub Pages' builder, which is always safe)."""
    if data.get("safe") is True:
        return True
    gemfile = site / "Gemfile"
    return gemfile.is_file() and bool(
        re.search(r"""^\s*gem\s+['"]github-pages['"]""", gemfile.read_text(encoding="utf-8"), re.M)
    )


def _put(site: Path, rel: Path, text: str, reason: str, *, dry_run: bool) -> Step:
    path = site / rel
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return Step(str(rel), "unchanged", reason)
    action = "updated" if path.exists() else "wrote"
    if dry_run:
        return Step(str(rel), "would update" if path.exists() else "would write", reason)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Step(str(rel), action, reason)


def _ignore(site: Path, entry: str, *, dry_run: bool) -> Step:
    """`entry` in the site's .gitignore (added at the end where it is not there)."""
    path = site / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    lines = {line.strip() for line in text.splitlines()}
    reason = f"{entry} is feedsmith's state: never commit it"
    if entry in lines or entry.rstrip("/") in lines:
        return Step(".gitignore", "unchanged", reason)
    joined = text + ("" if not text or text.endswith("\n") else "\n") + entry + "\n"
    return _put(site, Path(".gitignore"), joined, reason, dry_run=dry_run)


def init(
    site: Path,
    *,
    mode: str | None = None,
    dry_run: bool = False,
    build: Callable[[Path], str] | None = None,
) -> list[Step]:
    """Set up `site` (a Jekyll site root) for feedsmith; `mode` "plugin" or "safe" (None:
    safe where the site says so). `build(site)` makes the committed feeds of safe mode
    and says what it wrote."""
    config = site / "_config.yml"
    if not config.is_file():
        raise ConfigError("init", f"{site} is not a Jekyll site root (it has no _config.yml)")
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8-sig")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError("init", f"{config} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError("init", f"{config}: expected a mapping of keys at the top level")
    chosen = mode or ("safe" if safe_mode(site, data) else "plugin")
    steps: list[Step] = []
    if chosen == "plugin":
        existing = site / PLUGIN_PATH
        if existing.is_file() and _PLUGIN_MARK not in existing.read_text(encoding="utf-8"):
            raise ConfigError(
                "init", f"{existing} exists and is not feedsmith's: move it aside first"
            )
        steps.append(
            _put(
                site,
                PLUGIN_PATH,
                PLUGIN.read_text(encoding="utf-8"),
                "runs feedsmith after each jekyll build and serve, keeps its files, defines {% feed_meta %}",
                dry_run=dry_run,
            )
        )
        mentions = _jekyll_feed_mentions(site, data)
        if mentions:
            steps.append(Step("", "advice", "jekyll-feed is still named; remove it there:"))
            steps += [Step("", "advice", f"  - {m}") for m in mentions]
            steps.append(
                Step(
                    "", "advice", "  (feedsmith writes the same feeds and defines {% feed_meta %})"
                )
            )
        steps.append(
            Step("", "advice", "now `jekyll build` and `jekyll serve` write feedsmith's feeds")
        )
        return steps
    steps.append(
        Step(
            "",
            "advice",
            "safe mode (GitHub Pages' builder runs no custom plugin): feeds are built into the "
            "source and committed; Jekyll copies them, and jekyll-feed (if listed) leaves the "
            "feeds it finds alone and keeps {% feed_meta %}",
        )
    )
    section = data.get("feedsmith")
    if isinstance(section, dict) and section.get("output") is not None:
        steps.append(
            Step("_config.yml", "unchanged", "its feedsmith: section says where the feeds go")
        )
    elif section is not None:
        steps.append(
            Step(
                "",
                "advice",
                "add  output: .  to the feedsmith: section of _config.yml (not changed)",
            )
        )
    else:
        text = config.read_text(encoding="utf-8")
        added = (
            ("" if text.endswith("\n") else "\n")
            + "\n# feedsmith: the feeds are built into the site itself and committed (GitHub Pages\n"
            "# builds without plugins); `feedsmith build` here writes them.\n"
            "feedsmith:\n  output: .\n"
        )
        steps.append(
            _put(
                site,
                Path("_config.yml"),
                text + added,
                "added a feedsmith: section at its end: the feeds go into the site, to be committed",
                dry_run=dry_run,
            )
        )
    steps.append(_ignore(site, ".feedsmith-cache/", dry_run=dry_run))
    if build is not None and not dry_run:
        steps.append(Step("", "advice", build(site)))
    steps += [
        Step(
            "", "advice", "after adding posts: `feedsmith build` in the site, then commit the feeds"
        ),
        Step(
            "",
            "advice",
            "in CI: `feedsmith build --check` fails when the committed feeds are stale",
        ),
    ]
    return steps
