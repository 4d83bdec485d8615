"""How diverse a batch of samples is, compared with the real data's (for the mode-collapse detector)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganrun.metrics.modes import nearest_modes


def mean_pairwise_distance(samples: Tensor) -> float:
    """Mean L2 distance between distinct samples (N, ...) -> float: 0 when all are equal (full collapse)."""
    flat = samples.detach().flatten(1).double().cpu()
    n = flat.shape[0]
    if n < 2:
        return 0.0
    return float(torch.pdist(flat).sum() * 2 / (n * (n - 1)))


class Diversity:
    """Scalars of the fixed-noise samples for the health/* tags: `health/diversity` (their mean pairwise
    distance over that of as many real samples) and, on a 2-D mixture of K modes, `health/mode_coverage`:
    the share of modes that are the nearest mode of at least 1/(4K) of the samples, whatever their
    distance. (VEEGAN's count, metrics/modes, needs samples within 3 std of a mode: early in training,
    when few samples are that close, it is low without any collapse.) A G collapsed onto one mode covers
    1/K; a blob between the modes keeps a high coverage but a low diversity."""

    def __init__(self, real: Tensor, modes: Tensor | None = None):
        self.real, self.modes, self.shape = mean_pairwise_distance(real), modes, tuple(real.shape[1:])

    @classmethod
    def of(cls, real_visuals: dict[str, Any]) -> "Diversity | None":
        """From a game's views of the real data (games/base.py Visual): its images, or a mixture's points
        and modes; None when the game shows none."""
        for visual in real_visuals.values():
            tensor, reference = getattr(visual, "tensor", None), getattr(visual, "reference", None)
            real = reference if reference is not None and tensor is not None and not len(tensor) else tensor
            if real is not None and len(real) > 1:
                return cls(real, getattr(visual, "modes", None))
        return None

    def matching(self, visuals: dict[str, Any]) -> Tensor | None:
        """The first of a game's sample views shaped like the real data (the fixed-noise grid or points)."""
        for visual in visuals.values():
            tensor = getattr(visual, "tensor", None)
            if tensor is not None and len(tensor) > 1 and tuple(tensor.shape[1:]) == self.shape:
                return tensor
        return None

    def __call__(self, samples: Tensor) -> dict[str, float]:
        values = {"health/diversity": mean_pairwise_distance(samples) / self.real if self.real > 0 else 1.0}
        if self.modes is not None and samples.dim() == 2:
            index, _ = nearest_modes(samples, self.modes)
            share = torch.bincount(index, minlength=len(self.modes)).double() / len(index)
            values["health/mode_coverage"] = float((share >= 1 / (4 * len(self.modes))).double().mean())
        return values


def real_samples(dataset: Any, count: int, seed: int = 0) -> Tensor:
    """`count` real items (x only) drawn without replacement by a seeded generator: the same on every run."""
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:count]
    return torch.stack([dataset[int(i)][0] for i in order])
