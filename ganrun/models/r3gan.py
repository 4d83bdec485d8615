"""The modernised ResNet of R3GAN (Huang et al. 2024, "The GAN is dead; long live the GAN! A Modern GAN
Baseline", section 4 and Figure 4), for square power-of-two images from 8 to 128 pixels.

Every stage is a run of 1-3-1 bottleneck residual blocks, x + conv1x1(act(gconv3x3(act(conv1x1(x))))),
with the 3x3 convolution grouped (ResNeXt's cardinality) and the hidden width `expansion` times the
stage's; LeakyReLU(0.2); no normalisation anywhere. Initialisation in the style of Fix-up (Zhang et al.
2019): each branch's last conv starts at zero (every block starts as the identity) and the others are
He-initialised and scaled by L^(-1/(2m-2)) = L^(-1/4), L the number of blocks, m = 3 layers per branch.
G: z -> a learned 4x4 basis modulated per channel by Linear(z) (the paper's generative basis), then per
stage a x2 bilinear upsampling and a 1x1 conv, then blocks; a 1x1 conv to C channels, no tanh (the
paper's G is linear at its output). D mirrors it: 1x1 conv from C, blocks, 2x2 mean pool then 1x1 conv
per stage, and at 4x4 a depthwise 4x4 conv (the discriminative basis) and Linear to one score.
Simplified against the paper's code: bilinear / mean-pool resampling instead of its [1, 2, 1] FIR filters,
one width for every stage, biases on every conv but the zero-initialised ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganrun.models import image_stages
from ganrun.models.layers import MinibatchStdDev, conditioned, label_head, latent_features, with_labels

SLOPE = 0.2  # LeakyReLU's negative slope


def _he(conv: nn.Conv2d | nn.Linear, scale: float = 1.0) -> None:
    """He (MSR) initialisation for LeakyReLU(0.2), times `scale`; biases zero."""
    fan_in = conv.weight[0].numel()
    gain = math.sqrt(2 / (1 + SLOPE ** 2))
    nn.init.normal_(conv.weight, 0.0, scale * gain / math.sqrt(fan_in))
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


class Bottleneck(nn.Module):
    """x + conv1x1(act(gconv3x3(act(conv1x1(x))))); `num_blocks` is the network's L for the Fix-up scale."""

    def __init__(self, channels: int, expansion: int, cardinality: int, num_blocks: int):
        super().__init__()
        hidden = channels * expansion
        if hidden % cardinality:
            raise ValueError(f"r3gan's grouped conv needs width * expansion ({hidden}) divisible by "
                             f"cardinality ({cardinality})")
        self.expand = nn.Conv2d(channels, hidden, 1)
        self.grouped = nn.Conv2d(hidden, hidden, 3, padding=1, groups=cardinality)
        self.project = nn.Conv2d(hidden, channels, 1, bias=False)
        self.act = nn.LeakyReLU(SLOPE)
        scale = num_blocks ** (-1 / 4)  # Fix-up: L^(-1/(2m-2)) with m = 3
        _he(self.expand, scale)
        _he(self.grouped, scale)
        nn.init.zeros_(self.project.weight)  # the branch starts at 0: the block is the identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.project(self.act(self.grouped(self.act(self.expand(x)))))


def _stage(width: int, blocks: int, expansion: int, cardinality: int, total: int) -> list[nn.Module]:
    return [Bottleneck(width, expansion, cardinality, total) for _ in range(blocks)]


class Generator(nn.Module):
    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 64, blocks_per_stage: int = 2,
                 expansion: int = 2, cardinality: int = 4, num_classes: int | None = None):
        super().__init__()
        stages = image_stages("r3gan", data_shape)
        total = (stages + 1) * blocks_per_stage
        self.num_classes = num_classes
        self.basis = nn.Parameter(torch.randn(width, 4, 4))  # the learned 4x4 generative basis
        self.modulate = nn.Linear(latent_features(latent_dim, num_classes), width)
        _he(self.modulate)
        layers: list[nn.Module] = _stage(width, blocks_per_stage, expansion, cardinality, total)
        for _ in range(stages):  # each: x2 bilinear, 1x1 conv, blocks
            transition = nn.Conv2d(width, width, 1)
            _he(transition)
            layers += [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), transition,
                       *_stage(width, blocks_per_stage, expansion, cardinality, total)]
        self.body = nn.Sequential(*layers)
        self.output = nn.Conv2d(width, data_shape[0], 1)
        _he(self.output)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = with_labels(z, labels, self.num_classes)  # (N, latent_dim [+ num_classes])
        x = self.basis[None] * self.modulate(z)[:, :, None, None]  # (N, width, 4, 4)
        return self.output(self.body(x))  # (N, C, H, W), linear output


class Discriminator(nn.Module):
    def __init__(self, data_shape: tuple[int, ...], width: int = 64, blocks_per_stage: int = 2, expansion: int = 2,
                 cardinality: int = 4, num_classes: int | None = None, auxiliary_classifier: bool = False,
                 minibatch_std: bool = False):
        super().__init__()
        stages = image_stages("r3gan", data_shape)
        total = (stages + 1) * blocks_per_stage
        extract = nn.Conv2d(data_shape[0], width, 1)
        _he(extract)
        layers: list[nn.Module] = [extract]
        for _ in range(stages):  # each: blocks, 2x2 mean pool, 1x1 conv
            transition = nn.Conv2d(width, width, 1)
            _he(transition)
            layers += [*_stage(width, blocks_per_stage, expansion, cardinality, total), nn.AvgPool2d(2), transition]
        layers += _stage(width, blocks_per_stage, expansion, cardinality, total)  # at 4x4
        layers += [MinibatchStdDev()] if minibatch_std else []
        self.body = nn.Sequential(*layers)
        channels = width + int(minibatch_std)
        self.basis = nn.Conv2d(channels, channels, 4, groups=channels)  # the discriminative basis: 4x4 -> 1x1
        _he(self.basis)
        self.output = nn.Linear(channels, 1)
        _he(self.output)
        self.label_head = label_head(num_classes, channels, auxiliary_classifier)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        features = self.basis(self.body(x)).flatten(1)  # (N, width [+ 1])
        return conditioned(self.label_head, self.output(features).squeeze(1), features, labels)  # (N,)
