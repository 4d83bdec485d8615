"""Mode coverage of every job of a 2-D sweep (ring, grid), added to each job's final.json.

    python scripts/score_2d_sweep.py outputs/sweeps/<time> [--samples 2500]
    ganrun summarize outputs/sweeps/<time> metric=metrics/modes direction=maximize

Scores each job's last checkpoint as scripts/mode_coverage.py does (VEEGAN / PacGAN protocol) and
stores the values under the tags metrics during training log them with (metrics/modes, metrics/hq,
metrics/reverse_kl), so `ganrun summarize` can rank the sweep by them. Runs that already log these
metrics do not need this.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from omegaconf import OmegaConf

from ganrun.run import checkpoint
from ganrun.commands.common import load_generator
from ganrun.metrics.modes import mode_metrics
from ganrun.run.sweeps import FINAL_FILE


def score(job: Path, samples: int) -> dict[str, float] | None:
    last = checkpoint.latest(job / "checkpoints")
    if last is None:
        return None
    state = checkpoint.load(last)
    cfg = OmegaConf.create(state["config"])
    dataset, generator = load_generator(state, cfg)
    with torch.no_grad():
        points = generator(torch.randn(samples, cfg.architecture.latent_dim, generator=torch.Generator().manual_seed(0)))
    return {f"metrics/{name}": value for name, value in mode_metrics(points, dataset.modes, dataset.std).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep")
    parser.add_argument("--samples", type=int, default=2500)
    args = parser.parse_args()
    for job in sorted(p for p in Path(args.sweep).iterdir() if (p / FINAL_FILE).is_file()):
        scores = score(job, args.samples)
        if scores is None:
            continue
        final = json.loads((job / FINAL_FILE).read_text())
        final["scalars"].update(scores)
        (job / FINAL_FILE).write_text(json.dumps(final, indent=1))
        print(job.name.split("_")[0], " ".join(f"{k}={v:.4g}" for k, v in scores.items()))


if __name__ == "__main__":
    main()
