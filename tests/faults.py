"""Targets that make a job of a test sweep fail on purpose, as a user's run can (CLI tests name them)."""

from __future__ import annotations

import torch

from ganrun.data import ring


def ring_out_of_memory_on_seed_3(**kwargs):
    """The ring dataset, except that seed 3 fails as a GPU out of memory does."""
    if kwargs["seed"] == 3:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (injected by tests/faults.py)")
    return ring(**kwargs)
