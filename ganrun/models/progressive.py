"""Progressive growing of GANs (Karras et al. 2018): networks that grow from 4x4 to the image side.

Level l works at 4 * 2^l pixels. G: z (pixel-normalised) -> a dense layer to 4x4 and a 3x3 conv, then
per level an x2 nearest upsampling and two 3x3 convs, every conv followed by LeakyReLU(0.2) and pixel
norm; a 1x1 `toRGB` per level. D mirrors it: a 1x1 `fromRGB` per level, two 3x3 convs and a 2x2
average pool per level, then minibatch-stddev, a 3x3 conv, a dense layer and the linear score.
While level l fades in, the new level's output is blended with the upsampled output of level l - 1
(in D: the downsampled image through level l - 1's fromRGB) by alpha rising linearly from 0 to 1.
Every weight is stored ~ N(0, 1) and scaled at run time by He's constant (equalised learning rate).
`forward(z)` / `forward(x)` with no level is the grown network at full resolution.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganrun.models import image_stages
from ganrun.models.layers import MinibatchStdDev


def fade_in(alpha: float, old: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    """Karras et al. Sec. 3 / Fig. 2: (1 - alpha) * old + alpha * new."""
    return torch.lerp(old, new, alpha)


def he_scale(fan_in: int, gain: float = math.sqrt(2.0)) -> float:
    """Equalised learning rate (Karras et al. Sec. 4.1): w_hat = w * c, c = gain / sqrt(fan_in), w ~ N(0, 1)."""
    return gain / math.sqrt(fan_in)


class EqualizedConv2d(nn.Conv2d):
    """A conv whose stored weight is N(0, 1) and whose applied weight is weight * he_scale(fan_in); bias 0."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, gain: float = math.sqrt(2.0)):
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        nn.init.normal_(self.weight)
        nn.init.zeros_(self.bias)
        self.scale = he_scale(in_channels * kernel_size * kernel_size, gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.scale, self.bias)


class EqualizedLinear(nn.Linear):
    def __init__(self, in_features: int, out_features: int, gain: float = math.sqrt(2.0)):
        super().__init__(in_features, out_features)
        nn.init.normal_(self.weight)
        nn.init.zeros_(self.bias)
        self.scale = he_scale(in_features, gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class PixelNorm(nn.Module):
    """Karras et al. Sec. 4.2: b = a / sqrt(mean_j a_j^2 + 1e-8) over the channels of each pixel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)


def channels_at(level: int, levels: int, width: int, max_channels: int) -> int:
    """Feature maps at `level`: `width` at the last level, doubling towards 4x4, at most `max_channels`."""
    return min(max_channels, width * 2 ** (levels - 1 - level))


def resample(x: torch.Tensor, side: int) -> torch.Tensor:
    """Images to `side` pixels: average pooling down (the paper's downsampling), nearest up."""
    if x.shape[-1] > side:
        return F.avg_pool2d(x, x.shape[-1] // side)
    return F.interpolate(x, scale_factor=side // x.shape[-1], mode="nearest") if x.shape[-1] < side else x


def real_at(x: torch.Tensor, level_side: int, alpha: float) -> torch.Tensor:
    """What D sees of real images at this phase (Karras et al.'s code): x at the level's side, blended
    during fade-in with x at half that side, upsampled: lerp(up(down(x, s/2)), down(x, s), alpha)."""
    current = resample(x, level_side)
    if alpha >= 1.0 or level_side <= 4:
        return current
    return fade_in(alpha, resample(resample(x, level_side // 2), level_side), current)


def _conv(in_ch: int, out_ch: int, norm: bool) -> list[nn.Module]:
    return [EqualizedConv2d(in_ch, out_ch, 3), nn.LeakyReLU(0.2)] + ([PixelNorm()] if norm else [])


class Generator(nn.Module):
    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 16, max_channels: int = 512):
        super().__init__()
        self.levels = image_stages("progressive", data_shape, smallest=8, largest=1024) + 1
        ch = [channels_at(level, self.levels, width, max_channels) for level in range(self.levels)]
        self.start_channels = ch[0]
        # the paper's 4x4 block: dense to 4x4 (gain sqrt(2)/4 in their code), then a 3x3 conv
        self.dense = EqualizedLinear(latent_dim, ch[0] * 16, gain=math.sqrt(2.0) / 4)
        self.first = nn.Sequential(nn.LeakyReLU(0.2), PixelNorm(), *_conv(ch[0], ch[0], True))
        self.blocks = nn.ModuleList(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                                  *_conv(ch[i - 1], ch[i], True), *_conv(ch[i], ch[i], True))
                                    for i in range(1, self.levels))
        self.to_rgb = nn.ModuleList(EqualizedConv2d(c, data_shape[0], 1, gain=1.0) for c in ch)
        self.norm = PixelNorm()

    def forward(self, z: torch.Tensor, level: int | None = None, alpha: float = 1.0) -> torch.Tensor:
        level = self.levels - 1 if level is None else level
        x = self.dense(self.norm(z[:, :, None, None]).flatten(1)).view(len(z), self.start_channels, 4, 4)
        x = self.first(x)  # (N, ch[0], 4, 4)
        previous = x
        for block in self.blocks[:level]:
            previous, x = x, block(x)  # (N, ch[l], 4 * 2^l, 4 * 2^l)
        out = self.to_rgb[level](x)
        if level > 0 and alpha < 1.0:
            out = fade_in(alpha, resample(self.to_rgb[level - 1](previous), out.shape[-1]), out)
        return out  # linear output, as the paper's (no tanh)


class Discriminator(nn.Module):
    def __init__(self, data_shape: tuple[int, ...], width: int = 16, max_channels: int = 512):
        super().__init__()
        self.levels = image_stages("progressive", data_shape, smallest=8, largest=1024) + 1
        ch = [channels_at(level, self.levels, width, max_channels) for level in range(self.levels)]
        self.from_rgb = nn.ModuleList(nn.Sequential(EqualizedConv2d(data_shape[0], c, 1), nn.LeakyReLU(0.2))
                                      for c in ch)
        # blocks[l - 1] takes level l's maps (ch[l]) down to level l - 1's side and channels (ch[l - 1])
        self.blocks = nn.ModuleList(nn.Sequential(*_conv(ch[i], ch[i], False), *_conv(ch[i], ch[i - 1], False),
                                                  nn.AvgPool2d(2))
                                    for i in range(1, self.levels))
        self.last = nn.Sequential(MinibatchStdDev(), *_conv(ch[0] + 1, ch[0], False), nn.Flatten(),
                                  EqualizedLinear(ch[0] * 16, ch[0]), nn.LeakyReLU(0.2),
                                  EqualizedLinear(ch[0], 1, gain=1.0))

    def forward(self, x: torch.Tensor, level: int | None = None, alpha: float = 1.0) -> torch.Tensor:
        level = self.levels - 1 if level is None else level
        h = self.from_rgb[level](x)
        if level > 0:
            h = self.blocks[level - 1](h)  # (N, ch[l-1], side / 2, side / 2)
            if alpha < 1.0:
                h = fade_in(alpha, self.from_rgb[level - 1](F.avg_pool2d(x, 2)), h)
            for block in reversed(self.blocks[:level - 1]):
                h = block(h)
        return self.last(h).flatten()  # (N,)
