"""The whole loop through the window: train, predict, correct a prediction, retrain."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QSettings, Qt  # noqa: E402
from tiny_project import TINY, make_tiny_project  # noqa: E402

from fashionseg_gui.core.project import Project  # noqa: E402
from fashionseg_gui.views.main_window import MainWindow  # noqa: E402


def test_train_predict_correct_retrain(qtbot, tmp_path: Path) -> None:
    project = make_tiny_project(tmp_path, n=7, labelled=5)
    root = project.root
    project.close()
    w = MainWindow(QSettings())  # the real editor and Train panel
    qtbot.addWidget(w)
    w.show()
    assert w.open_project(root)
    panel = w.ensure_train_panel()
    panel.set_config(TINY)

    # 1. Train from the panel.
    with qtbot.waitSignal(panel.sigRunFinished, timeout=180_000) as run:
        assert panel.start_training()
    first_run = Path(run.args[0])
    assert (first_run / "checkpoints" / "best.keras").is_file()

    # 2. Predict the unlabelled photos; the browser shows them as predicted.
    unlabelled = [i for i, r in w.project.images.items() if r.status == "unlabelled"]
    assert len(unlabelled) == 2
    with qtbot.waitSignal(panel.sigPredictionsReady, timeout=180_000) as ready:
        assert panel.predict_unlabelled()
    assert sorted(ready.args[0]) == sorted(unlabelled)
    assert all(w.project.images[i].status == "predicted" for i in unlabelled)

    # 3. Open a predicted photo: the editor starts from the prediction; paint a correction.
    target = unlabelled[0]
    assert w.browser.select_image(target)
    qtbot.waitUntil(lambda: w.editor.current_image_id() == target, timeout=10_000)
    predicted, _conf = w.project.read_prediction(target)
    assert w.editor.doc.from_prediction
    assert np.array_equal(w.editor.doc.mask, predicted)
    w.editor.set_tool("brush")
    w.editor.set_current_class(2)
    canvas = w.editor.canvas
    qtbot.mouseClick(
        canvas.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        canvas.mapFromScene(QPointF(8.5, 8.5)),
    )
    assert w.editor.doc.mask[8, 8] == 2
    assert w.editor.save_now()
    assert w.project.images[target].status == "corrected"
    on_disk = Project.open(root, read_only=True)
    assert on_disk.read_mask(target)[8, 8] == 2
    assert on_disk.images[target].status == "corrected"

    # 4. Retrain (fine-tune from the first run): the corrected photo is in the dataset.
    with qtbot.waitSignal(panel.sigRunFinished, timeout=180_000) as rerun:
        assert panel.start_training(resume_from=str(first_run))
    second_run = Path(rerun.args[0])
    assert second_run != first_run
    dataset = json.loads((second_run / "dataset.json").read_text())
    assert target in dataset["train_ids"] + dataset["val_ids"]
    assert unlabelled[1] not in dataset["train_ids"] + dataset["val_ids"]  # still only predicted
    config = json.loads((second_run / "config.json").read_text())
    assert config.get("resume_from") == str(first_run)
    w.close()
