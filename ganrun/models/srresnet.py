"""SRResNet and the SRGAN discriminator (Ledig et al. 2017, Fig. 4).

G: 9x9 conv (width 64) + PReLU; `n_blocks` residual blocks (16 in the paper) of conv3-BN-PReLU-conv3-BN
with identity skips; conv3-BN plus the long skip; log2(scale) stages of conv3 (4 * width) +
PixelShuffle(2) + PReLU; a 9x9 conv to the image channels, linear output (images in [-1, 1]).
`bicubic_skip` (not in the paper; VDSR's global residual, Kim et al. 2016) adds the bicubic upsampling of
the input to that output, so G learns the residual (its last conv starts at zero): off by default, on in the CPU presets (a few hundred
steps do not get a from-scratch G past bicubic interpolation).
D: conv3 + LeakyReLU(0.2), then conv3-BN-LeakyReLU blocks alternating stride 1 and 2 with widths 64,
64, 128, 128, 256, 256, 512, 512 (`n_blocks` = 7 after the first conv), then the paper's dense 1024 +
LeakyReLU + dense 1, here after global average pooling so any input size works. N(0, 0.02) init.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganrun.models import init_weights


class SRBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.PReLU(),
                                   nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class SRResNet(nn.Module):
    def __init__(self, channels: int = 3, *, scale: int = 4, width: int = 64, n_blocks: int = 16,
                 bicubic_skip: bool = False) -> None:
        super().__init__()
        if scale < 2 or scale & (scale - 1):
            raise ValueError(f"SRResNet upsamples by PixelShuffle(2) stages: scale must be 2, 4, 8..., got {scale}")
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU())
        self.body = nn.Sequential(*[SRBlock(width) for _ in range(n_blocks)],
                                  nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width))
        stages: list[nn.Module] = []
        for _ in range(int(math.log2(scale))):
            stages += [nn.Conv2d(width, width * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU()]
        self.tail = nn.Sequential(*stages, nn.Conv2d(width, channels, 9, padding=4))
        self.scale, self.bicubic_skip = scale, bicubic_skip
        self.apply(init_weights)
        if bicubic_skip:  # G starts as the bicubic upsampling exactly
            nn.init.zeros_(self.tail[-1].weight)
            nn.init.zeros_(self.tail[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.head(x)  # (N, w, h, w)
        out = self.tail(head + self.body(head))  # (N, C, h * scale, w * scale)
        if self.bicubic_skip:
            out = out + F.interpolate(x, scale_factor=self.scale, mode="bicubic")
        return out


class SRDiscriminator(nn.Module):
    def __init__(self, channels: int = 3, *, width: int = 64, n_blocks: int = 7, hidden: int = 1024) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.LeakyReLU(0.2)]
        previous = width
        for i in range(n_blocks):
            current = width * 2 ** ((i + 1) // 2)  # 64, 128, 128, 256, 256, 512, 512
            layers += [nn.Conv2d(previous, current, 3, stride=1 + (i % 2 == 0), padding=1),
                       nn.BatchNorm2d(current), nn.LeakyReLU(0.2)]
            previous = current
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(nn.Conv2d(previous, hidden, 1), nn.LeakyReLU(0.2), nn.Conv2d(hidden, 1, 1))
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).flatten()  # (N,) raw scores
