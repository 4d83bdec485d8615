"""What the per-step NaN/Inf check (trainer.on_nan=stop) costs on the CPU, and what a checkpoint costs.

    PYTHONPATH=. OMP_NUM_THREADS=1 python scripts/guard_overhead.py

For the default experiment (digits, DCGAN, ns, batch 64): the median time of one training step
(a run of STEPS steps, REPEATS times, setup excluded) and of one `NonFiniteGuard.watch` call on its
networks and losses, then the time and size of one `checkpoint.save` of the run's full state.
Timing the check on its own is steadier than comparing two training runs on a shared machine.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from ganrun import experiment, loop
from ganrun.run import checkpoint
from ganrun.run.guard import NonFiniteGuard
from tests.conftest import compose_config

STEPS, REPEATS, CALLS = 60, 3, 200


def config():
    return compose_config([f"trainer.steps={STEPS}", "trainer.log_every=1000", "trainer.sample_every=0",
                           "trainer.checkpoint_every=0", "trainer.device=cpu", "trainer.progress=off"])


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    with tempfile.TemporaryDirectory() as folder:
        step_times = []
        real_watch = NonFiniteGuard.watch
        for repeat in range(REPEATS):
            stamps = []  # the loop calls watch once a step: time between the first call and the last
            NonFiniteGuard.watch = lambda self, *args: stamps.append(time.perf_counter()) or real_watch(self, *args)
            try:
                loop.run(config(), Path(folder) / str(repeat))
            finally:
                NonFiniteGuard.watch = real_watch
            step_times.append((stamps[-1] - stamps[0]) / (len(stamps) - 1))
        exp = loop.build(config(), torch.device("cpu"))
        guard, loss = NonFiniteGuard("stop", torch.device("cpu")), torch.tensor(0.5)
        started = time.perf_counter()
        for _ in range(CALLS):
            guard.watch(1, {"loss/D": loss, "loss/G": loss}, {"G": exp.generator, "D": exp.discriminator})
        check = (time.perf_counter() - started) / CALLS
        step = statistics.median(step_times)
        print(f"default experiment: {step * 1e3:.1f} ms per training step (median of {REPEATS} runs of {STEPS}); "
              f"the NaN/Inf check {check * 1e3:.3f} ms per step ({100 * check / step:.2f}% of a step)")
        saved = checkpoint.load(checkpoint.latest(Path(folder) / "0" / "checkpoints"))
        started = time.perf_counter()
        path = checkpoint.save({k: v for k, v in saved.items() if k != "format"}, Path(folder) / "x" / "step_1.pt")
        print(f"checkpoint.save of its full state: {time.perf_counter() - started:.3f} s, "
              f"{path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
