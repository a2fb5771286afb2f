"""Shared test setup: headless Qt, isolated settings, paths to the shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--headed", action="store_true", help="show GUI tests on the real display")
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite the reference PNGs of the snapshot tests",
    )


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("--headed"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _shared(sub: str = "") -> Path:
    folder = SHARED_DATA / sub
    if not folder.is_dir():
        pytest.skip(f"../shared/data/{sub} is not present")
    return folder


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` (the test is skipped where it is absent)."""
    return _shared()


@pytest.fixture
def bad() -> Path:
    """``../shared/data/bad_inputs``: hostile files and what a robust tool does with each."""
    return _shared("bad_inputs")


@pytest.fixture
def ccp() -> Path:
    """``../shared/data/ccp``: Clothing Co-Parsing photos, masks and ``ccp5.json``."""
    return _shared("ccp")


@pytest.fixture
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-snapshots"))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep the developer's QSettings and config out of tests."""
    cfg = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cfg))
    monkeypatch.setenv("FASHIONSEG_CONFIG_DIR", str(cfg))
    try:
        from PySide6.QtCore import QSettings
    except ImportError:
        yield
        return
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(cfg))
    yield
