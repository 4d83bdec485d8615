"""`infinite_batches`: an endless stream of shuffled `(x, y)` batches on the training device.

Datasets held in memory as tensors (`dataset.tensors = (x, y)`: digits, ring, grid, and MNIST,
FashionMNIST, CIFAR-10 when small) are copied to the device once and batched by indexing there, with
no DataLoader; others go through a DataLoader. Either way the order comes from one CPU
`torch.Generator` seeded with `seed`, reshuffled every epoch, so a seed gives the same batches on
any device.
"""

from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from ganrun.config import ConfigError

Batch = tuple[torch.Tensor, torch.Tensor]


def infinite_batches(dataset: Dataset, batch_size: int, *, seed: int, device: str | torch.device,
                     num_workers: int = 0, drop_last: bool = True, on_device: bool = True) -> Iterator[Batch]:
    """Batches x (B, *data_shape), y (B,) on `device`, forever. With drop_last (the default) every
    batch is full and the remainder of each epoch's permutation is left out; without it the last
    batch of an epoch is short. `on_device=False` sends in-memory datasets through the DataLoader
    too (`trainer.data_on_device=false`: a device short of memory, or a comparison)."""
    size = len(dataset)
    if size < batch_size:
        name = getattr(dataset, "name", type(dataset).__name__)
        raise ConfigError(f"dataset={name} has {size} items, fewer than trainer.batch_size={batch_size}: "
                          "lower trainer.batch_size")
    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    if on_device and hasattr(dataset, "tensors"):
        return _indexed(dataset.tensors, batch_size, generator, device, drop_last)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator, drop_last=drop_last,
                        num_workers=num_workers, pin_memory=device.type == "cuda",
                        persistent_workers=num_workers > 0)
    return _loaded(loader, device)


def _indexed(tensors: tuple[torch.Tensor, torch.Tensor], batch_size: int, generator: torch.Generator,
             device: torch.device, drop_last: bool) -> Iterator[Batch]:
    x, y = (t.to(device) for t in tensors)
    size = len(y)
    end = size - size % batch_size if drop_last else size
    while True:
        order = torch.randperm(size, generator=generator).to(device)
        for start in range(0, end, batch_size):
            index = order[start:start + batch_size]
            yield x[index], y[index]


def _loaded(loader: DataLoader, device: torch.device) -> Iterator[Batch]:
    while True:  # each pass over the loader draws a new permutation from its generator
        for x, y in loader:
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)
