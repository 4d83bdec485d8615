"""Two layers of Salimans et al. 2016, "Improved Techniques for Training GANs" (Sections 3.2 and 3.4).

Minibatch discrimination (3.2): D's features f(x_i) in R^A are multiplied by a learned tensor
T in R^{A x B x C}, giving M_i in R^{B x C}; for each of the B kernels the L1 distance between rows
gives c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1), and o(x_i)_b = sum_j c_b(x_i, x_j) (j over the
whole minibatch, i included, as the paper writes it: a sample alone in its batch gets o = 1). The
layer returns [f(x_i), o(x_i)] (N, A + B), so the next layer sees how close each sample is to the
others: a collapsed G gives every sample large o.

Virtual batch normalisation (3.4): each example is normalised with statistics of a reference batch
chosen once at the start of training, combined with the example's own. As the authors' code
(improved-gan, imagenet/build_model.py: VBNL) writes it: with R reference examples,
mean = 1/(R+1) mean(x) + R/(R+1) mean(ref), and likewise the mean of squares, per channel (the
example's own statistics over its spatial positions); var = E[x^2] - E[x]^2, y = (x - mean) /
sqrt(var + eps) * gamma + beta (gamma and beta as BatchNorm's affine parameters; that code learns
log gamma instead). The reference batch itself is normalised with its statistics alone.
Its statistics are recomputed with the current weights at every forward (the reference batch goes
through the network with each batch: `VirtualBatchNormNet` concatenates it in front).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MinibatchDiscrimination(nn.Module):
    """(N, A) -> (N, A + B): the features with o(x_i) in R^B appended (Salimans et al. 2016, eq. in 3.2)."""

    def __init__(self, in_features: int, kernels: int = 50, kernel_dim: int = 5):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        # T, stored as (A, B * C); the paper's code draws it from N(0, 0.05^2)
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.05)

    def forward(self, features: Tensor) -> Tensor:
        m = (features @ self.T).view(-1, self.kernels, self.kernel_dim)  # M: (N, B, C)
        l1 = (m[:, None] - m[None, :]).abs().sum(-1)  # ||M_{i,b} - M_{j,b}||_1: (N, N, B)
        o = torch.exp(-l1).sum(1)  # o(x_i)_b = sum_j c_b(x_i, x_j): (N, B)
        return torch.cat([features, o], dim=1)


class VirtualBatchNorm(nn.Module):
    """Virtual batch normalisation over (N, C, H, W) or (N, C), whose first `reference_size` rows
    are the reference batch (set by `VirtualBatchNormNet` before each forward)."""

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.reference_size = 0

    def forward(self, x: Tensor) -> Tensor:
        r = self.reference_size
        if not 0 < r <= len(x):
            raise ValueError(f"virtual batch norm needs its reference batch in front: reference_size={r}, batch {len(x)}")
        spatial = tuple(range(2, x.dim()))  # () for (N, C)
        shape = (1, -1) + (1,) * len(spatial)
        reference = x[:r]
        ref_mean = reference.mean(dim=(0, *spatial)).view(shape)  # (1, C, 1, 1)
        ref_mean_sq = reference.square().mean(dim=(0, *spatial)).view(shape)
        own = x[r:]
        own_mean = own.mean(dim=spatial, keepdim=True) if spatial else own  # each example's own: (M, C, 1, 1)
        own_mean_sq = own.square().mean(dim=spatial, keepdim=True) if spatial else own.square()
        new = 1.0 / (r + 1)
        mean = new * own_mean + (1 - new) * ref_mean
        mean_sq = new * own_mean_sq + (1 - new) * ref_mean_sq
        out = torch.cat([self._normalize(reference, ref_mean, ref_mean_sq), self._normalize(own, mean, mean_sq)])
        return out * self.weight.view(shape) + self.bias.view(shape)

    def _normalize(self, x: Tensor, mean: Tensor, mean_sq: Tensor) -> Tensor:
        return (x - mean) / torch.sqrt(mean_sq - mean.square() + self.eps)


def replace_batch_norm(module: nn.Module) -> nn.Module:
    """Every BatchNorm1d/2d of `module` replaced by a VirtualBatchNorm of the same width (in place)."""
    for name, child in module.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            setattr(module, name, VirtualBatchNorm(child.num_features, child.eps))
        else:
            replace_batch_norm(child)
    return module


class VirtualBatchNormNet(nn.Module):
    """A network (G in the paper) whose batch norms are virtual: a fixed reference batch of inputs
    (`reference` latents, with `reference_labels` for a conditional G) goes in front of every batch.

    Forward: net(cat([reference, x])) with every VirtualBatchNorm told the reference size, and the
    reference's outputs dropped: (N, ...) -> (N, ...). The reference is a buffer: saved in
    checkpoints, so a resumed run keeps the same one."""

    def __init__(self, net: nn.Module, reference: Tensor, reference_labels: Tensor | None = None):
        super().__init__()
        self.net = replace_batch_norm(net)
        self.register_buffer("reference", reference.clone())
        self.register_buffer("reference_labels", None if reference_labels is None else reference_labels.clone())
        self.norms = [m for m in self.net.modules() if isinstance(m, VirtualBatchNorm)]
        if not self.norms:
            raise ValueError("virtual batch norm: this network has no batch norm to replace")

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        r = len(self.reference)
        for norm in self.norms:
            norm.reference_size = r
        inputs = torch.cat([self.reference.to(x.dtype), x])
        if labels is None:
            return self.net(inputs)[r:]
        if self.reference_labels is None:
            raise ValueError("a conditional network with virtual batch norm needs reference_labels")
        return self.net(inputs, torch.cat([self.reference_labels, labels]))[r:]
