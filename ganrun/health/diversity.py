"""How diverse a batch of samples is, compared with the real data's (for the mode-collapse detector)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganrun.metrics.modes import mode_metrics


def mean_pairwise_distance(samples: Tensor) -> float:
    """Mean L2 distance between distinct samples (N, ...) -> float: 0 when all are equal (full collapse)."""
    flat = samples.detach().flatten(1).double().cpu()
    n = flat.shape[0]
    if n < 2:
        return 0.0
    return float(torch.pdist(flat).sum() * 2 / (n * (n - 1)))


class Diversity:
    """Scalars of the fixed-noise samples for the health/* tags: `health/diversity` (their mean pairwise
    distance over that of as many real samples) and, on a 2-D mixture, `health/mode_coverage` (the share
    of its modes that at least one sample covers, VEEGAN's protocol: ganrun/metrics/modes.py)."""

    def __init__(self, real: Tensor, dataset: Any = None):
        self.real = mean_pairwise_distance(real)
        self.modes, self.std = getattr(dataset, "modes", None), getattr(dataset, "std", None)

    def __call__(self, samples: Tensor) -> dict[str, float]:
        values = {"health/diversity": mean_pairwise_distance(samples) / self.real if self.real > 0 else 1.0}
        if self.modes is not None and samples.dim() == 2:
            values["health/mode_coverage"] = mode_metrics(samples, self.modes, self.std)["modes"] / len(self.modes)
        return values


def real_samples(dataset: Any, count: int, seed: int = 0) -> Tensor:
    """`count` real items (x only) drawn without replacement by a seeded generator: the same on every run."""
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:count]
    return torch.stack([dataset[int(i)][0] for i in order])
