"""Import dialogs: the report shown after an import, and the VIA import choices.

A VIA file is read once, on a worker thread (:class:`ViaImportFlow` runs
``workers.importer.parse_via_job``); the dialog (:class:`ViaImportDialog`) then asks for the
class attribute, what each label becomes, what regions without a class become, what the pixels
outside every region are, and whether closed polylines are filled. The parsed file travels in
the :class:`~fashionseg_gui.workers.importer.ViaJob` to the import job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.importer import ImportResult, ParsedVia, ViaJob, parse_via_job
from fashionseg_gui.workers.jobs import JobService

NEW_CLASS = "__new__"
SKIP = "__skip__"
OUTSIDE_UNLABELLED = "unlabelled"
OUTSIDE_BACKGROUND = "background"


def via_attributes(via_file: object) -> dict[str, Counter]:
    """Each region attribute of a ``core.via.ViaFile`` with its label counts."""
    from fashionseg_gui.core.via import attribute_labels

    return attribute_labels(via_file)  # type: ignore[arg-type]


def _region_counts(via_file: object) -> tuple[int, int]:
    """(closed polylines, regions) of a parsed VIA file, for the dialog's captions."""
    from fashionseg_gui.core.via import polyline_closed

    closed = total = 0
    for entry in via_file.entries:  # type: ignore[attr-defined]
        for region in entry.regions:
            total += 1
            shape = region.shape
            closed += shape.get("kind") == "polyline" and polyline_closed(shape["points"])
    return closed, total


def ask_via_job(
    parsed: ParsedVia, class_names: Sequence[str], parent: QWidget | None = None
) -> ViaJob | None:
    """Ask for the choices of one parsed VIA file (see :func:`parse_via_job`).

    Returns
    -------
    ViaJob or None
        None when the user cancelled.
    """
    closed, _ = _region_counts(parsed.via_file)
    dlg = ViaImportDialog(
        parsed.path.name,
        parsed.attributes,
        parsed.guess,
        class_names,
        parent,
        closed_polylines=closed,
    )
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return None
    return ViaJob(
        Path(parsed.path),
        attribute=dlg.attribute(),
        label_map=dlg.label_map(),
        unlabelled_class=dlg.unclassified_class(),
        background_rest=dlg.outside() == OUTSIDE_BACKGROUND,
        fill_closed_polylines=dlg.fill_closed_polylines(),
        via_file=parsed.via_file,
    )


class ViaImportFlow(QObject):
    """Read VIA files on a worker thread, then ask the dialog for each (on the GUI thread).

    Emits ``ready(jobs, errors)``: the :class:`ViaJob` of every file the user accepted and a
    line for every file that could not be read.
    """

    ready = Signal(list, list)

    def __init__(
        self, paths: Sequence[Path], class_names: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._paths = [Path(p) for p in paths]
        self._names = list(class_names)
        self._dialog_parent = parent
        self.worker: JobWorker | None = None
        self._done = False

    def start(
        self, service: JobService, scope: Hashable | None = None, owner: object | None = None
    ) -> JobWorker:
        """Start reading through ``service`` (the window's: the read shows in its progress
        area and can be cancelled there; then no dialog opens and ``ready`` carries nothing).
        The dialogs open when the files are parsed."""
        self.worker = JobWorker(parse_via_job, self._paths, self._names, name="read VIA")
        self.worker.finished.connect(self._on_parsed)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        n = len(self._paths)
        label = f"Reading {n} VIA file{'s' if n != 1 else ''}"
        service.submit(self.worker, "read file", scope=scope, label=label, owner=owner)
        return self.worker

    @Slot()
    def _on_cancelled(self) -> None:
        if self._done:
            return
        self._done = True
        self.ready.emit([], [])
        self.deleteLater()

    @Slot(object)
    def _on_parsed(self, parsed: list[ParsedVia]) -> None:
        if self.worker is not None and self.worker.is_cancel_requested:
            # cancelled after the parse ended: no `cancelled` signal follows, so end here
            self._on_cancelled()
            return
        if self._done:
            return
        self._done = True
        jobs: list[ViaJob] = []
        errors: list[str] = []
        for item in parsed:
            if item.error is not None:
                errors.append(f"{item.path.name}: {item.error}")
                continue
            job = ask_via_job(item, self._names, self._dialog_parent)
            if job is not None:
                jobs.append(job)
        self.ready.emit(jobs, errors)
        self.deleteLater()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._done:
            return
        self._done = True
        self.ready.emit([], [f"reading VIA files failed: {message}"])
        self.deleteLater()


def report_lines(result: ImportResult) -> list[str]:
    """The text of an import report: counts first, then one line per problem file.

    Parameters
    ----------
    result : ImportResult
        What the import job returned.

    Returns
    -------
    list[str]
        Lines for :class:`ImportReportDialog`.
    """
    imported = len(result.imported) + result.via_images_added
    lines = [
        f"Imported: {imported}"
        + (f" ({result.via_images_added} with VIA annotations)" if result.via_images_added else ""),
        f"Duplicates (already in the project): {len(result.duplicates)}",
        f"Refused: {len(result.refused)}",
    ]
    if result.cancelled:
        lines.append("Cancelled before the end: the files listed here were handled.")
    if result.refused:
        lines += ["", "Refused files:"]
        lines += [
            f"  ✗ {_name(o.path)}: {_strip_name(o.error or 'refused', o.path)}"
            for o in result.refused
        ]
    if result.duplicates:
        lines += ["", "Duplicates:"]
        lines += [f"  = {_name(o.path)}" for o in result.duplicates]
    warned = [o for o in result.imported if o.warnings]
    if warned:
        lines += ["", "Imported with warnings:"]
        lines += [f"  ! {_name(o.path)}: {'; '.join(o.warnings)}" for o in warned]
    if result.via_lines:
        lines += ["", "VIA annotations:"] + result.via_lines
    if result.errors:
        lines += ["", "Errors:"] + [f"  ✗ {e}" for e in result.errors]
    return lines


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _strip_name(message: str, path: str) -> str:
    prefix = _name(path) + ": "
    return message[len(prefix) :] if message.startswith(prefix) else message


class ImportReportDialog(QDialog):
    """A read-only, copyable report (imported, duplicates, refused and why)."""

    def __init__(self, title: str, lines: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.lines = list(lines)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setPlainText("\n".join(self.lines))
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        self.text.setFont(font)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText("\n".join(self.lines)))
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        self.resize(640, 420)


class ViaImportDialog(QDialog):
    """Which region attribute holds the class, and where each label goes.

    Parameters
    ----------
    file_name : str
        Shown in the title.
    attributes : Mapping[str, Counter]
        Each region attribute with its labels and how many regions carry each.
    guess : str or None
        The attribute pre-selected (``guess_class_attribute``).
    class_names : sequence of str
        The project's classes (index = class id).
    closed_polylines : int
        How many closed polylines the file holds (shown beside the fill option).
    """

    def __init__(
        self,
        file_name: str,
        attributes: Mapping[str, Counter],
        guess: str | None,
        class_names: Sequence[str],
        parent: QWidget | None = None,
        *,
        closed_polylines: int = 0,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Import VIA annotations — {file_name}")
        self._attributes = {k: Counter(v) for k, v in attributes.items()}
        self._class_names = list(class_names)
        self.attr_combo = QComboBox(self)
        for name, labels in self._attributes.items():
            preview = ", ".join(f"{lab} ({n})" for lab, n in labels.most_common(4))
            more = "…" if len(labels) > 4 else ""
            self.attr_combo.addItem(f"{name} — {preview}{more}", name)
        if guess is not None and guess in self._attributes:
            self.attr_combo.setCurrentIndex(list(self._attributes).index(guess))
        self.attr_combo.setToolTip("The region attribute whose value is the class of a region")
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Label in the file", "Regions", "Becomes"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.unclassified_combo = QComboBox(self)
        self.unclassified_combo.addItem("Skip them", SKIP)
        for class_id, name in enumerate(self._class_names):
            self.unclassified_combo.addItem(f"Class: {name}", class_id)
        self.unclassified_combo.setToolTip(
            "Regions that carry no class in the chosen attribute (or no attributes at all)"
        )
        self.outside_combo = QComboBox(self)
        self.outside_combo.addItem("Not labelled (255)", OUTSIDE_UNLABELLED)
        self.outside_combo.addItem("Background (class 0)", OUTSIDE_BACKGROUND)
        self.outside_combo.setToolTip(
            "What the pixels outside every region become in a photo that had no mask"
        )
        caption = "Fill closed polylines as polygons"
        if closed_polylines:
            caption += f" ({closed_polylines} in this file)"
        self.fill_check = QCheckBox(caption, self)
        self.fill_check.setChecked(True)
        self.fill_check.setToolTip(
            "A polyline whose ends meet outlines an area; open "
            "polylines are kept as lines and not drawn"
        )
        form = QFormLayout()
        form.addRow("Class attribute:", self.attr_combo)
        form.addRow("Regions without a class:", self.unclassified_combo)
        form.addRow("Pixels outside every region:", self.outside_combo)
        form.addRow("", self.fill_check)
        note = QLabel(
            "Labels that match a class name are mapped to it; choose what the others become.", self
        )
        note.setWordWrap(True)
        note.setObjectName("muted")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(self.table, 1)
        lay.addWidget(buttons)
        self.attr_combo.currentIndexChanged.connect(self._fill_table)
        self._fill_table()
        self.resize(620, 460)

    def attribute(self) -> str | None:
        """The chosen class attribute (None when the file has no region attributes)."""
        return self.attr_combo.currentData()

    def unclassified_class(self) -> int | None:
        """Class id for regions without a class, or None to skip them."""
        value = self.unclassified_combo.currentData()
        return None if value == SKIP else int(value)

    def set_unclassified(self, value: str | int) -> None:
        """:data:`SKIP` or a class id."""
        self.unclassified_combo.setCurrentIndex(self.unclassified_combo.findData(value))

    def outside(self) -> str:
        """:data:`OUTSIDE_UNLABELLED` or :data:`OUTSIDE_BACKGROUND`."""
        return str(self.outside_combo.currentData())

    def set_outside(self, value: str) -> None:
        self.outside_combo.setCurrentIndex(self.outside_combo.findData(value))

    def fill_closed_polylines(self) -> bool:
        return self.fill_check.isChecked()

    def _fill_table(self, *_args: object) -> None:
        labels = self._attributes.get(self.attribute() or "", Counter())
        self.table.setRowCount(0)
        lower = {n.casefold(): n for n in self._class_names}
        for row, (label, count) in enumerate(sorted(labels.items(), key=lambda kv: -kv[1])):
            self.table.insertRow(row)
            item = QTableWidgetItem(str(label))
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 0, item)
            n = QTableWidgetItem(str(count))
            n.setFlags(n.flags() & ~Qt.ItemFlag.ItemIsEditable)
            n.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 1, n)
            combo = QComboBox(self.table)
            combo.addItem("New class", NEW_CLASS)
            for class_id, name in enumerate(self._class_names):
                combo.addItem(f"Class: {name}", class_id)
            combo.addItem("Skip these regions", SKIP)
            match = lower.get(str(label).strip().casefold())
            if match is not None:
                combo.setCurrentIndex(self._class_names.index(match) + 1)
            self.table.setCellWidget(row, 2, combo)

    def choice(self, label: str) -> str | int:
        """What ``label`` becomes: :data:`NEW_CLASS`, :data:`SKIP` or a class id."""
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == label:
                return self.table.cellWidget(row, 2).currentData()
        raise KeyError(label)

    def set_choice(self, label: str, value: str | int) -> None:
        """Set what ``label`` becomes (used by tests and scripted imports)."""
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == label:
                combo = self.table.cellWidget(row, 2)
                combo.setCurrentIndex(combo.findData(value))
                return
        raise KeyError(label)

    def label_map(self) -> dict[str, int | None]:
        """Label -> class id, or None to skip; labels set to “new class” are left out.

        This is the ``label_map`` of ``core.via.import_via``, which creates a class named
        after each label left out (``create_unknown_classes=True``).
        """
        out: dict[str, int | None] = {}
        for row in range(self.table.rowCount()):
            label = self.table.item(row, 0).text()
            value = self.table.cellWidget(row, 2).currentData()
            if value == SKIP:
                out[label] = None
            elif value != NEW_CLASS:
                out[label] = int(value)
        return out


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.import_dialogs
    import sys

    from fashionseg_gui.views.style import apply_style, exec_demo

    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    via = ViaImportDialog(
        "demo_via.json",
        {
            "style": Counter({"bohemian": 7, "preppy": 5, "grunge": 2}),
            "type": Counter({"garment": 14}),
        },
        "style",
        ["background", "bohemian", "preppy", "streetwear"],
    )
    report = ImportReportDialog(
        "Import report", ["3 photos imported", "1 duplicate", "refused: broken.jpg (not an image)"]
    )
    via.show()
    report.show()
    raise SystemExit(exec_demo(app))
