"""Import dialogs: the report shown after an import, and the VIA attribute / label mapping."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
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

from fashionseg_gui.workers.importer import ImportResult, ViaJob

NEW_CLASS = "__new__"
SKIP = "__skip__"


def via_attributes(via_file: object) -> dict[str, Counter]:
    """Each region attribute of a ``core.via.ViaFile`` with its label counts."""
    from fashionseg_gui.core.via import region_labels

    names: dict[str, None] = dict.fromkeys(via_file.attribute_options)  # type: ignore[attr-defined]
    for entry in via_file.entries:  # type: ignore[attr-defined]
        for region in entry.regions:
            names.update(dict.fromkeys(region.attributes))
    return {name: region_labels(via_file, name) for name in names}  # type: ignore[arg-type]


def ask_via_job(path: Path, class_names: Sequence[str],
                parent: QWidget | None = None) -> ViaJob | None:
    """Read a VIA file and ask for its class attribute and label mapping.

    Returns
    -------
    ViaJob or None
        None when the user cancelled. A file that cannot be read raises ``ViaError``.
    """
    from fashionseg_gui.core.via import guess_class_attribute, read_via

    via_file = read_via(path)
    attributes = via_attributes(via_file)
    guess = guess_class_attribute(via_file, list(class_names))
    dlg = ViaImportDialog(path.name, attributes, guess, class_names, parent)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return None
    return ViaJob(Path(path), attribute=dlg.attribute(), label_map=dlg.label_map())


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
    lines = [f"Imported: {len(result.imported)}",
             f"Duplicates (already in the project): {len(result.duplicates)}",
             f"Refused: {len(result.refused)}"]
    if result.cancelled:
        lines.append("Cancelled before the end: the files listed here were handled.")
    if result.refused:
        lines += ["", "Refused files:"]
        lines += [f"  ✗ {_name(o.path)}: {_strip_name(o.error or 'refused', o.path)}"
                  for o in result.refused]
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
    return message[len(prefix):] if message.startswith(prefix) else message


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
    """

    def __init__(self, file_name: str, attributes: Mapping[str, Counter],
                 guess: str | None, class_names: Sequence[str],
                 parent: QWidget | None = None) -> None:
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
        form = QFormLayout()
        form.addRow("Class attribute:", self.attr_combo)
        note = QLabel("Labels that match a class name are mapped to it; choose what the others "
                      "become.", self)
        note.setWordWrap(True)
        note.setObjectName("muted")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
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
    via = ViaImportDialog("demo_via.json",
                          {"style": Counter({"bohemian": 7, "preppy": 5, "grunge": 2}),
                           "type": Counter({"garment": 14})},
                          "style", ["background", "bohemian", "preppy", "streetwear"])
    report = ImportReportDialog("Import report", ["3 photos imported", "1 duplicate",
                                                  "refused: broken.jpg (not an image)"])
    via.show()
    report.show()
    raise SystemExit(exec_demo(app))
