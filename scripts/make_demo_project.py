"""Rebuild ``projects/demo`` from the Clothing Co-Parsing photos in ``../shared/data/ccp``.

24 photos (every 33rd of 0001-0800, so none of the 0801-0880 benchmark photos), the first 12
with their masks mapped onto the 5 ``ccp5`` classes, the other 12 unlabelled. Run from the
repository root: ``python scripts/make_demo_project.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CCP = REPO.parent / "shared" / "data" / "ccp"
DEMO = REPO / "projects" / "demo"


def main() -> int:
    sys.path.insert(0, str(REPO))
    from fashionseg_gui.core.project import DEMO_COLOURS, Project

    mapping = json.loads((CCP / "ccp5.json").read_text())
    lut = np.full(256, 255, np.uint8)
    for value, cls in mapping["map"].items():
        lut[int(value)] = cls
    if DEMO.exists():
        shutil.rmtree(DEMO)
    project = Project.create(DEMO, list(zip(mapping["classes"], DEMO_COLOURS, strict=True)))
    numbers = [1 + 33 * k for k in range(24)]
    for k, n in enumerate(numbers):
        photo = CCP / "images" / f"{n:04d}.jpg"
        outcome = project.add_image_file(photo, source="Clothing Co-Parsing (CCP), Apache-2.0")
        assert outcome.ok, outcome.error
        if k < 12:
            mask = lut[np.asarray(Image.open(CCP / "masks" / f"{n:04d}.png"))]
            project.write_mask(outcome.image_id, mask, status="labelled")
    project.settings["description"] = (
        "Demo: 24 street-fashion photos from Clothing Co-Parsing (Apache-2.0, see LICENSE-CCP "
        "and ATTRIBUTION.md); 12 labelled with 5 classes, 12 left for you to label or predict."
    )
    project.save()
    project.close()
    for f in DEMO.glob("project.json.bak*"):
        f.unlink()
    shutil.copy(CCP / "LICENSE", DEMO / "LICENSE-CCP")
    (DEMO / "ATTRIBUTION.md").write_text(
        "# Attribution\n\nThe photos and label masks of this demo project come from the Clothing "
        'Co-Parsing dataset\n(Wei Yang, Ping Luo, Liang Lin, "Clothing Co-Parsing by Joint Image '
        'Segmentation and\nLabeling", CVPR 2014; repository bearpaw/clothing-co-parsing), licensed '
        "under the Apache\nLicense 2.0 (`LICENSE-CCP`). Photos "
        + ", ".join(f"{n:04d}" for n in numbers)
        + ".\nThe masks were mapped from the 59 CCP labels onto 5 classes (background, skin_hair, "
        "upper,\nlower, footwear_accessories); the photos are unchanged.\n"
    )
    print(f"demo project written to {DEMO}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
