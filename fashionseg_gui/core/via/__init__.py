"""VGG Image Annotator (VIA) files: read every VIA variant, import into a project, export VIA 2.

Read (format detected by content, never by file name):

- VIA 1.x / 2.x "export as JSON": ``{key: {"filename", "size", "regions": [...] or {"0": ...}}}``
  (:mod:`.read_json`)
- VIA 2.x project: ``_via_settings``, ``_via_img_metadata``, ``_via_attributes`` (option ids ->
  labels) (:mod:`.read_json`)
- VIA 3.x project: ``project``, ``config``, ``attribute``, ``file``, ``view``, ``metadata`` with
  ``xy = [shape_id, coords...]``; video/audio projects give no image regions, with a note
  (:mod:`.read_v3`).
- VIA CSV export (header with or without ``#``; bare JS ``undefined`` in cells is read as unset)
  (:mod:`.read_csv`).

Every region that cannot be used is listed in :attr:`ViaFile.skipped` with a reason (the shape
readers of :mod:`.regions` raise :class:`ShapeProblem`); one bad region never stops the rest.
A whole-file problem (not JSON, not VIA, empty, undecodable) raises :class:`ViaError` with one
clear line. ``NaN``/``Infinity`` in the JSON are not accepted as numbers: regions that hold them
are skipped, as are coordinates beyond ±1e6. Lone surrogates in any text (``"\\ud800"``) are
replaced by U+FFFD, so labels, file names and reports can always be saved and printed.

Security: file names inside a VIA file (absolute paths, ``..``, URLs, Windows paths) are reduced
to their base name, and image files are looked up only directly inside the folders the caller
chose.

Modules: :mod:`.model` (the parsed file), :mod:`.reader` (:func:`read_via`), :mod:`.labels`
(class labels, attribute guessing), :mod:`.importer` (:func:`import_via`), :mod:`.report`
(:class:`ViaImportReport`), :mod:`.export` (:func:`export_via`).
"""

from __future__ import annotations

from fashionseg_gui.core.via.export import export_via, mask_to_shapes
from fashionseg_gui.core.via.importer import import_via, polyline_closed
from fashionseg_gui.core.via.labels import (
    attribute_labels,
    guess_class_attribute,
    region_label,
    region_labels,
)
from fashionseg_gui.core.via.model import (
    MAX_VIA_BYTES,
    ShapeProblem,
    ViaEntry,
    ViaError,
    ViaFile,
    ViaRegion,
)
from fashionseg_gui.core.via.reader import read_via
from fashionseg_gui.core.via.report import ViaImportReport

__all__ = [
    "MAX_VIA_BYTES",
    "ShapeProblem",
    "ViaEntry",
    "ViaError",
    "ViaFile",
    "ViaImportReport",
    "ViaRegion",
    "attribute_labels",
    "export_via",
    "guess_class_attribute",
    "import_via",
    "mask_to_shapes",
    "polyline_closed",
    "read_via",
    "region_label",
    "region_labels",
]
