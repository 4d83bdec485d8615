"""Small pieces the games of issue 12 (VAE, CoGAN, progressive) share."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn


@torch.no_grad()
def in_eval_mode(module: nn.Module, fn: Any, *args: Any) -> Any:
    """fn(*args) with `module` in eval mode (BatchNorm's running statistics untouched), mode restored."""
    was_training = module.training
    module.eval()
    try:
        return fn(*args)
    finally:
        module.train(was_training)


def side_by_side(a: Tensor, b: Tensor) -> Tensor:
    """(N, ...) and (N, ...) -> (2N, ...): a_0, b_0, a_1, b_1, ... (pairs next to each other in a grid)."""
    return torch.stack([a, b], dim=1).flatten(0, 1)


def objective_state(objective: Any) -> dict[str, Any]:
    """The objective as a checkpoint part when it has state (BEGAN's k_t), else nothing."""
    return {"objective": objective} if hasattr(objective, "state_dict") else {}


def coupled_networks(cfg: Any, make: Any, data_shape: tuple[int, ...], device: Any) -> tuple[nn.Module, nn.Module]:
    """G and D of `cfg.architecture` for images of `data_shape`, on `device` (the games built from one
    dataset's shape: CoGAN, UNIT)."""
    generator = make(cfg.architecture.generator, data_shape=data_shape).to(device)
    discriminator = make(cfg.architecture.discriminator, data_shape=data_shape).to(device)
    return generator, discriminator
