"""``via``: a VIA 2.0.10 project file (see :mod:`fashionseg_gui.core.via.export`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fashionseg_gui.core.export.registry import ExportContext, ExportFormat, register

if TYPE_CHECKING:
    from fashionseg_gui.core.project import Project


def _write(project: Project, out: Path, ctx: ExportContext) -> list[Path]:
    from fashionseg_gui.core.via import export_via

    ctx.progress(0, 1, out.name)
    ctx.notes += export_via(project, out, ctx.ids)
    ctx.progress(1, 1, out.name)
    return [out]


FORMAT = register(ExportFormat("via", "VIA 2 project JSON…", True, _write))
