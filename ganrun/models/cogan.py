"""CoGAN (Liu & Tuzel 2016) networks on the DCGAN family: weight sharing between two domains.

G1 = G_L1 o G_H and G2 = G_L2 o G_H (the lecture's notation): one latent z goes through the shared
high-level layers G_H (DCGAN's projection to 4x4 and its first upsampling blocks) once, then through
each domain's private low-level blocks (the last `private_layers`, the last with tanh). D1 and D2
mirror it: private first `private_layers` stride-2 convolutions per domain, then shared layers and
one shared logit. Shared layers are single modules, so each parameter exists once and receives the
gradients of both branches. `branch(i)` is domain i's network as an ordinary G(z) or D(x), so losses
and penalties written for one G and one D apply to each domain unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from ganrun.models import image_stages, init_weights
from ganrun.models.dcgan import _channels, _same_padding


def _split(private_layers: int, stages: int) -> int:
    if not 1 <= private_layers <= stages:
        raise ValueError(f"cogan needs 1 <= private_layers <= {stages} (the number of stride-2 layers at this "
                         f"resolution), got private_layers={private_layers}")
    return stages - private_layers


class Branch(nn.Module):
    """Domain `index` of a coupled network as a one-domain module (holds no parameters of its own)."""

    def __init__(self, coupled: nn.Module, index: int):
        super().__init__()
        object.__setattr__(self, "coupled", coupled)  # not a submodule: the parameters stay the pair's
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.coupled.domain(x, self.index)


class CoupledGenerator(nn.Module):
    """z (N, L) -> (x1, x2), each (N, C, H, W) in [-1, 1]; `domain(z, i)` -> x_i."""

    def __init__(self, latent_dim: int, data_shape: tuple[int, ...], width: int = 64, kernel_size: int = 5,
                 private_layers: int = 1):
        super().__init__()
        stages = image_stages("cogan", data_shape)
        shared = _split(private_layers, stages)
        padding, output_padding = _same_padding(kernel_size)
        hidden = _channels(width, stages)
        outs = hidden[1:] + [data_shape[0]]
        self.start_channels = hidden[0]

        def block(i: int) -> list[nn.Module]:
            is_last = i == stages - 1
            conv = nn.ConvTranspose2d(hidden[i], outs[i], kernel_size, stride=2, padding=padding,
                                      output_padding=output_padding, bias=is_last)
            return [conv] + ([nn.Tanh()] if is_last else [nn.BatchNorm2d(outs[i]), nn.ReLU()])

        self.project = nn.Linear(latent_dim, hidden[0] * 16, bias=False)
        self.shared = nn.Sequential(nn.BatchNorm2d(hidden[0]), nn.ReLU(),
                                    *[m for i in range(shared) for m in block(i)])
        self.private = nn.ModuleList(nn.Sequential(*[m for i in range(shared, stages) for m in block(i)])
                                     for _ in range(2))
        self.apply(init_weights)

    def high_level(self, z: torch.Tensor) -> torch.Tensor:
        return self.shared(self.project(z).view(z.shape[0], self.start_channels, 4, 4))

    def domain(self, z: torch.Tensor, index: int) -> torch.Tensor:
        return self.private[index](self.high_level(z))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.high_level(z)  # one pass through G_H for both domains
        return self.private[0](h), self.private[1](h)

    def branch(self, index: int) -> Branch:
        return Branch(self, index)


class CoupledDiscriminator(nn.Module):
    """`D(x, i)` -> D_i's logits (N,); the first `private_layers` convolutions are domain i's own."""

    def __init__(self, data_shape: tuple[int, ...], width: int = 64, kernel_size: int = 5,
                 private_layers: int = 1):
        super().__init__()
        stages = image_stages("cogan", data_shape)
        private = stages - _split(private_layers, stages)
        padding, _ = _same_padding(kernel_size)
        hidden = _channels(width, stages)[::-1]
        ins = [data_shape[0]] + hidden[:-1]

        def block(i: int) -> list[nn.Module]:
            with_bn = i > 0  # DCGAN: no BN on D's input layer
            conv = nn.Conv2d(ins[i], hidden[i], kernel_size, stride=2, padding=padding, bias=not with_bn)
            return [conv] + ([nn.BatchNorm2d(hidden[i])] if with_bn else []) + [nn.LeakyReLU(0.2)]

        self.private = nn.ModuleList(nn.Sequential(*[m for i in range(private) for m in block(i)])
                                     for _ in range(2))
        self.shared = nn.Sequential(*[m for i in range(private, stages) for m in block(i)])
        self.output = nn.Conv2d(hidden[-1], 1, 4)  # the shared logit over the 4x4 map
        self.apply(init_weights)

    def forward(self, x: torch.Tensor, index: int) -> torch.Tensor:
        return self.output(self.shared(self.private[index](x))).flatten()  # (N,)

    domain = forward

    def branch(self, index: int) -> Branch:
        return Branch(self, index)
