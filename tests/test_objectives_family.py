"""The rest of the family against their papers' formulas, on hand-made D outputs, exact values:
label smoothing, AC-GAN, EBGAN (+ pull-away), BEGAN (+ the k_t control), f-GAN's Table 2."""

import math

import pytest
import torch
from torch.testing import assert_close

from ganrun.objectives import energy, fdivergence as fgan, losses as objectives, penalties

F64 = dict(dtype=torch.float64)
LOGITS_REAL = torch.tensor([2.0, -1.0, 0.5, 0.0], **F64)
LOGITS_FAKE = torch.tensor([-3.0, 0.25, 1.5, -0.5], **F64)


def sigmoid(values):
    return [1 / (1 + math.exp(-v)) for v in values]


def mean(values):
    return sum(values) / len(values)


# ---------------------------------------------------------------- label smoothing


@pytest.mark.parametrize("real_target, fake_target", [(0.9, 0.0), (0.9, 0.1), (0.8, 0.2)])
def test_label_smoothing_is_cross_entropy_with_soft_targets(real_target, fake_target):
    d_real, d_fake = sigmoid(LOGITS_REAL.tolist()), sigmoid(LOGITS_FAKE.tolist())
    expected = (-mean([real_target * math.log(p) + (1 - real_target) * math.log(1 - p) for p in d_real])
                - mean([fake_target * math.log(p) + (1 - fake_target) * math.log(1 - p) for p in d_fake]))
    loss, terms = objectives.gan_d_loss(LOGITS_REAL, LOGITS_FAKE, real_target, fake_target)
    assert_close(loss, torch.tensor(expected, **F64))
    # the value V(D, G) is still logged with hard targets, and the targets themselves
    value = mean([math.log(p) for p in d_real]) + mean([math.log(1 - p) for p in d_fake])
    assert_close(terms["value"], torch.tensor(value, **F64))
    assert_close(terms["real_target"], torch.tensor(real_target))
    assert_close(terms["fake_target"], torch.tensor(fake_target))


def test_one_sided_smoothing_leaves_the_fake_term_and_moves_the_optimum_to_0_9():
    # For one real and one fake sample, d loss / d logit_real = sigmoid(l) - 0.9: zero at D(x) = 0.9.
    real = torch.tensor([math.log(0.9 / 0.1)], **F64, requires_grad=True)
    loss, _ = objectives.gan_d_loss(real, torch.tensor([0.3], **F64), real_target=0.9)
    (grad,) = torch.autograd.grad(loss, real)
    assert_close(grad, torch.zeros(1, **F64))


def test_hard_targets_give_the_unsmoothed_loss():
    loss, terms = objectives.gan_d_loss(LOGITS_REAL, LOGITS_FAKE, 1.0, 0.0)
    assert_close(loss, -terms["value"])
    assert set(terms) == {"value"}


# ---------------------------------------------------------------- AC-GAN


def test_acgan_losses_add_the_class_log_likelihood():
    log_like_real = torch.tensor([-0.1, -2.0, -0.5, -1.0], **F64)
    log_like_fake = torch.tensor([-3.0, -0.2, -0.7, -0.1], **F64)
    real = torch.stack([LOGITS_REAL, log_like_real], dim=1)
    fake = torch.stack([LOGITS_FAKE, log_like_fake], dim=1)
    d_real, d_fake = sigmoid(LOGITS_REAL.tolist()), sigmoid(LOGITS_FAKE.tolist())
    source = -(mean([math.log(p) for p in d_real]) + mean([math.log(1 - p) for p in d_fake]))
    # L_C = mean(-0.1, -2, -0.5, -1) + mean(-3, -0.2, -0.7, -0.1) = -0.9 - 1.0
    d_loss, terms = objectives.acgan_d_loss(real, fake, class_weight=0.5)
    assert_close(d_loss, torch.tensor(source + 0.5 * 1.9, **F64))
    assert_close(terms["class_nll_real"], torch.tensor(0.9, **F64))
    g_loss, _ = objectives.acgan_g_loss(fake, class_weight=0.5)
    assert_close(g_loss, torch.tensor(-mean([math.log(p) for p in d_fake]) + 0.5 * 1.0, **F64))


def test_acgan_needs_the_two_column_outputs():
    with pytest.raises(ValueError, match="acgan"):
        objectives.acgan_d_loss(LOGITS_REAL, LOGITS_FAKE)


# ---------------------------------------------------------------- EBGAN

ENERGY_REAL = torch.tensor([0.2, 0.5, 0.1, 0.4], **F64)
ENERGY_FAKE = torch.tensor([0.3, 1.5, 0.9, 2.0], **F64)


def test_ebgan_losses():
    d_loss, _ = energy.ebgan_d_loss(ENERGY_REAL, ENERGY_FAKE, margin=1.0)
    # mean(real) = 0.3 ; [1 - fake]^+ = [0.7, 0, 0.1, 0] -> 0.2
    assert_close(d_loss, torch.tensor(0.5, **F64))
    g_loss, _ = energy.energy_g_loss(ENERGY_FAKE)
    assert_close(g_loss, torch.tensor(1.175, **F64))


def test_pull_away_term_is_the_mean_squared_cosine_over_distinct_pairs():
    codes = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]], **F64)
    # cosines: (1, 2): 0 ; (1, 3): 1/sqrt(2) ; (2, 3): 1/sqrt(2) -> squares 0, 0.5, 0.5, each pair twice
    assert_close(energy.pull_away_term(codes), torch.tensor(2 * (0 + 0.5 + 0.5) / (3 * 2), **F64))
    assert_close(energy.pull_away_term(codes[:1].repeat(4, 1)), torch.tensor(1.0, **F64))


def test_pull_away_penalty_encodes_the_fakes():
    class Encoder:
        def encode(self, x):
            return x * 2  # scaling does not change cosines

    codes = torch.tensor([[1.0, 0.0], [1.0, 1.0]], **F64)
    value, terms = energy.pull_away_penalty(Encoder(), codes, weight=0.1)
    assert_close(terms["pull_away"], torch.tensor(0.5, **F64))  # 2 * 0.5 / 2
    assert_close(value, torch.tensor(0.05, **F64))


# ---------------------------------------------------------------- BEGAN


def test_began_d_loss_weights_the_fake_energy_by_k():
    d_loss, _ = energy.began_d_loss(ENERGY_REAL, ENERGY_FAKE, k=torch.tensor(0.25, **F64))
    assert_close(d_loss, torch.tensor(0.3 - 0.25 * 1.175, **F64))


def test_began_k_follows_its_update_rule_step_by_step_and_stays_in_0_1():
    gamma, lambda_k = 0.5, 0.1
    k = torch.tensor(0.0, **F64)
    steps = [(0.4, 0.1), (0.4, 0.1), (0.2, 0.5), (0.2, 0.5), (0.2, 0.5), (1.0, 0.0), (1.0, 0.0)]
    expected_k = 0.0
    for real_energy, fake_energy in steps:
        k = energy.began_k_update(k, torch.tensor(real_energy, **F64), torch.tensor(fake_energy, **F64),
                                  gamma, lambda_k)
        expected_k = min(1.0, max(0.0, expected_k + lambda_k * (gamma * real_energy - fake_energy)))
        assert_close(k, torch.tensor(expected_k, **F64))
        assert 0.0 <= float(k) <= 1.0
    # the sequence went up (0.01, 0.02), was clamped at 0, then up again: both bounds matter
    big = energy.began_k_update(torch.tensor(0.99, **F64), torch.tensor(10.0, **F64), torch.tensor(0.0, **F64),
                                gamma, lambda_k)
    assert_close(big, torch.tensor(1.0, **F64))


def test_began_equilibrium_logs_k_and_the_convergence_measure():
    k, terms = energy.began_equilibrium(torch.tensor(0.5, **F64), ENERGY_REAL, ENERGY_FAKE, gamma=0.5,
                                        lambda_k=0.001)
    # real 0.3, fake 1.175: k = 0.5 + 0.001 (0.15 - 1.175) ; M = 0.3 + |0.15 - 1.175|
    assert_close(k, torch.tensor(0.5 - 0.001025, **F64))
    assert_close(terms["k_t"], k)
    assert_close(terms["M_global"], torch.tensor(0.3 + 1.025, **F64))


# ---------------------------------------------------------------- f-GAN, Table 2 of Nowozin et al.

# (g_f(v), f*(t)) written with Python's math, independently of the library's stable forms.
TABLE_2 = {
    "kl": (lambda v: v, lambda t: math.exp(t - 1)),
    "reverse_kl": (lambda v: -math.exp(-v), lambda t: -1 - math.log(-t)),
    "js": (lambda v: math.log(2) - math.log(1 + math.exp(-v)), lambda t: -math.log(2 - math.exp(t))),
    "pearson": (lambda v: v, lambda t: t * t / 4 + t),
    "squared_hellinger": (lambda v: 1 - math.exp(-v), lambda t: t / (1 - t)),
}


@pytest.mark.parametrize("divergence", sorted(TABLE_2))
def test_fgan_losses_follow_table_2(divergence):
    g_f, conjugate = TABLE_2[divergence]
    real, fake = LOGITS_REAL.tolist(), LOGITS_FAKE.tolist()
    estimate = mean([g_f(v) for v in real]) - mean([conjugate(g_f(v)) for v in fake])
    d_loss, terms = fgan.fgan_d_loss(LOGITS_REAL, LOGITS_FAKE, divergence)
    assert_close(d_loss, torch.tensor(-estimate, **F64))
    assert_close(terms["divergence_estimate"], torch.tensor(estimate, **F64))
    g_loss, _ = fgan.fgan_g_loss(LOGITS_FAKE, divergence)
    assert_close(g_loss, torch.tensor(-mean([conjugate(g_f(v)) for v in fake]), **F64))
    alternative, _ = fgan.fgan_g_loss(LOGITS_FAKE, divergence, alternative=True)
    assert_close(alternative, torch.tensor(-mean([g_f(v) for v in fake]), **F64))
    # the stable composition is f* after g_f, also as tensors
    f = fgan.DIVERGENCES[divergence]
    assert_close(f.conjugate_of_activation(LOGITS_FAKE), f.conjugate(f.activation(LOGITS_FAKE)))


def test_fgan_hand_values():
    # KL at v = 1: f*(g_f(1)) = e^0 = 1 ; JS at v = 0: g_f = log 2 - log 2 = 0, f*(0) = -log 1 = 0
    one, zero = torch.tensor([1.0], **F64), torch.tensor([0.0], **F64)
    assert_close(fgan.fgan_g_loss(one, "kl")[0], torch.tensor(-1.0, **F64))
    assert_close(fgan.fgan_d_loss(zero, zero, "js")[0], torch.tensor(0.0, **F64))
    # the JS form stays finite where the composition overflows
    assert torch.isfinite(fgan.fgan_g_loss(torch.tensor([800.0], **F64), "js")[0])


def test_fgan_rejects_an_unknown_divergence():
    with pytest.raises(ValueError, match="Table 2"):
        fgan.fgan_d_loss(LOGITS_REAL, LOGITS_FAKE, "tv")
