"""Every view's standalone demo runs: ``python -m fashionseg_gui.views.X`` opens its window
offscreen (fed by the bundled demo project) and quits after a timer, without a traceback.

The pattern is pyqtgraph's ``examples/test_examples.py``; the demos quit on their own when
``$FASHIONSEG_DEMO_QUIT_MS`` is set (``views.style.exec_demo``).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VIEWS = REPO / "fashionseg_gui" / "views"
#: Modules of views/ that are not views (the look and its helpers).
NOT_VIEWS = {"__init__", "icons", "protocols", "style"}
DEMO = re.compile(r'^if __name__ == "__main__":', re.MULTILINE)

# Qt messages that mean a demo misbehaved even though it exited 0.
BAD_OUTPUT = (
    "Traceback (most recent call last)",
    "QThread: Destroyed while thread",
    "QObject::connect",
    "QPainter::begin",
    "QBasicTimer",
)


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("__main__", "__init__"):
        parts.pop()
    return ".".join(parts)


def demo_modules() -> list[str]:
    """Every module (or package with a ``__main__``) under views/ that has a demo."""
    found = set()
    for path in sorted(VIEWS.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        if path.name == "__main__.py" or DEMO.search(path.read_text(encoding="utf-8")):
            found.add(_module_name(path))
    return sorted(found)


#: Base-class name endings that make a class a window or widget someone can look at.
WIDGET_BASES = ("Widget", "Dialog", "MainWindow", "View", "Window", "Panel")


def _defines_a_widget(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                if name.endswith(WIDGET_BASES):
                    return True
    return False


def test_every_view_module_has_a_demo() -> None:
    """Each public module of views/ that defines a widget runs on its own; a subpackage that
    does has a ``__main__.py`` (or a demo in its ``__init__``)."""
    missing = []
    for path in sorted(VIEWS.iterdir()):
        if path.is_file() and path.suffix == ".py":
            if path.stem in NOT_VIEWS or path.stem.startswith("_"):
                continue
            source = path.read_text(encoding="utf-8")
            if _defines_a_widget(source) and not DEMO.search(source):
                missing.append(path.name)
        elif (path / "__init__.py").is_file():
            sources = [p.read_text(encoding="utf-8") for p in path.rglob("*.py")]
            demo = (path / "__main__.py").is_file() or DEMO.search(
                (path / "__init__.py").read_text(encoding="utf-8")
            )
            if any(_defines_a_widget(s) for s in sources) and not demo:
                missing.append(f"{path.name}/ (no __main__.py)")
    assert missing == []


def test_the_demo_list_is_not_empty() -> None:
    assert {
        "fashionseg_gui.views.browser",
        "fashionseg_gui.views.main_window",
        "fashionseg_gui.views.editor",
    } <= set(demo_modules())


@pytest.mark.parametrize("module", demo_modules())
def test_view_demo_runs_and_quits(module: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        FASHIONSEG_DEMO_QUIT_MS="800",
        TF_CPP_MIN_LOG_LEVEL="2",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        FASHIONSEG_CONFIG_DIR=str(tmp_path),
    )
    proc = subprocess.run(
        [sys.executable, "-m", module],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    for bad in BAD_OUTPUT:
        assert bad not in output, output
