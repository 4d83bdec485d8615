"""The UNIT loop a researcher writes by hand (after the authors' trainer), on ganrun's UNIT networks
(models/unit.py's CoupledVAE, CoGAN's CoupledDiscriminator): scripts/bench.py times `game=unit` against it.

Each iteration: a batch of each domain from its own DataLoader (shuffle, drop_last); both encoded, z drawn
by the reparameterisation, reconstructions and translations decoded once; D_A and D_B step on real images
against the translations detached (BCE with logits, times lambda0); then the encoders and decoders step on
10 GAN + 0.1 KL + 100 recon + 0.1 (KL + cycle KL) + 100 cycle recon per domain, reusing that iteration's
translations (as game=unit does). Adam(lr=1e-4, betas=(0.5, 0.999)) for both. Losses read back every
`log_every` iterations.
"""

from __future__ import annotations

import itertools
import time

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset


def batches(dataset: Dataset, batch_size: int, device: torch.device):
    for epoch in itertools.count():
        for x, _ in DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True):
            yield x.to(device, non_blocking=True)


def kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return 0.5 * (logvar.exp() + mu.square() - 1 - logvar).mean()


def train(vae: nn.Module, netD: nn.Module, domains: tuple[Dataset, Dataset], *, batch_size: int, steps: int,
          log_every: int, device: torch.device) -> list[tuple[int, float, float, float]]:
    """Train `steps` iterations; (iteration, loss_D, loss_G, perf_counter) at each logging iteration."""
    vae, netD = vae.to(device), netD.to(device)
    optimizerD = optim.Adam(netD.parameters(), lr=1e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(vae.parameters(), lr=1e-4, betas=(0.5, 0.999))
    streams = [batches(d, batch_size, device) for d in domains]
    bce = F.binary_cross_entropy_with_logits
    log = []
    for iteration in range(1, steps + 1):
        x = [next(s) for s in streams]
        codes, recon, fake = [], [], []
        for i in (0, 1):
            mu, logvar = vae.encoder(x[i], i)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            codes.append((mu, logvar))
            recon.append(vae.decoder(z, i))
            fake.append(vae.decoder(z, 1 - i))  # fake[i]: domain i translated into the other
        errD = 0
        for i in (0, 1):  # D_i: real x_i against the other domain's translation into i
            out_r, out_f = netD(x[i], i), netD(fake[1 - i].detach(), i)
            errD = errD + 10 * (bce(out_r, torch.ones_like(out_r)) + bce(out_f, torch.zeros_like(out_f)))
        optimizerD.zero_grad(set_to_none=True)
        errD.backward()
        optimizerD.step()

        errG = 0
        for p in netD.parameters():
            p.requires_grad_(False)
        for i in (0, 1):
            out = netD(fake[i], 1 - i)
            mu_c, logvar_c = vae.encoder(fake[i], 1 - i)
            z_c = mu_c + torch.exp(0.5 * logvar_c) * torch.randn_like(mu_c)
            cycle = vae.decoder(z_c, i)
            kl_i = kl(*codes[i])
            errG = (errG + 10 * bce(out, torch.ones_like(out)) + 0.1 * kl_i + 100 * (recon[i] - x[i]).abs().mean()
                    + 0.1 * (kl_i + kl(mu_c, logvar_c)) + 100 * (cycle - x[i]).abs().mean())
        optimizerG.zero_grad(set_to_none=True)
        errG.backward()
        optimizerG.step()
        for p in netD.parameters():
            p.requires_grad_(True)
        if iteration % log_every == 0 or iteration == steps:
            log.append((iteration, errD.item(), errG.item(), time.perf_counter()))
    return log
