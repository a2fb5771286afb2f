"""A folder chooser that can also create the folder typed in its name field.

Qt's own folder dialog refuses a name that does not exist yet; :class:`FolderDialog` creates
it on OK (and says so when it cannot). Standalone: ``python -m fashionseg_gui.views.folder_dialog``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


class FolderDialog(QFileDialog):
    """Choose a folder; a new folder name typed in the name field is created on OK.

    (Qt's own folder dialog refuses a name that does not exist yet.)
    """

    def __init__(self, parent: QWidget | None, title: str, start: str) -> None:
        super().__init__(parent, title, start)
        self.setFileMode(QFileDialog.FileMode.Directory)
        self.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        self.setLabelText(QFileDialog.DialogLabel.FileName, "Folder:")
        self.setLabelText(QFileDialog.DialogLabel.Accept, "Choose")

    def accept(self) -> None:
        chosen = self.selectedFiles()
        if chosen:
            path = Path(chosen[0])
            if not path.exists():
                try:
                    path.mkdir(parents=True)
                except OSError as exc:
                    QMessageBox.warning(
                        self, self.windowTitle(), f"Cannot create {path}: {exc.strerror or exc}"
                    )
                    return
        super().accept()


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.folder_dialog
    import sys

    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.views.style import apply_style, exec_demo

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app)
    dialog = FolderDialog(None, "Choose or create a folder", str(Path.home()))
    dialog.accepted.connect(lambda: print(dialog.selectedFiles()[0]))
    dialog.show()
    sys.exit(exec_demo(app))
