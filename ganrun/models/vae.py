"""A convolutional VAE (Kingma & Welling 2014) built from the DCGAN family, for the GAN-vs-VAE baseline.

The encoder is DCGAN's discriminator body (stride-2 convolutions, LeakyReLU(0.2), BN after the first
layer) with a linear head giving the mean and log-variance of q(z|x) = N(mu, diag(exp(logvar))); the
decoder is DCGAN's generator itself, so the VAE and the GANs of a study share one decoder/generator
architecture and latent size. `VAE(z)` decodes, so sampling, EMA, `ganrun eval` and `ganrun sample`
treat it as any generator.
"""

from __future__ import annotations

import torch
from torch import nn

from ganrun.models import dcgan


class Encoder(nn.Module):
    """x (N, C, H, W) -> (mu, logvar), each (N, latent_dim)."""

    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 64, kernel_size: int = 5):
        super().__init__()
        body = dcgan.Discriminator(data_shape, width=width, kernel_size=kernel_size)
        self.body = body.downsample  # (N, width * 2^(n-1), 4, 4)
        features = body.output.in_channels * 4 * 4
        self.head = nn.Linear(features, 2 * latent_dim)
        # Start near the prior: a zero head gives mu = 0 and logvar = 0 (q = N(0, I)) for every x.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(self.body(x).flatten(1)).chunk(2, dim=1)
        return mu, logvar


class VAE(nn.Module):
    """encode(x) -> (mu, logvar); forward(z) = decoder(z), in [-1, 1] (DCGAN's tanh output)."""

    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 64, kernel_size: int = 5,
                 encoder_width: int | None = None):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = Encoder(latent_dim, data_shape, width=encoder_width or width, kernel_size=kernel_size)
        self.decoder = dcgan.Generator(latent_dim, data_shape, width=width, kernel_size=kernel_size)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z, labels)  # (the generator interface: an unconditional decoder takes no labels)
