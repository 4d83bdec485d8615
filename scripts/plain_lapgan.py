"""The LAPGAN loop a researcher writes by hand (Denton et al. 2015, Sec. 3.2), on ganrun's LAPGAN
networks: scripts/bench.py times `game=lapgan` against it.

Each iteration: a real batch from a DataLoader (shuffle, drop_last) split into its Laplacian pyramid
(the coarsest image, and per finer level the upsampled real coarser image l_k and the residual h_k);
D steps on every level's real (l_k + h_k) and fresh fake (l_k + G_k(z_k, l_k), under no_grad) images
with BCE on logits; then G steps on a fresh fake batch of every level (the non-saturating loss, as
ganrun's objective=ns). Adam(lr=2e-4, betas=(0.5, 0.999)) for both. Losses read back every `log_every`.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset


def real_pyramid(x: torch.Tensor, levels: int) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
    """(the real image at every level, coarse to fine; l_k per level, None at the coarsest)."""
    images = [x]
    for _ in range(levels - 1):
        images.insert(0, F.avg_pool2d(images[0], 2))
    lows = [None] + [F.interpolate(im, scale_factor=2, mode="nearest") for im in images[:-1]]
    bands = [images[0]] + [im - low for im, low in zip(images[1:], lows[1:])]
    return [b if low is None else low + b for low, b in zip(lows, bands)], lows


def fakes(netG: nn.Module, lows: list, n: int, nz: int, device: torch.device) -> list[torch.Tensor]:
    out = [netG.coarse(torch.randn(n, nz, device=device))]
    for g, low in zip(netG.residuals, lows[1:]):
        out.append(low + g(torch.randn(n, netG.noise_channels, *low.shape[-2:], device=device), low))
    return out


def train(netG: nn.Module, netD: nn.Module, dataset: Dataset, *, nz: int, batch_size: int, steps: int,
          log_every: int, device: torch.device) -> list[tuple[int, float, float, float]]:
    """Train `steps` iterations; (iteration, loss_D, loss_G, perf_counter) at each logging iteration."""
    netG, netD = netG.to(device), netD.to(device)
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True)
    bce, levels = F.binary_cross_entropy_with_logits, len(netG.sides)
    log, iteration = [], 0
    while iteration < steps:
        for real, _ in loader:
            iteration += 1
            reals, lows = real_pyramid(real.to(device, non_blocking=True), levels)
            with torch.no_grad():
                fake = fakes(netG, lows, batch_size, nz, device)
            errD = 0
            for k, (r, f) in enumerate(zip(reals, fake)):
                out_r, out_f = netD(r, k), netD(f, k)
                errD = errD + bce(out_r, torch.ones_like(out_r)) + bce(out_f, torch.zeros_like(out_f))
            optimizerD.zero_grad(set_to_none=True)
            errD.backward()
            optimizerD.step()

            errG = 0
            for k, f in enumerate(fakes(netG, lows, batch_size, nz, device)):
                out = netD(f, k)
                errG = errG + bce(out, torch.ones_like(out))
            optimizerG.zero_grad(set_to_none=True)
            errG.backward()
            optimizerG.step()
            if iteration % log_every == 0 or iteration == steps:
                log.append((iteration, errD.item(), errG.item(), time.perf_counter()))
            if iteration == steps:
                break
    return log
