"""The installed app finds its resources: build the wheel, install it into a fresh venv and
start the window offscreen from outside the checkout.

The venv takes its dependencies (PySide6, numpy...) from the running environment through a
``.pth`` file, so nothing is downloaded but the build backend; the package itself comes from
the wheel only (the checkout is neither the working folder nor on the path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: What the wheel is built from (a copy, so the build leaves nothing in the checkout and no
#: stale ``build/`` folder of an earlier build can slip removed modules into the wheel).
SOURCES = (
    "fashionseg_gui",
    "resources",
    "projects/demo",
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
)

# Runs inside the fresh venv: starts the app's own main() on the demo project, then reports
# what the shown window got from the resources.
PROBE = r"""
import json, sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import fashionseg_gui
from fashionseg_gui import app as app_module
from fashionseg_gui.views import icons

qapp = QApplication(sys.argv[:1])
report = {}


def probe():
    from fashionseg_gui.views.main_window import MainWindow

    window = next(w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow))
    acts = window.actions_
    report.update(
        package=fashionseg_gui.__file__,
        resource_dir=str(icons.resource_dir()),
        desktop_file=(icons.resource_dir() / "fashionseg-studio.desktop").is_file(),
        stylesheet=qapp.styleSheet(),
        window_icon_null=qapp.windowIcon().isNull(),
        action_icons_null={name: getattr(acts, name).icon().isNull()
                           for name in ("new_project", "open_project", "save", "quit")},
        all_icons_null=[n for n in icons.icon_names() if icons.icon(n).isNull()],
        icon_count=len(icons.icon_names()),
        icon_pixels=sum(1 for x in range(24) for y in range(24)
                        if acts.save.icon().pixmap(24).toImage().pixelColor(x, y).alpha()),
        project=str(window.project.root) if window.project is not None else None,
        images=len(window.project.images) if window.project is not None else 0,
    )
    window.close()
    qapp.quit()


QTimer.singleShot(300, probe)
code = app_module.main(["--demo"])
print("PROBE " + json.dumps(report))
sys.exit(code)
"""


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_the_installed_wheel_starts_the_window_with_its_icons_and_style(tmp_path: Path) -> None:
    source = tmp_path / "source"
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name,
                source / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".fashionseg.lock", ".cache"),
            )
        else:
            shutil.copy(REPO / name, source / name)
    wheel_dir = tmp_path / "wheel"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(wheel_dir),
            str(source),
        ],
        cwd=tmp_path,
    )
    (wheel,) = wheel_dir.glob("fashionseg_gui-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
    )
    # The dependencies come from this environment (after the venv's own site-packages, so
    # the wheel's copy of the package wins over any editable install of the checkout).
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_deps_from_test_env.pth").write_text("\n".join(sorted(deps)) + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ]
    )
    assert (venv / "bin" / "fashionseg-gui").is_file()  # the gui-scripts entry point

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        HOME=str(tmp_path / "home"),
    )
    proc = _run([str(python), "-c", PROBE], cwd=outside, env=env)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE "))
    report = json.loads(line[len("PROBE ") :])

    installed = site / "fashionseg_gui"
    assert Path(report["package"]).parent == installed, "the package came from elsewhere"
    assert Path(report["resource_dir"]) == installed / "resources"
    assert report["desktop_file"]
    assert "QDockWidget::title" in report["stylesheet"] and "${" not in report["stylesheet"]
    assert "#2f6fde" in report["stylesheet"]  # the accent colour filled into the template
    assert report["window_icon_null"] is False
    assert report["action_icons_null"] == dict.fromkeys(
        ("new_project", "open_project", "save", "quit"), False
    )
    assert report["icon_count"] >= 20 and report["all_icons_null"] == []
    assert report["icon_pixels"] > 50  # the SVG really rendered, not an empty pixmap
    # The demo project shipped in the wheel was copied to the user data folder and opened.
    assert report["project"] is not None and report["images"] > 0
    assert Path(report["project"]).is_relative_to(tmp_path / "data")
