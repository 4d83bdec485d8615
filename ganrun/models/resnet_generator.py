"""CycleGAN's ResNet generator (Zhu et al. 2017, Appendix 7.2; Johnson et al. 2016's transformer net).

c7s1-w, d2w, d4w, R4w x n_blocks, u2w, uw, c7s1-C: a reflection-padded 7x7 conv, two stride-2 3x3
convs, `n_blocks` residual blocks (6 for 128 px, 9 for 256 px in the paper), two stride-2 transposed
convs, a 7x7 conv and tanh; norm + ReLU after every conv but the last. N(0, 0.02) init.
"""

from __future__ import annotations

import torch
from torch import nn

from ganrun.models import init_weights
from ganrun.models.norms import norm_layer, uses_bias


class ResidualBlock(nn.Module):
    """x + (pad, conv3, norm, ReLU, [dropout], pad, conv3, norm)(x), reflection padding."""

    def __init__(self, channels: int, norm: str, dropout: bool) -> None:
        super().__init__()
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias),
                                   norm_layer(norm, channels), nn.ReLU()]
        layers += [nn.Dropout(0.5)] if dropout else []
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels)]
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, *, width: int = 64, n_blocks: int = 9,
                 norm: str = "instance", dropout: bool = False, size: int | None = None) -> None:
        super().__init__()
        if size is not None and size % 4:
            raise ValueError(f"the ResNet generator halves the image twice: its side must be a multiple of 4, got {size}")
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7, bias=bias),
                                   norm_layer(norm, width), nn.ReLU()]
        for m in (1, 2):  # d2w, d4w
            layers += [nn.Conv2d(width * m, width * m * 2, 3, stride=2, padding=1, bias=bias),
                       norm_layer(norm, width * m * 2), nn.ReLU()]
        layers += [ResidualBlock(width * 4, norm, dropout) for _ in range(n_blocks)]
        for m in (4, 2):  # u2w, uw
            layers += [nn.ConvTranspose2d(width * m, width * m // 2, 3, stride=2, padding=1, output_padding=1,
                                          bias=bias), norm_layer(norm, width * m // 2), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (N, in, S, S) -> (N, out, S, S) in [-1, 1]
