"""``fashionseg-gui``: start FashionSeg Studio's window.

Start-up stays fast: TensorFlow is not imported here, nor by anything the window builds
before it is shown (the Train panel is created the first time its dock is shown).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

_T_IMPORT = time.monotonic()


def process_uptime() -> float:
    """Seconds since this process started (from ``/proc`` on Linux, else since import)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat(5): starttime, in clock ticks
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _T_IMPORT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fashionseg-gui",
        description="FashionSeg Studio: annotate fashion photos, train a U-Net, correct "
        "its predictions.",
    )
    parser.add_argument(
        "project_pos",
        nargs="?",
        metavar="PROJECT",
        help="project folder to open (default: the last one, or the demo)",
    )
    parser.add_argument("--project", type=Path, help="project folder to open")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the bundled demo project (a copy in the user data folder)",
    )
    parser.add_argument("--read-only", action="store_true", help="open the project read-only")
    parser.add_argument(
        "--new", type=Path, metavar="FOLDER", help="create a new project in FOLDER and open it"
    )
    parser.add_argument(
        "--quit-after-shown",
        action="store_true",
        help='print "window shown in X.XXX s" and exit (start-up benchmark)',
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="save a screenshot of the window once shown, then exit",
    )
    return parser


def _initial_project(args: argparse.Namespace, recent: list[str]) -> Path | None:
    if args.project is not None:
        return args.project
    if args.project_pos:
        return Path(args.project_pos)
    if recent and not args.demo:
        return Path(recent[0])
    from fashionseg_gui.core.settings import SettingsError, demo_project_path

    try:
        return demo_project_path()
    except SettingsError as exc:
        print(f"fashionseg-gui: {exc}", file=sys.stderr)
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the GUI; returns the process exit status."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("FashionSeg")
    app.setApplicationName("FashionSeg Studio")
    app.setApplicationDisplayName("FashionSeg Studio")
    app.setDesktopFileName("fashionseg-studio")  # resources/fashionseg-studio.desktop

    from fashionseg_gui.views.main_window import MainWindow
    from fashionseg_gui.views.style import apply_style

    apply_style(app)  # palette, resources/style.qss and the window icon
    window = MainWindow()
    if args.new is not None:
        window.create_project(args.new)
    else:
        path = _initial_project(args, window.recent_projects())
        if path is not None:
            window.open_project(path, read_only=args.read_only)
    window.show()

    if args.quit_after_shown or args.screenshot is not None:

        def finish() -> None:
            if args.screenshot is not None:
                window.grab().save(str(args.screenshot))
            if args.quit_after_shown:
                print(f"window shown in {process_uptime():.3f} s", flush=True)
            window.close()
            app.quit()

        # A first event-loop turn paints the window; a screenshot waits for thumbnails too.
        QTimer.singleShot(1500 if args.screenshot is not None else 0, finish)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
