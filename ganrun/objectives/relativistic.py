"""Relativistic GAN losses (Jolicoeur-Martineau 2019, "The relativistic discriminator: a key element
missing from standard GAN"), as pure functions of D's raw outputs C(.) (critic values, shape (N,)).

D judges whether real data are more realistic than fake data, so G's loss depends on D's scores of a
real batch too: every G loss here is `g_loss(fake, real)`. -log sigmoid(a) = softplus(-a) and
-log(1 - sigmoid(a)) = softplus(a) are the stable forms of the paper's log-likelihoods.
"""

from __future__ import annotations

from torch import Tensor
from torch.nn.functional import softplus

Terms = dict[str, Tensor]


def _check_pairs(real: Tensor, fake: Tensor) -> None:
    if real.dim() != 1 or fake.dim() != 1:
        raise ValueError(f"D must return one score per sample, shape (N,), got {tuple(real.shape)} and "
                         f"{tuple(fake.shape)}")


def rpgan_d_loss(real: Tensor, fake: Tensor) -> tuple[Tensor, Terms]:
    """Relativistic pairing GAN (RSGAN, the paper's eq. 8; R3GAN's eq. 2 with f = softplus):
    D minimises E_{(x, z)} softplus(-(C(x) - C(G(z)))), real and fake paired sample by sample."""
    _check_pairs(real, fake)
    if real.shape != fake.shape:
        raise ValueError(f"RpGAN pairs real and fake samples: got {real.shape[0]} real and {fake.shape[0]} fake")
    gap = real - fake
    return softplus(-gap).mean(), {"relativistic_gap": gap.mean().detach()}


def rpgan_g_loss(fake: Tensor, real: Tensor) -> tuple[Tensor, Terms]:
    """RpGAN's G minimises E softplus(-(C(G(z)) - C(x))): the same pairs, roles swapped."""
    _check_pairs(real, fake)
    if real.shape != fake.shape:
        raise ValueError(f"RpGAN pairs real and fake samples: got {real.shape[0]} real and {fake.shape[0]} fake")
    return softplus(-(fake - real.detach())).mean(), {}


def ragan_d_loss(real: Tensor, fake: Tensor) -> tuple[Tensor, Terms]:
    """Relativistic average GAN (RaSGAN, the paper's eq. 11-12): with D~(x_r) = sigmoid(C(x_r) - E C(x_f))
    and D~(x_f) = sigmoid(C(x_f) - E C(x_r)), D minimises -E log D~(x_r) - E log(1 - D~(x_f))."""
    _check_pairs(real, fake)
    real_vs_fake, fake_vs_real = real - fake.mean(), fake - real.mean()
    return softplus(-real_vs_fake).mean() + softplus(fake_vs_real).mean(), {
        "relativistic_gap": (real.mean() - fake.mean()).detach()}


def ragan_g_loss(fake: Tensor, real: Tensor) -> tuple[Tensor, Terms]:
    """RaSGAN's G minimises -E log D~(x_f) - E log(1 - D~(x_r)): both terms, since with a relativistic
    D the real batch's scores depend on how realistic the fakes are (the paper's eq. 12)."""
    _check_pairs(real, fake)
    real = real.detach()  # D is fixed in G's step; G moves only C(x_f)
    fake_vs_real, real_vs_fake = fake - real.mean(), real - fake.mean()
    return softplus(-fake_vs_real).mean() + softplus(real_vs_fake).mean(), {}
