"""Mode coverage, the VEEGAN / PacGAN protocol.

2-D mixtures: a sample is high quality when it lies within `threshold` (3) standard deviations of
its nearest mode; a mode is captured when it is the nearest mode of at least one high-quality
sample. `hq` is the percentage of high-quality samples. `reverse_kl` is KL(p || uniform) of the
histogram of every sample's nearest mode (as a classifier would label it; PacGAN's "reverse KL"):
0 for a uniform histogram, log K when every sample falls to one mode.

Labelled images (Stacked MNIST's 1,000 digit triples): the classes a classifier assigns play the
modes; every generated class counts as captured.
"""

from __future__ import annotations

import torch
from torch import Tensor


def reverse_kl(counts: Tensor) -> float:
    """KL(p || uniform) for the histogram `counts` (K,): sum p log(K p), empty bins contributing 0."""
    p = counts.double() / counts.sum()
    p = p[p > 0]
    return float((p * (p * len(counts)).log()).sum())


def nearest_modes(points: Tensor, modes: Tensor) -> tuple[Tensor, Tensor]:
    """For points (N, 2) and modes (K, 2): index of each point's nearest mode (N,), and the distance."""
    distances = torch.cdist(points.double(), modes.double())  # (N, K)
    distance, index = distances.min(dim=1)
    return index, distance


def mode_metrics(points: Tensor, modes: Tensor, std: float, threshold: float = 3.0) -> dict[str, float]:
    """`modes` captured (count), `hq` (percent of samples) and `reverse_kl` for 2-D samples."""
    points, modes = points.detach().cpu(), modes.detach().cpu()
    index, distance = nearest_modes(points, modes)
    good = distance <= threshold * std
    counts = torch.bincount(index, minlength=len(modes))
    return {
        "modes": float(torch.unique(index[good]).numel()),
        "hq": 100.0 * good.double().mean().item(),
        "reverse_kl": reverse_kl(counts),
    }


def label_metrics(labels: Tensor, num_classes: int) -> dict[str, float]:
    """Modes captured (distinct labels) and KL(p || uniform) of the labels' histogram over `num_classes`:
    Stacked MNIST's "modes (max 1000)" and "KL" (VEEGAN, Srivastava et al. 2017, and PacGAN's code, which
    computes KL(p_model || uniform over 1,000) from the classified samples)."""
    counts = torch.bincount(labels.flatten().long(), minlength=num_classes)
    if len(counts) > num_classes:
        raise ValueError(f"labels run to {len(counts) - 1}, past num_classes={num_classes}")
    return {"modes": float((counts > 0).sum()), "reverse_kl": reverse_kl(counts)}


def class_metrics(logits: Tensor) -> dict[str, float]:
    """Modes captured and reverse KL of the classes a classifier's logits (N, K) assign."""
    return label_metrics(logits.argmax(dim=1), logits.shape[1])
