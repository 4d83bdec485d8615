"""The DCGAN loop a researcher writes by hand: pytorch/examples' dcgan/main.py, on ganrun's DCGAN models.

scripts/bench.py times ganrun against it. It keeps the example's shape line for line: D's output goes
through a sigmoid into nn.BCELoss; Adam(lr=2e-4, betas=(0.5, 0.999)) for both networks; each
iteration draws one noise batch, steps D on the real batch (label 1) and on fake.detach() (label 0),
then steps G on the same fake batch through the updated D (label 1); data come from a DataLoader
(shuffle, drop_last). One change: the losses are read back every `log_every` iterations, where the
example prints them every iteration (a host sync per step on a GPU), so both loops sync equally often.
"""

from __future__ import annotations

import time

import torch
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset


def train(netG: nn.Module, netD: nn.Module, dataset: Dataset, *, nz: int, batch_size: int, steps: int,
          log_every: int, device: torch.device, workers: int = 0) -> list[tuple[int, float, float, float]]:
    """Train for `steps` iterations; returns (iteration, loss_D, loss_G, perf_counter) at each logging
    iteration, the time taken after the losses reached the host."""
    netG, netD = netG.to(device), netD.to(device)
    criterion = nn.BCELoss()
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    dataloader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True, num_workers=workers,
                            pin_memory=device.type == "cuda")
    real_label, fake_label = 1.0, 0.0
    log: list[tuple[int, float, float, float]] = []
    iteration = 0
    while iteration < steps:
        for data in dataloader:
            iteration += 1
            # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real = data[0].to(device, non_blocking=True)
            b_size = real.size(0)
            label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
            output = torch.sigmoid(netD(real)).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            noise = torch.randn(b_size, nz, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = torch.sigmoid(netD(fake.detach())).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            errD = errD_real + errD_fake
            optimizerD.step()

            # (2) Update G: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for the generator cost
            output = torch.sigmoid(netD(fake)).view(-1)
            errG = criterion(output, label)
            errG.backward()
            optimizerG.step()

            if iteration % log_every == 0 or iteration == steps:
                log.append((iteration, errD.item(), errG.item(), time.perf_counter()))
            if iteration == steps:
                break
    return log
