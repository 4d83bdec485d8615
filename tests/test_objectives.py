"""Every loss against the seeds' formula, on hand-made D outputs, with exact expected values.

The expected values are computed here in float64 from the probabilities D = sigmoid(logit) and the
formulas as the slides write them (log D, log(1 - D), squares, clips), independently of the
softplus forms the library uses.
"""

import math

import pytest
import torch
from torch.testing import assert_close

from ganrun.objectives import losses as objectives, penalties

LOGITS_REAL = torch.tensor([2.0, -1.0, 0.5, 0.0], dtype=torch.float64)
LOGITS_FAKE = torch.tensor([-3.0, 0.25, 1.5, -0.5], dtype=torch.float64)


def probability(logits):
    return 1 / (1 + torch.exp(-logits))


def test_minimax_value_is_minus_log4_when_d_is_one_half_everywhere():
    half = torch.zeros(6, dtype=torch.float64)  # logit 0 <=> D = 1/2 (Theorem 1)
    d_loss, terms = objectives.gan_d_loss(half, half)
    assert_close(terms["value"], torch.tensor(-math.log(4), dtype=torch.float64))
    assert_close(d_loss, torch.tensor(math.log(4), dtype=torch.float64))


def test_gan_d_loss_is_minus_the_value_function():
    d_real, d_fake = probability(LOGITS_REAL), probability(LOGITS_FAKE)
    value = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()  # V(D, G) of Algorithm 1
    d_loss, terms = objectives.gan_d_loss(LOGITS_REAL, LOGITS_FAKE)
    assert_close(d_loss, -value)
    assert_close(terms["value"], value)


def test_optimal_discriminator_value_equals_2jsd_minus_log4():
    # Two discrete distributions, D*(x) = p_data / (p_data + p_g) (Proposition 1): V = 2 JSD - log 4.
    p_data = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    p_g = torch.tensor([0.2, 0.2, 0.6], dtype=torch.float64)
    d_star = p_data / (p_data + p_g)
    logit = torch.log(d_star / (1 - d_star))
    # Expectations over the distributions: weight each outcome's loss by its probability.
    value = (p_data * -torch.nn.functional.softplus(-logit)).sum() + (p_g * -torch.nn.functional.softplus(logit)).sum()
    m = (p_data + p_g) / 2
    jsd = 0.5 * (p_data * torch.log(p_data / m)).sum() + 0.5 * (p_g * torch.log(p_g / m)).sum()
    assert_close(value, 2 * jsd - math.log(4))
    # and the library's loss, fed the outcomes with matching frequencies, agrees with it
    counts_data, counts_g = (p_data * 10).round().long(), (p_g * 10).round().long()
    real = torch.repeat_interleave(logit, counts_data)
    fake = torch.repeat_interleave(logit, counts_g)
    _, terms = objectives.gan_d_loss(real, fake)
    assert_close(terms["value"], value)


def test_minimax_generator_descends_log_one_minus_d():
    expected = torch.log(1 - probability(LOGITS_FAKE)).mean()
    loss, _ = objectives.minimax_g_loss(LOGITS_FAKE)
    assert_close(loss, expected)


def test_non_saturating_generator_maximises_log_d():
    expected = -torch.log(probability(LOGITS_FAKE)).mean()
    loss, _ = objectives.ns_g_loss(LOGITS_FAKE)
    assert_close(loss, expected)


def test_non_saturating_gradient_does_not_vanish_where_minimax_saturates():
    # D confidently rejects the fakes (D(G(z)) ~ 0): the seeds' reason for the heuristic loss.
    confident = torch.tensor([-10.0], dtype=torch.float64, requires_grad=True)
    (minimax_grad,) = torch.autograd.grad(objectives.minimax_g_loss(confident)[0], confident)
    (ns_grad,) = torch.autograd.grad(objectives.ns_g_loss(confident)[0], confident)
    assert_close(minimax_grad, -probability(confident.detach()))  # d/dl log(1 - sigmoid(l)) = -sigmoid(l)
    assert_close(ns_grad, -(1 - probability(confident.detach())))  # d/dl -log sigmoid(l) = -(1 - sigmoid(l))


def test_lsgan_losses():
    d_loss, _ = objectives.lsgan_d_loss(LOGITS_REAL, LOGITS_FAKE)
    g_loss, _ = objectives.lsgan_g_loss(LOGITS_FAKE)
    assert_close(d_loss, ((LOGITS_REAL - 1) ** 2).mean() + (LOGITS_FAKE ** 2).mean())
    assert_close(g_loss, ((LOGITS_FAKE - 1) ** 2).mean())
    # hand-computed: real (1 + 4 + 0.25 + 1) / 4 = 1.5625, fake (9 + 0.0625 + 2.25 + 0.25) / 4 = 2.890625
    assert_close(d_loss, torch.tensor(1.5625 + 2.890625, dtype=torch.float64))


def test_wgan_losses_and_wasserstein_estimate():
    d_loss, terms = objectives.wgan_d_loss(LOGITS_REAL, LOGITS_FAKE)
    g_loss, _ = objectives.wgan_g_loss(LOGITS_FAKE)
    estimate = LOGITS_REAL.mean() - LOGITS_FAKE.mean()  # 0.375 - (-0.4375)
    assert_close(terms["wasserstein_estimate"], torch.tensor(0.8125, dtype=torch.float64))
    assert_close(d_loss, -estimate)
    assert_close(g_loss, -LOGITS_FAKE.mean())


def test_hinge_losses():
    d_loss, _ = objectives.hinge_d_loss(LOGITS_REAL, LOGITS_FAKE)
    g_loss, _ = objectives.hinge_g_loss(LOGITS_FAKE)
    # relu(1 - real) = [0, 2, 0.5, 1] -> 0.875 ; relu(1 + fake) = [0, 1.25, 2.5, 0.5] -> 1.0625
    assert_close(d_loss, torch.tensor(0.875 + 1.0625, dtype=torch.float64))
    assert_close(g_loss, torch.tensor(0.4375, dtype=torch.float64))


class LinearCritic(torch.nn.Module):
    """D(y) = <w, y>: its input gradient is w everywhere, so the penalty is known in closed form."""

    def __init__(self, weight):
        super().__init__()
        self.weight = weight

    def forward(self, y):
        return (y.flatten(1) * self.weight).sum(dim=1)


@pytest.mark.parametrize("penalty", [penalties.interpolate_penalty, penalties.perturbed_real_penalty])
def test_gradient_penalties_on_a_linear_critic(penalty):
    weight = torch.tensor([3.0, 4.0], dtype=torch.float64)  # ||grad|| = 5 for every y
    real = torch.randn(8, 2, dtype=torch.float64)
    fake = torch.randn(8, 2, dtype=torch.float64)
    value, terms = penalty(LinearCritic(weight), real, fake, weight=10.0)
    assert_close(terms["gradient_penalty"], torch.tensor(16.0, dtype=torch.float64))  # (5 - 1)^2
    assert_close(value, torch.tensor(160.0, dtype=torch.float64))


def test_interpolate_penalty_samples_on_segments_between_real_and_fake():
    seen = []

    def critic(y):
        seen.append(y.detach().clone())
        return y.flatten(1).sum(dim=1)

    real = torch.zeros(64, 3, 2, 2, dtype=torch.float64)
    fake = torch.ones(64, 3, 2, 2, dtype=torch.float64)
    penalties.interpolate_penalty(critic, real, fake, weight=1.0)
    points = seen[0]
    # y = u x + (1 - u) G(z) with one u per sample: constant within each sample, spread over [0, 1]
    assert_close(points, points[:, :1, :1, :1].expand_as(points))
    assert float(points.min()) >= 0.0 and float(points.max()) <= 1.0
    assert float(points.std()) > 0.2


def test_dragan_penalty_perturbs_around_real_samples_only():
    seen = []

    def critic(y):
        seen.append(y.detach().clone())
        return y.flatten(1).sum(dim=1)

    real = torch.randn(256, 4, dtype=torch.float64)
    fake = torch.full((256, 4), 100.0, dtype=torch.float64)  # far away: must not matter
    penalties.perturbed_real_penalty(critic, real, fake, weight=1.0, scale=0.5)
    offset = seen[0] - real
    # y - x = (1 - a) delta with delta in [0, 0.5 std(x)): never negative, never beyond the bound
    assert float(offset.min()) >= 0.0
    assert float(offset.max()) <= 0.5 * float(real.std())


def test_losses_reject_outputs_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        objectives.gan_d_loss(torch.zeros(4, 1), torch.zeros(4, 1))
