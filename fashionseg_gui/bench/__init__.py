"""``fashionseg bench <name>``: benchmarks that print figures (no pass/fail).

Each benchmark module in ``BENCHMARKS`` has ``register(parser)`` to add its options and
``run(args) -> int``. Heavy imports stay inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = {
    "import": "fashionseg_gui.bench.bench_import",
    "canvas": "fashionseg_gui.bench.bench_canvas",
    "train": "fashionseg_gui.bench.bench_train",
    "gui-stall": "fashionseg_gui.bench.bench_gui_stall",
    "crash": "fashionseg_gui.bench.bench_crash",
    "loop": "fashionseg_gui.bench.bench_loop",
}


def register(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="run a benchmark and print its figures")
    bench_sub = bench.add_subparsers(dest="bench", metavar="BENCHMARK")
    for name, module_name in BENCHMARKS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        p = bench_sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        module.register(p)
        p.set_defaults(func=module.run)
