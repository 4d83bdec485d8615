"""Keeping training's random streams to training: setup and evaluation draw only inside `isolated_rng`.

A run's trajectory must be a function of its config and seed. Everything that runs beside the
training (building the metrics, training or reading the metric classifier, reading caches, building
datasets, feature networks, every evaluation) may draw random numbers, and how many it draws depends
on things outside the config: a cache hit draws none, a miss trains a classifier (weight init,
DataLoader seeds, batches). `isolated_rng()` saves every global stream a training step draws from —
torch's CPU generator, every initialised CUDA device's, numpy's and Python's — and puts them back
afterwards, whatever happened inside (an exception included). Usable as `with isolated_rng():` or as
a decorator `@isolated_rng()`. Imports nothing of ganrun.

CUDA first initialised inside the block: its generators then hold draws made inside, so they are
seeded again with the seed CUDA's lazy initialisation would have used (torch.initial_seed() from
before the block), which is the state they would have had without the block.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


def _cuda_ready() -> bool:
    return torch.cuda.is_available() and torch.cuda.is_initialized()


@contextmanager
def isolated_rng() -> Iterator[None]:
    """Every global RNG as it was before the block, after it (see the module's docstring)."""
    cpu, initial_seed = torch.get_rng_state(), torch.initial_seed()
    cuda = torch.cuda.get_rng_state_all() if _cuda_ready() else None
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        yield
    finally:
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
        elif _cuda_ready():  # initialised inside: as its lazy seeding would have left it
            torch.cuda.manual_seed_all(initial_seed)
        np.random.set_state(numpy_state)
        random.setstate(python_state)


@contextmanager
def seeded_rng(seed: int) -> Iterator[None]:
    """`isolated_rng`, with torch's generators (the CPU's, and every initialised CUDA device's) seeded with
    `seed` inside, and numpy's and Python's too: the same draws on every call, whatever ran before.
    (Not torch.manual_seed: before CUDA is initialised it queues a CUDA seeding that would run later,
    outside the block, and replace training's seed.)"""
    with isolated_rng():
        torch.random.default_generator.manual_seed(seed)
        if _cuda_ready():
            torch.cuda.manual_seed_all(seed)
        np.random.seed(seed % 2**32)
        random.seed(seed)
        yield
