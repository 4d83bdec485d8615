"""The VAE's objective (Kingma & Welling 2014) as pure functions: reparameterisation and the ELBO.

    ELBO(x) = E_{q(z|x)}[log p(x|z)] - KL(q(z|x) || p(z)),   p(z) = N(0, I),
    q(z|x) = N(mu, diag(sigma^2)),  z = mu + sigma * eps,  eps ~ N(0, I)   (the reparameterisation trick),
    KL = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2)               (their Appendix B),
    -log p(x|z) = sum_i (x_i - x_hat_i)^2 / (2 s^2) + D/2 log(2 pi s^2)   (a Gaussian decoder, fixed std s).
The loss is the negative ELBO per image, averaged over the batch; `beta` weighs the KL (beta = 1: the ELBO).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor) -> Tensor:
    """z = mu + exp(logvar / 2) * eps: differentiable in mu and logvar, the noise eps given."""
    return mu + torch.exp(0.5 * logvar) * eps


def kl_diagonal_gaussian(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per row: (N, L) -> (N,)."""
    return 0.5 * (logvar.exp() + mu.square() - 1.0 - logvar).sum(dim=1)


def gaussian_nll(x: Tensor, mean: Tensor, std: float) -> Tensor:
    """-log N(x; mean, std^2 I) per image, summed over its D values: (N, ...) -> (N,)."""
    if x.shape != mean.shape:
        raise ValueError(f"reconstruction of shape {tuple(mean.shape)} for data of shape {tuple(x.shape)}")
    dims = x[0].numel()
    squared = (x - mean).square().flatten(1).sum(dim=1)
    return squared / (2.0 * std**2) + 0.5 * dims * math.log(2.0 * math.pi * std**2)


def negative_elbo(x: Tensor, reconstruction: Tensor, mu: Tensor, logvar: Tensor, *, std: float = 1.0,
                  beta: float = 1.0) -> tuple[Tensor, dict[str, Tensor]]:
    """-ELBO = E_batch[nll + beta * KL] (one z per image); terms in nats per image."""
    nll = gaussian_nll(x, reconstruction, std).mean()
    kl = kl_diagonal_gaussian(mu, logvar).mean()
    loss = nll + beta * kl
    return loss, {"loss/reconstruction": nll.detach(), "loss/KL": kl.detach(), "loss/negative_elbo": (nll + kl).detach()}


class NegativeELBO:
    """objective=vae: the negative ELBO with the decoder's `std` and the KL weight `beta`, for game=vae.
    No adversary: `d_steps` is 0 (`adversarial: false` tells the config checks)."""

    def __init__(self, *, name: str = "vae", std: float = 1.0, beta: float = 1.0, d_steps: int = 0,
                 adversarial: bool = False, scores: str = "score"):
        if std <= 0 or beta < 0:
            raise ValueError(f"objective=vae needs std > 0 and beta >= 0, got std={std}, beta={beta}")
        self.name, self.std, self.beta, self.d_steps = name, std, beta, 0

    def __call__(self, x: Tensor, reconstruction: Tensor, mu: Tensor, logvar: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        return negative_elbo(x, reconstruction, mu, logvar, std=self.std, beta=self.beta)


def drift_penalty(real_scores: Tensor, weight: float = 0.001) -> tuple[Tensor, dict[str, Tensor]]:
    """Karras et al. 2018, Sec. A.1: eps_drift * E[D(x)^2] on real scores, eps_drift = 0.001, keeping the
    WGAN-GP critic's output from drifting far from zero."""
    drift = real_scores.square().mean()
    return weight * drift, {"drift": drift.detach()}
