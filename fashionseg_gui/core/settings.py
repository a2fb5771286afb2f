"""User-level places and preferences that do not need Qt: data folder, demo project, recents.

Window geometry and the recent-project list themselves live in ``QSettings`` (see
``fashionseg_gui.app``); this module only holds the Qt-free rules behind them so that they
can be tested without a GUI.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
MAX_RECENT = 10
DEMO_NAME = "demo"


class SettingsError(Exception):
    """A user-level folder could not be prepared; worded for the user."""


def user_data_dir() -> Path:
    """The per-user data folder of FashionSeg Studio (not created here).

    ``FASHIONSEG_DATA_DIR`` wins; otherwise ``$XDG_DATA_HOME/fashionseg`` on Linux,
    ``~/Library/Application Support/FashionSeg`` on macOS and ``%APPDATA%/FashionSeg``
    on Windows.

    Returns
    -------
    Path
        The folder path.
    """
    env = os.environ.get("FASHIONSEG_DATA_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "FashionSeg"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "FashionSeg"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fashionseg"


def demo_candidates() -> list[Path]:
    """Places where the bundled demo project may be, in order of preference.

    Returns
    -------
    list[Path]
        ``<repo>/projects/demo`` (a source checkout) and ``<package>/resources/demo``
        (the copy shipped as package data).
    """
    return [PACKAGE_DIR.parent / "projects" / DEMO_NAME, PACKAGE_DIR / "resources" / DEMO_NAME]


def _is_project(path: Path) -> bool:
    return (path / "project.json").is_file()


def demo_project_path(
    candidates: Iterable[Path] | None = None, data_dir: Path | None = None
) -> Path | None:
    """The demo project to open on the first launch, copied somewhere writable if needed.

    The bundled demo (``projects/demo`` in a source checkout, or the copy shipped inside the
    package) is copied once into ``<user data dir>/demo`` and that copy is returned, so the
    bundled demo is never modified (a source checkout stays clean, and deleting the user copy
    resets the demo).

    Parameters
    ----------
    candidates : iterable of Path, optional
        Where to look (default :func:`demo_candidates`).
    data_dir : Path, optional
        The user data folder (default :func:`user_data_dir`).

    Returns
    -------
    Path or None
        The project folder, or None when no demo is bundled.

    Raises
    ------
    SettingsError
        When the demo must be copied and the copy fails.
    """
    data_dir = Path(data_dir) if data_dir is not None else user_data_dir()
    user_copy = data_dir / DEMO_NAME
    for cand in candidates if candidates is not None else demo_candidates():
        cand = Path(cand)
        if not _is_project(cand):
            continue
        if _is_project(user_copy):
            return user_copy
        try:
            user_copy.parent.mkdir(parents=True, exist_ok=True)
            tmp = user_copy.with_name(user_copy.name + ".partial")
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(cand, tmp, ignore=shutil.ignore_patterns(".fashionseg.lock", ".cache"))
            for p in [tmp, *tmp.rglob("*")]:  # the shipped copy may carry read-only modes
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
            os.replace(tmp, user_copy)
        except OSError as exc:
            raise SettingsError(
                f"cannot copy the demo project to {user_copy}: {exc.strerror or exc}"
            ) from exc
        return user_copy
    return None


def push_recent(
    recent: Iterable[str], path: str | os.PathLike[str], limit: int = MAX_RECENT
) -> list[str]:
    """The recent-project list with ``path`` moved to the front (no duplicates, bounded).

    Parameters
    ----------
    recent : iterable of str
        The current list, most recent first.
    path : str or PathLike
        The project just opened.
    limit : int
        Maximum length of the list.

    Returns
    -------
    list[str]
        The new list.
    """
    key = str(Path(path).resolve())
    out = [key] + [str(p) for p in recent if str(p) and str(Path(p).resolve()) != key]
    return out[:limit]


def existing_recent(recent: Iterable[str]) -> list[str]:
    """The recent projects that still exist on disk, order kept.

    Parameters
    ----------
    recent : iterable of str
        Paths, most recent first.

    Returns
    -------
    list[str]
        Those whose folder still holds a ``project.json``.
    """
    return [str(p) for p in recent if p and _is_project(Path(p))]
