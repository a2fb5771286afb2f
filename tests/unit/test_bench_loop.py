"""``fashionseg bench loop``: a tiny run through the real project, queue, finder and training."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fashionseg_gui.bench.bench_loop import corrupt
from fashionseg_gui.cli import main


def test_corrupt_swaps_two_classes_in_a_region() -> None:
    mask = np.zeros((40, 40), np.uint8)
    mask[5:35, 5:20] = 1
    mask[5:35, 20:35] = 2
    bad = corrupt(mask, np.random.default_rng(0), 4)
    changed = bad != mask
    assert changed.any() and changed.mean() < 0.5  # a region, not the whole photo
    assert set(np.unique(mask[changed])) == {1, 2}
    assert np.array_equal(bad[changed] == 1, mask[changed] == 2)


def test_corrupt_of_a_one_class_region_relabels_it() -> None:
    mask = np.zeros((20, 20), np.uint8)
    mask[4:16, 4:16] = 3
    bad = corrupt(mask, np.random.default_rng(0), 5)
    assert (bad != mask).any() and 3 not in set(np.unique(bad[bad != mask]))


def test_bench_loop_tiny_run_prints_rounds_arms_and_the_finder(ccp: Path, capsys) -> None:
    assert (
        main(
            [
                "bench",
                "loop",
                "--data",
                str(ccp),
                "--mapping",
                "ccp5.json",
                "--pool-range",
                "1-12",
                "--eval-range",
                "801-802",
                "--labelled",
                "4",
                "--pool",
                "5",
                "--correct",
                "2",
                "--planted",
                "2",
                "--finder-top",
                "2",
                "--rounds",
                "1",
                "--round-epochs",
                "2",
                "--input-size",
                "32x32",
                "--base-width",
                "4",
                "--depth",
                "2",
                "--batch-size",
                "2",
                "--precision",
                "off",
                "--no-machine",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "machine: " in out
    assert "project: 4 labelled (2 with a planted label error), 5 unlabelled" in out
    assert "planted label errors in its top 2 of 4 labelled photos" in out
    table = out.split("=== bench loop")[1].splitlines()
    rows = [r for r in table if r.startswith(("queue ", "random "))]
    assert len(rows) == 4  # round 0 and 1 of each arm
    assert "| 100 % (from scratch)" in rows[0] and rows[1].split("|")[2].strip() == "6"
    assert all(r.split("|")[-1].strip() == "2" for r in rows)  # exactly 2 epochs a round
    assert "1 rounds x 2 epochs" in out
    assert "arm queue round 1: corrected 2 photos" in out
    assert "arm random round 1: corrected 2 photos" in out


def test_bench_loop_refuses_a_pool_that_overlaps_the_evaluation(ccp: Path, capsys) -> None:
    assert (
        main(["bench", "loop", "--data", str(ccp), "--pool-range", "790-810", "--no-machine"]) == 2
    )
    assert "never trains on the photos it is evaluated on" in capsys.readouterr().err
