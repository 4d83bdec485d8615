"""2-D Gaussian mixtures, the mode-collapse benchmarks of Unrolled GAN, VEEGAN and PacGAN.

Points are drawn once, at construction, from a `torch.Generator` seeded with `seed`, and held in
memory. Every mode gets `num_samples // K` points and the first `num_samples % K` modes one more
(so counts differ by at most one); the order is then shuffled with the same generator. y is the
index of the mode that drew the point, so `num_classes` is K. Points are not rescaled.
"""

from __future__ import annotations

import math

import torch

from .base import InMemory


def mixture(modes: torch.Tensor, std: float, num_samples: int, seed: int, name: str) -> InMemory:
    """`num_samples` points from isotropic Gaussians of standard deviation `std` at `modes` (K, 2)."""
    generator = torch.Generator().manual_seed(seed)
    k = len(modes)
    labels = torch.arange(num_samples) % k
    labels = labels[torch.randperm(num_samples, generator=generator)]
    noise = torch.randn(num_samples, 2, generator=generator)
    x = modes[labels] + std * noise  # (N, 2)
    return InMemory(x, labels, name=name, num_classes=k, modes=modes, std=float(std))


def ring(name: str = "ring", num_modes: int = 8, radius: float = 2.0, std: float = 0.02,
         num_samples: int = 100_000, seed: int = 0) -> InMemory:
    """K modes evenly on a circle: mode k at radius * (cos, sin)(2 pi k / K)."""
    angles = torch.arange(num_modes, dtype=torch.float64) * (2 * math.pi / num_modes)
    modes = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    return mixture(modes.float(), std, num_samples, seed, name)


def grid(name: str = "grid", side: int = 5, spacing: float = 2.0, std: float = 0.05,
         num_samples: int = 100_000, seed: int = 0) -> InMemory:
    """side x side modes centred on the origin: mode i * side + j at (c_i, c_j),
    c_i = (i - (side - 1) / 2) * spacing, i.e. {-4, -2, 0, 2, 4}^2 for the defaults."""
    coords = (torch.arange(side, dtype=torch.float64) - (side - 1) / 2) * spacing
    modes = torch.cartesian_prod(coords, coords)  # (side * side, 2), row i * side + j = (c_i, c_j)
    return mixture(modes.float(), std, num_samples, seed, name)
