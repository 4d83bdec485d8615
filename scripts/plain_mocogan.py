"""The MoCoGAN loop a researcher writes by hand (after the authors' trainers.py), on ganrun's MoCoGAN
networks: scripts/bench.py times `game=mocogan` against it.

Each iteration: a real clip batch from a DataLoader (shuffle, drop_last); D_I and D_V step on real and
on a fresh fake batch made under no_grad (BCE with logits: the non-saturating GAN of the paper, one
random frame per clip for D_I); then G steps on another fresh batch (Algorithm 1, as ganrun's default).
Adam(lr=2e-4, betas=(0.5, 0.999)) for both. Losses are read back every `log_every` iterations.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset


def one_frame(clips: torch.Tensor) -> torch.Tensor:
    """A uniform random frame of each clip: (N, C, T, H, W) -> (N, C, H, W)."""
    index = torch.randint(clips.shape[2], (len(clips),)).to(clips.device)
    return clips[torch.arange(len(clips), device=clips.device), :, index]


def train(netG: nn.Module, netDI: nn.Module, netDV: nn.Module, dataset: Dataset, *, batch_size: int, steps: int,
          log_every: int, device: torch.device) -> list[tuple[int, float, float, float]]:
    """Train `steps` iterations; (iteration, loss_D, loss_G, perf_counter) at each logging iteration."""
    netG, netDI, netDV = netG.to(device), netDI.to(device), netDV.to(device)
    optimizerD = optim.Adam(list(netDI.parameters()) + list(netDV.parameters()), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True)
    log, iteration = [], 0
    bce = F.binary_cross_entropy_with_logits
    while iteration < steps:
        for real, _ in loader:
            iteration += 1
            real = real.to(device, non_blocking=True)
            with torch.no_grad():
                fake = netG(*netG.latents(batch_size, device=device))
            errD = 0
            for net, r, f in ((netDI, one_frame(real), one_frame(fake)), (netDV, real, fake)):
                out_r, out_f = net(r), net(f)
                errD = errD + bce(out_r, torch.ones_like(out_r)) + bce(out_f, torch.zeros_like(out_f))
            optimizerD.zero_grad(set_to_none=True)
            errD.backward()
            optimizerD.step()

            fake = netG(*netG.latents(batch_size, device=device))
            out_i, out_v = netDI(one_frame(fake)), netDV(fake)
            errG = bce(out_i, torch.ones_like(out_i)) + bce(out_v, torch.ones_like(out_v))
            optimizerG.zero_grad(set_to_none=True)
            errG.backward()
            optimizerG.step()
            if iteration % log_every == 0 or iteration == steps:
                log.append((iteration, errD.item(), errG.item(), time.perf_counter()))
            if iteration == steps:
                break
    return log
