"""`infinite_batches`: an endless stream of shuffled `(x, y)` batches on the training device.

Datasets held in memory as tensors (`dataset.tensors = (x, y)`: digits, ring, grid, and MNIST,
FashionMNIST, CIFAR-10 when small) are copied to the device once and batched by indexing there, with
no DataLoader (unless `on_device=False`); others go through a DataLoader. Either way epoch e's order
is a permutation drawn from a CPU `torch.Generator` seeded with (seed, e) alone, so a seed gives the
same batches on any device, with any number of workers and on either path, and the stream's position
is two integers, `(epoch, batch)`: a resumed run jumps straight there (`load_state_dict`) without
replaying the epochs before it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from ganrun.errors import ConfigError

Batch = tuple[torch.Tensor, torch.Tensor]


def epoch_order(size: int, seed: int, epoch: int) -> torch.Tensor:
    """The permutation of epoch `epoch`: a function of (seed, epoch) only."""
    mixed = (seed * 0x9E3779B97F4A7C15 + epoch) % 2**63  # distinct (seed, epoch) pairs, distinct streams
    return torch.randperm(size, generator=torch.Generator().manual_seed(mixed))


class Batches:
    """Batches x (B, *data_shape), y (B,) on `device`, forever, with a resumable position.

    With drop_last (the default) every batch is full and the remainder of each epoch's permutation
    is left out; without it the last batch of an epoch is short. `state_dict()` is the number of
    epochs finished and of batches handed out in the current one.
    """

    def __init__(self, dataset: Dataset, batch_size: int, *, seed: int, device: str | torch.device,
                 num_workers: int = 0, drop_last: bool = True, on_device: bool = True) -> None:
        size = len(dataset)
        if size < batch_size:
            name = getattr(dataset, "name", type(dataset).__name__)
            raise ConfigError(f"dataset={name} has {size} items, fewer than trainer.batch_size={batch_size}: "
                              "lower trainer.batch_size")
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.device = torch.device(device)
        self.end = size - size % batch_size if drop_last else size
        self.epoch, self.batch = 0, 0
        self._current: Iterator[Any] | None = None
        if on_device and hasattr(dataset, "tensors"):  # on_device=False: the DataLoader for every dataset
            self.tensors = tuple(t.to(self.device) for t in dataset.tensors)
            self.loader = None
        else:
            # The loader's own generator only seeds its workers; it must not draw from torch's global RNG
            # (the latents' and dropout's), or the number of epochs would change the noise of a run.
            self.loader = DataLoader(dataset, batch_sampler=_EpochIndices(self), num_workers=num_workers,
                                     pin_memory=self.device.type == "cuda", persistent_workers=num_workers > 0,
                                     generator=torch.Generator().manual_seed(seed))

    def indices(self, device: torch.device | None = None) -> Iterator[torch.Tensor]:
        """Index batches for the rest of the current epoch, from the current position."""
        order = epoch_order(self.size, self.seed, self.epoch).to(device or "cpu")  # one copy per epoch
        for start in range(self.batch * self.batch_size, self.end, self.batch_size):
            yield order[start:start + self.batch_size]

    def _epoch(self) -> Iterator[Batch]:
        if self.loader is None:
            x, y = self.tensors
            for index in self.indices(self.device):
                yield x[index], y[index]
        else:
            for x, y in self.loader:
                yield x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

    def __iter__(self) -> Batches:
        return self

    def __next__(self) -> Batch:
        return self._next_of(self._epoch)

    def next_indices(self) -> torch.Tensor:
        """The next batch's indices into `tensors` (CPU), the stream advanced as `next()` advances it: for a
        caller that gathers an in-memory dataset's points itself (ganrun.run.batched, all seeds in one gather).
        Use one of the two on a stream, not both."""
        return self._next_of(self.indices)

    def _next_of(self, epoch: Callable[[], Iterator[Any]]) -> Any:
        """The next item of `epoch()`'s iterator, a new epoch begun where one ends; the position counted."""
        while True:
            if self._current is None:
                self._current = epoch()
            try:
                item = next(self._current)
            except StopIteration:
                self.epoch, self.batch, self._current = self.epoch + 1, 0, None
                continue
            self.batch += 1  # counted when handed out, not when a worker prefetches it
            return item

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batch": self.batch}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.batch, self._current = int(state["epoch"]), int(state["batch"]), None


class _EpochIndices:
    """The DataLoader's batch sampler: read at each `iter(loader)`, so it starts where the stream is."""

    def __init__(self, batches: Batches) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[list[int]]:
        return (index.tolist() for index in self.batches.indices())

    def __len__(self) -> int:
        return -(-self.batches.end // self.batches.batch_size)


def infinite_batches(dataset: Dataset, batch_size: int, *, seed: int, device: str | torch.device,
                     num_workers: int = 0, drop_last: bool = True, on_device: bool = True) -> Batches:
    """`on_device=False` sends in-memory datasets through the DataLoader too (`trainer.data_on_device=false`:
    a device short of memory, or a comparison); both paths give the same batches."""
    return Batches(dataset, batch_size, seed=seed, device=device, num_workers=num_workers, drop_last=drop_last,
                   on_device=on_device)
