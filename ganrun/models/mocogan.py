"""MoCoGAN (Tulyakov, Liu, Yang & Kautz 2018, "Decomposing Motion and Content for Video Generation").

A clip's latent path is [z_C, z_A, z_M^(t)] for t = 1..T: the content z_C ~ N(0, I) is drawn once
and repeated, the optional action z_A is a one-hot category repeated, and the motion z_M^(t) = h_t
comes from a GRU cell R_M, h_t = GRU(ε_t, h_{t-1}), with h_0 and every ε_t ~ N(0, I) (the authors'
code). One image generator G_I (DCGAN-style, 4x4 kernels as in their code) maps each frame's latent
to a frame, so T is free at sampling time. D_I (a DCGAN D) judges single frames S_1(v), D_V (the
3-D conv D) clips S_T(v); with categories D_V also classifies the action (their
CategoricalVideoDiscriminator). The paper's sizes: |z_C| = 50, |z_M| = 10, 64x64, T = 16.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.functional import one_hot

from ganrun.models.dcgan import Discriminator as ImageDiscriminator
from ganrun.models.dcgan import Generator as ImageGenerator
from ganrun.models.video import VideoDiscriminator


class Generator(nn.Module):
    def __init__(self, data_shape: tuple[int, ...], content_dim: int = 50, motion_dim: int = 10,
                 num_classes: int | None = None, width: int = 64) -> None:
        super().__init__()
        channels, frames, height, width_px = data_shape
        self.data_shape, self.frames = tuple(data_shape), frames
        self.content_dim, self.motion_dim, self.num_classes = content_dim, motion_dim, num_classes
        self.recurrent = nn.GRUCell(motion_dim, motion_dim)
        self.image = ImageGenerator(content_dim + motion_dim + (num_classes or 0), (channels, height, width_px),
                                    width=width, kernel_size=4)

    def latents(self, count: int, frames: int | None = None, device: torch.device | str = "cpu",
                generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """z_C (N, content_dim) and the motion noise (N, 1 + T, motion_dim): h_0, then ε_1..ε_T."""
        frames = frames or self.frames
        content = torch.randn(count, self.content_dim, generator=generator, device=device)
        return content, torch.randn(count, 1 + frames, self.motion_dim, generator=generator, device=device)

    def sample_clips(self, count: int, *, noise: torch.Generator | None = None, labels: Tensor | None = None,
                     frames: int | None = None) -> Tensor:
        """`count` clips of `frames` frames (the training length by default: any length works) from
        latents drawn with `noise` (what `ganrun sample` calls)."""
        device = next(self.parameters()).device
        content, motion = self.latents(count, frames, generator=noise)
        return self(content.to(device), motion.to(device), None if labels is None else labels.to(device))

    def motion(self, noise: Tensor) -> Tensor:
        """R_M: noise (N, 1 + T, M) -> z_M (N, T, M), h_t = GRU(ε_t, h_{t-1})."""
        h, codes = noise[:, 0], []
        for t in range(1, noise.shape[1]):
            h = self.recurrent(noise[:, t], h)
            codes.append(h)
        return torch.stack(codes, dim=1)

    def forward(self, content: Tensor, motion_noise: Tensor, labels: Tensor | None = None) -> Tensor:
        """(N, C, T, H, W) in [-1, 1], T = motion_noise.shape[1] - 1."""
        codes = self.motion(motion_noise)  # (N, T, M)
        count, frames = codes.shape[:2]
        parts = [content[:, None].expand(-1, frames, -1), codes]
        if self.num_classes:
            if labels is None:
                raise ValueError(f"this MoCoGAN generator has {self.num_classes} action categories: pass labels")
            parts.append(one_hot(labels, self.num_classes).to(codes.dtype)[:, None].expand(-1, frames, -1))
        images = self.image(torch.cat(parts, dim=2).flatten(0, 1))  # (N*T, C, H, W)
        return images.unflatten(0, (count, frames)).transpose(1, 2)


def image_discriminator(data_shape: tuple[int, ...], width: int = 64) -> ImageDiscriminator:
    """D_I on frames of clips of shape (C, T, H, W)."""
    channels, _, height, width_px = data_shape
    return ImageDiscriminator((channels, height, width_px), width=width, kernel_size=4)


def video_discriminator(data_shape: tuple[int, ...], width: int = 64,
                        num_classes: int | None = None) -> VideoDiscriminator:
    """D_V on clips; with num_classes its output is (N, 1 + K), the logit first."""
    return VideoDiscriminator(data_shape, width=width, num_classes=num_classes)
