"""Steps/s per run of a 2-D study's seeds: separate `ganrun train` runs vs the batched seeds path.

Paired: each repeat times one separate run (in process, `ganrun.loop.run`, the CLI's loop, setup and
final checkpoint included) and right after it the batched path training `--seeds` seeds together
(setup included), so both see the same machine load. Per-run throughput of the batched path is
seeds x steps / its wall time. Prints a Markdown table (docs/results_batched.md: before and after
session 3, paired). `--separate-only` times the separate runs alone (two versions of ganrun, say).

    OMP_NUM_THREADS=1 nice -n 10 python scripts/bench_batched.py --steps 200 --repeats 3
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from ganrun import loop
from ganrun.run.batched_study import build_batched
from tests.conftest import compose_config

QUIET = ["trainer.device=cpu", "trainer.progress=off", "trainer.sample_every=0", "trainer.checkpoint_every=0",
         "metrics=none"]
NETWORKS = {
    "small": ["experiment=pacgan_grid", "trainer.batch_size=100", "architecture.generator.width=32",
              "architecture.discriminator.width=16"],
    "preset": ["experiment=pacgan_grid", "trainer.batch_size=100"],
}
DESCRIBED = {"small": "PacGAN2, batch 100, G 4x32 BN, D 3x16 maxout-5",
             "preset": "PacGAN2, batch 100, the paper's G 4x400 BN, D 3x200 maxout-5"}


def separate(overrides: list[str]) -> float:
    cfg = compose_config(overrides)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as run_dir:
        loop.run(cfg, Path(run_dir))
    return cfg.trainer.steps / (time.perf_counter() - started)


def batched(overrides: list[str], seeds: int) -> float:
    cfg = compose_config(overrides)
    started = time.perf_counter()
    runs, _ = build_batched(cfg, list(range(seeds)))
    runs.train(cfg.trainer.steps)
    runs.finish()
    return seeds * cfg.trainer.steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--separate-only", action="store_true", help="time the separate runs alone (e.g. two versions)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, {args.steps} steps, {args.seeds} seeds batched, "
          f"load average before: {os.getloadavg()[0]:.1f}\n")
    print("| networks | separate run, steps/s | batched, steps/s per run | ratio (median of paired) |")
    print("| --- | --- | --- | --- |")
    for name in args.networks:
        networks = NETWORKS[name]
        overrides = [*networks, *QUIET, f"trainer.steps={args.steps}", f"trainer.log_every={args.steps}"]
        pairs = [(separate(overrides), math.nan if args.separate_only else batched(overrides, args.seeds))
                 for _ in range(args.repeats)]
        ratio = "–" if args.separate_only else f"{statistics.median(b / s for s, b in pairs):.2f}x"
        print(f"| {DESCRIBED[name]} | {' / '.join(f'{s:.1f}' for s, _ in pairs)} | {' / '.join(f'{b:.1f}' for _, b in pairs)} "
              f"| {ratio} |", flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
