"""desktop_app.core must stay importable without Qt and without the training extra (torch,
scikit-learn, matplotlib): CLI machines, CI, and an app installed without `[train]`. It is the
bottom layer: it never imports the GUI, the CLI or the training package (they import it)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import desktop_app.core

CORE = Path(desktop_app.core.__file__).parent
FORBIDDEN = ("PySide6", "PySide2", "PyQt5", "PyQt6", "superqt", "qtpy", "torch", "torchvision", "sklearn", "matplotlib")
UPPER_LAYERS = ("desktop_app.ui", "desktop_app.app", "desktop_app.cli", "desktop_app.__main__", "training")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_modules_import_no_qt_or_torch() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) >= 10
    offenders = {
        f"{path.relative_to(CORE)}: {name}"
        for path in modules
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert not offenders, f"core must not import Qt or torch: {sorted(offenders)}"


def test_core_imports_no_upper_layer() -> None:
    offenders = {
        f"{path.relative_to(CORE)}: {name}"
        for path in sorted(CORE.rglob("*.py"))
        for name in imported_modules(path)
        if any(name == layer or name.startswith(layer + ".") for layer in UPPER_LAYERS)
    }
    assert not offenders, f"core must not import the GUI, the CLI or training: {sorted(offenders)}"


def test_cli_import_pulls_no_qt_or_torch() -> None:
    code = (
        "import sys, desktop_app.cli, desktop_app.__main__\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
