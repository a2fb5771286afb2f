"""``fashionseg``: the headless command line of FashionSeg Studio.

Each group of commands lives in its own module with ``register(subparsers)``; a command's
handler is ``args.func(args) -> int``. A user error (``UserError`` and the core error
types) prints one clear line to stderr and exits with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that add sub-commands. Imported on start; each must keep heavy imports
# (TensorFlow, Qt) inside its handlers so that ``fashionseg --help`` stays fast.
COMMAND_MODULES = (
    "fashionseg_gui.cli_project",
    "fashionseg_gui.cli_ml",
    "fashionseg_gui.cli_trash",
    "fashionseg_gui.bench",
)


class UserError(Exception):
    """An error caused by the user's input; printed as one line, exit status 2."""


def _user_error_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [UserError, FileNotFoundError, PermissionError]
    for mod, name in (
        ("fashionseg_gui.core.project", "ProjectError"),
        ("fashionseg_gui.core.images", "ImageRejected"),
        ("fashionseg_gui.core.via", "ViaError"),
        ("fashionseg_gui.core.masks", "MaskRejected"),
        ("fashionseg_gui.core.runs", "RunError"),
        ("fashionseg_gui.core.train_config", "TrainError"),
    ):
        try:
            types.append(getattr(importlib.import_module(mod), name))
        except (ImportError, AttributeError):
            pass
    return tuple(types)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fashionseg",
        description="FashionSeg Studio, headless: projects, import/export, training, benchmarks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("fashionseg: interrupted", file=sys.stderr)
        return 130
    except _user_error_types() as exc:
        print(f"fashionseg: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, unreadable file: still one line for the user
        print(
            f"fashionseg: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    # Re-import by name so that ``python -m fashionseg_gui.cli`` and the command modules
    # share one ``UserError`` class.
    from fashionseg_gui.cli import main as _main

    sys.exit(_main())
