"""The two kinds of dataset ganrun hands the trainer, both with `(x, y)` items.

`InMemory` holds every item as one tensor pair (`.tensors = (x, y)`), so `infinite_batches` can batch
by index on the device without a DataLoader. `OnDisk` wraps a torchvision dataset that reads and
transforms one item at a time, and turns its target into ganrun's int64 label (-1: no labels).
Both carry `name`, `data_shape` (one item's shape) and `num_classes` (None when there are no labels).
"""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch.utils.data import Dataset, Subset


class InMemory(Dataset):
    """Items already decoded: x (N, *data_shape) float32, y (N,) int64. Extra keyword arguments
    become attributes (the mixtures' `modes` and `std`)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, *, name: str, num_classes: Optional[int],
                 **attributes: Any) -> None:
        if x.dtype != torch.float32 or y.dtype != torch.int64 or len(x) != len(y):
            raise ValueError(f"InMemory needs float32 x and int64 y of one length, got {x.dtype} "
                             f"{tuple(x.shape)} and {y.dtype} {tuple(y.shape)}")
        self.tensors = (x, y)
        self.name = name
        self.data_shape = tuple(x.shape[1:])
        self.num_classes = num_classes
        for key, value in attributes.items():
            setattr(self, key, value)

    def __len__(self) -> int:
        return len(self.tensors[1])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.tensors
        return x[index], y[index]


class OnDisk(Dataset):
    """A torchvision dataset whose transform makes x; its target becomes y (or -1 when
    `num_classes` is None: CelebA without attributes, LSUN's single category)."""

    def __init__(self, source: Dataset, *, name: str, data_shape: tuple[int, ...],
                 num_classes: Optional[int]) -> None:
        self.source = source
        self.name = name
        self.data_shape = tuple(data_shape)
        self.num_classes = num_classes

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, target = self.source[index]
        label = -1 if self.num_classes is None else int(target)
        return x, torch.tensor(label, dtype=torch.int64)


def take_fraction(dataset: Dataset, fraction: float = 1.0, seed: int = 0) -> Dataset:
    """The data-efficient setting (Zhao et al. 2020; Karras et al. 2020, ADA): a fixed random
    `fraction` of the items, round(fraction * N) of them, the same for every run (a permutation drawn
    from `seed`, not from the run's seed), so runs with different seeds train on the same subset."""
    if not 0 < fraction <= 1:
        raise ValueError(f"dataset.fraction={fraction} must be in (0, 1]")
    if fraction == 1:
        return dataset
    keep = max(1, round(fraction * len(dataset)))
    index = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:keep].sort().values
    if isinstance(dataset, InMemory):
        x, y = dataset.tensors
        dataset.tensors = (x[index], y[index])
        return dataset
    subset = Subset(dataset, index.tolist())
    for key in ("name", "data_shape", "num_classes"):
        setattr(subset, key, getattr(dataset, key))
    return subset
