"""Real Jekyll (Debian's jekyll and ruby-jekyll-feed), run offline the way a site owner runs it."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

from tests.clients import need

# Debian's Jekyll loads the gems it has, without a Gemfile or network.
ENV = {"JEKYLL_NO_BUNDLER_REQUIRE": "true", "JEKYLL_ENV": "production"}


def jekyll(
    site: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`jekyll ARGS` in `site` (e.g. `build`); fails the test if Jekyll fails."""
    binary = need("jekyll")
    result = subprocess.run(
        [binary, *args],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **ENV, **(env or {})},
    )
    assert result.returncode == 0, f"jekyll {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path
