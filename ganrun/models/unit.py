"""UNIT / CoVAE-GAN (Liu, Breuel & Kautz 2017) networks: two VAEs tied by weight sharing.

E1 = E_H o E_L1 and E2 = E_H o E_L2: each domain's private first `private_layers` stride-2 convolutions
(E_Li, on the image side), then the shared last layers E_H ending in two 3x3 heads,
the mean and log-variance of q(z|x) over a spatial latent (latent_dim channels at side / 2^downsamplings).
G1 = G_L1 o G_H and G2 = G_L2 o G_H mirror them: a shared first 3x3 convolution and upsamplings, then
each domain's private last transposed convolutions (the last with tanh). A shared part is one module, so
its parameters exist once and receive the gradients of both domains (as CoGAN's, models/cogan.py).
Translation A -> B is G2(z), z ~ q1(z|a); evaluation uses the posterior mean (the authors' code).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganrun.models import init_weights


def _check(data_shape: tuple[int, ...], downsamplings: int, private_layers: int) -> None:
    if len(data_shape) != 3 or data_shape[-1] != data_shape[-2] or data_shape[-1] % 2 ** downsamplings:
        raise ValueError(f"unit needs square (C, H, W) images with a side divisible by 2^{downsamplings}, "
                         f"got data_shape={tuple(data_shape)}")
    if not 1 <= private_layers <= downsamplings:
        raise ValueError(f"unit needs 1 <= private_layers <= downsamplings={downsamplings}, got {private_layers}")


def _hidden(width: int, downsamplings: int) -> list[int]:
    """Channels after each stride-2 convolution: width, 2 width, 4 width ..."""
    return [width * 2 ** i for i in range(downsamplings)]


class CoupledEncoder(nn.Module):
    """`E(x, i)` -> (mu, logvar) of q_i(z|x), each (N, latent_dim, S / 2^d, S / 2^d)."""

    def __init__(self, data_shape: tuple[int, ...], latent_dim: int, width: int = 64, downsamplings: int = 2,
                 private_layers: int = 1):
        super().__init__()
        _check(data_shape, downsamplings, private_layers)
        hidden = _hidden(width, downsamplings)
        ins = [data_shape[0]] + hidden[:-1]

        def block(i: int) -> list[nn.Module]:
            norm = [nn.InstanceNorm2d(hidden[i], affine=True)] if i > 0 else []
            return [nn.Conv2d(ins[i], hidden[i], 4, stride=2, padding=1), *norm, nn.LeakyReLU(0.2)]

        self.private = nn.ModuleList(nn.Sequential(*[m for i in range(private_layers) for m in block(i)])
                                     for _ in range(2))
        self.shared = nn.Sequential(*[m for i in range(private_layers, downsamplings) for m in block(i)])
        self.mu = nn.Conv2d(hidden[-1], latent_dim, 3, padding=1)
        self.logvar = nn.Conv2d(hidden[-1], latent_dim, 3, padding=1)
        self.apply(init_weights)

    def forward(self, x: Tensor, index: int) -> tuple[Tensor, Tensor]:
        h = self.shared(self.private[index](x))
        return self.mu(h), self.logvar(h)


class CoupledDecoder(nn.Module):
    """`G(z, i)` -> x_i (N, C, S, S) in [-1, 1] from a spatial latent z (N, latent_dim, S / 2^d, S / 2^d)."""

    def __init__(self, data_shape: tuple[int, ...], latent_dim: int, width: int = 64, downsamplings: int = 2,
                 private_layers: int = 1):
        super().__init__()
        _check(data_shape, downsamplings, private_layers)
        hidden = _hidden(width, downsamplings)[::-1]  # 4w, 2w, w
        outs = hidden[1:] + [data_shape[0]]
        shared = downsamplings - private_layers

        def block(i: int) -> list[nn.Module]:
            conv = nn.ConvTranspose2d(hidden[i], outs[i], 4, stride=2, padding=1)
            is_last = i == downsamplings - 1
            return [conv] + ([nn.Tanh()] if is_last else [nn.InstanceNorm2d(outs[i], affine=True), nn.ReLU()])

        self.shared = nn.Sequential(nn.Conv2d(latent_dim, hidden[0], 3, padding=1),
                                    nn.InstanceNorm2d(hidden[0], affine=True), nn.ReLU(),
                                    *[m for i in range(shared) for m in block(i)])
        self.private = nn.ModuleList(nn.Sequential(*[m for i in range(shared, downsamplings) for m in block(i)])
                                     for _ in range(2))
        self.apply(init_weights)

    def forward(self, z: Tensor, index: int) -> Tensor:
        return self.private[index](self.shared(z))


class CoupledVAE(nn.Module):
    """The generator side of UNIT: `encoder` (E1, E2) and `decoder` (G1, G2); one optimizer trains both."""

    def __init__(self, data_shape: tuple[int, ...], latent_dim: int = 64, width: int = 64, downsamplings: int = 2,
                 encoder_private_layers: int = 1, decoder_private_layers: int = 1):
        super().__init__()
        self.latent_dim, self.data_shape = latent_dim, tuple(data_shape)
        self.latent_side = data_shape[-1] // 2 ** downsamplings
        self.encoder = CoupledEncoder(data_shape, latent_dim, width, downsamplings, encoder_private_layers)
        self.decoder = CoupledDecoder(data_shape, latent_dim, width, downsamplings, decoder_private_layers)

    def latent_shape(self, n: int) -> tuple[int, int, int, int]:
        return (n, self.latent_dim, self.latent_side, self.latent_side)

    def forward(self, x: Tensor, source: int) -> Tensor:
        """x of domain `source` -> the other domain, through the posterior mean."""
        return self.decoder(self.encoder(x, source)[0], 1 - source)

    def translator(self, source: int) -> "Translator":
        return Translator(self, source)


class Translator(nn.Module):
    """x -> G_other(mu(E_source(x))) as a one-input module (holds no parameters of its own)."""

    def __init__(self, vae: CoupledVAE, source: int):
        super().__init__()
        object.__setattr__(self, "vae", vae)  # not a submodule: the parameters stay the pair's
        self.source = source

    def forward(self, x: Tensor) -> Tensor:
        return self.vae(x, self.source)


def sample_pairs(vae: CoupledVAE, z: Tensor) -> tuple[Tensor, Tensor]:
    """(G1(z), G2(z)) from one latent z: the shared-latent assumption, as CoGAN's pairs."""
    with torch.no_grad():
        return vae.decoder(z, 0), vae.decoder(z, 1)
