"""The architecture, checked statically: core has no Qt; workers never import views."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "fashionseg_gui"
QT = ("PySide6", "shiboken6", "pyqtgraph")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _offenders(folder: str, banned: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] in banned or any(name.startswith(b + ".") or name == b
                                                     for b in banned):
                found.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return found


def test_core_never_imports_qt_or_the_gui_layers() -> None:
    assert _offenders("core", QT + ("fashionseg_gui.workers", "fashionseg_gui.views")) == []


def test_workers_never_import_views() -> None:
    assert _offenders("workers", ("fashionseg_gui.views",)) == []


def test_cli_and_benchmarks_of_core_jobs_stay_headless() -> None:
    for module in ("cli.py", "cli_project.py", "cli_ml.py"):
        bad = [n for n in _imports(PACKAGE / module) if n.split(".")[0] in QT]
        assert bad == [], f"{module} imports {bad}"
