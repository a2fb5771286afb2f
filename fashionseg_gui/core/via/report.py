"""What a VIA import did, and its text: counts first, then one line per kind of problem."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from fashionseg_gui.core.via.model import clean_text

_EXAMPLES = 3
_MAX_UNMATCHED = 20

# (text found in a reason, the kind it is reported under), first match wins
_KINDS = (
    ("needs at least", "too few points"),
    ("zero area", "no area (all points on one line)"),
    ("zero width or height", "rect of zero width or height"),
    ("radius is not positive", "radius not positive"),
    ("entirely outside", "entirely outside the image"),
    ("is not finite (", "coordinates not finite (NaN/Infinity)"),
    ("is out of range", "coordinates out of range"),
    ("' is null", "coordinates missing (null)"),
    ("' is text (", "coordinates written as text"),
    ("is not a finite number", "coordinates that are not numbers"),
    ("unknown shape", "unknown shape kind"),
    ("unknown VIA 3 shape id", "unknown shape kind"),
    ("differ in length", "point lists of different lengths"),
    ("missing '", "incomplete shape (a field is missing)"),
    ("label is too long", "label too long"),
)


def _counted(name: str, n: int) -> str:
    return f"{name} ({n} region{'s' if n != 1 else ''})" if n else name


def reason_kind(reason: str) -> str:
    """The kind a skip reason is counted under in the report (one line per kind)."""
    for text, kind in _KINDS:
        if text in reason:
            return kind
    return re.sub(r"\[\d+\]", "[…]", reason)


def _grouped(items: list[tuple[str, str]], verb: str) -> list[str]:
    """``"<verb> N region(s): <kind> (e.g. where; where)"`` per kind, most frequent first.

    A kind whose regions all share one reason shows that reason itself.
    """
    by_kind: dict[str, list[tuple[str, str]]] = {}
    for where, reason in items:
        by_kind.setdefault(reason_kind(reason), []).append((where, reason))
    out = []
    for kind, group in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
        n = len(group)
        reasons = {r for _, r in group}
        label = next(iter(reasons)) if len(reasons) == 1 else kind
        wheres = "; ".join(w for w, _ in group[:_EXAMPLES])
        at = f"e.g. {wheres}; …" if n > _EXAMPLES else wheres
        out.append(f"{verb} {n} region{'s' if n != 1 else ''}: {label} ({at})")
    return out


@dataclass
class ViaImportReport:
    """What :func:`~fashionseg_gui.core.via.importer.import_via` did.

    ``matched`` maps a VIA entry key to the project image id it was attached to; ``unmatched``
    lists ``"<entry>: <reason>"``; ``regions_skipped`` holds ``(where, reason)`` (those of
    :func:`~fashionseg_gui.core.via.reader.read_via` included); ``unknown_labels`` counts labels
    that were not project classes (those that became new classes included);
    ``classes_created`` the classes made for them; ``overlaps`` counts regions drawn over an
    earlier region; ``filled_polylines`` lists the closed polylines filled as polygons;
    ``unclassified_skipped`` counts regions skipped because they carry no class;
    ``region_notes`` holds ``(where, remark)`` for regions imported with a remark (empty after
    clipping, self-intersecting, no area) and ``notes`` every remark as one text (file-level
    remarks, classes taken by another spelling, the EXIF frame, and the region remarks).
    """

    matched: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    regions_imported: int = 0
    regions_skipped: list[tuple[str, str]] = field(default_factory=list)
    unknown_labels: Counter = field(default_factory=Counter)
    overlaps: int = 0
    attribute: str | None = None
    images_added: list[str] = field(default_factory=list)
    classes_created: list[str] = field(default_factory=list)
    filled_polylines: list[str] = field(default_factory=list)
    unclassified_skipped: int = 0
    region_notes: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note_region(self, where: str, remark: str) -> None:
        """Record a remark about one imported region."""
        self.region_notes.append((where, remark))
        self.notes.append(f"{where}: {remark}")

    @property
    def images_labelled(self) -> int:
        """Number of project images that received regions."""
        return len(set(self.matched.values()))

    def lines(self) -> list[str]:
        """The report as short lines for a dialog or the console (always valid UTF-8)."""
        out = [
            f"class attribute: {self.attribute!r}" if self.attribute else "class attribute: none",
            f"{len(self.matched)} entries matched to images, {len(self.unmatched)} not matched",
            f"{self.regions_imported} regions imported, {len(self.regions_skipped)} skipped",
        ]
        if self.images_added:
            n = len(self.images_added)
            out.append(f"{n} photo{'s' if n != 1 else ''} added to the project with the VIA file")
        created = {c.casefold() for c in self.classes_created}
        if self.classes_created:
            out.append(
                "new classes: "
                + ", ".join(
                    _counted(c, self.unknown_labels.get(c, 0)) for c in self.classes_created
                )
            )
        left = [(k, v) for k, v in self.unknown_labels.most_common() if k.casefold() not in created]
        if left:
            out.append(
                "labels not in the project (regions skipped): "
                + ", ".join(f"{k} ({v})" for k, v in left)
            )
        if self.filled_polylines:
            n = len(self.filled_polylines)
            shown = "; ".join(self.filled_polylines[: _EXAMPLES * 2])
            more = f"; and {n - _EXAMPLES * 2} more" if n > _EXAMPLES * 2 else ""
            out.append(
                f"{n} closed polyline{'s' if n != 1 else ''} filled as polygons: {shown}{more}"
            )
        if self.overlaps:
            out.append(f"{self.overlaps} regions overlap earlier regions (later regions win)")
        out += [f"not matched: {u}" for u in self.unmatched[:_MAX_UNMATCHED]]
        if len(self.unmatched) > _MAX_UNMATCHED:
            out.append(f"not matched: … and {len(self.unmatched) - _MAX_UNMATCHED} more entries")
        out += _grouped(self.regions_skipped, "skipped")
        if self.unclassified_skipped:
            out.append(
                f"{self.unclassified_skipped} of the skipped regions carry no class: they "
                "can be given a class instead (regions without a class)"
            )
        region_texts = {f"{w}: {r}" for w, r in self.region_notes}
        out += _grouped(self.region_notes, "imported")
        out += [n for n in self.notes if n not in region_texts]
        return [clean_text(line) for line in out]
