"""Mode coverage of a 2-D run's checkpoint: modes captured, % high-quality samples, reverse KL.

    python scripts/mode_coverage.py outputs/runs/<run>/checkpoints/step_00002000.pt [--samples 2500]
"""

from __future__ import annotations

import argparse

import torch
from omegaconf import OmegaConf

from ganrun.run import checkpoint
from ganrun.commands.common import load_generator
from ganrun.metrics.modes import mode_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--samples", type=int, default=2500)
    args = parser.parse_args()
    state = checkpoint.load(args.checkpoint)
    cfg = OmegaConf.create(state["config"])
    dataset, generator = load_generator(state, cfg)
    with torch.no_grad():
        points = generator(torch.randn(args.samples, cfg.architecture.latent_dim,
                                       generator=torch.Generator().manual_seed(0)))
    result = mode_metrics(points, dataset.modes, dataset.std)
    print(" ".join(f"{name}={value:.4g}" for name, value in result.items()))


if __name__ == "__main__":
    main()
