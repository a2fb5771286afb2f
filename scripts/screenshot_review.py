"""Screenshots of review mode and of the round history (docs/screenshots/review_mode.png
and rounds.png), from real runs on Clothing Co-Parsing photos in ``../shared/data/ccp``.

Three rounds: round 1 trains on 12 labelled photos; the model predicts 12 more; a simulated
annotator corrects 4 predictions to their ground truth and accepts them in the editor (the
window's own accept path); round 2 fine-tunes; 4 more; round 3. Then a predicted photo is
opened in review mode with the heat-map and the low-confidence outlines. Run from the
repository root under Xvfb or offscreen: ``python scripts/screenshot_review.py``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CCP = REPO.parent / "shared" / "data" / "ccp"
OUT = REPO / "docs" / "screenshots"
COLOURS = ["#000000", "#f4c28b", "#e6194b", "#4363d8", "#3cb44b"]
CONFIG = {
    "epochs": 6,
    "batch_size": 4,
    "input_height": 192,
    "input_width": 128,
    "depth": 3,
    "base_width": 8,
    "learning_rate": 3e-3,
}


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(REPO))
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from fashionseg_gui.core.predict import predict_project
    from fashionseg_gui.core.project import Project
    from fashionseg_gui.core.train import TrainConfig, train
    from fashionseg_gui.views.main_window import MainWindow
    from fashionseg_gui.views.round_history import RoundHistory

    mapping = json.loads((CCP / "ccp5.json").read_text())
    lut = np.full(256, 255, np.uint8)
    for value, cls in mapping["map"].items():
        lut[int(value)] = cls
    tmp = Path(tempfile.mkdtemp(prefix="fashionseg-shots-"))
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)  # not the user's
    project = Project.create(tmp / "ccp-loop", list(zip(mapping["classes"], COLOURS, strict=True)))
    truth: dict[str, np.ndarray] = {}
    for k, n in enumerate(range(1, 1 + 40 * 12, 12)):
        outcome = project.add_image_file(CCP / "images" / f"{n:04d}.jpg", source="CCP")
        mask = lut[np.asarray(Image.open(CCP / "masks" / f"{n:04d}.png"))]
        truth[outcome.image_id] = mask
        if k < 12:
            project.write_mask(outcome.image_id, mask, status="labelled")
    project.save()
    ids = list(project.images)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    cfg = TrainConfig.from_dict(CONFIG)
    run = train(cfg, project).run_dir
    root = project.root
    for r in range(2):
        todo = ids[12 + 4 * r : 12 + 4 * r + 8]
        predict_project(project, todo, run_dir=run)
        project.close()
        w = MainWindow(settings)
        w.resize(1366, 768)
        w.show()
        w.open_project(root)
        editor = w.editor
        editor.next_photo = lambda: None
        for image_id in todo[:4]:  # the simulated annotator: ground truth, then Enter
            editor.open_image(image_id)
            app.processEvents()
            doc = editor.doc
            for c in range(len(mapping["classes"])):
                doc.set_region(truth[image_id] == c, c, label="simulated annotator")
            editor.canvas.refresh()
            assert editor.accept_prediction(), editor.hint_label.text()
        editor.save_now()
        w.close()
        project = Project.open(root)
        run = train(TrainConfig.from_dict({**CONFIG, "resume_from": str(run)}), project).run_dir
    predict_project(project, ids[28:], run_dir=run)
    project.close()

    OUT.mkdir(parents=True, exist_ok=True)
    w = MainWindow(settings)
    w.resize(1366, 768)
    w.show()
    w.open_project(root)
    w.browser.select_image(ids[30])
    for _ in range(20):
        app.processEvents()
    editor = w.editor
    editor.review_bar.heatmap_box.setChecked(True)
    for _ in range(20):
        app.processEvents()
    w.grab().save(str(OUT / "review_mode.png"))
    history = RoundHistory()  # the Rounds tab of the Train panel, on its own and wider
    history.resize(1000, 620)
    history.refresh(w.project)
    history.show()
    for _ in range(20):
        app.processEvents()
    history.grab().save(str(OUT / "rounds.png"))
    for r in history.rounds:
        print(
            f"round {r.number}: labelled {r.labelled}, corrected {r.corrected}, "
            f"val mIoU {r.val_miou}, reviewed {r.effort_photos}, "
            f"pixels changed {r.effort_pixels}"
        )
    w.close()
    print(f"screenshots in {OUT}; project in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
