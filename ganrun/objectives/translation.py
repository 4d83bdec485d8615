"""The non-adversarial terms of image-to-image translation, as small pure functions.

Each returns `(weighted loss, terms)`, `terms` holding the unweighted term under the name it is logged
as (a name with "/" is logged as is). Image batches are (N, C, H, W) in [-1, 1]; every mean is over
all elements, as the papers' reference code (torch's L1Loss / MSELoss with reduction="mean").
The adversarial terms are the objectives' own d_loss / g_loss on D's flattened patch scores.
"""

from __future__ import annotations

import torch
from torch import Tensor

Terms = dict[str, Tensor]

PIX2PIX_L1_WEIGHT = 100.0  # pix2pix: lambda = 100 (Isola et al. 2017, Sec. 4)
PIX2PIX_D_WEIGHT = 0.5  # "we divide the objective by 2 while optimizing D" (Sec. 3.3)
CYCLE_WEIGHT = 10.0  # CycleGAN: lambda = 10 (Zhu et al. 2017, Sec. 4 / 7.1)
IDENTITY_WEIGHT = 0.5  # identity loss weight, relative to lambda (the reference's lambda_identity = 0.5)
SRGAN_ADVERSARIAL_WEIGHT = 1e-3  # SRGAN: l_SR = l_X + 10^-3 l_Gen (Ledig et al. 2017, Eq. 3)


def _same_shape(a: Tensor, b: Tensor, what: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{what} compares images of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def l1_reconstruction(fake: Tensor, target: Tensor, weight: float = PIX2PIX_L1_WEIGHT) -> tuple[Tensor, Terms]:
    """pix2pix's L_L1(G) = E ||y - G(x)||_1 (Eq. 3), weighted by lambda in G* = arg min max L_cGAN + lambda L_L1 (Eq. 4)."""
    _same_shape(fake, target, "the L1 term")
    l1 = (target - fake).abs().mean()
    return weight * l1, {"loss/L1": l1.detach()}


def pix2pix_discriminator_loss(adversarial: Tensor) -> Tensor:
    """pix2pix's D objective halved (Sec. 3.3), slowing D relative to G: 0.5 (L_real + L_fake)."""
    return PIX2PIX_D_WEIGHT * adversarial


def cycle_loss(real: Tensor, reconstructed: Tensor, weight: float = CYCLE_WEIGHT, p: int = 1,
               name: str = "loss/cycle") -> tuple[Tensor, Terms]:
    """CycleGAN's L_cyc = E ||F(G(x)) - x||_1 (Eq. 2) for one direction, weighted by lambda (Eq. 3);
    p = 2 is DiscoGAN's reconstruction distance (Kim et al. 2017: the squared L2, MSE)."""
    _same_shape(real, reconstructed, "the cycle loss")
    if p not in (1, 2):
        raise ValueError(f"the cycle loss takes p = 1 (CycleGAN) or 2 (DiscoGAN), got {p}")
    error = (reconstructed - real).abs().pow(p).mean()
    return weight * error, {name: error.detach()}


def identity_loss(real_target: Tensor, mapped: Tensor, cycle_weight: float = CYCLE_WEIGHT,
                  identity_weight: float = IDENTITY_WEIGHT, name: str = "loss/identity") -> tuple[Tensor, Terms]:
    """CycleGAN's identity mapping loss L_identity = E ||G(y) - y||_1 (Sec. 5.2, after Taigman et al.),
    weighted as the reference code: identity_weight * lambda (0.5 * 10 = 5)."""
    _same_shape(real_target, mapped, "the identity loss")
    error = (mapped - real_target).abs().mean()
    return identity_weight * cycle_weight * error, {name: error.detach()}


def content_loss(fake_features: Tensor, real_features: Tensor, name: str = "loss/content") -> tuple[Tensor, Terms]:
    """SRGAN's content loss l_X: the mean squared difference of feature maps phi(I_HR) and phi(G(I_LR))
    (Eq. 5, the VGG loss; phi = identity gives the pixel-wise MSE of Eq. 4, SRResNet's only loss)."""
    _same_shape(fake_features, real_features, "the content loss")
    error = (fake_features - real_features).pow(2).mean()
    return error, {name: error.detach()}


def perceptual_loss(content: Tensor, adversarial: Tensor,
                    adversarial_weight: float = SRGAN_ADVERSARIAL_WEIGHT) -> Tensor:
    """SRGAN's perceptual loss l_SR = l_X + 10^-3 l_Gen (Eq. 3)."""
    return content + adversarial_weight * adversarial


def self_regularization(refined: Tensor, synthetic: Tensor, weight: float) -> tuple[Tensor, Terms]:
    """SimGAN's self-regularisation lambda ||psi(R(x)) - psi(x)||_1 with psi = identity (Shrivastava et al.
    2017, Eq. 4), as a mean over pixels (the paper's sum divided by the pixel count: lambda absorbs it)."""
    _same_shape(refined, synthetic, "the self-regularisation loss")
    error = (refined - synthetic).abs().mean()
    return weight * error, {"loss/self_regularization": error.detach()}


def patch_scores(scores: Tensor) -> Tensor:
    """A PatchGAN's (N, 1, H', W') map as N * H' * W' scores of shape (M,): the objectives' losses then
    average over every patch, as the reference's loss over the whole map (SimGAN's local adversarial loss
    sums the cross-entropy over patches: the same up to a constant factor)."""
    return scores.flatten()
