"""Standalone demo: ``python -m fashionseg_gui.views.canvas [PROJECT]``."""

import sys

from PySide6.QtWidgets import QApplication

from fashionseg_gui.core.annotation import AnnotationDocument
from fashionseg_gui.core.project import Project
from fashionseg_gui.views.canvas import CanvasView
from fashionseg_gui.views.style import apply_style, exec_demo, open_demo_project

app = QApplication.instance() or QApplication(sys.argv)
apply_style(app)
project = Project.open(sys.argv[1], read_only=True) if len(sys.argv) > 1 else open_demo_project()
image_id = next(iter(project.images))
canvas = CanvasView()
canvas.set_classes(project.classes)
canvas.set_document(AnnotationDocument(project, image_id), project.read_image(image_id))
canvas.resize(900, 700)
canvas.show()
code = exec_demo(app)
project.close()
raise SystemExit(code)
