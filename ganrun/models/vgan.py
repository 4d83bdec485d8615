"""VGAN (Vondrick, Pirsiavash & Torralba 2016, "Generating Videos with Scene Dynamics").

G has two streams from one z: a 3-D transposed-conv stream for a moving foreground f (tanh) and its
mask m (sigmoid), sharing every layer but the last, and a 2-D transposed-conv stream for a static
background b (tanh); the clip is m ⊙ f + (1 − m) ⊙ b. The paper's G: z (100) -> 512 x 2 x 4 x 4 ->
... -> 3 x 32 x 64 x 64, background 512 x 4 x 4 -> ... -> 3 x 64 x 64. D is the 3-D conv D of video.py.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganrun.models import init_weights
from ganrun.models.dcgan import Generator as ImageGenerator
from ganrun.models.video import UpVolume, VideoDiscriminator, composite


class Generator(nn.Module):
    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 64) -> None:
        super().__init__()
        channels, _, height, width_px = data_shape
        self.data_shape, self.latent_dim = tuple(data_shape), latent_dim
        self.volume = UpVolume(latent_dim, data_shape, width)
        self.foreground = nn.Sequential(nn.ConvTranspose3d(self.volume.out_width, channels, **self.volume.last),
                                        nn.Tanh())
        self.mask = nn.Sequential(nn.ConvTranspose3d(self.volume.out_width, 1, **self.volume.last), nn.Sigmoid())
        self.background = ImageGenerator(latent_dim, (channels, height, width_px), width=width, kernel_size=4)
        self.apply(init_weights)

    def streams(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """z (N, L) -> foreground (N, C, T, H, W), mask (N, 1, T, H, W), background (N, C, H, W)."""
        features = self.volume(z)
        return self.foreground(features), self.mask(features), self.background(z)

    def sample_clips(self, count: int, *, noise: torch.Generator | None = None, labels: Tensor | None = None,
                     frames: int | None = None) -> Tensor:
        """`count` clips from z ~ N(0, I) drawn with `noise` (what `ganrun sample` calls); VGAN's clip
        length is fixed by its architecture."""
        if labels is not None or frames not in (None, self.data_shape[1]):
            raise ValueError(f"VGAN makes unlabelled clips of {self.data_shape[1]} frames only")
        device = next(self.parameters()).device
        return self(torch.randn(count, self.latent_dim, generator=noise).to(device))

    def forward(self, z: Tensor, streams: bool = False) -> Tensor | tuple[Tensor, Tensor, Tensor]:
        """The clip (N, C, T, H, W) in [-1, 1]; with `streams`, (foreground, mask, background) instead."""
        foreground, mask, background = self.streams(z)
        return (foreground, mask, background) if streams else composite(mask, foreground, background)


Discriminator = VideoDiscriminator
