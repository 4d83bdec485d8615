"""Penalties of D's loss: functions of D and the batches, each weighted by a config value.

`penalty(discriminator, real, fake) -> (weighted penalty, terms)`, where `discriminator` maps inputs to
D's raw outputs (N,) and `real`, `fake` are what D was shown.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ganrun.objectives.losses import Terms


def unit_gradient_penalty(discriminator: Callable[[Tensor], Tensor], points: Tensor) -> Tensor:
    """E (||grad_y D(y)||_2 - 1)^2 over the given points y (the per-sample gradient norm)."""
    points = points.detach().requires_grad_(True)
    scores = discriminator(points)
    (gradients,) = torch.autograd.grad(scores.sum(), points, create_graph=True)
    norms = gradients.flatten(1).norm(2, dim=1)
    return (norms - 1).pow(2).mean()


def _per_sample_uniform(like: Tensor) -> Tensor:
    """One U[0, 1) draw per sample, broadcastable over the sample's other dimensions."""
    return torch.rand((like.shape[0],) + (1,) * (like.dim() - 1), device=like.device, dtype=like.dtype)


def interpolate_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                        weight: float) -> tuple[Tensor, Terms]:
    """WGAN-GP: lambda E (||grad D(y)|| - 1)^2 with y = u x + (1 - u) G(z), u ~ U[0, 1]."""
    u = _per_sample_uniform(real)
    penalty = unit_gradient_penalty(discriminator, u * real + (1 - u) * fake)
    return weight * penalty, {"gradient_penalty": penalty.detach()}


def perturbed_real_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                           weight: float, scale: float = 0.5) -> tuple[Tensor, Terms]:
    """DRAGAN: lambda E (||grad D(y)|| - 1)^2 with y = a x + (1 - a)(x + delta), around real samples.

    delta = scale * std(x) * U[0, 1), the perturbation of the DRAGAN paper's code; `fake` is unused.
    """
    delta = scale * real.std() * torch.rand_like(real)
    a = _per_sample_uniform(real)
    penalty = unit_gradient_penalty(discriminator, a * real + (1 - a) * (real + delta))
    return weight * penalty, {"gradient_penalty": penalty.detach()}
