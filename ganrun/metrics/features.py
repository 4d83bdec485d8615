"""One path from images to features, whichever network makes them.

A feature network is an `nn.Module` taking uint8 images (N, C, H, W) and returning
`(features (N, D), logits (N, K))` in float32, with three attributes: `num_features` (D),
`suffix` (appended to every metric name it makes: "" for Inception, "_classifier") and `digest`
(a hash of its weights, part of the real-feature cache key). Images in [-1, 1] are quantized to
uint8 first, the way a PNG stores them and the way torch-fidelity reads them.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm.auto import tqdm

from ganrun.rng import seeded_rng


def quantize(x: Tensor) -> Tensor:
    """[-1, 1] float -> uint8 [0, 255], rounding to the nearest level (an image decoded from uint8 by
    ToTensor + Normalize(0.5, 0.5) comes back to exactly its bytes); values outside are clipped."""
    return ((x.detach().float() + 1) * 127.5).round_().clamp_(0, 255).to(torch.uint8)


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Every global RNG seeded with `seed` for the block and put back after it (ganrun/rng.py): the same
    draws on every call, and the caller's (training's) streams untouched. `device` is kept for callers."""
    with seeded_rng(seed):
        yield


def generated(sample_fn: Callable[[int], Tensor], num_samples: int, batch_size: int) -> Iterator[Tensor]:
    """`sample_fn` called for `batch_size` samples at a time, `num_samples` in all."""
    for start in range(0, num_samples, batch_size):
        yield sample_fn(min(batch_size, num_samples - start))


def real_images(dataset: Dataset, num_samples: int, batch_size: int, seed: int) -> tuple[Iterator[Tensor], int]:
    """A seeded random subset of `num_samples` items (all of them when fewer), as batches of x."""
    count = min(num_samples, len(dataset))
    if count < num_samples:
        warnings.warn(f"the real split has {count} images, fewer than metrics.num_samples={num_samples}: "
                      "real statistics use all of them", stacklevel=2)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:count]
    loader = DataLoader(Subset(dataset, order.tolist()), batch_size=batch_size, shuffle=False)
    return (x for x, _ in loader), count


@torch.no_grad()
def extract(net: nn.Module, batches: Iterable[Tensor], total: int, device: torch.device,
            desc: str, shape: tuple[int, ...] | None = None) -> tuple[Tensor, Tensor]:
    """Features and logits of every batch, gathered on the CPU: (total, D), (total, K) float32.
    `shape` (C, H, W), when given, is checked on every batch so a wrong generator fails clearly."""
    features, logits = [], []
    with tqdm(total=total, desc=desc, unit="img", leave=False, disable=None) as bar:
        for x in batches:
            if shape is not None and tuple(x.shape[1:]) != tuple(shape):
                raise ValueError(f"samples of shape {tuple(x.shape[1:])} where the dataset has {tuple(shape)}")
            f, k = net(quantize(x).to(device))
            features.append(f.float().cpu())
            logits.append(k.float().cpu())
            bar.update(len(x))
    if not features:
        raise ValueError("no samples to evaluate")
    return torch.cat(features), torch.cat(logits)


class Given(nn.Module):
    """The 'feature network' handed to torchmetrics: our features are extracted once, beforehand,
    and shared by FID, KID and IS, so their network runs once per image instead of three times."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features
