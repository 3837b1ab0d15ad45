"""The shape of the code: data flows one way, the server speaks only the library's API, the
installed package is `feedsmith` alone, and the README's Python example runs as written."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import feedsmith
import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: a module may import from its own layer or the ones before it, never after.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "version",
            "errors",
            "text",
            "model",
            "names",
            "parallel",
            "files",
            "charsets",
            "plain",
            "depth",
        }
    ),
    frozenset({"config", "permalink", "keys"}),
    frozenset({"cache", "discover", "parse", "index", "state", "write", "websub", "unchanged"}),
    frozenset({"site", "search"}),  # the read half, and the index of it `serve` searches
    frozenset({"markup", "clean", "entry"}),  # the entry stage
    frozenset({"render", "pages"}),
    frozenset({"outputs"}),  # the render half
    frozenset({"pipeline"}),
    frozenset(
        {"cli", "progress", "jekyll", "__init__", "__main__"}
    ),  # the commands and the API: the top
)
LAYER = {module: n for n, members in enumerate(LAYERS) for module in members}


def _imports(path: Path) -> set[str]:
    """The feedsmith modules `path` imports, anywhere in it, by their name in the package
    (`config`, `server.store`; `feedsmith` for the package itself)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] == "feedsmith"
        ):
            if node.module == "feedsmith":
                for alias in node.names:  # `from feedsmith import permalink` is a module
                    module = alias.name
                    found.add(module if (ROOT / "feeds" / f"{module}.py").exists() else "feedsmith")
            else:
                found.add(node.module.removeprefix("feedsmith."))
        elif isinstance(node, ast.Import):
            found |= {
                a.name.removeprefix("feedsmith.")
                for a in node.names
                if a.name.startswith("feedsmith")
            }
    return found


def test_every_library_module_has_a_layer() -> None:
    modules = {path.stem for path in (ROOT / "feeds").glob("*.py")}
    assert modules == set(LAYER), "a new module needs its place in LAYERS"


@pytest.mark.parametrize("path", sorted((ROOT / "feeds").glob("*.py")), ids=lambda p: p.stem)
def test_no_module_imports_from_a_later_stage(path: Path) -> None:
    """discover -> parse -> index -> site -> entry -> render -> outputs -> pipeline -> cli."""
    own = LAYER[path.stem]
    for module in _imports(path):
        if module.startswith("server") or module == "feedsmith":
            assert own == len(LAYERS) - 1, f"{path.stem} imports {module}"
            continue
        assert LAYER[module] <= own, f"{path.stem} (layer {own}) imports {module} ({LAYER[module]})"


def test_modules_of_one_layer_import_no_circle() -> None:
    graph = {
        path.stem: {m for m in _imports(path) if m in LAYER}
        for path in (ROOT / "feeds").glob("*.py")
    }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert not [module for module in graph if reaches(module, module, {module})]


@pytest.mark.parametrize("path", sorted((ROOT / "server").glob("*.py")), ids=lambda p: p.stem)
def test_the_server_uses_only_the_library_api(path: Path) -> None:
    """The server imports `feedsmith`'s public names (its __all__) and its own modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("feedsmith"):
            if node.module == "feedsmith":
                names = {alias.name for alias in node.names}
                assert names <= set(feedsmith.__all__), (
                    f"{path.name}: {names - set(feedsmith.__all__)}"
                )
            else:
                assert node.module.startswith("feedsmith.server."), f"{path.name}: {node.module}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith("feedsmith"), f"{path.name}: import {alias.name}"


def test_every_public_name_exists() -> None:
    for name in feedsmith.__all__:
        assert getattr(feedsmith, name) is not None, name


@pytest.mark.slow
def test_the_wheel_holds_only_feedsmith(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"feedsmith", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}


def _readme_python_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README's 'Use it from Python' has a python block"
    return match.group(1)


@pytest.mark.slow
def test_a_fresh_install_builds_and_runs_the_readme_example(tmp_path: Path) -> None:
    """`pip install` into a new venv, then the README's Python example, run in a folder that
    has packages named `server` and `feeds` of its own (they must not be ours)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(ROOT)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    work = tmp_path / "work"
    (work / "server").mkdir(parents=True)
    (work / "server" / "__init__.py").write_text("raise SystemExit('the user\\'s own server')\n")
    (work / "feeds").mkdir()
    (work / "feeds" / "__init__.py").write_text("raise SystemExit('the user\\'s own feeds')\n")
    subprocess.run(["cp", "-r", str(ROOT / "posts"), str(work / "posts")], check=True)
    quick = subprocess.run(
        [str(python), "-c", "import feedsmith; feedsmith.build('posts', 'out')"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert quick.returncode == 0, quick.stderr
    assert (work / "out" / "feed.xml").is_file() and (work / "out" / "feeds.opml").is_file()
    example = subprocess.run(
        [str(python), "-c", _readme_python_example()],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert example.returncode == 0, example.stderr
    for command in (
        ["-m", "feedsmith", "--version"],
        ["-m", "feedsmith", "serve", "posts", "--get", "/feed.xml"],
    ):
        result = subprocess.run(
            [str(python), *command], cwd=work, capture_output=True, timeout=300, check=False
        )
        assert result.returncode == 0, result.stderr
    assert (venv / "bin" / "feedsmith").is_file()
