"""The architecture, checked by the import-linter contracts of pyproject.toml.

The contracts themselves (core never imports Qt; layers views -> workers -> core; the CLI's
command modules import no Qt) run in ``.ci/run`` and pre-commit as ``lint-imports``; this
test runs them in the suite too and proves they catch a breach.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

REPO = Path(__file__).resolve().parents[2]
LINT = (
    "from importlinter.cli import lint_imports; import sys; "
    "sys.exit(lint_imports(no_cache=True, no_logo=True))"
)


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of ``root/pyproject.toml`` on the package in ``root``."""
    return subprocess.run(
        [sys.executable, "-c", LINT],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(
        REPO / "fashionseg_gui",
        root / "fashionseg_gui",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(REPO / "pyproject.toml", root)
    return root


def test_the_import_contracts_hold() -> None:
    proc = _lint(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for contract in (
        "core never imports Qt KEPT",
        "views -> workers -> core KEPT",
        "the CLI's commands never import Qt themselves KEPT",
    ):
        assert contract in proc.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("core/_breach.py", "def f():\n    import PySide6.QtCore\n", "core never imports Qt"),
        ("core/_breach.py", "from fashionseg_gui.views import style\n", "views -> workers -> core"),
        (
            "workers/_breach.py",
            "def f():\n    from fashionseg_gui.views import icons\n",
            "views -> workers -> core",
        ),
        ("cli_breach.py", "", "the CLI's commands never import Qt themselves"),
    ],
)
def test_the_contracts_catch_a_breach(tmp_path: Path, module: str, line: str, broken: str) -> None:
    root = _copy(tmp_path)
    if module == "cli_breach.py":  # a lazy Qt import inside a CLI command
        cli = root / "fashionseg_gui" / "cli_project.py"
        cli.write_text(cli.read_text() + "\n\ndef _breach():\n    import pyqtgraph\n")
    else:
        (root / "fashionseg_gui" / module).write_text(line)
    proc = _lint(root)
    assert proc.returncode != 0
    assert f"{broken} BROKEN" in proc.stdout, proc.stdout
