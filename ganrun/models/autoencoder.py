"""The auto-encoder discriminator of EBGAN / BEGAN, and BEGAN's generator (its decoder), for any square
power-of-two resolution from 8 to 128.

BEGAN's layout (Berthelot et al. 2017, Figure 1): 3x3 convolutions with ELUs, two per scale; the
encoder goes down by stride-2 convolutions to 8x8 with n, 2n, 3n, ... filters and maps to an
embedding of h numbers with a linear layer; the decoder maps h back to 8x8 x n and goes up by
nearest-neighbour x2 with n filters, ending in a 3x3 convolution to C channels and no nonlinearity.
G is the same network as the decoder, fed z; `tanh=true` bounds G's images to the data's [-1, 1] (the
paper's G is unbounded: its pixels outside [-1, 1] are clipped on display but not in D). EBGAN's auto-encoder has batch norm (`batch_norm=true`).

D returns the energy of each sample, En(x) = mean over pixels of |x - Dec(Enc(x))|^exponent (N,):
exponent 1 is BEGAN's L1 reconstruction loss, 2 EBGAN's mean squared error.
"""

from __future__ import annotations

import torch
from torch import nn

from ganrun.models import image_stages


def _conv(in_ch: int, out_ch: int, batch_norm: bool, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=not batch_norm),
            *([nn.BatchNorm2d(out_ch)] if batch_norm else []), nn.ELU()]


class Decoder(nn.Module):
    """h (N, code) -> Linear -> 8x8 x width -> [2 x conv3x3, nearest x2] per scale -> 2 x conv3x3 -> conv3x3 to C."""

    def __init__(self, code: int, data_shape: tuple[int, ...], width: int, batch_norm: bool):
        super().__init__()
        ups = image_stages("autoencoder", data_shape) - 1  # 8x8 -> resolution
        self.width = width
        self.project = nn.Linear(code, width * 8 * 8)
        layers: list[nn.Module] = []
        for _ in range(ups):
            layers += [*_conv(width, width, batch_norm), *_conv(width, width, batch_norm),
                       nn.Upsample(scale_factor=2, mode="nearest")]
        layers += [*_conv(width, width, batch_norm), *_conv(width, width, batch_norm),
                   nn.Conv2d(width, data_shape[0], 3, padding=1)]
        self.body = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(h).view(h.shape[0], self.width, 8, 8))  # (N, C, H, W)


class Encoder(nn.Module):
    """x -> conv3x3 -> [2 x conv3x3, stride-2 conv3x3 to the next width] per scale -> 2 x conv3x3 at 8x8 -> Linear to h."""

    def __init__(self, code: int, data_shape: tuple[int, ...], width: int, batch_norm: bool):
        super().__init__()
        downs = image_stages("autoencoder", data_shape) - 1  # resolution -> 8x8
        layers: list[nn.Module] = [nn.Conv2d(data_shape[0], width, 3, padding=1), nn.ELU()]
        for scale in range(1, downs + 1):  # filters grow linearly: n, 2n, 3n, ...
            layers += [*_conv(width * scale, width * scale, batch_norm),
                       *_conv(width * scale, width * scale, batch_norm),
                       *_conv(width * scale, width * (scale + 1), batch_norm, stride=2)]
        last = width * (downs + 1)
        layers += [*_conv(last, last, batch_norm), *_conv(last, last, batch_norm)]
        self.body = nn.Sequential(*layers)
        self.embed = nn.Linear(last * 8 * 8, code)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.body(x).flatten(1))  # (N, code)


class Generator(nn.Module):
    """BEGAN's G: the decoder's architecture, fed z."""

    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 64, batch_norm: bool = False,
                 tanh: bool = False):
        super().__init__()
        self.decode = Decoder(latent_dim, data_shape, width, batch_norm)
        self.tanh = tanh

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is not None:
            raise ValueError("the autoencoder family has no conditional generator")
        x = self.decode(z)  # (N, C, H, W)
        return torch.tanh(x) if self.tanh else x


class Discriminator(nn.Module):
    """An auto-encoder whose output is each sample's reconstruction energy (N,)."""

    def __init__(self, data_shape: tuple[int, ...], width: int = 64, code: int = 64, exponent: int = 1,
                 batch_norm: bool = False):
        super().__init__()
        if exponent not in (1, 2):
            raise ValueError(f"autoencoder energy exponent must be 1 (L1, BEGAN) or 2 (MSE, EBGAN), got {exponent}")
        self.exponent = exponent
        self.encode = Encoder(code, data_shape, width, batch_norm)
        self.decode = Decoder(code, data_shape, width, batch_norm)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is not None:
            raise ValueError("the autoencoder discriminator is unconditional")
        error = (x - self.reconstruct(x)).abs().pow(self.exponent)  # (N, C, H, W)
        return error.flatten(1).mean(dim=1)  # (N,): En(x)
