"""pix2pix's U-Net generator (Isola et al. 2017, Sec. 3.1.1 and the reference's `UnetGenerator`).

`num_downs` stride-2 4x4 convolutions take an S x S image down to S / 2^num_downs (1 x 1 when
num_downs = log2 S, the default: 8 at 256 px); as many transposed convolutions come back up, and
every decoder level gets the encoder's map of the same size concatenated (the skips). Widths from the
outside in are width * (1, 2, 4, 8, 8, ...); the levels whose in and out widths are both width * 8
(num_downs - 5 of them) have Dropout(0.5) after their decoder norm: pix2pix's only noise, also at test
time in the paper. Encoder: LeakyReLU(0.2), conv, norm (none on the outermost conv nor the innermost);
decoder: ReLU, transposed conv, norm (none on the outermost, which ends in tanh). N(0, 0.02) init.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

from ganrun.models import init_weights
from ganrun.models.norms import norm_layer, uses_bias


class Level(nn.Module):
    """One U-Net level around `inner` (the levels below it, or None at the bottom): x -> [x, up(inner(down(x)))],
    except the outermost, which returns up(...) alone."""

    def __init__(self, outer: int, inner: int, sub: Optional[nn.Module], *, norm: str, dropout: bool,
                 outermost: bool = False, in_channels: Optional[int] = None) -> None:
        super().__init__()
        bias = uses_bias(norm)
        in_channels = outer if in_channels is None else in_channels
        down: list[nn.Module] = [] if outermost else [nn.LeakyReLU(0.2)]
        down.append(nn.Conv2d(in_channels, inner, 4, stride=2, padding=1, bias=bias))
        if sub is not None and not outermost:
            down.append(norm_layer(norm, inner))
        up_in = inner if sub is None else inner * 2  # the level below returns [x, up(...)]
        up: list[nn.Module] = [nn.ReLU(), nn.ConvTranspose2d(up_in, outer, 4, stride=2, padding=1,
                                                              bias=bias or outermost)]
        up += [nn.Tanh()] if outermost else [norm_layer(norm, outer)] + ([nn.Dropout(0.5)] if dropout else [])
        self.outermost = outermost
        self.model = nn.Sequential(*down, *([sub] if sub is not None else []), *up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], dim=1)  # the skip: (N, outer + outer, H, W)


class UNet(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, *, size: int, width: int = 64,
                 num_downs: Optional[int] = None, norm: str = "batch", dropout: bool = True) -> None:
        super().__init__()
        num_downs = int(math.log2(size)) if num_downs is None else num_downs
        if num_downs < 2 or size % 2 ** num_downs:
            raise ValueError(f"a U-Net with num_downs={num_downs} needs images whose side is a multiple of "
                             f"{2 ** num_downs}, got {size}; set dataset.crop_size to a power of two >= 4")
        widths = [width * min(2 ** i, 8) for i in range(num_downs)]  # level i: outer widths[i-1], inner widths[i]
        level: Optional[nn.Module] = None
        for i in range(num_downs - 1, 0, -1):  # from the bottom up
            innermost = level is None
            level = Level(widths[i - 1], widths[i], level, norm=norm,
                          dropout=dropout and not innermost and widths[i - 1] == widths[i] == width * 8)
        self.net = Level(out_channels, widths[0], level, norm=norm, dropout=False, outermost=True,
                         in_channels=in_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (N, in, S, S) -> (N, out, S, S) in [-1, 1]
