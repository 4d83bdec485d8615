"""DCGAN (Radford et al. 2016) for any square power-of-two resolution from 8 to 128.

G projects z to a 4x4 map with width * 2^(n-1) channels, then n = log2(resolution / 4) stride-2
transposed convolutions each double the side and halve the channels; the last one gives C channels
and tanh. For 64x64 images and width 64 this is the paper's 4x4x512 -> 8x8x256 -> 16x16x128 ->
32x32x64 -> 64x64xC. D mirrors it with stride-2 convolutions and LeakyReLU(0.2), and BN on every
layer except the first (`norm`: batch, layer, instance or none). Both start from the paper's N(0, 0.02) initialization.
"""

from __future__ import annotations

import torch
from torch import nn

from ganrun.models import image_stages, init_weights
from ganrun.models.layers import (MinibatchStdDev, conditioned, label_head, latent_features, normalization,
                                  with_labels)


def _same_padding(kernel_size: int) -> tuple[int, int]:
    """(padding, output_padding) so a stride-2 conv exactly halves an even side and a stride-2
    transposed conv exactly doubles it: out = 2 * in - 2 - 2p + k + op = 2 * in needs
    op = 2 + 2p - k, which with p = (k - 1) // 2 is 1 for odd k (5: the paper) and 0 for even k (4)."""
    if kernel_size < 2:
        raise ValueError(f"dcgan needs kernel_size >= 2 for its stride-2 layers, got {kernel_size}")
    padding = (kernel_size - 1) // 2
    return padding, 2 + 2 * padding - kernel_size


def _channels(width: int, stages: int) -> list[int]:
    """Hidden widths from the 4x4 end outwards: width * 2^(stages-1), ..., width * 2, width."""
    return [width * 2 ** (stages - 1 - i) for i in range(stages)]


class Generator(nn.Module):
    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 64, kernel_size: int = 5,
                 num_classes: int | None = None):
        super().__init__()
        stages = image_stages("dcgan", data_shape)
        padding, output_padding = _same_padding(kernel_size)
        self.data_shape = tuple(data_shape)
        self.num_classes = num_classes
        hidden = _channels(width, stages)
        self.start_channels = hidden[0]
        # No biases before BN: BN subtracts each channel's batch mean, which cancels them.
        self.project = nn.Linear(latent_features(latent_dim, num_classes), hidden[0] * 4 * 4, bias=False)
        self.start = nn.Sequential(nn.BatchNorm2d(hidden[0]), nn.ReLU())
        layers: list[nn.Module] = []
        for i, (in_ch, out_ch) in enumerate(zip(hidden, hidden[1:] + [self.data_shape[0]])):
            is_last = i == stages - 1
            layers.append(nn.ConvTranspose2d(in_ch, out_ch, kernel_size, stride=2, padding=padding,
                                             output_padding=output_padding, bias=is_last))
            layers += [nn.Tanh()] if is_last else [nn.BatchNorm2d(out_ch), nn.ReLU()]
        self.upsample = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = with_labels(z, labels, self.num_classes)  # (N, latent_dim [+ num_classes])
        x = self.project(z).view(z.shape[0], self.start_channels, 4, 4)  # (N, width*2^(n-1), 4, 4)
        return self.upsample(self.start(x))  # (N, C, H, W), in [-1, 1]


class Discriminator(nn.Module):
    def __init__(self, data_shape: tuple[int, ...], width: int = 64, kernel_size: int = 5,
                 num_classes: int | None = None, auxiliary_classifier: bool = False, minibatch_std: bool = False,
                 norm: str = "batch"):
        super().__init__()
        stages = image_stages("dcgan", data_shape)
        padding, _ = _same_padding(kernel_size)
        hidden = _channels(width, stages)[::-1]  # width, 2*width, ... towards the 4x4 end
        layers: list[nn.Module] = []
        for i, (in_ch, out_ch) in enumerate(zip([data_shape[0]] + hidden[:-1], hidden)):
            # The paper leaves BN off D's input layer: BN on every layer gave oscillating samples
            # and instability. Convs followed by a normalization need no bias (see Generator).
            normalized = i > 0 and norm != "none"
            layers.append(nn.Conv2d(in_ch, out_ch, kernel_size, stride=2, padding=padding, bias=not normalized))
            if normalized:
                layers.append(normalization(norm, out_ch))
            layers.append(nn.LeakyReLU(0.2))
        # Karras et al. append the batch's stddev map before the last layer, where D still has the
        # capacity to use it.
        layers += [MinibatchStdDev()] if minibatch_std else []
        self.downsample = nn.Sequential(*layers)
        channels = hidden[-1] + int(minibatch_std)
        # A 4x4 valid convolution over the 4x4 map: a linear layer to one logit.
        self.output = nn.Conv2d(channels, 1, 4)
        self.label_head = label_head(num_classes, channels * 4 * 4, auxiliary_classifier)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        features = self.downsample(x)  # (N, width*2^(n-1) [+ 1], 4, 4)
        return conditioned(self.label_head, self.output(features).flatten(), features.flatten(1), labels)  # (N,)
