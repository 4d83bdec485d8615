"""GAN losses as small pure functions of D's raw outputs, as the papers write them.

Every discriminator loss has the signature `d_loss(real, fake) -> (loss, terms)` and every generator
loss `g_loss(fake) -> (loss, terms)`, where `real` = D(x) and `fake` = D(G(z)) are D's raw outputs
(logits for the classifier objectives, critic values for WGAN) of shape (N,), and `terms` holds the
objective-specific quantities worth plotting. Penalties (penalties.py) are functions of D and the batches.
Probabilities never appear explicitly: log D = -softplus(-logit) and log(1 - D) = -softplus(logit)
are the numerically stable forms of the same formulas.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.functional import relu, softplus

Terms = dict[str, Tensor]


def check_scores(*outputs: Tensor) -> None:
    for output in outputs:
        if output.dim() != 1:
            raise ValueError(f"D must return one score per sample, shape (N,), got {tuple(output.shape)}")


# ---------------------------------------------------------------- Goodfellow et al. 2014


def gan_d_loss(real: Tensor, fake: Tensor, real_target: float = 1.0,
               fake_target: float = 0.0) -> tuple[Tensor, Terms]:
    """D ascends V(D, G) = E log D(x) + E log(1 - D(G(z))) (Algorithm 1), i.e. descends -V.

    With the default targets the loss is exactly -V. Label smoothing (Salimans et al. 2016) replaces
    them by soft ones in the same cross-entropy: -E [t_r log D(x) + (1 - t_r) log(1 - D(x))]
    - E [t_f log D(G(z)) + (1 - t_f) log(1 - D(G(z)))]; one-sided is t_r = 0.9, t_f = 0 (the
    E[0.9 log D(x)] with its (1 - 0.9) log(1 - D(x)) partner), two-sided 0.9 / 0.1 (ganhacks).
    At the equilibrium D = 1/2 everywhere, V = -log 4 (Theorem 1); `value` logs V with hard targets.
    """
    check_scores(real, fake)
    log_d_real, log_one_minus_d_real = -softplus(-real), -softplus(real)  # log D(x), log(1 - D(x))
    log_d_fake, log_one_minus_d_fake = -softplus(-fake), -softplus(fake)
    value = log_d_real.mean() + log_one_minus_d_fake.mean()
    if real_target == 1.0 and fake_target == 0.0:  # hard targets: skip 0 * log(...), which is nan at -inf
        return -value, {"value": value.detach()}
    loss = (-(real_target * log_d_real + (1 - real_target) * log_one_minus_d_real).mean()
            - (fake_target * log_d_fake + (1 - fake_target) * log_one_minus_d_fake).mean())
    targets = {"real_target": torch.tensor(real_target), "fake_target": torch.tensor(fake_target)}
    return loss, {"value": value.detach(), **targets}


def minimax_g_loss(fake: Tensor) -> tuple[Tensor, Terms]:
    """G descends the saturating E log(1 - D(G(z))) of Algorithm 1."""
    check_scores(fake)
    return -softplus(fake).mean(), {}


def ns_g_loss(fake: Tensor) -> tuple[Tensor, Terms]:
    """Non-saturating G: maximise E log D(G(z)), i.e. descend -E log D(G(z))."""
    check_scores(fake)
    return softplus(-fake).mean(), {}


# ---------------------------------------------------------------- LSGAN (Mao et al.)


def lsgan_d_loss(real: Tensor, fake: Tensor) -> tuple[Tensor, Terms]:
    """min_D E (D(x) - 1)^2 + E D(G(z))^2."""
    check_scores(real, fake)
    return (real - 1).pow(2).mean() + fake.pow(2).mean(), {}


def lsgan_g_loss(fake: Tensor) -> tuple[Tensor, Terms]:
    """min_G E (D(G(z)) - 1)^2."""
    check_scores(fake)
    return (fake - 1).pow(2).mean(), {}


# ---------------------------------------------------------------- WGAN (Arjovsky et al.)


def wgan_d_loss(real: Tensor, fake: Tensor) -> tuple[Tensor, Terms]:
    """The critic maximises E f(x) - E f(G(z)), the estimate of the earth mover distance."""
    check_scores(real, fake)
    wasserstein = real.mean() - fake.mean()
    return -wasserstein, {"wasserstein_estimate": wasserstein.detach()}


def wgan_g_loss(fake: Tensor) -> tuple[Tensor, Terms]:
    """G maximises E f(G(z))."""
    check_scores(fake)
    return -fake.mean(), {}


# ---------------------------------------------------------------- hinge (Lim & Ye; SNGAN)


def hinge_d_loss(real: Tensor, fake: Tensor) -> tuple[Tensor, Terms]:
    """min_D E relu(1 - D(x)) + E relu(1 + D(G(z)))."""
    check_scores(real, fake)
    return relu(1 - real).mean() + relu(1 + fake).mean(), {}


hinge_g_loss = wgan_g_loss  # min_G -E D(G(z)): the same formula as WGAN's generator


# ---------------------------------------------------------------- AC-GAN (Odena et al. 2017)


def source_scores(outputs: Tensor) -> Tensor:
    """D's real/fake score per sample (N,): the outputs themselves, or an AC-GAN D's first column."""
    return outputs if outputs.dim() == 1 else outputs[:, 0]


def _split_auxiliary(outputs: Tensor) -> tuple[Tensor, Tensor]:
    """An AC-GAN D's (N, 2) outputs: the real/fake logit, and log P(C = c | x) of the sample's class c."""
    if outputs.dim() != 2 or outputs.shape[1] != 2:
        raise ValueError(f"acgan needs D's (N, 2) outputs [logit, log P(c | x)] (conditional=true and an "
                         f"auxiliary classifier), got {tuple(outputs.shape)}")
    return outputs[:, 0], outputs[:, 1]


def acgan_d_loss(real: Tensor, fake: Tensor, class_weight: float = 1.0, real_target: float = 1.0,
                 fake_target: float = 0.0) -> tuple[Tensor, Terms]:
    """D maximises L_S + L_C: L_S = E log P(S = real | x) + E log P(S = fake | G(z, c)) (the GAN value) and
    L_C = E log P(C = c | x) + E log P(C = c | G(z, c)), the class log-likelihood on real and fake."""
    real_logit, real_log_likelihood = _split_auxiliary(real)
    fake_logit, fake_log_likelihood = _split_auxiliary(fake)
    source_loss, terms = gan_d_loss(real_logit, fake_logit, real_target, fake_target)
    class_loss = -(real_log_likelihood.mean() + fake_log_likelihood.mean())  # -L_C
    return source_loss + class_weight * class_loss, {
        **terms, "class_nll_real": -real_log_likelihood.mean().detach(),
        "class_nll_fake": -fake_log_likelihood.mean().detach()}


def acgan_g_loss(fake: Tensor, class_weight: float = 1.0) -> tuple[Tensor, Terms]:
    """G maximises L_C - L_S; its source term in the non-saturating form (as `ns`), so it descends
    -E log P(S = real | G(z, c)) - E log P(C = c | G(z, c))."""
    fake_logit, fake_log_likelihood = _split_auxiliary(fake)
    return softplus(-fake_logit).mean() - class_weight * fake_log_likelihood.mean(), {}
