"""The Laplacian pyramid of LAPGAN (Denton et al. 2015, Sec. 3.1).

d(.) halves an image (2x2 average pooling), u(.) doubles it (nearest neighbour). With I_0 = I and
I_{k+1} = d(I_k), the band-pass coefficients are h_k = I_k - u(I_{k+1}) and the top level is I_K, so
I_k = u(I_{k+1}) + h_k rebuilds the image exactly (each h_k was defined as that difference).
LAPGAN's generator k produces h~_k = G_k(z_k, u(I~_{k+1})) and I~_k = u(I~_{k+1}) + h~_k.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def down(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2)


def up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


def pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """[h_0, ..., h_{K-1}, I_K] for K = levels - 1 band-pass levels; h_0 at full resolution."""
    bands = []
    for _ in range(levels - 1):
        smaller = down(x)
        bands.append(x - up(smaller))
        x = smaller
    return bands + [x]


def reconstruct(bands: list[torch.Tensor]) -> torch.Tensor:
    """I_0 from [h_0, ..., h_{K-1}, I_K]: I_k = u(I_{k+1}) + h_k, from the top down."""
    x = bands[-1]
    for h in reversed(bands[:-1]):
        x = up(x) + h
    return x
