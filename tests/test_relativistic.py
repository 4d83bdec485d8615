"""RpGAN and RaGAN (Jolicoeur-Martineau 2019) and LSGAN's a, b, c (Mao et al. 2017) on hand-made scores."""

import math

import pytest
import torch
from torch.testing import assert_close

from ganrun.objectives import losses as objectives
from ganrun.objectives.relativistic import ragan_d_loss, ragan_g_loss, rpgan_d_loss, rpgan_g_loss

F64 = dict(dtype=torch.float64)
REAL = torch.tensor([2.0, -1.0, 0.5], **F64)
FAKE = torch.tensor([-3.0, 0.25, 1.5], **F64)


def softplus(v):
    return math.log1p(math.exp(v))


def mean(values):
    return sum(values) / len(values)


def test_rpgan_pairs_real_and_fake_scores():
    pairs = list(zip(REAL.tolist(), FAKE.tolist()))
    d_loss, terms = rpgan_d_loss(REAL, FAKE)
    assert_close(d_loss, torch.tensor(mean([softplus(-(r - f)) for r, f in pairs]), **F64))
    assert_close(terms["relativistic_gap"], torch.tensor(mean([r - f for r, f in pairs]), **F64))
    g_loss, _ = rpgan_g_loss(FAKE, REAL)
    assert_close(g_loss, torch.tensor(mean([softplus(-(f - r)) for r, f in pairs]), **F64))


def test_ragan_compares_with_the_other_batch_mean():
    mean_real, mean_fake = mean(REAL.tolist()), mean(FAKE.tolist())
    d_expected = (mean([softplus(-(r - mean_fake)) for r in REAL.tolist()])  # -log sigmoid(C(x_r) - E C(x_f))
                  + mean([softplus(f - mean_real) for f in FAKE.tolist()]))  # -log(1 - sigmoid(C(x_f) - E C(x_r)))
    g_expected = (mean([softplus(-(f - mean_real)) for f in FAKE.tolist()])
                  + mean([softplus(r - mean_fake) for r in REAL.tolist()]))
    assert_close(ragan_d_loss(REAL, FAKE)[0], torch.tensor(d_expected, **F64))
    assert_close(ragan_g_loss(FAKE, REAL)[0], torch.tensor(g_expected, **F64))


def test_relativistic_g_losses_move_only_the_fakes():
    real, fake = REAL.clone().requires_grad_(True), FAKE.clone().requires_grad_(True)
    for g_loss in (rpgan_g_loss, ragan_g_loss):
        real.grad = fake.grad = None
        g_loss(fake, real)[0].backward()
        assert real.grad is None and fake.grad.abs().sum() > 0


def test_rpgan_needs_pairs():
    with pytest.raises(ValueError, match="pairs"):
        rpgan_d_loss(REAL, FAKE[:2])


def test_lsgan_targets_a_b_c():
    d_loss, _ = objectives.lsgan_d_loss(REAL, FAKE, a=-1.0, b=1.0)  # the chi^2 case
    expected = mean([(r - 1) ** 2 for r in REAL.tolist()]) + mean([(f + 1) ** 2 for f in FAKE.tolist()])
    assert_close(d_loss, torch.tensor(expected, **F64))
    assert_close(objectives.lsgan_g_loss(FAKE, c=0.0)[0], torch.tensor(mean([f ** 2 for f in FAKE.tolist()]), **F64))
    # the defaults are the 0-1 coding
    assert_close(objectives.lsgan_d_loss(REAL, FAKE)[0],
                 torch.tensor(mean([(r - 1) ** 2 for r in REAL.tolist()]) + mean([f ** 2 for f in FAKE.tolist()]), **F64))
