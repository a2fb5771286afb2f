"""Annotation canvas speed: brush dab + overlay repaint, polygon commit, time to a shown window.

Brush dabs are real mouse events sent to the canvas viewport of an :class:`EditorWidget`
(offscreen Qt), each followed by a forced ``viewport().repaint()``, so a figure covers the mask
edit, the overlay re-colouring of the dirty box and the repaint. The start-up figure runs
``fashionseg-gui --demo --quit-after-shown`` (the real app on its demo project).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dabs", type=int, default=300, help="brush dabs to time (default 300)")
    parser.add_argument("--size", type=int, default=20, help="brush size in pixels (default 20)")
    parser.add_argument(
        "--zoom", type=float, default=1.0, help="canvas zoom while painting (default 1.0 = 100 %%)"
    )
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up timing")


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _startup_seconds() -> tuple[str, float | None]:
    """Median wall time of ``fashionseg-gui --demo --quit-after-shown`` (3 runs after a warm-up).

    The demo is copied to a temporary user data folder by the warm-up run, and settings are
    fresh, so each timed run opens the demo project like a first launch. The warm-up also
    writes the bytecode cache (into the temporary folder), as an installed app has it: with
    ``PYTHONDONTWRITEBYTECODE`` set, every start would compile the app's sources again
    (0.2-0.3 s here), which measures the shell rather than the app.
    """
    with tempfile.TemporaryDirectory(prefix="fashionseg-bench-start-") as tmp:
        env = dict(
            os.environ,
            QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
            FASHIONSEG_DATA_DIR=str(Path(tmp) / "data"),
            XDG_CONFIG_HOME=str(Path(tmp) / "config"),
            PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"),
        )
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cmd = [sys.executable, "-m", "fashionseg_gui", "--demo", "--quit-after-shown"]
        walls, inner = [], []
        for i in range(4):
            t0 = time.perf_counter()
            try:
                res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
            except (OSError, subprocess.TimeoutExpired):
                return "fashionseg-gui --demo --quit-after-shown: did not finish", None
            if res.returncode != 0:
                return f"fashionseg-gui failed: {res.stderr.strip()[-200:]}", None
            if i == 0:
                continue  # warm-up: copies the demo, warms the file cache
            walls.append(time.perf_counter() - t0)
            m = re.search(r"shown in ([0-9.]+)\s*s", res.stdout)
            if m:
                inner.append(float(m.group(1)))
    walls.sort()
    inner.sort()
    note = (
        f"; the app reports the window shown {inner[len(inner) // 2]:.2f} s after process start"
        if inner
        else ""
    )
    return (
        f"fashionseg-gui --demo --quit-after-shown: median of 3, process wall time incl. "
        f"Python start and exit, bytecode cached{note}"
    ), walls[len(walls) // 2]


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.views.editor import EditorWidget, demo_project

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="fashionseg-bench-") as tmp:
        project = demo_project(Path(tmp))
        image_id = next(iter(project.images))
        rec = project.images[image_id]
        editor = EditorWidget()
        editor.resize(1200, 800)
        editor.set_project(project)
        editor.open_image(image_id)
        editor.show()
        app.processEvents()
        canvas = editor.canvas
        canvas.resetTransform()
        canvas.zoom_by(args.zoom)
        canvas.centerOn(QPointF(rec.width / 2, rec.height / 2))
        editor.set_tool("brush")
        canvas.set_brush_size(args.size)
        editor._autosave.setInterval(10**9)  # keep disk writes out of the timing
        vp = canvas.viewport()
        rng = np.random.default_rng(0)
        visible = canvas.mapToScene(vp.rect()).boundingRect()
        xs = rng.uniform(max(0, visible.left()), min(rec.width, visible.right()), args.dabs)
        ys = rng.uniform(max(0, visible.top()), min(rec.height, visible.bottom()), args.dabs)
        times = []
        for i in range(args.dabs):
            pos = canvas.mapFromScene(QPointF(xs[i], ys[i]))
            t0 = time.perf_counter()
            QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
            vp.repaint()
            times.append((time.perf_counter() - t0) * 1000)
            QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
        stroke = []
        for i in range(args.dabs):
            pos = canvas.mapFromScene(QPointF(100 + (i * 2) % 600, 100 + (i % 50) * 6))
            if i == 0:
                QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
                continue
            t0 = time.perf_counter()
            QTest.mouseMove(vp, pos)
            vp.repaint()
            stroke.append((time.perf_counter() - t0) * 1000)
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)

        editor.set_tool("polygon")
        poly_times = []
        for k in range(20):
            pts = [
                (100 + 5 * k, 100),
                (500, 120 + 3 * k),
                (450, 450),
                (120, 400 - 2 * k),
                (80, 250),
            ]
            for x, y in pts:
                QTest.mouseClick(
                    vp,
                    Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier,
                    canvas.mapFromScene(QPointF(x + 0.5, y + 0.5)),
                )
            t0 = time.perf_counter()
            canvas.commit_polygon()
            vp.repaint()
            poly_times.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        ok = editor.save_now()
        save_ms = (time.perf_counter() - t0) * 1000
        undo_t0 = time.perf_counter()
        n_undo = 0
        while editor.doc.can_undo and n_undo < 200:
            editor.undo()
            n_undo += 1
        undo_ms = (time.perf_counter() - undo_t0) * 1000 / max(1, n_undo)
        editor.shutdown()
        editor.close()

        print(
            f"canvas benchmark: {rec.width}x{rec.height} photo, brush size {args.size}, "
            f"zoom {canvas.zoom * 100:.0f} %, Qt platform {app.platformName()}"
        )
        print(
            f"brush dab (press + repaint):  median {statistics.median(times):6.2f} ms   "
            f"p95 {_pct(times, 0.95):6.2f} ms   max {max(times):6.2f} ms   (n={len(times)})"
        )
        print(
            f"brush drag segment + repaint: median {statistics.median(stroke):6.2f} ms   "
            f"p95 {_pct(stroke, 0.95):6.2f} ms   (n={len(stroke)})"
        )
        print(
            f"polygon commit + repaint:     median {statistics.median(poly_times):6.2f} ms   "
            f"p95 {_pct(poly_times, 0.95):6.2f} ms   (n={len(poly_times)})"
        )
        print(f"undo (per step, incl. overlay): {undo_ms:6.2f} ms   over {n_undo} steps")
        print(f"save mask + shapes:           {save_ms:6.1f} ms   ({'ok' if ok else 'FAILED'})")
        if not args.no_startup:
            project.close()
            label, secs = _startup_seconds()  # the real app opens its bundled demo
            shown = f"{secs:.2f} s" if secs is not None else "not measured (command failed)"
            print(f"launch to shown window:       {shown}   ({label})")
        else:
            project.close()
    return 0
