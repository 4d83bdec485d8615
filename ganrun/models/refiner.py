"""SimGAN's refiner (Shrivastava et al. 2017, Sec. 4): a fully convolutional ResNet that keeps the size.

conv3x3 (width) + ReLU, `n_blocks` residual blocks of two 3x3 convs (4 in the paper, width 64), a 1x1
conv back to the image channels and tanh. No pooling or striding, so every output pixel stays local to
its input: the self-regularisation ||R(x) - x||_1 can then keep the annotation (the digit) unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from ganrun.models import init_weights
from ganrun.models.resnet_generator import ResidualBlock


class Refiner(nn.Module):
    def __init__(self, channels: int = 1, *, width: int = 64, n_blocks: int = 4, norm: str = "batch") -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(),
                                 *[ResidualBlock(width, norm, dropout=False) for _ in range(n_blocks)],
                                 nn.Conv2d(width, channels, 1), nn.Tanh())
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (N, C, H, W) -> (N, C, H, W) in [-1, 1]
