"""The floor plan stays readable (issue #22): one package per capability, checked on every run.

Over ``desktop_app/`` and ``training/``: no import cycles (an ast-built graph, relative imports
resolved, imports under ``if TYPE_CHECKING:`` included), no module over 400 lines, and no folder
holding 3+ modules that share a name prefix (the part before the first underscore; a third
``batch_*`` file means it is time for a ``batch/`` package). Over the git checkout: no tracked
file over 20 MB (commit only the checkpoint the next run resumes from, replaced in place).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("desktop_app", "training")
MAX_LINES = 400
MAX_FAMILY = 2
MAX_TRACKED_BYTES = 20 * 1024 * 1024


def module_files(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every .py below the given top-level packages."""
    mods: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            mods[".".join(parts)] = path
    return mods


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ``mods`` it imports (not counting its own parent packages)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in mods.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package[: len(package) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in mods and t != name and not name.startswith(t + "."))
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def long_modules(mods: dict[str, Path], limit: int = MAX_LINES) -> dict[str, int]:
    counts = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in mods.items()}
    return {name: n for name, n in counts.items() if n > limit}


def prefix_families(mods: dict[str, Path], limit: int = MAX_FAMILY) -> dict[str, list[str]]:
    """``folder/prefix*`` -> module stems, for folders with more than ``limit`` stems sharing a prefix."""
    families: dict[tuple[Path, str], list[str]] = defaultdict(list)
    for path in mods.values():
        if not path.stem.startswith("_"):
            families[(path.parent, path.stem.split("_")[0])].append(path.stem)
    return {f"{folder}/{prefix}*": sorted(stems) for (folder, prefix), stems in families.items() if len(stems) > limit}


def large_tracked_files(repo: Path, limit: int = MAX_TRACKED_BYTES) -> dict[str, int] | None:
    """Tracked files over ``limit`` bytes, or None when ``repo`` is not a git checkout."""
    git = shutil.which("git")
    if git is None or not (repo / ".git").exists():
        return None
    out = subprocess.run([git, "ls-files", "-z"], cwd=repo, capture_output=True, check=True, timeout=60).stdout
    sizes = {name: (repo / name).stat().st_size for name in out.decode().split("\0") if (repo / name).is_file()}
    return {name: size for name, size in sizes.items() if size > limit}


# -- the repository ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mods() -> dict[str, Path]:
    found = module_files(REPO)
    assert len(found) > 50 and "desktop_app.core.segment" in found and "training.trainer" in found
    return found


def test_no_import_cycles(mods) -> None:
    assert find_cycles(import_graph(mods)) == []


def test_no_long_modules(mods) -> None:
    assert long_modules(mods) == {}


def test_no_prefix_families(mods) -> None:
    assert prefix_families(mods) == {}


def test_no_large_tracked_files() -> None:
    large = large_tracked_files(REPO)
    if large is None:
        pytest.skip("not a git checkout")
    assert large == {}, "commit only the checkpoint the next run resumes from (model cards say where older ones are)"


# -- the checks themselves fail when they should -----------------------------------------------


def write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_checks_catch_a_synthetic_mess(tmp_path: Path) -> None:
    write(tmp_path / "app/__init__.py")
    write(tmp_path / "app/ui/canvas.py", "from app.ui import tools\n")
    type_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .canvas import ImageCanvas\n"
    write(tmp_path / "app/ui/tools.py", type_only)
    write(tmp_path / "app/task/__init__.py", "from .cli import run\n")
    write(tmp_path / "app/task/cli.py", "from ..task import export\n")
    write(tmp_path / "app/task/export.py", "from . import cli\n")
    write(tmp_path / "app/core/batch.py", "import app.core.batch_plan\n")
    write(tmp_path / "app/core/batch_plan.py", "\n" * (MAX_LINES + 1))
    write(tmp_path / "app/core/batch_queue.py", "from app.core.batch import run\n")
    mods = module_files(tmp_path, ("app",))
    assert sorted(find_cycles(import_graph(mods))) == [
        ["app.task.cli", "app.task.export"],
        ["app.ui.canvas", "app.ui.tools"],
    ]
    assert long_modules(mods) == {"app.core.batch_plan": MAX_LINES + 1}
    assert list(prefix_families(mods).values()) == [["batch", "batch_plan", "batch_queue"]]


def test_large_file_check_sees_tracked_files_only(tmp_path: Path) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    assert large_tracked_files(tmp_path) is None
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True)
    write(tmp_path / "small.txt", "x")
    write(tmp_path / "big.bin", "x" * 2048)
    write(tmp_path / "untracked.bin", "x" * 4096)
    subprocess.run([git, "add", "small.txt", "big.bin"], cwd=tmp_path, check=True)
    assert large_tracked_files(tmp_path, limit=1024) == {"big.bin": 2048}
