"""Faults a test injects through the config, as a user's own `_target_` would: a loss that turns NaN."""

from __future__ import annotations

from typing import Callable

import torch

from ganrun.objectives import ns_g_loss


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
