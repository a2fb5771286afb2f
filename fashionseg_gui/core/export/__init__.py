"""Exports of a project's masks and annotations: one registry, one :func:`export` entry point.

The CLI (``fashionseg export``) and the GUI (File ▸ Export, run by a worker) both call
:func:`export`; each format is one module of this package that registers an
:class:`ExportFormat` (see CONTRIBUTING.md, "Adding an export format").

Built-in formats: ``label-png``, ``colour-png``, ``overlay``, ``coco``, ``via``.
"""

from __future__ import annotations

from fashionseg_gui.core.export.registry import (
    FORMATS,
    ExportContext,
    ExportFormat,
    ExportResult,
    export,
    export_ids,
    get_format,
    output_path,
    register,
)

# Importing a format module registers it; a new format is one more name here.
from fashionseg_gui.core.export import (  # noqa: E402, F401  isort: skip
    label_png,
    colour_png,
    overlay,
    coco,
    via,
)

__all__ = [
    "FORMATS",
    "ExportContext",
    "ExportFormat",
    "ExportResult",
    "export",
    "export_ids",
    "get_format",
    "output_path",
    "register",
]
