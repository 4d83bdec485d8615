"""Faults a test injects through the config, as a user's own `_target_` would: a loss that turns NaN,
a dataset that fails as a GPU out of memory does."""

from __future__ import annotations

from typing import Callable

import torch

from ganrun.data import ring
from ganrun.objectives.losses import ns_g_loss


def nan_g_loss_from(step: int = 5) -> Callable[[torch.Tensor], tuple[torch.Tensor, dict]]:
    """The non-saturating G loss, NaN from its `step`-th call on (one call per generator update).

    Use as `objective.g_loss._target_=tests.faults.nan_g_loss_from objective.g_loss._partial_=false`.
    """
    calls = 0

    def g_loss(fake: torch.Tensor) -> tuple[torch.Tensor, dict]:
        nonlocal calls
        calls += 1
        loss, terms = ns_g_loss(fake)
        return (loss * float("nan") if calls >= step else loss), terms

    return g_loss


def ring_out_of_memory_on_seed_3(**kwargs):
    """The ring dataset, except that seed 3 fails as a GPU out of memory does (a job of a test sweep)."""
    if kwargs["seed"] == 3:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (injected by tests/faults.py)")
    return ring(**kwargs)
