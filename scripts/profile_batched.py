"""Where a batched step's time goes: torch.profiler over `--steps` steps of the batched seeds path
(ganrun.run.batched) on the `small` networks of scripts/bench_batched.py, one thread, after warm-up.
Prints the top ops by self CPU time and the wall time per step.

    OMP_NUM_THREADS=1 nice -n 10 python scripts/profile_batched.py --seeds 10 --steps 50
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

from ganrun.run.batched_study import build_batched
from scripts.bench_batched import NETWORKS, QUIET
from tests.conftest import compose_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--networks", default="small", choices=list(NETWORKS))
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = compose_config([*NETWORKS[args.networks], *QUIET, f"trainer.steps={args.steps}"])
    runs, _ = build_batched(cfg, list(range(args.seeds)))
    runs.train(5)  # warm-up: first-call allocations, lazy inits
    started = time.perf_counter()
    runs.train(args.steps)
    unprofiled = (time.perf_counter() - started) / args.steps
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        runs.train(args.steps)
    averages = prof.key_averages()
    total = sum(event.self_cpu_time_total for event in averages)
    print(f"{args.seeds} seeds, {args.steps} steps, {args.networks} networks: {1e3 * unprofiled:.2f} ms per "
          f"batched step unprofiled, {total / 1e3 / args.steps:.2f} ms profiled (self CPU), "
          f"{sum(event.count for event in averages) / args.steps:.0f} ops per step\n")
    print("| op | self CPU % | calls per step |\n| --- | --- | --- |")
    for event in sorted(averages, key=lambda e: e.self_cpu_time_total, reverse=True)[:args.top]:
        print(f"| `{event.key}` | {100 * event.self_cpu_time_total / total:.1f} | {event.count / args.steps:.0f} |")


if __name__ == "__main__":
    main()
