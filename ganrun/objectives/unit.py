"""UNIT's objective (Liu, Breuel & Kautz 2017, Eqs. 2-5) as pure functions; the adversarial terms are the
run's Objective (ns by default: the paper's log D; `objective=lsgan` etc. work alike).

    min_{E1,E2,G1,G2} max_{D1,D2}  L_VAE1 + L_GAN1 + L_CC1 + L_VAE2 + L_GAN2 + L_CC2
    L_VAE1 = lambda1 KL(q1(z1|x1) || N(0, I)) - lambda2 E_{z1~q1}[log p_G1(x1|z1)]
    L_GAN1 = lambda0 E[log D1(x1)] + lambda0 E_{z2~q2(z2|x2)}[log(1 - D1(G1(z2)))]       (translations judged)
    L_CC1  = lambda3 KL(q1(z1|x1) || N(0, I)) + lambda3 KL(q2(z2|x1->2) || N(0, I))
             - lambda4 E_{z2~q2(z2|x1->2)}[log p_G1(x1|z2)],     x1->2 = G2(z1)              (the cycle)
and symmetrically for domain 2; the paper's defaults lambda0..4 = 10, 0.1, 100, 0.1, 100. The decoders are
Laplacian, so -log p_G(x|z) is an L1 distance; as the authors' code, both the L1 distance and the KL are
averaged over elements (pixels, latent units), which is the scale those lambdas were tuned for.
The lecture deck writes the same VAE terms for CoVAE-GAN with its own numbering (lambda1: reconstruction,
lambda2: KL); config names say the term (`recon_weight`, `kl_weight` ...) to avoid the clash.
q(z|x) is a diagonal Gaussian N(mu, diag(exp(logvar))) (the deck's VAE); `unit_variance` fixes logvar = 0,
the paper's q = N(mu, I), whose KL is 1/2 mu^2 per unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

Terms = dict[str, Tensor]


def kl_per_unit(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) averaged over all units and rows:
    mean of 1/2 (exp(logvar) + mu^2 - 1 - logvar) (Kingma & Welling 2014, Appendix B)."""
    return 0.5 * (logvar.exp() + mu.square() - 1.0 - logvar).mean()


def reconstruction(x: Tensor, x_hat: Tensor, p: int = 1) -> Tensor:
    """mean |x - x_hat|^p over pixels and rows: -log p_G(x|z) of a Laplacian decoder up to constants (p = 1)."""
    if x.shape != x_hat.shape:
        raise ValueError(f"reconstruction of shape {tuple(x_hat.shape)} for images of shape {tuple(x.shape)}")
    return (x - x_hat).abs().pow(p).mean()


@dataclass(frozen=True)
class UNITWeights:
    """lambda0..lambda4 of the paper (Sec. 3 and its appendix: 10, 0.1, 100, 0.1, 100)."""

    gan: float = 10.0          # lambda0
    kl: float = 0.1            # lambda1 (the deck's lambda2)
    recon: float = 100.0       # lambda2 (the deck's lambda1)
    cycle_kl: float = 0.1      # lambda3
    cycle_recon: float = 100.0  # lambda4


def vae_parts(x: Tensor, x_recon: Tensor, mu: Tensor, logvar: Tensor, p: int = 1) -> dict[str, Tensor]:
    """The unweighted terms of L_VAE for one domain: the KL of q(z|x) and the reconstruction G(z) of x."""
    return {"kl": kl_per_unit(mu, logvar), "recon": reconstruction(x, x_recon, p)}


def cycle_parts(x: Tensor, x_cycle: Tensor, mu_cycle: Tensor, logvar_cycle: Tensor, p: int = 1) -> dict[str, Tensor]:
    """The unweighted terms of L_CC for one domain that L_VAE lacks: the KL of q_other(z|x->other) and the
    reconstruction of x from that code (the KL of q(z|x) itself is L_VAE's `kl`, counted again in the total)."""
    return {"cycle_kl": kl_per_unit(mu_cycle, logvar_cycle), "cycle_recon": reconstruction(x, x_cycle, p)}


def generator_total(parts: dict[str, Tensor], weights: UNITWeights) -> Tensor:
    """E's and G's loss for one domain: lambda0 gan + lambda1 kl + lambda2 recon
    + lambda3 (kl + cycle_kl) + lambda4 cycle_recon; `gan` is the Objective's generator loss of this
    domain's translation into the other (the term of L_GAN the other domain's D judges)."""
    return (weights.gan * parts["gan"] + weights.kl * parts["kl"] + weights.recon * parts["recon"]
            + weights.cycle_kl * (parts["kl"] + parts["cycle_kl"]) + weights.cycle_recon * parts["cycle_recon"])
