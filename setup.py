"""Build step that ships the top-level ``resources/`` folder (icons, style sheet, app icon,
desktop file) and the demo project inside the wheel, as ``fashionseg_gui/resources/``.

Everything else about the package is declared in ``pyproject.toml``. In a source checkout
(or an editable install) the app reads ``resources/`` and ``projects/demo`` in place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: source folder in the checkout -> folder inside the installed package
SHIPPED = {
    ROOT / "resources": "fashionseg_gui/resources",
    ROOT / "projects" / "demo": "fashionseg_gui/resources/demo",
}
IGNORED = shutil.ignore_patterns(
    ".fashionseg.lock", ".cache", "__pycache__", "*.pyc", "runs", "*.tmp"
)


class BuildPyWithResources(build_py):
    """``build_py`` that also copies :data:`SHIPPED` into the build folder."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's folders in place
        for source, target in SHIPPED.items():
            if not source.is_dir():
                raise FileNotFoundError(f"{source} is missing; the wheel would lack it")
            shutil.copytree(
                source, Path(self.build_lib) / target, ignore=IGNORED, dirs_exist_ok=True
            )


setup(cmdclass={"build_py": BuildPyWithResources})
