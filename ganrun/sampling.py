"""What G and D are fed: latents from the prior (White 2016, "Sampling generative networks"; ganhacks), labels when the models
are conditional, the fixed batch the sample grids are drawn from, and real batches with their labels."""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import Tensor

from ganrun.config import choices


def gaussian(n: int, dim: int, *, device: Any = None, generator: torch.Generator | None = None) -> Tensor:
    return torch.randn(n, dim, device=device, generator=generator)


def uniform(n: int, dim: int, *, device: Any = None, generator: torch.Generator | None = None) -> Tensor:
    """U[-1, 1]^dim, the DCGAN paper's prior (White 2016 and ganhacks advise a Gaussian instead)."""
    return torch.rand(n, dim, device=device, generator=generator) * 2 - 1


def spherical(n: int, dim: int, *, device: Any = None, generator: torch.Generator | None = None) -> Tensor:
    """Uniform on the sphere of radius sqrt(dim), where a high-dimensional Gaussian's mass lies
    ("spherical Z", White 2016): normalised Gaussian draws."""
    z = torch.randn(n, dim, device=device, generator=generator)
    return z / z.norm(dim=1, keepdim=True) * math.sqrt(dim)


# tricks.latent -> the prior; the names are config/choices.py's
LATENT_PRIORS: dict[str, Callable[..., Tensor]] = dict(zip(choices.LATENT_PRIORS, (gaussian, uniform, spherical)))


def slerp(a: Tensor, b: Tensor, t: float | Tensor) -> Tensor:
    """Great-circle interpolation between latents a and b (N, dim) at t in [0, 1] (White 2016):
    sin((1 - t) w) / sin(w) a + sin(t w) / sin(w) b, w the angle between them; linear where w ~ 0."""
    cos = ((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))).clamp(-1, 1)
    omega = torch.acos(cos)[:, None]  # (N, 1)
    t = torch.as_tensor(t, dtype=a.dtype, device=a.device)
    sin = torch.sin(omega)
    tiny = sin.abs() < 1e-6
    safe = torch.where(tiny, torch.ones_like(sin), sin)
    arc = torch.sin((1 - t) * omega) / safe * a + torch.sin(t * omega) / safe * b
    return torch.where(tiny, (1 - t) * a + t * b, arc)


def grid_labels(num_classes: int, num_samples: int, device: Any = None) -> Tensor:
    """Labels of a conditional grid: one row per class, num_samples // num_classes (at least 1) per row."""
    per_class = max(1, num_samples // num_classes)
    return torch.arange(num_classes, device=device).repeat_interleave(per_class)


class GeneratorInputs:
    """G's inputs: z from `prior` (a LATENT_PRIORS name) and, with `num_classes`, uniform labels."""

    def __init__(self, prior: str, latent_dim: int, num_classes: int | None, device: torch.device):
        self.prior, self.latent_dim, self.num_classes, self.device = LATENT_PRIORS[prior], latent_dim, num_classes, device

    def __call__(self, n: int) -> tuple[Tensor, Tensor | None]:
        """n latents (n, latent_dim) and their labels (n,) or None, from torch's global generator."""
        labels = None if self.num_classes is None else torch.randint(self.num_classes, (n,), device=self.device)
        return self.prior(n, self.latent_dim, device=self.device), labels

    def fixed(self, n: int, seed: int) -> tuple[Tensor, Tensor | None]:
        """The grid's inputs, the same every time: n latents from their own generator, or with labels
        one row per class (`grid_labels`)."""
        labels = None if self.num_classes is None else grid_labels(self.num_classes, n, self.device)
        count = n if labels is None else len(labels)
        z = self.prior(count, self.latent_dim, generator=torch.Generator().manual_seed(seed))
        return z.to(self.device), labels

    def grid_row(self, n: int) -> int | None:
        """Samples per grid row: one class a row when conditional, else None (about square)."""
        return None if self.num_classes is None else max(1, n // self.num_classes)
