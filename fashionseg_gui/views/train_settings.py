"""The Train panel's settings form (time budget, recipe, network, loss, augmentation).

:class:`TrainSettingsForm` is mixed into :class:`~fashionseg_gui.views.train_panel.TrainPanel`:
it builds the "Settings" group box and reads and writes it as a ``TrainConfig`` dict
(:meth:`~TrainSettingsForm.config_dict`, :meth:`~TrainSettingsForm.set_config`). The panel
saves these settings in the project (``settings["train"]``); :func:`panel_defaults` are the
settings of a project that saved none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fashionseg_gui.core.train_config import GUI_TIME_BUDGET_MIN, defaults

#: The settings the panel edits; their defaults are ``core.train_config``'s.
PANEL_KEYS = (
    "epochs",
    "batch_size",
    "learning_rate",
    "input_height",
    "input_width",
    "depth",
    "base_width",
    "batch_norm",
    "dropout",
    "loss",
    "augment_flip",
    "augment_rotate",
    "augment_scale",
    "augment_color",
    "mixed_precision",
    "early_stopping_patience",
    "max_minutes",
    "recipe",
    "upsampling",
)
#: The recipe settings a fitted ("auto") recipe chooses itself.
FITTED_KEYS = ("input_height", "input_width", "depth", "base_width", "mixed_precision")
AUGMENTATIONS = (
    ("augment_flip", "flip"),
    ("augment_rotate", "rotate ±10°"),
    ("augment_scale", "scale/crop"),
    ("augment_color", "colour jitter"),
)


def panel_defaults() -> dict[str, Any]:
    """The panel's settings for a project that saved none: the core defaults, trained for
    a time budget with the recipe fitted to the machine (the default way to train)."""
    values = {k: v for k, v in defaults().items() if k in PANEL_KEYS}
    values.update(max_minutes=GUI_TIME_BUDGET_MIN, recipe="auto")
    return values


class TrainSettingsForm:
    """The settings form of the Train panel (a mixin: the panel calls
    :meth:`_build_settings_box` and provides ``show_augmentation_preview``)."""

    if TYPE_CHECKING:

        def show_augmentation_preview(self) -> None: ...

    def _build_settings_box(self) -> QGroupBox:
        """Make the "Settings" group box (``self.settings_box``) and its fields."""
        self.settings_box = QGroupBox("Settings")
        box = QVBoxLayout(self.settings_box)
        budget_form = QFormLayout()
        budget_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.time_budget = QDoubleSpinBox(
            decimals=1, minimum=0.0, maximum=100000.0, singleStep=5.0, suffix=" min"
        )
        self.time_budget.setSpecialValueText("no limit")
        self.time_budget.setToolTip(
            "Wall-clock budget of a training (0 = no limit). With the "
            "recipe fitted to it, a probe of a few seconds picks the "
            "input size, width, depth and precision for this machine"
        )
        self.recipe = QComboBox()
        self.recipe.addItem("Fit to time budget", "auto")
        self.recipe.addItem("Manual (settings below)", "manual")
        self.recipe.setToolTip(
            "Fit: this machine's speed decides the network for the budget; "
            "Manual: train exactly the settings below"
        )
        budget_form.addRow("Time budget", self.time_budget)
        budget_form.addRow("Recipe", self.recipe)
        box.addLayout(budget_form)
        self.recipe_text = QLabel("")
        self.recipe_text.setObjectName("muted")
        self.recipe_text.setWordWrap(True)
        box.addWidget(self.recipe_text)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        form_l, form_r = QFormLayout(), QFormLayout()
        for form in (form_l, form_r):
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        grid.addLayout(form_l, 0, 0)
        grid.addLayout(form_r, 1, 0)

        self.epochs = self._spin(1, 10000, "Passes over the training images")
        self.batch_size = self._spin(1, 512, "Photos per training step")
        self.learning_rate = QDoubleSpinBox(decimals=5, minimum=1e-5, maximum=1.0, singleStep=1e-4)
        self.learning_rate.setToolTip("Peak learning rate of the optimiser")
        size = QWidget()
        size_row = QHBoxLayout(size)
        size_row.setContentsMargins(0, 0, 0, 0)
        self.input_height = self._spin(32, 2048, "Input height (multiple of 2^depth)", step=32)
        self.input_width = self._spin(32, 2048, "Input width (multiple of 2^depth)", step=32)
        size_row.addWidget(self.input_height)
        times = QLabel("×")
        times.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        size_row.addWidget(times)
        size_row.addWidget(self.input_width)
        form_l.addRow("Epochs", self.epochs)
        form_l.addRow("Batch size", self.batch_size)
        form_l.addRow("Learning rate", self.learning_rate)
        form_l.addRow("Input H × W", size)

        self.depth = self._spin(1, 6, "Number of down-sampling levels of the U-Net")
        self.base_width = self._spin(4, 256, "Filters of the first U-Net level", step=4)
        self.loss = QComboBox()
        self.loss.addItem("Cross-entropy + Dice", "ce_dice")
        self.loss.addItem("Class-weighted cross-entropy", "weighted_ce")
        self.loss.setToolTip("Both counter the dominance of background pixels")
        self.mixed_precision = QComboBox()
        self.mixed_precision.addItem("Auto (bfloat16 where fast)", "auto")
        self.mixed_precision.addItem("Off (float32)", "off")
        self.mixed_precision.addItem("bfloat16", "bf16")
        self.mixed_precision.setToolTip(
            "Auto: bfloat16 on CPUs with AMX or AVX512-BF16 (recent Xeons, AMD Zen 4 and "
            "later), else float32 (bfloat16 is slower there)"
        )
        form_r.addRow("Depth", self.depth)
        form_r.addRow("Base width", self.base_width)
        form_r.addRow("Loss", self.loss)
        self.upsampling = QComboBox()
        self.upsampling.addItem("Follow the photo's edges", "guided")
        self.upsampling.addItem("Smooth (bilinear)", "bilinear")
        self.upsampling.setToolTip(
            "How predicted masks reach the photo's size. Follow the photo's edges: a guided "
            "filter moves class boundaries onto the photo's own edges (better masks, about "
            "3 ms more a photo). Smooth: the network's probabilities resized bilinearly. "
            "Used by Predict and Export now, and recorded with the next training"
        )
        form_r.addRow("Mixed precision", self.mixed_precision)
        form_r.addRow("Prediction edges", self.upsampling)
        box.addLayout(grid)

        aug = QGridLayout()
        aug.addWidget(QLabel("Augment:"), 0, 0)
        self.augment: dict[str, QCheckBox] = {}
        for i, (key, label) in enumerate(AUGMENTATIONS):
            check = QCheckBox(label)
            self.augment[key] = check
            aug.addWidget(check, 1 + i // 2, i % 2)
        aug.setColumnStretch(2, 1)
        self.preview_button = QPushButton("Augmentation preview…")
        self.preview_button.setToolTip("Show a few augmented photo/mask pairs")
        self.preview_button.clicked.connect(self.show_augmentation_preview)
        aug.addWidget(self.preview_button, 3, 0, 1, 2)
        box.addLayout(aug)
        self.time_budget.valueChanged.connect(self._update_recipe_fields)
        self.recipe.currentIndexChanged.connect(self._update_recipe_fields)
        return self.settings_box

    def _spin(self, lo: int, hi: int, tip: str, step: int = 1) -> QSpinBox:
        box = QSpinBox(minimum=lo, maximum=hi, singleStep=step)
        box.setToolTip(tip)
        return box

    def config_dict(self) -> dict[str, Any]:
        """The settings as a ``TrainConfig`` dict (plain types)."""
        budget = float(self.time_budget.value())
        cfg: dict[str, Any] = {
            "epochs": self.epochs.value(),
            "batch_size": self.batch_size.value(),
            "learning_rate": self.learning_rate.value(),
            "input_height": self.input_height.value(),
            "input_width": self.input_width.value(),
            "depth": self.depth.value(),
            "base_width": self.base_width.value(),
            "loss": self.loss.currentData(),
            "mixed_precision": self.mixed_precision.currentData(),
            "max_minutes": budget if budget > 0 else None,
            "recipe": self.recipe.currentData(),
            "upsampling": self.upsampling.currentData(),
        }
        for key, check in self.augment.items():
            cfg[key] = check.isChecked()
        base = defaults()
        for key in ("batch_norm", "dropout", "early_stopping_patience"):
            cfg[key] = self._extra.get(key, base[key])
        return cfg

    def set_config(self, cfg: dict[str, Any]) -> None:
        """Show settings (unknown keys are kept and passed on unchanged).

        Settings that give an input size, depth, width or precision but no ``recipe``
        (a project saved before the time budget existed, or a caller's explicit recipe)
        are a manual recipe: an explicit setting always wins.
        """
        merged = panel_defaults()
        merged.update(cfg)
        if "recipe" not in cfg and any(k in cfg for k in FITTED_KEYS):
            merged["recipe"] = "manual"
        for name in ("epochs", "batch_size", "input_height", "input_width", "depth", "base_width"):
            getattr(self, name).setValue(int(merged[name]))
        self.learning_rate.setValue(float(merged["learning_rate"]))
        budget = merged.get("max_minutes")
        self.time_budget.setValue(float(budget) if budget else 0.0)
        for combo, key in (
            (self.loss, "loss"),
            (self.mixed_precision, "mixed_precision"),
            (self.recipe, "recipe"),
            (self.upsampling, "upsampling"),
        ):
            i = combo.findData(merged[key])
            combo.setCurrentIndex(max(i, 0))
        for key, check in self.augment.items():
            check.setChecked(bool(merged[key]))
        self._extra = {
            k: v
            for k, v in merged.items()
            if k in ("batch_norm", "dropout", "early_stopping_patience")
        }
        self._update_recipe_fields()

    def fitted(self) -> bool:
        """Whether the next training fits its recipe to the time budget."""
        return self.time_budget.value() > 0 and self.recipe.currentData() == "auto"

    def _update_recipe_fields(self) -> None:
        fitted = self.fitted()
        for name in FITTED_KEYS:
            getattr(self, name).setEnabled(not fitted)
        if fitted:
            self.recipe_text.setText(
                "Input size, width, depth and precision: chosen for "
                "this machine and the budget when training starts."
            )
        elif self.time_budget.value() > 0:
            self.recipe_text.setText(
                "Manual recipe: trains the settings below until the budget or the last epoch."
            )
        else:
            self.recipe_text.setText(
                "No time budget: trains the settings below for the epochs given."
            )
