"""The benchmark recipes: the seed's must not follow the app's defaults."""

from __future__ import annotations

import argparse

from fashionseg_gui.bench.bench_train import recipe_config, register
from fashionseg_gui.core import model as M
from fashionseg_gui.core.train import TrainConfig


def test_seed_recipe_is_the_seed_network_whatever_the_app_defaults() -> None:
    """Two-level 64/128 encoder-decoder at full resolution, concatenated skips, no BN."""
    cfg = recipe_config("seed", 10.0)
    assert (cfg.depth, cfg.base_width, cfg.max_width, cfg.batch_norm) == (2, 64, 128, False)
    assert (cfg.stem_stride, cfg.decoder) == (1, "unet")
    assert (cfg.batch_size, cfg.learning_rate, cfg.mixed_precision) == (1, 1e-4, "off")
    assert cfg.augment_mask is False and cfg.max_minutes == 10.0
    model = M.build_unet(
        3,
        (None, None, 3),
        cfg.depth,
        cfg.base_width,
        cfg.batch_norm,
        max_width=cfg.max_width,
        stem_stride=cfg.stem_stride,
        decoder=cfg.decoder,
    )
    names = {layer.name for layer in model.layers}
    assert {"enc2_conv2", "bottleneck_conv2", "dec1_concat"} <= names and "stem_conv" not in names
    assert cfg.multiple == 4 and cfg.input_width % cfg.multiple == 0


def test_default_recipe_is_the_app_default_with_the_command_line_overrides() -> None:
    parser = argparse.ArgumentParser()
    register(parser)
    args = parser.parse_args(
        ["--input-size", "256x192", "--loss", "ce", "--augment", "flip,scale", "--seed", "3"]
    )
    cfg = recipe_config("default", args.minutes, args)
    app = TrainConfig()
    assert (cfg.input_height, cfg.input_width, cfg.loss, cfg.seed) == (256, 192, "ce", 3)
    assert cfg.max_minutes == args.minutes
    assert (cfg.depth, cfg.base_width, cfg.stem_stride, cfg.decoder) == (
        app.depth,
        app.base_width,
        app.stem_stride,
        app.decoder,
    )
    assert cfg.augment_flip and cfg.augment_scale
    assert not cfg.augment_rotate and not cfg.augment_color


def test_budget_recipe_is_fitted_and_keeps_what_the_command_line_sets() -> None:
    parser = argparse.ArgumentParser()
    register(parser)
    args = parser.parse_args(
        ["--recipe", "budget", "--base-width", "20", "--budget-sweep", "3,10,30"]
    )
    cfg = recipe_config("budget", 3.0, args)
    assert cfg.recipe == "auto" and cfg.fixed == ["base_width"] and cfg.base_width == 20
    assert cfg.max_minutes == 3.0
    # the fixed recipes are trained as set, never probed
    assert recipe_config("default", 10.0).recipe == "manual"
    assert recipe_config("seed", 10.0).recipe == "manual"


def test_machine_line_names_the_cpu_and_its_vector_flags() -> None:
    from fashionseg_gui.bench.bench_train import CPU_FLAGS, machine_line
    from fashionseg_gui.core.train_config import cpu_flags

    line = machine_line()
    assert "threads; flags:" in line
    assert all(f in line for f in CPU_FLAGS if f in cpu_flags())


def test_bench_train_prints_machine_quality_and_both_inference_times(ccp, capsys) -> None:
    """A tiny run end to end: the figures the issue asks for are all printed."""
    from fashionseg_gui.cli import main

    args = ["bench", "train", "--data", str(ccp), "--minutes", "0.05", "--train-range", "1-8"]
    args += ["--eval-range", "801-803", "--input-size", "32x32", "--base-width", "4"]
    args += ["--depth", "2", "--batch-size", "2", "--precision", "off", "--augment", "none"]
    assert main(args) == 0
    out = capsys.readouterr().out
    for line in ("machine: ", "fp32 matmul rate", "training photos/s", "mIoU"):
        assert line in out, line
    in_app = float(out.split("inference per full-size photo")[1].split("):")[1].split("ms")[0])
    sm_line = out.split("exported SavedModel per full-size photo")[1].split("\n")[0]
    saved = float(sm_line.split("serve() ")[1].split(" ms")[0])
    labelled = float(sm_line.split("label() ")[1].split(" ms")[0])  # its two signatures
    assert in_app > 0 and saved > 0 and labelled > 0
    # both upsampling heads, side by side: the run's (guided) and bilinear
    assert (
        "guided upsampling (the run's)" in out and "with bilinear upsampling instead: mIoU" in out
    )
    other = out.split("inference per full-size photo")[1].split("(guided); ")[1].split(" ms")[0]
    assert float(other) > 0
    # the SavedModel is served from a child process: its memory is reported apart
    served = out.split("the process that loaded and served the SavedModel: ")[1].split(" MB")[0]
    assert float(served) > 0
    # each epoch says the memory it holds, so a peak can be placed in the run
    epoch = next(line for line in out.splitlines() if line.strip().startswith("epoch 1:"))
    assert " MB (peak " in epoch, epoch
