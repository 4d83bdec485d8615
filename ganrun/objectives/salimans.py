"""Salimans et al. 2016, "Improved Techniques for Training GANs": feature matching, historical
averaging and the semi-supervised (K+1)-class discriminator, as small pure functions.

Shapes: features (N, F); class logits (N, K). Every function returns (loss, terms) like the other
objectives, terms being 0-dim tensors worth plotting.
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor
from torch.nn.functional import cross_entropy, softplus

Terms = dict[str, Tensor]


def feature_matching_g_loss(real_features: Tensor, fake_features: Tensor) -> tuple[Tensor, Terms]:
    """Section 3.1: G minimises ||E_x f(x) - E_z f(G(z))||_2^2, f an intermediate layer of D.

    The squared L2 norm of the difference of the batch means, summed over the F features as the
    paper writes it (the authors' code takes the mean over features: a factor 1/F). D's features of
    the real batch are a fixed target for G (detached)."""
    if real_features.dim() != 2 or real_features.shape[1:] != fake_features.shape[1:]:
        raise ValueError(f"feature matching needs (N, F) features of one width, got "
                         f"{tuple(real_features.shape)} and {tuple(fake_features.shape)}")
    loss = (real_features.detach().mean(0) - fake_features.mean(0)).square().sum()
    return loss, {"feature_matching": loss.detach()}


def historical_averaging_penalty(parameters: Iterable[Tensor], averages: Iterable[Tensor]) -> Tensor:
    """Section 3.3: ||theta - (1/t) sum_{i=1}^t theta[i]||^2, summed over every parameter tensor;
    `averages` are the past values' means (held by ganrun.averaging.HistoricalAverage), constants here."""
    terms = [(p - a.detach()).square().sum() for p, a in zip(parameters, averages, strict=True)]
    return torch.stack(terms).sum() if terms else torch.zeros(())


def _log_z(logits: Tensor) -> Tensor:
    """log Z(x) = log sum_k exp(l_k(x)) over the K real classes, (N, K) -> (N,)."""
    if logits.dim() != 2:
        raise ValueError(f"a (K+1)-class D returns K class logits per sample, shape (N, K), got {tuple(logits.shape)}")
    return torch.logsumexp(logits, dim=1)


def semi_supervised_d_loss(real_logits: Tensor, labels: Tensor, fake_logits: Tensor) -> tuple[Tensor, Terms]:
    """Section 5: D is a classifier over K classes and "generated" (class K+1), whose logit is fixed
    at l_{K+1} = 0, so D(x) = 1 - p(y = K+1 | x) = Z(x) / (Z(x) + 1), Z = sum_k exp(l_k(x)).

    L = L_supervised + L_unsupervised, with
    L_supervised = -E_{x,y labelled} log p(y | x, y < K+1) (softmax over the K classes; labels of -1
    mark unlabelled real examples, which enter only the second term) and
    L_unsupervised = -E_x log D(x) - E_z log(1 - D(G(z))),
    -log D(x) = softplus(log Z) - log Z and -log(1 - D) = softplus(log Z). (The authors' code weighs
    the two halves of L_unsupervised by 1/2 each.)"""
    if labels.shape != real_logits.shape[:1]:
        raise ValueError(f"labels of shape {tuple(labels.shape)} for {len(real_logits)} real samples")
    log_z_real, log_z_fake = _log_z(real_logits), _log_z(fake_logits)
    unsupervised = (softplus(log_z_real) - log_z_real).mean() + softplus(log_z_fake).mean()
    labelled = labels >= 0
    # sum / max(count, 1): 0 with no labelled example in the batch, without a host sync
    supervised = cross_entropy(real_logits, labels.clamp(min=0), reduction="none").mul(labelled).sum() \
        / labelled.sum().clamp(min=1)
    return supervised + unsupervised, {"class_nll": supervised.detach(), "unsupervised": unsupervised.detach()}


def semi_supervised_g_loss(fake_logits: Tensor) -> tuple[Tensor, Terms]:
    """G's non-saturating loss against a (K+1)-class D: -E log D(G(z)) = E [softplus(log Z) - log Z].
    (Salimans et al. train G by feature matching instead: feature_matching_g_loss.)"""
    log_z = _log_z(fake_logits)
    return (softplus(log_z) - log_z).mean(), {}


def class_accuracy(logits: Tensor, labels: Tensor) -> Tensor:
    """The share of samples whose most likely of the K real classes is their label (0-dim)."""
    return (logits.argmax(1) == labels).float().mean()
