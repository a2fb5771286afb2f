"""End to end on a real X server: launch the app, paint with the mouse, quit, find the mask.

Needs ``Xvfb`` and ``xdotool`` (apt: xvfb xdotool); skipped when they are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


@pytest.fixture
def xserver():
    xvfb = _need("Xvfb")
    _need("xdotool")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as fh:
        display = fh.readline().strip()  # Xvfb writes the free display number it took
    if not display:
        proc.kill()
        pytest.skip("Xvfb did not start")
    yield f":{display}"
    proc.terminate()
    proc.wait(10)


def _xdotool(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _main_window(env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The app's visible main window (the largest visible window named like the project)."""
    best: tuple[int, str, dict[str, str]] | None = None
    for win in _xdotool(env, "search", "--sync", "--onlyvisible", "--name", "proj").split():
        out = subprocess.run(
            ["xdotool", "getwindowgeometry", "--shell", win],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if out.returncode != 0:  # gone already (a short-lived native window)
            continue
        geo = dict(line.split("=", 1) for line in out.stdout.split())
        area = int(geo["WIDTH"]) * int(geo["HEIGHT"])
        if best is None or area > best[0]:
            best = (area, win, geo)
    assert best is not None, "no visible app window"
    return best[1], best[2]


def test_paint_with_mouse_and_quit_saves_mask(xserver, tmp_path):
    photo = SHARED_DATA / "ccp" / "images" / "0002.jpg"
    if not photo.is_file():
        pytest.skip("../shared/data is not present")
    from fashionseg_gui.core.project import Project

    with Project.create(tmp_path / "proj") as project:
        image_id = project.import_images([photo])[0].image_id
    assert image_id is not None
    env = dict(
        os.environ,
        DISPLAY=xserver,
        QT_QPA_PLATFORM="xcb",
        XDG_CONFIG_HOME=str(tmp_path / "cfg"),
        FASHIONSEG_DATA_DIR=str(tmp_path / "data"),
    )
    app = subprocess.Popen(
        [sys.executable, "-m", "fashionseg_gui", "--project", str(tmp_path / "proj")],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _xdotool(env, "search", "--sync", "--onlyvisible", "--name", "proj")
        time.sleep(1.0)  # let the first image load and the layout settle
        win, geo = _main_window(env)
        x0, y0 = int(geo["X"]), int(geo["Y"])
        w, h = int(geo["WIDTH"]), int(geo["HEIGHT"])
        cx, cy = x0 + w // 2, y0 + h // 2  # the canvas (and the photo) fill the centre
        _xdotool(env, "windowfocus", "--sync", win)  # Xvfb has no window manager
        _xdotool(env, "mousemove", "--sync", str(cx - 40), str(cy))
        _xdotool(env, "mousedown", "1")
        for dx in range(-40, 41, 10):
            _xdotool(env, "mousemove", "--sync", str(cx + dx), str(cy + dx // 4))
        _xdotool(env, "mouseup", "1")
        time.sleep(0.3)
        # Look the window up again: a window found earlier may have been a short-lived one
        # (the main window's native window can be re-created while docks settle).
        win, _geo = _main_window(env)
        _xdotool(env, "windowfocus", "--sync", win)
        _xdotool(env, "key", "ctrl+q")
        out, _ = app.communicate(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    assert app.returncode == 0, out[-3000:]
    mask_file = tmp_path / "proj" / "masks" / f"{image_id}.png"
    assert mask_file.is_file(), out[-3000:]
    with Project.open(tmp_path / "proj", read_only=True) as project:
        mask = project.read_mask(image_id)
        assert project.images[image_id].status in ("labelled", "corrected")
    assert (mask == 1).sum() > 100  # the stroke painted class 1 (the default class)
