"""LAPGAN's networks (Denton et al. 2015, Sec. 3-4): a Laplacian pyramid of generators.

Sides run coarse to fine, `coarse_side`, 2x, 4x ... up to the image side (CIFAR-10 in the paper:
8 -> 16 -> 32). The coarsest level is a plain GAN: G_K(z_K) an MLP to a `coarse_side` image (their
CIFAR-10 G_0: two hidden layers of 1200 ReLU units; batch norm before each ReLU when `batch_norm`, without
which PyTorch's default init leaves z's effect on the output ~0.1 per pixel and G_K collapses to one shape,
docs/coupled_progressive_vae.md), D_K an MLP (one hidden layer with dropout).
Each finer level k is conditional: l_k = u(I_{k+1}) (nearest x2), the noise z_k enters as an extra
colour plane, G_k(z_k, l_k) = h~_k the band-pass residual (three conv layers, linear output), and the
image is I~_k = l_k + h~_k (models/laplacian.py's reconstruction step). D_k judges the image l_k + h
(the residual with the low-pass image added back, Sec. 3.2) with a small conv net.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from ganrun.models.laplacian import up


def pyramid_sides(data_shape: Sequence[int], coarse_side: int) -> list[int]:
    """[coarse_side, 2 coarse_side, ..., side]; the image side must be coarse_side times a power of two."""
    side = int(data_shape[-1])
    sides = [coarse_side]
    while sides[-1] < side:
        sides.append(sides[-1] * 2)
    if len(data_shape) != 3 or sides[-1] != side or data_shape[-2] != side:
        raise ValueError(f"lapgan makes square images whose side is {coarse_side} times a power of two, "
                         f"got data of shape {tuple(data_shape)}")
    return sides


def compose(low: Tensor, residual: Tensor) -> Tensor:
    """One pyramid step, Sec. 3.1: I_k = l_k + h_k with l_k = u(I_{k+1}) already upsampled."""
    return low + residual


def _conv_stack(in_channels: int, width: int, out_channels: int, batch_norm: bool) -> nn.Sequential:
    norm = (lambda: nn.BatchNorm2d(width)) if batch_norm else nn.Identity
    return nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1), norm(), nn.ReLU(),
                         nn.Conv2d(width, width, 3, padding=1), norm(), nn.ReLU(),
                         nn.Conv2d(width, out_channels, 3, padding=1))


class ResidualGenerator(nn.Module):
    """G_k(z_k, l_k): l_k (N, C, s, s) with `noise_channels` noise planes -> the residual h~_k (N, C, s, s)."""

    def __init__(self, channels: int, width: int, noise_channels: int = 1, batch_norm: bool = True):
        super().__init__()
        self.noise_channels = noise_channels
        self.net = _conv_stack(channels + noise_channels, width, channels, batch_norm)

    def forward(self, noise: Tensor, low: Tensor) -> Tensor:
        return self.net(torch.cat([low, noise], dim=1))


class Generator(nn.Module):
    """The whole pyramid; `forward(z)` samples coarse to fine (the finer levels' noise planes drawn from
    torch's global stream unless `levels(z, noise)` is given them)."""

    def __init__(self, latent_dim: int, data_shape: Sequence[int], coarse_side: int = 8, hidden: int = 1200,
                 width: int = 128, noise_channels: int = 1, batch_norm: bool = True):
        super().__init__()
        self.sides = pyramid_sides(data_shape, coarse_side)
        self.channels, self.latent_dim, self.noise_channels = int(data_shape[0]), latent_dim, noise_channels
        norm = (lambda: nn.BatchNorm1d(hidden)) if batch_norm else nn.Identity
        self.coarse = nn.Sequential(nn.Linear(latent_dim, hidden), norm(), nn.ReLU(),
                                    nn.Linear(hidden, hidden), norm(), nn.ReLU(),
                                    nn.Linear(hidden, self.channels * coarse_side**2), nn.Tanh(),
                                    nn.Unflatten(1, (self.channels, coarse_side, coarse_side)))
        self.residuals = nn.ModuleList(ResidualGenerator(self.channels, width, noise_channels, batch_norm)
                                       for _ in self.sides[1:])

    def noise(self, n: int, device: torch.device | str = "cpu", generator: torch.Generator | None = None) -> list[Tensor]:
        """z_k for every finer level: (n, noise_channels, s, s) standard normal planes."""
        return [torch.randn(n, self.noise_channels, s, s, generator=generator).to(device) for s in self.sides[1:]]

    def levels(self, z: Tensor, noise: list[Tensor] | None = None) -> list[Tensor]:
        """[I~_K, ..., I~_0]: the image at every side, coarse to fine; I~_k = u(I~_{k+1}) + G_k(z_k, u(I~_{k+1}))."""
        noise = self.noise(len(z), z.device) if noise is None else noise
        images = [self.coarse(z)]
        for g, z_k in zip(self.residuals, noise):
            low = up(images[-1])
            images.append(compose(low, g(z_k, low)))
        return images

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.levels(z)[-1]


class Discriminator(nn.Module):
    """D_K (an MLP on the coarsest image) and D_k per finer level (conv, stride 2, on l_k + h); `forward(x,
    level)` scores images of level `level` (0 = the coarsest), (N,) logits."""

    def __init__(self, data_shape: Sequence[int], coarse_side: int = 8, hidden: int = 600, width: int = 128,
                 dropout: float = 0.5):
        super().__init__()
        self.sides = pyramid_sides(data_shape, coarse_side)
        channels = int(data_shape[0])
        self.coarse = nn.Sequential(nn.Flatten(), nn.Linear(channels * coarse_side**2, hidden), nn.ReLU(),
                                    nn.Dropout(dropout), nn.Linear(hidden, 1))
        self.critics = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, width, 4, 2, 1), nn.ReLU(), nn.Dropout(dropout),
                          nn.Conv2d(width, width, 4, 2, 1), nn.ReLU(), nn.Dropout(dropout), nn.Flatten(),
                          nn.Linear(width * (s // 4) ** 2, 1))
            for s in self.sides[1:])

    def forward(self, x: Tensor, level: int | None = None) -> Tensor:
        level = len(self.sides) - 1 if level is None else level
        net = self.coarse if level == 0 else self.critics[level - 1]
        return net(x).flatten()
