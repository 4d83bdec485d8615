"""Spatio-temporal pieces the video GANs share: 3-D (de)convolution stacks, the 3-D conv D, the
samplers S_1 / S_T of MoCoGAN and VGAN's compositing and mask prior.

Clips are (N, C, T, H, W) in [-1, 1]. A stack of n = log2(R / 4) stages goes between 4x4 and R x R;
time is halved (or doubled) by the stages nearest the clip until it reaches 1 (or T), so T must be a
power of two; kernels are 4 x 4 x 4 with stride 2 (Vondrick et al. 2016) where time changes, 3 x 4 x 4
with temporal stride 1 elsewhere.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ganrun.models import image_stages, init_weights


def video_stages(family: str, data_shape: tuple[int, ...]) -> tuple[int, int]:
    """(n spatial stages, k of them that also resample time) for clips of shape (C, T, R, R)."""
    if len(data_shape) != 4:
        raise ValueError(f"{family} makes clips of shape (C, T, H, W), got data of shape {tuple(data_shape)}; "
                         "use a video dataset (moving_mnist, weizmann_actions, video_folder)")
    channels, frames, height, width = data_shape
    stages = image_stages(family, (channels, height, width))
    if frames < 2 or frames & (frames - 1):
        raise ValueError(f"{family} needs a power-of-two clip length >= 2, got dataset.frames={frames}")
    return stages, min(stages, int(math.log2(frames)))


def _temporal(resample: bool) -> dict:
    return dict(kernel_size=(4 if resample else 3, 4, 4), stride=(2 if resample else 1, 2, 2),
                padding=(1, 1, 1))


def widths(width: int, stages: int) -> list[int]:
    """Hidden channels from the 4x4 end outwards (DCGAN's doubling): width * 2^(n-1), ..., width."""
    return [width * 2 ** (stages - 1 - i) for i in range(stages)]


class UpVolume(nn.Module):
    """z (N, L) -> features (N, width, T/2, R/2, R/2): a projection to (t0, 4, 4), then n - 1 transposed
    3-D convolutions with BN + ReLU; the last stage (to (T, R, R)) is the caller's output heads."""

    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int) -> None:
        super().__init__()
        stages, timed = video_stages("a video generator", data_shape)
        hidden = widths(width, stages)
        self.start_shape = (hidden[0], data_shape[1] // 2 ** timed, 4, 4)
        self.project = nn.Linear(latent_dim, math.prod(self.start_shape), bias=False)
        layers: list[nn.Module] = [nn.BatchNorm3d(hidden[0]), nn.ReLU()]
        for i, (a, b) in enumerate(zip(hidden, hidden[1:])):
            layers += [nn.ConvTranspose3d(a, b, bias=False, **_temporal(i >= stages - timed)),
                       nn.BatchNorm3d(b), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.last = _temporal(timed > 0)  # the output heads' layer arguments
        self.out_width = hidden[-1]

    def forward(self, z: Tensor) -> Tensor:
        return self.body(self.project(z).view(len(z), *self.start_shape))


class VideoDiscriminator(nn.Module):
    """The 3-D conv D (Vondrick et al. 2016; MoCoGAN's D_V): strided 3-D convs + LeakyReLU(0.2), BN on
    every layer but the first, then a (t, 4, 4) valid conv to one logit per clip: (N,). With
    `num_classes` (MoCoGAN's categorical z_A) the last conv has 1 + K outputs: (N, 1 + K), the logit first."""

    def __init__(self, data_shape: tuple[int, ...], width: int = 64, num_classes: int | None = None) -> None:
        super().__init__()
        stages, timed = video_stages("the video discriminator", data_shape)
        hidden = widths(width, stages)[::-1]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip([data_shape[0]] + hidden[:-1], hidden)):
            layers.append(nn.Conv3d(a, b, bias=i == 0, **_temporal(i < timed)))
            layers += ([nn.BatchNorm3d(b)] if i > 0 else []) + [nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers)
        self.num_classes = num_classes
        self.output = nn.Conv3d(hidden[-1], 1 + (num_classes or 0), (data_shape[1] // 2 ** timed, 4, 4))
        self.apply(init_weights)

    def forward(self, clips: Tensor) -> Tensor:
        out = self.output(self.body(clips)).flatten(1)  # (N, 1 + K)
        return out if self.num_classes else out[:, 0]


def composite(mask: Tensor, foreground: Tensor, background: Tensor) -> Tensor:
    """VGAN's two streams (Vondrick et al. 2016, eq. 2): m ⊙ f + (1 − m) ⊙ b, the static background
    b (N, C, H, W) replicated over time; m (N, 1, T, H, W) in [0, 1], f (N, C, T, H, W)."""
    return mask * foreground + (1 - mask) * background.unsqueeze(2)


def mask_sparsity(mask: Tensor, weight: float) -> Tensor:
    """VGAN's mask prior λ‖m‖₁ (Vondrick et al. 2016, sec. 3.1), as λ times the mean |m| per element so λ
    does not change with the clip's size (the paper: λ = 0.1)."""
    return weight * mask.abs().mean()


def frames_at(clips: Tensor, index: Tensor) -> Tensor:
    """MoCoGAN's S_1: frame index[i] of clip i, (N, C, T, H, W) -> (N, C, H, W)."""
    return clips[torch.arange(len(clips), device=clips.device), :, index]


def random_frames(clips: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """S_1 with a uniform frame per clip (drawn on the CPU so any device gives the same frames)."""
    return frames_at(clips, torch.randint(clips.shape[2], (len(clips),), generator=generator).to(clips.device))
