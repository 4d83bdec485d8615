"""PatchGAN discriminators (Isola et al. 2017, Sec. 3.2.2; the reference's `NLayerDiscriminator`).

C64 (no norm) - C128 - C256 ... with 4x4 convs: `n_layers` of stride 2, one of stride 1, then a
stride-1 conv to one channel: an (N, 1, H', W') map of raw scores, each judging one patch. With
n_layers = 3 a score sees 70 x 70 pixels (`receptive_field`); at smaller images fewer layers keep the
patch the same fraction of the image (n_layers = 2: 34 px, 1: 16 px). Widths width * min(2^i, 8),
LeakyReLU(0.2), N(0, 0.02) init. `ConditionalPatchGAN` is pix2pix's D: it judges the pair
(input, output) stacked along channels.
"""

from __future__ import annotations

import torch
from torch import nn

from ganrun.models import init_weights
from ganrun.models.norms import norm_layer, uses_bias


def receptive_field(n_layers: int) -> int:
    """Pixels one score sees: two stride-1 4x4 convs (4, then 4 + 3), then n_layers stride-2 4x4 convs."""
    field = 7
    for _ in range(n_layers):
        field = (field - 1) * 2 + 4
    return field


def smallest_input(n_layers: int) -> int:
    """The least image side giving a score map of at least 1 x 1: S / 2^n - 2 >= 1."""
    return 3 * 2 ** n_layers


class PatchGAN(nn.Module):
    def __init__(self, in_channels: int, *, width: int = 64, n_layers: int = 3, norm: str = "batch",
                 size: int | None = None) -> None:
        super().__init__()
        if size is not None and size < smallest_input(n_layers):
            raise ValueError(f"a PatchGAN with n_layers={n_layers} needs images of at least {smallest_input(n_layers)} "
                             f"px, got {size}: lower n_layers")
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        previous = width
        for i in range(1, n_layers + 1):
            current = width * min(2 ** i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(previous, current, 4, stride=stride, padding=1, bias=bias),
                       norm_layer(norm, current), nn.LeakyReLU(0.2)]
            previous = current
        layers.append(nn.Conv2d(previous, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (N, C, S, S) -> (N, 1, H', W') raw patch scores


class ConditionalPatchGAN(nn.Module):
    """pix2pix's D(x, y): a PatchGAN (built for in + out channels) on the input x and the (real or
    translated) output y, concatenated along channels."""

    def __init__(self, patchgan: nn.Module) -> None:
        super().__init__()
        self.patchgan = patchgan

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return self.patchgan(torch.cat([condition, image], dim=1))
