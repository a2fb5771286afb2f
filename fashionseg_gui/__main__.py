"""``python -m fashionseg_gui``: start the GUI (same as ``fashionseg-gui``)."""

from __future__ import annotations

import sys

from fashionseg_gui.app import main

sys.exit(main())
