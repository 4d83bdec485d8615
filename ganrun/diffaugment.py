"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

The same random, differentiable transformation T is applied to every input of D, real and fake, in
D's update and in G's: D minimises L(D(T(x)), D(T(G(z)))) and G minimises L(D(T(G(z)))), so G's
gradient flows back through T (the paper's eq. 2-4 and Figure 4). The three policies of the paper:
- color: brightness + U[-0.5, 0.5), saturation x U[0, 2), contrast x U[0.5, 1.5), per sample;
- translation: a shift of up to 1/8 of the side in each direction, zero padded, per sample;
- cutout: a zeroed square of half the side at a random position, per sample.
Each transform is written once as a pure function of its parameters (testable), then drawn at random.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ganrun.config.choices import DIFFAUGMENT_POLICIES as POLICIES


def _per_sample(x: Tensor) -> Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype)


def adjust_color(x: Tensor, brightness: Tensor, saturation: Tensor, contrast: Tensor) -> Tensor:
    """x + b; then the channel mean m_c + s (x - m_c); then the image mean m + k (x - m); b, s, k (N, 1, 1, 1)."""
    x = x + brightness
    channel_mean = x.mean(dim=1, keepdim=True)  # (N, 1, H, W): grey level per pixel
    x = channel_mean + saturation * (x - channel_mean)
    image_mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (N, 1, 1, 1)
    return image_mean + contrast * (x - image_mean)


def translate(x: Tensor, dx: Tensor, dy: Tensor) -> Tensor:
    """out[n, :, i, j] = x[n, :, i - dy_n, j - dx_n], 0 where that falls outside; dx, dy integer (N,)."""
    n, _, h, w = x.shape
    rows = torch.arange(h, device=x.device)[None, :] - dy[:, None]  # (N, H): source row of each row
    cols = torch.arange(w, device=x.device)[None, :] - dx[:, None]  # (N, W)
    inside = (((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :])  # (N, H, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    moved = x.permute(0, 2, 3, 1)[batch, rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None, :]]
    return moved.permute(0, 3, 1, 2) * inside[:, None].to(x.dtype)  # (N, C, H, W)


def cut_out(x: Tensor, cx: Tensor, cy: Tensor, size: int) -> Tensor:
    """Zero the size x size square whose rows are cy - size // 2 ... cy - size // 2 + size - 1 (and
    columns likewise from cx), clipped to the image; cx, cy integer (N,)."""
    _, _, h, w = x.shape
    rows = torch.arange(h, device=x.device)[None, :] - (cy[:, None] - size // 2)  # (N, H): row in square
    cols = torch.arange(w, device=x.device)[None, :] - (cx[:, None] - size // 2)
    inside = ((rows >= 0) & (rows < size))[:, :, None] & ((cols >= 0) & (cols < size))[:, None, :]
    return x * (~inside)[:, None].to(x.dtype)


def random_color(x: Tensor) -> Tensor:
    return adjust_color(x, _per_sample(x) - 0.5, 2 * _per_sample(x), _per_sample(x) + 0.5)


def random_translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shifts drawn uniformly from the integers in [-s, s], s = round(ratio * side), per axis and sample."""
    sy, sx = int(x.shape[2] * ratio + 0.5), int(x.shape[3] * ratio + 0.5)
    dy = torch.randint(-sy, sy + 1, (x.shape[0],), device=x.device)
    dx = torch.randint(-sx, sx + 1, (x.shape[0],), device=x.device)
    return translate(x, dx, dy)


def random_cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """A square of side round(ratio * side), its centre uniform over the image (it may be clipped)."""
    size = int(x.shape[2] * ratio + 0.5)
    cy = torch.randint(0, x.shape[2] + (1 - size % 2), (x.shape[0],), device=x.device)
    cx = torch.randint(0, x.shape[3] + (1 - size % 2), (x.shape[0],), device=x.device)
    return cut_out(x, cx, cy, size)


class DiffAugment:
    """T(x) for a policy such as "color,translation,cutout" or a list of those names (applied in the
    order given; the paper's code: color, translation, cutout).

    Images only (N, C, H, W); an empty policy is the identity."""

    def __init__(self, policy: str | Sequence[str] = "color,translation,cutout", translation_ratio: float = 0.125,
                 cutout_ratio: float = 0.5):
        items = (policy.split(",") if isinstance(policy, str) else list(policy)) if policy else []
        names = [str(name).strip() for name in items if str(name).strip()]
        unknown = [name for name in names if name not in POLICIES]
        if unknown:
            raise ValueError(f"tricks.diffaugment: unknown policy {', '.join(unknown)}; use a comma-separated "
                             f"subset of {', '.join(POLICIES)}")
        transforms = {"color": random_color,
                      "translation": lambda x: random_translation(x, translation_ratio),
                      "cutout": lambda x: random_cutout(x, cutout_ratio)}
        self.names = names
        self.transforms = [transforms[name] for name in names]

    def __call__(self, x: Tensor) -> Tensor:
        if self.transforms and x.dim() != 4:
            raise ValueError(f"DiffAugment transforms images (N, C, H, W), got shape {tuple(x.shape)}")
        for transform in self.transforms:
            x = transform(x)
        return x
