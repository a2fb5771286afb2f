"""Augmentation preview: a grid of augmented photo/mask pairs, computed in a worker.

It shows what the training really sees: the photo and its mask transformed with the same
random parameters (flip, rotation, scale/crop), colour jitter on the photo only, padding
and unlabelled pixels in grey. ``core.data.augmentation_preview`` does the work on a
QThread (it imports TensorFlow); the dialog only paints the returned arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core.cancel import CancelToken
from fashionseg_gui.core.labels import hex_to_rgb
from fashionseg_gui.workers.base import JobWorker
from fashionseg_gui.workers.jobs import JobService
from fashionseg_gui.workers.training import preload_tensorflow_libraries

if TYPE_CHECKING:
    from fashionseg_gui.core.data import AugmentConfig
    from fashionseg_gui.core.project import Project

IGNORE_RGB = (150, 150, 150)
TILE_HEIGHT = 220
JOB_KIND = "augment preview"


def wait_all(msecs: int = 30000, jobs: JobService | None = None) -> None:
    """Cancel and wait for every preview job, closed dialogs' included (the app quits).

    The job service keeps a closed dialog's worker alive until its thread ends.
    """
    (jobs or JobService.shared()).stop(kinds=[JOB_KIND], msecs=msecs)


def augment_config(config: Mapping[str, Any]) -> AugmentConfig:
    """The ``core.data.AugmentConfig`` that the panel's augmentation switches stand for."""
    from fashionseg_gui.core.data import AugmentConfig

    default = AugmentConfig()
    return AugmentConfig(
        flip=bool(config.get("augment_flip", True)),
        rotate_deg=default.rotate_deg if config.get("augment_rotate", True) else 0.0,
        scale_range=default.scale_range if config.get("augment_scale", True) else (1.0, 1.0),
        color_jitter=default.color_jitter if config.get("augment_color", True) else 0.0,
    )


def run_preview(
    project: Project,
    config: Mapping[str, Any],
    n: int,
    seed: int,
    *,
    cancel_token: CancelToken,
    on_progress: Callable[..., None],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Augment ``n`` labelled photos of ``project`` as the training with ``config`` would.

    The photos are drawn at random (by ``seed``) among the labelled ones.

    Returns
    -------
    list of (image, mask)
        uint8 ``(H, W, 3)`` photos and uint8 ``(H, W)`` masks (255 = ignore/padding).
    """
    preload_tensorflow_libraries()
    from fashionseg_gui.core import data

    on_progress(0, 2, "reading labelled images")
    samples = data.samples_from_project(project)
    order = np.random.default_rng(seed).permutation(len(samples))
    picked = [samples[k] for k in order[:n]]
    cancel_token.raise_if_cancelled()
    on_progress(1, 2, "augmenting")
    target = (int(config.get("input_height", 384)), int(config.get("input_width", 256)))
    pairs = data.augmentation_preview(
        picked, n, seed, target_hw=target, augment=augment_config(config)
    )
    on_progress(2, 2, "done")
    return [
        (np.ascontiguousarray(img, np.uint8), np.ascontiguousarray(m, np.uint8)) for img, m in pairs
    ]


def colorize(mask: np.ndarray, colors: Sequence[str]) -> np.ndarray:
    """RGB picture of a label mask: class colours, ignore (255) in grey."""
    lut = np.zeros((256, 3), np.uint8)
    lut[:] = IGNORE_RGB
    for i, c in enumerate(colors[:255]):
        lut[i] = hex_to_rgb(c)
    return lut[np.asarray(mask, np.uint8)]


def to_pixmap(rgb: np.ndarray, height: int = TILE_HEIGHT) -> QPixmap:
    """A QPixmap of an RGB uint8 array, scaled to ``height`` pixels."""
    rgb = np.ascontiguousarray(rgb, np.uint8)
    h, w = rgb.shape[:2]
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaledToHeight(height, Qt.TransformationMode.FastTransformation)


class AugmentPreviewDialog(QDialog):
    """A non-modal dialog with ``n`` augmented pairs; "Shuffle" draws new random parameters.

    Parameters
    ----------
    project : Project
        Source of the labelled photos.
    config : Mapping
        The training settings (augmentation flags, input size).
    n : int
        Number of pairs shown.
    """

    def __init__(
        self,
        project: Project,
        config: Mapping[str, Any],
        parent: QWidget | None = None,
        n: int = 6,
        jobs: JobService | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Augmentation preview")
        self.project, self.config, self.n = project, dict(config), int(n)
        self.jobs = jobs if jobs is not None else JobService.shared()
        self.seed = 0
        self.worker: JobWorker | None = None
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []

        layout = QVBoxLayout(self)
        self.status = QLabel("Augmenting… (the first time loads TensorFlow)")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        layout.addWidget(self.grid_host, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.shuffle_button = QPushButton("Shuffle")
        self.shuffle_button.setToolTip("Draw new random augmentation parameters")
        buttons.addButton(self.shuffle_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.shuffle_button.clicked.connect(self.shuffle)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(1000, 600)
        self._compute()

    def shuffle(self) -> None:
        """Recompute with another seed."""
        self.seed += 1
        self._compute()

    def _compute(self) -> None:
        if self.worker is not None:
            return
        self.shuffle_button.setEnabled(False)
        worker = JobWorker(
            run_preview, self.project, self.config, self.n, self.seed, name="augment-preview"
        )
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_failed)
        self.worker = worker
        root = getattr(self.project, "root", None)
        self.jobs.submit(worker, JOB_KIND, scope=root, owner=self)

    @Slot(object)
    def _on_finished(self, pairs: Sequence[tuple[np.ndarray, np.ndarray]] | None) -> None:
        self._release()
        self.pairs = list(pairs or [])
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        colors = [c.color for c in self.project.classes]
        cols = 3
        for k, (image, mask) in enumerate(self.pairs):
            photo, label = QLabel(), QLabel()
            photo.setPixmap(to_pixmap(image))
            label.setPixmap(to_pixmap(colorize(mask, colors)))
            r, c = divmod(k, cols)
            self.grid.addWidget(photo, r, 2 * c)
            self.grid.addWidget(label, r, 2 * c + 1)
        self.status.setText(
            f"{len(self.pairs)} augmented photo/mask pairs (seed {self.seed}); "
            "grey = padding or unlabelled (ignored by the loss)."
        )

    @Slot()
    @Slot(str)
    def _on_failed(self, message: str = "cancelled") -> None:
        self._release()
        self.status.setText(f"Preview failed: {message}")

    def _release(self) -> None:
        self.worker = None  # the job service keeps it until its thread ends
        self.shuffle_button.setEnabled(True)

    def shutdown(self) -> None:
        """Cancel the dialog's jobs without blocking; the service keeps them until they end."""
        self.jobs.cancel_all(owner=self)
        self.worker = None

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)


if __name__ == "__main__":  # standalone demo: python -m fashionseg_gui.views.augment_preview
    import sys

    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.core.project import Project
    from fashionseg_gui.views.style import apply_style, exec_demo, open_demo_project

    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    project = (
        Project.open(sys.argv[1], read_only=True) if len(sys.argv) > 1 else open_demo_project()
    )
    dialog = AugmentPreviewDialog(project, {"input_height": 192, "input_width": 128}, n=3)
    dialog.show()
    code = exec_demo(app)
    dialog.shutdown()
    wait_all()
    project.close()
    raise SystemExit(code)
