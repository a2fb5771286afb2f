"""Training plots: axes show plain numbers (no SI prefix scaling such as "(x0.001)")."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def test_loss_axis_shows_plain_numbers_without_si_scaling(qtbot):
    from fashionseg_gui.views.plots import TrainingCurves

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(400, 600)
    curves.show()
    qtbot.waitExposed(curves)
    curves.add_batch_losses(
        [(b / 10, 0.002 + 0.0001 * b) for b in range(1, 11)], batches_per_epoch=10
    )
    curves.add_epoch({"epoch": 1, "loss": 0.0021, "val_loss": 0.0025})
    curves.loss_plot.getViewBox().autoRange()
    qtbot.wait(50)
    axis = curves.loss_plot.getAxis("left")
    axis.updateAutoSIPrefix()
    label = axis.labelString()
    assert "x0.001" not in label and "×" not in label and "(x" not in label, label
    assert "loss" in label
    low, high = axis.range
    assert high < 0.01  # the range really is small: SI scaling would have kicked in
    ticks = axis.tickStrings([0.002, 0.0025], axis.autoSIPrefixScale, 0.0005)
    assert ticks == ["0.0020", "0.0025"]  # the values themselves, not 2.0 and 2.5
