"""Pieces the families share: labels into G and D (conditional GANs), and the minibatch-stddev layer.

Conditional G (Mirza & Osindero 2014): the one-hot label is concatenated with z, so G's first linear
layer holds one learned embedding vector per class. Conditional D: either a projection (Miyato &
Koyama 2018), score = psi(phi(x)) + <embed(y), phi(x)>, or AC-GAN's auxiliary classifier (Odena et
al. 2017), which leaves the real/fake logit unconditional and adds a class head on the same features
phi(x); an AC-GAN D returns (N, 2): [logit, log P(C = y | x)], so the losses need only D's outputs.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.functional import log_softmax, one_hot


def latent_features(latent_dim: int, num_classes: int | None) -> int:
    """Width of G's input: z, plus the one-hot label of a conditional G."""
    return latent_dim + (num_classes or 0)


def with_labels(z: torch.Tensor, labels: torch.Tensor | None, num_classes: int | None) -> torch.Tensor:
    """z (N, L) -> [z, one_hot(y)] (N, L + K) for a conditional G; z itself for an unconditional one."""
    if num_classes is None:
        if labels is not None:
            raise ValueError("this generator is unconditional: build it with num_classes to give it labels")
        return z
    if labels is None:
        raise ValueError(f"this generator is conditional on {num_classes} classes: pass the labels")
    return torch.cat([z, one_hot(labels, num_classes).to(z.dtype)], dim=1)


class Projection(nn.Module):
    """Miyato & Koyama 2018: adds the inner product of a learned class embedding with D's features."""

    def __init__(self, num_classes: int, features: int):
        super().__init__()
        self.embed = nn.Embedding(num_classes, features)
        nn.init.xavier_uniform_(self.embed.weight)

    def forward(self, score: torch.Tensor, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return score + (self.embed(labels) * features).sum(dim=1)  # (N,)


class AuxiliaryClassifier(nn.Module):
    """AC-GAN's class head: a linear layer on D's features; returns [score, log P(C = y | x)] (N, 2)."""

    def __init__(self, num_classes: int, features: int):
        super().__init__()
        self.classify = nn.Linear(features, num_classes)

    def forward(self, score: torch.Tensor, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        log_p = log_softmax(self.classify(features), dim=1).gather(1, labels[:, None]).squeeze(1)
        return torch.stack([score, log_p], dim=1)  # (N, 2)


def label_head(num_classes: int | None, features: int, auxiliary_classifier: bool) -> nn.Module | None:
    """The label head of a D over `features`-wide features: none (unconditional), projection, or AC-GAN."""
    if num_classes is None:
        if auxiliary_classifier:
            raise ValueError("an auxiliary classifier needs num_classes (conditional=true on a labelled dataset)")
        return None
    return (AuxiliaryClassifier if auxiliary_classifier else Projection)(num_classes, features)


def conditioned(head: nn.Module | None, score: torch.Tensor, features: torch.Tensor,
                labels: torch.Tensor | None) -> torch.Tensor:
    """D's output from its unconditional score (N,), its features phi(x) (N, F) and the labels."""
    if head is None:
        return score
    if labels is None:
        raise ValueError("this discriminator is conditional: pass the labels of its samples")
    return head(score, features, labels)


GEMM_MIN = 16  # a linear layer with fewer inputs or outputs is a `SmallLinear`


def small_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x (..., N, in) @ weight (..., out, in)^T + bias (..., out) -> (..., N, out), with the same
    arithmetic whether it runs on one network's (N, in) or on S networks' stacked (S, N, in), forward
    and backward. Under GEMM_MIN inputs or outputs BLAS picks shape-dependent kernels (gemv, small-k
    paths, its batched gemm) that round differently for one network and for S stacked ones, so:
    fewer than GEMM_MIN outputs (the one-logit output, the 2-D points): a product and a sum over the
    contiguous `in` (elementwise, then ATen's own row reduction); fewer inputs (the 2-D input layer):
    x and weight zero-padded to GEMM_MIN inputs (the zero products add nothing), then a gemm whose
    shapes all reach GEMM_MIN, where one network's gemm and the batched one agree, as for the hidden layers."""
    out_features, in_features = weight.shape[-2:]
    if out_features < GEMM_MIN:
        y = (x.unsqueeze(-2) * weight.unsqueeze(-3)).sum(-1)  # (..., N, out, in) -> (..., N, out)
        return y if bias is None else y + bias.unsqueeze(-2)
    pad = (0, GEMM_MIN - in_features) if in_features < GEMM_MIN else (0, 0)
    return gemm(F.pad(x, pad), F.pad(weight, pad), bias)


def gemm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """A linear layer by BLAS: `F.linear` on one network's x (N, in), weight (out, in); one batched
    matmul on S networks' x (S, N, in), weight (S, out, in), bias (S, out), whose per-network gemm
    rounds as F.linear's when every dimension is at least GEMM_MIN (tests/test_batched.py)."""
    if x.dim() == 2:
        return F.linear(x, weight, bias)
    if bias is None:
        return torch.bmm(x, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


class SmallLinear(nn.Linear):
    """nn.Linear (same parameters, state dict and init) computed by `small_linear`: the 2-D input
    layers and the one-logit output of the mlp family, so that ganrun.run.batched trains S seeds'
    copies at once, bitwise the separate runs. (Changed in session 3: before, these layers ran
    F.linear, whose rounding differs in the last bits; results of 2-D runs changed accordingly.)"""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return small_linear(x, self.weight, self.bias)


def dense(in_features: int, out_features: int, bias: bool = True) -> nn.Linear:
    """A linear layer: `SmallLinear` when it has fewer than GEMM_MIN inputs or outputs, else nn.Linear."""
    kind = SmallLinear if min(in_features, out_features) < GEMM_MIN else nn.Linear
    return kind(in_features, out_features, bias=bias)


class MinibatchStdDev(nn.Module):
    """Karras et al. 2018: the standard deviation of every feature over the minibatch, averaged into
    one number, appended as one more constant feature (map), so D can see a batch's lack of variety.

    (N, C, H, W) -> (N, C + 1, H, W), or (N, F) -> (N, F + 1); sqrt(var + 1e-8) as in their code."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        std = (x.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        return torch.cat([x, std.expand(x.shape[0], 1, *x.shape[2:])], dim=1)


def normalization(kind: str, channels: int) -> nn.Module:
    """D's normalization layer over (N, C, H, W) features. `batch` mixes the samples of a batch;
    `layer` (over C, H, W, as the WGAN-GP paper's critics use) and `instance` (over H, W) normalise
    each sample alone, so D's gradient at one sample never depends on the others: what a per-sample
    gradient penalty needs (Gulrajani et al. 2017, Section 4: "no batch normalization in the critic")."""
    layers = {
        "batch": lambda: nn.BatchNorm2d(channels),
        "layer": lambda: nn.GroupNorm(1, channels),  # one group: mean and variance over C, H, W per sample
        "instance": lambda: nn.InstanceNorm2d(channels, affine=True),
        "none": nn.Identity,
    }
    if kind not in layers:
        raise ValueError(f"architecture.normalization={kind} is not an option: use one of {', '.join(layers)}")
    return layers[kind]()
