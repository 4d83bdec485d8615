"""The ResNet G and D of the WGAN-GP paper (Gulrajani et al. 2017, `gan_cifar_resnet.py`), for any
square power-of-two resolution from 8 to 128.

G: Linear(z -> width x 4 x 4), log2(resolution / 4) residual up-blocks, BN, ReLU, conv3x3 to C, tanh.
D: an "optimized" first down-block, plain down-blocks until the map is 8x8, two blocks without
resampling, ReLU, global mean over space, Linear to one logit. No normalization in D, since the
gradient penalty is defined per sample and batch norm would mix the samples. At 32x32 this is
exactly the paper's 3 up-blocks, and 1 optimized + 1 down + 2 plain blocks.
Weights keep PyTorch's default init; the paper's code uses its own He/Glorot uniform init.
"""

from __future__ import annotations

import torch
from torch import nn

from ganrun.models import image_stages
from ganrun.models.layers import MinibatchStdDev, conditioned, label_head, latent_features, with_labels


def _conv3x3(in_ch: int, out_ch: int, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=bias)


class UpBlock(nn.Module):
    """G's block: BN, ReLU, nearest x2, conv3x3, BN, ReLU, conv3x3; shortcut nearest x2 + conv1x1.

    No biases: every tensor in G's residual stream ends in a batch-normalized layer (the next
    block's BN or G's output BN), which subtracts the batch mean, so a bias here would never get a
    gradient in training and would stay a constant that BN removes anyway.
    """

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.residual = nn.Sequential(
            nn.BatchNorm2d(in_ch), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"),
            _conv3x3(in_ch, out_ch, bias=False),
            nn.BatchNorm2d(out_ch), nn.ReLU(), _conv3x3(out_ch, out_ch, bias=False))
        self.shortcut = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                      nn.Conv2d(in_ch, out_ch, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.residual(x)  # (N, out_ch, 2H, 2W)


class DownBlock(nn.Module):
    """D's block: ReLU, conv3x3, ReLU, conv3x3, then (when `downsample`) a 2x2 mean pool.

    The shortcut is conv1x1 + mean pool when the block resamples and the identity when it does not
    (the paper's blocks keep D's width throughout, so only resampling changes the shape)."""

    def __init__(self, in_ch: int, out_ch: int, downsample: bool):
        super().__init__()
        pool = [nn.AvgPool2d(2)] if downsample else []
        self.residual = nn.Sequential(nn.ReLU(), _conv3x3(in_ch, in_ch),
                                      nn.ReLU(), _conv3x3(in_ch, out_ch), *pool)
        needs_projection = downsample or in_ch != out_ch
        self.shortcut = (nn.Sequential(nn.Conv2d(in_ch, out_ch, 1), *pool) if needs_projection
                         else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.residual(x)


class OptimizedDownBlock(nn.Module):
    """D's first block: no ReLU before the first conv, since the input is an image, not features
    (conv3x3, ReLU, conv3x3, mean pool); shortcut mean pool + conv1x1."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.residual = nn.Sequential(_conv3x3(in_ch, out_ch), nn.ReLU(),
                                      _conv3x3(out_ch, out_ch), nn.AvgPool2d(2))
        self.shortcut = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(in_ch, out_ch, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.residual(x)  # (N, out_ch, H/2, W/2)


class Generator(nn.Module):
    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 128,
                 num_classes: int | None = None):
        super().__init__()
        stages = image_stages("resnet", data_shape)
        self.width = width
        self.num_classes = num_classes
        # No bias: the first block's BN and its shortcut's path to the output BN cancel it (UpBlock).
        self.project = nn.Linear(latent_features(latent_dim, num_classes), width * 4 * 4, bias=False)
        self.blocks = nn.Sequential(*[UpBlock(width, width) for _ in range(stages)])
        self.output = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(),
                                    _conv3x3(width, data_shape[0]), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = with_labels(z, labels, self.num_classes)  # (N, latent_dim [+ num_classes])
        x = self.project(z).view(z.shape[0], self.width, 4, 4)  # (N, width, 4, 4)
        return self.output(self.blocks(x))  # (N, C, H, W), in [-1, 1]


class Discriminator(nn.Module):
    def __init__(self, data_shape: tuple[int, ...], width: int = 128, num_classes: int | None = None,
                 auxiliary_classifier: bool = False, minibatch_std: bool = False):
        super().__init__()
        stages = image_stages("resnet", data_shape)
        # The optimized block halves once; plain down-blocks halve on until 8x8 (none at 8 or 16).
        num_down = max(stages - 2, 0)
        # The minibatch stddev map goes in before the last block (Karras et al.: before D's last layers).
        batch_std = [MinibatchStdDev()] if minibatch_std else []
        self.blocks = nn.Sequential(
            OptimizedDownBlock(data_shape[0], width),
            *[DownBlock(width, width, downsample=True) for _ in range(num_down)],
            DownBlock(width, width, downsample=False),
            *batch_std,
            DownBlock(width + len(batch_std), width, downsample=False),
            nn.ReLU())
        self.output = nn.Linear(width, 1)
        self.label_head = label_head(num_classes, width, auxiliary_classifier)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """D's penultimate features (N, width[+1]): the blocks' output, averaged over space."""
        return self.blocks(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        features = self.features(x)  # (N, width): global mean over space
        return conditioned(self.label_head, self.output(features).squeeze(1), features, labels)  # (N,)
