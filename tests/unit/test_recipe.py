"""core.recipe: the time budget fits the recipe to the machine; explicit settings win."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synthetic import CLASSES, synthetic_samples

from fashionseg_gui.core import recipe as RC
from fashionseg_gui.core.train_config import TrainConfig, TrainError


def test_expected_quality_grows_with_photos_seen_and_starts_at_the_baseline() -> None:
    for rung in RC.EXPECTED:
        values = [RC.expected_miou(rung, k * 500.0) for k in range(0, 200)]
        assert values == sorted(values), rung
        assert RC.expected_miou(rung, 0) == pytest.approx(RC.BASELINE_MIOU, abs=0.01)
    # measured points (see core/recipe.py)
    assert RC.expected_miou("default", 2280) == pytest.approx(0.525, abs=0.01)
    assert RC.expected_miou("default", 18240) == pytest.approx(0.708, abs=0.01)
    assert RC.expected_miou("default", 16 * 760) == pytest.approx(0.687, abs=0.01)
    assert RC.expected_miou("tiny", 21 * 760) == pytest.approx(0.659, abs=0.01)
    assert RC.expected_miou("tiny", 41 * 760) == pytest.approx(0.671, abs=0.01)
    # the two runs near 44 k photos (0.695 and 0.677) meet at their mean
    assert RC.expected_miou("tiny", 57 * 760) == pytest.approx(0.686, abs=0.01)
    assert RC.expected_miou("tiny", 60 * 760) == pytest.approx(0.686, abs=0.01)
    assert {r.name for r in RC.LADDER} == set(RC.EXPECTED)


def test_a_slow_machine_gets_a_smaller_network_a_fast_one_the_default() -> None:
    # photos/s measured on the two machines of the README and the issue (default rung), the
    # smaller rungs scaled by their FLOPs: what a probe would report there
    avx2 = {"default": 3.4, "medium": 5.8, "small": 9.5, "tiny": 15.0}
    amx = {"default": 30.8, "medium": 45.0, "small": 70.0, "tiny": 100.0}
    rung, epochs, q = RC.choose(avx2, 600, 760, 40)
    assert rung.name != "default" and epochs > 3 and q > RC.expected_miou("default", 3 * 760)
    rung, epochs, q = RC.choose(amx, 600, 760, 40)
    assert rung.name == "default" and 20 < epochs < 26
    assert RC.choose({}, 600, 760)[0] is RC.LADDER[0]  # nothing measured: the default


def test_rung_config_keeps_what_the_user_fixed() -> None:
    base = TrainConfig(base_width=40, max_minutes=5, fixed=["base_width"])
    cfg = RC.rung_config(base, RC.LADDER[2], base.fixed)
    assert cfg.base_width == 40 and cfg.input_height == 256 and cfg.recipe == "manual"
    with pytest.raises(TrainError, match="recipe"):
        TrainConfig(recipe="fast")


TINY = dict(
    batch_size=2,
    learning_rate=1e-2,
    augment_rotate=False,
    augment_scale=False,
    augment_color=False,
    early_stopping_patience=None,
    min_steps_per_epoch=2,
    mixed_precision="off",
)
TINY_LADDER = (
    RC.Rung("default", {"input_height": 64, "input_width": 64, "base_width": 8, "depth": 2}),
    RC.Rung("tiny", {"input_height": 32, "input_width": 48, "base_width": 4, "depth": 2}),
)


def test_a_budgeted_run_probes_this_machine_and_says_what_it_chose(tmp_path: Path) -> None:
    from fashionseg_gui.core.train import TrainData, train

    s = synthetic_samples(8)
    events: list[dict] = []
    result = train(
        TrainConfig(epochs=2, max_minutes=0.5, **TINY),
        TrainData(s[:6], s[6:], CLASSES),
        on_progress=events.append,
        run_dir=tmp_path / "run",
        probe_options={"rungs": TINY_LADDER, "steps": 2, "max_photos": 4},
    )
    (chosen,) = [e for e in events if e["event"] == "recipe"]
    assert set(chosen["speeds"]) == {"default", "tiny"}
    assert all(v > 0 for v in chosen["speeds"].values())
    assert "thread" in chosen["text"] and "expect ~" in chosen["text"]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    rung = next(r for r in TINY_LADDER if r.name == chosen["rung"])
    assert {k: config[k] for k in rung.settings} == rung.settings
    assert config["fitted"]["rung"] == chosen["rung"] and config["recipe"] == "manual"
    assert config["max_minutes"] < 0.5  # the probe's time came out of the budget
    assert result.metrics["recipe"] == chosen["text"]


def test_explicit_settings_win_and_manual_recipes_are_not_probed(tmp_path: Path) -> None:
    from fashionseg_gui.core.train import TrainData, train

    s = synthetic_samples(6)
    calls: list[dict] = []

    def fake_probe(config, samples, num_classes, rungs, **kw):  # noqa: ANN001, ANN202
        calls.append(kw)
        return {"default": 1.0, "tiny": 1000.0}  # the tiny rung is far faster

    events: list[dict] = []
    train(
        TrainConfig(
            epochs=1,
            max_minutes=0.2,
            base_width=6,
            input_height=64,
            input_width=64,
            depth=2,
            fixed=["base_width"],
            **TINY,
        ),
        TrainData(s[:4], s[4:], CLASSES),
        on_progress=events.append,
        run_dir=tmp_path / "a",
        probe_options={"rungs": TINY_LADDER, "probe_fn": fake_probe},
    )
    assert calls and calls[0]["fixed"] == ("base_width",)
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["base_width"] == 6 and config["input_height"] == 32  # tiny, but width kept
    assert "kept your base width" in next(e for e in events if e["event"] == "recipe")["text"]
    calls.clear()
    train(
        TrainConfig(
            epochs=1,
            max_minutes=0.2,
            recipe="manual",
            input_height=32,
            input_width=48,
            depth=2,
            base_width=4,
            **TINY,
        ),
        TrainData(s[:4], s[4:], CLASSES),
        run_dir=tmp_path / "b",
        probe_options={"rungs": TINY_LADDER, "probe_fn": fake_probe},
    )
    assert not calls
    assert "fitted" not in json.loads((tmp_path / "b" / "config.json").read_text())


def test_machine_summary_names_the_vector_unit_and_threads() -> None:
    text = RC.machine_summary()
    assert "thread" in text and text.split(",")[0] in ("AMX", "AVX-512", "AVX2", "SSE", "CPU")


def test_probe_times_the_ends_of_the_ladder_and_interpolates_the_middle() -> None:
    s = synthetic_samples(4)
    ladder = (
        RC.Rung("default", {"input_height": 64, "input_width": 64, "base_width": 8, "depth": 2}),
        RC.Rung("medium", {"input_height": 48, "input_width": 64, "base_width": 6, "depth": 2}),
        RC.Rung("tiny", {"input_height": 32, "input_width": 48, "base_width": 4, "depth": 2}),
    )
    speeds = RC.probe(TrainConfig(max_minutes=1, **TINY), s, 3, ladder, steps=2, max_photos=4)
    assert set(speeds) == {"default", "medium", "tiny"} and all(v > 0 for v in speeds.values())
    lo, hi = sorted((speeds["default"], speeds["tiny"]))
    assert lo <= speeds["medium"] <= hi


def test_probe_times_at_least_its_seconds_and_at_most_its_steps(monkeypatch) -> None:
    """A probe of a fast network keeps stepping until the timed steps take ``seconds``
    (three steps of a small network are too short to time), and stops at ``max_steps``."""
    clocks: list = []
    make = RC._clock_callback

    def kept(*args):  # noqa: ANN002, ANN202
        clocks.append(make(*args))
        return clocks[-1]

    monkeypatch.setattr(RC, "_clock_callback", kept)
    s = synthetic_samples(4)
    ladder = (RC.Rung("one", {"input_height": 32, "input_width": 48, "base_width": 4, "depth": 2}),)
    cfg = TrainConfig(max_minutes=1, **TINY)
    kw = dict(steps=2, warmup=2, max_photos=4)
    speeds = RC.probe(cfg, s, 3, ladder, **kw, seconds=0.4, max_steps=100_000)
    times = clocks[-1].times
    assert times[-1] - times[1] >= 0.4 and len(times) > 2 + 2  # more than the 2 steps
    assert speeds["one"] == pytest.approx(2 * (len(times) - 2) / (times[-1] - times[1]))
    RC.probe(cfg, s, 3, ladder, **kw, seconds=1e6, max_steps=5)
    assert len(clocks[-1].times) == 2 + 5


def test_an_isa_limit_makes_an_amx_machine_train_as_an_avx2_one(monkeypatch) -> None:
    from fashionseg_gui.core import recipe as RC
    from fashionseg_gui.core import train_config as TC

    amx = {"avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}
    monkeypatch.setattr(TC, "cpu_flags", lambda: set(amx))
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    assert RC.machine_summary().startswith("AMX") and TC.resolve_precision("auto")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert TC.usable_cpu_flags() == {"avx", "avx2", "fma"}
    assert RC.machine_summary().startswith("AVX2,")
    assert TC.resolve_precision("auto") is None  # float32: bfloat16 has no fast path there
    assert TC.resolve_precision("bf16") == "mixed_bfloat16"  # an explicit setting still wins
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "avx512_core_bf16")
    assert RC.machine_summary().startswith("AVX-512") and "avx512_bf16" in TC.usable_cpu_flags()


AMX_FLAGS = {"avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}
#: An AMD Zen 4 (EPYC Genoa, Ryzen 7040): AVX-512 with bfloat16 dot products, no AMX.
ZEN4_FLAGS = {"avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"}


def _flags(monkeypatch, flags: set[str]) -> None:
    from fashionseg_gui.core import train_config as TC

    monkeypatch.setattr(TC, "cpu_flags", lambda: set(flags))
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)


def test_bfloat16_runs_on_amx_probe_only_widths_of_16(monkeypatch) -> None:
    """Width 24 falls off the bfloat16 kernels (and the probe does not show it)."""
    _flags(monkeypatch, AMX_FLAGS)
    bf16 = TrainConfig(mixed_precision="bf16", max_minutes=10)
    assert [r.name for r in RC.bf16_friendly(bf16, RC.LADDER)] == ["default", "tiny"]
    off = TrainConfig(mixed_precision="off", max_minutes=10)
    assert RC.bf16_friendly(off, RC.LADDER) == RC.LADDER
    assert RC.bf16_friendly(bf16, RC.LADDER, fixed=("base_width",)) == RC.LADDER
    seen: list[list[str]] = []

    def fake_probe(config, samples, num_classes, rungs, **_kw):
        seen.append([r.name for r in rungs])
        return {"default": 12.0, "tiny": 55.0}

    choice = RC.fit_to_budget(bf16, synthetic_samples(4), 1, len(CLASSES), probe_fn=fake_probe)
    assert seen == [["default", "tiny"]] and choice.rung == "tiny"
    assert "bfloat16" in choice.text


def test_an_avx512_bf16_cpu_without_amx_trains_in_bfloat16_at_widths_of_16(monkeypatch) -> None:
    from fashionseg_gui.core import train_config as TC

    _flags(monkeypatch, ZEN4_FLAGS)
    assert TC.resolve_precision("auto") == "mixed_bfloat16"
    assert TC.resolve_precision("off") is None  # an explicit setting still wins
    auto = TrainConfig(max_minutes=10)
    assert [r.name for r in RC.bf16_friendly(auto, RC.LADDER)] == ["default", "tiny"]
    seen: list[list[str]] = []

    def fake_probe(config, samples, num_classes, rungs, **_kw):
        seen.append([r.name for r in rungs])
        return {"default": 15.0, "tiny": 90.0}

    choice = RC.fit_to_budget(auto, synthetic_samples(4), 1, len(CLASSES), probe_fn=fake_probe)
    assert seen == [["default", "tiny"]] and choice.rung == "tiny"
    assert "bfloat16" in choice.text and choice.text.startswith("AVX-512, ")
    # limited to AVX-512 without bfloat16 (or to AVX2), the same CPU trains in float32
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI")
    assert TC.resolve_precision("auto") is None
    assert RC.bf16_friendly(auto, RC.LADDER) == RC.LADDER


def test_machine_summary_counts_the_threads_tensorflow_computes_with(monkeypatch) -> None:
    """TF_NUM_INTRAOP_THREADS (read by TensorFlow) is what the budget's probe runs with."""
    from fashionseg_gui.core import train_config as TC

    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    assert TC.compute_threads() == 1 and RC.machine_summary().endswith(", 1 thread")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "not a number")
    assert TC.compute_threads() >= 1
