"""The records of a project and their rules: classes, images, statuses, splits, errors.

Plain dataclasses with no I/O; :mod:`fashionseg_gui.core.project` holds them and
:mod:`fashionseg_gui.core.project_json` reads and writes them as ``project.json``. A new
field of an image record is added here (with a default, so older files still load).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from fashionseg_gui.core.labels import hex_to_rgb

STATUSES = ("unlabelled", "labelled", "predicted", "corrected")
SPLITS = ("train", "val", "test")
MAX_CLASSES = 255  # ids 0..254; 255 is the ignore label

# Default class colours. The first colours are Okabe and Ito's colour-blind-safe set
# (Color Universal Design, 2008) in an order that keeps skin hues (red-orange to tan, hue
# about 0-50 degrees) for last: a class drawn over skin, hair or a photo's warm tones must
# stand out, and the old tan default for skin was invisible on skin. Sky blue, yellow,
# reddish purple, bluish green and blue come first; vermillion and orange, close to skin,
# only from the sixth class on; then distinct extra colours (no beige, pink or brown).
PALETTE = [
    "#56b4e9",
    "#f0e442",
    "#cc79a7",
    "#009e73",
    "#0072b2",
    "#d55e00",
    "#e69f00",
    "#911eb4",
    "#46f0f0",
    "#bcf60c",
    "#f032e6",
    "#008080",
    "#000075",
    "#808000",
    "#aaffc3",
    "#800000",
    "#4363d8",
    "#3cb44b",
    "#808080",
    "#e6194b",
]

DEFAULT_CLASSES: list[tuple[str, str]] = [
    ("background", "#000000"),
    ("bohemian", PALETTE[0]),
    ("preppy", PALETTE[1]),
    ("streetwear", PALETTE[2]),
]

#: The demo project's classes as first shipped, and their colours now (from :data:`PALETTE`).
#: A project whose classes are exactly the old ones (never recoloured by the user) gets the
#: new colours when opened; any other project keeps its colours.
OLD_DEMO_CLASSES: list[tuple[str, str]] = [
    ("background", "#000000"),
    ("skin_hair", "#f4c28b"),
    ("upper", "#e6194b"),
    ("lower", "#4363d8"),
    ("footwear_accessories", "#3cb44b"),
]
DEMO_COLOURS: list[str] = ["#000000", *PALETTE[:4]]


class ProjectError(Exception):
    """A problem with a project folder, worded for the user."""


class ReadOnlyError(ProjectError):
    """A write was attempted on a project opened read-only."""


@dataclass
class ClassInfo:
    """A label class: id (0 = background), name, colour ``#rrggbb``, shortcut key."""

    id: int
    name: str
    color: str
    shortcut: str = ""

    @property
    def rgb(self) -> tuple[int, int, int]:
        return hex_to_rgb(self.color)


_IMAGE_FIELDS: frozenset[str] = frozenset()


def _image_fields() -> frozenset[str]:
    """The field names of :class:`ImageRecord` (computed once: ``fields()`` is slow)."""
    global _IMAGE_FIELDS
    _IMAGE_FIELDS = frozenset(f.name for f in fields(ImageRecord))
    return _IMAGE_FIELDS


@dataclass
class ImageRecord:
    """One image of the project; ``file`` is relative to ``images/``."""

    id: str
    file: str
    width: int
    height: int
    status: str = "unlabelled"
    split: str | None = None
    source: str = ""
    sha256: str = ""
    original_name: str = ""
    style: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: Where a corrected label came from (``core.provenance``); None for the others.
    provenance: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageRecord:
        known = _IMAGE_FIELDS or _image_fields()
        rec = cls(**{k: v for k, v in d.items() if k in known})
        if type(rec.width) is not int or type(rec.height) is not int:  # 480.0 is valid JSON
            rec.width, rec.height = int(rec.width), int(rec.height)
        if not isinstance(rec.provenance, dict):
            rec.provenance = None
        if rec.status not in STATUSES:
            rec.status = "unlabelled"
        if rec.split not in SPLITS:
            rec.split = None
        return rec


@dataclass
class ImportOutcome:
    """What happened to one file given to :meth:`Project.add_image_file`."""

    path: str
    image_id: str | None = None
    duplicate_of: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.image_id is not None


@dataclass
class Leftovers:
    """What a crash left in a project folder (see :meth:`Project.find_leftovers`).

    ``orphans``: photo files in ``images/`` that no image record names (names relative
    to ``images/``); ``temp_files``: stale ``.*.tmp`` files (project-relative paths).
    """

    orphans: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.orphans or self.temp_files)


def color_ok(color: str) -> bool:
    """Whether ``color`` is a stored class colour: ``#`` and six hex digits."""
    if not (isinstance(color, str) and len(color) == 7 and color.startswith("#")):
        return False
    try:
        int(color[1:], 16)
    except ValueError:
        return False
    return True


def status_from_files(status: str, has_mask: bool, has_prediction: bool) -> str:
    """The status an image's files give.

    A stored mask is labelled (``corrected`` when the image was predicted); a stored
    prediction without a mask is predicted; a "predicted" image with neither file is
    unlabelled. A labelled status without a mask file is kept (an older project may
    keep its masks elsewhere); no save of this version leaves that state.
    """
    if has_mask:
        if status == "predicted":
            return "corrected"
        return "labelled" if status == "unlabelled" else status
    if status == "unlabelled" and has_prediction:
        return "predicted"
    if status == "predicted" and not has_prediction:
        return "unlabelled"
    return status


def displayable(text: str) -> str:
    """A file name or path as valid Unicode (undecodable bytes become U+FFFD).

    On Linux a name may hold any bytes; Python gives them to us as lone surrogates, which
    cannot be written as UTF-8 JSON.
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
