"""Unrolled GAN: G's gradient through K differentiable D updates, D itself untouched."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.functional import softplus
from torch.testing import assert_close

from ganrun.objectives.losses import gan_d_loss, ns_g_loss
from ganrun.objectives.unrolled import unrolled_discriminator


class LinearD(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x, labels=None):
        return self.linear(x).squeeze(1)


class SmallD(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))

    def forward(self, x, labels=None):
        return self.net(x).squeeze(1)


def batches(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(6, 2, generator=g, dtype=torch.float64), torch.randn(5, 2, generator=g, dtype=torch.float64)


def test_one_unrolled_sgd_step_matches_the_hand_written_gradient():
    torch.manual_seed(0)
    D = LinearD().double()
    lr = 0.5
    optimizer = torch.optim.SGD(D.parameters(), lr=lr)
    real, fake_data = batches()
    fake = fake_data.clone().requires_grad_(True)  # stands in for G(z): the gradient G would receive
    scorer = unrolled_discriminator(D, gan_d_loss, optimizer, real, None, fake, None, steps=1)
    (unrolled_grad,) = torch.autograd.grad(ns_g_loss(scorer(fake, None))[0], fake)

    # The same by hand: one gradient step of the GAN D loss on a linear D, written out explicitly.
    w0, b0 = D.linear.weight.detach()[0], D.linear.bias.detach()[0]
    f = fake_data.clone().requires_grad_(True)
    s_real, s_fake = real @ w0 + b0, f @ w0 + b0
    grad_w = (-torch.sigmoid(-s_real)[:, None] * real).mean(0) + (torch.sigmoid(s_fake)[:, None] * f).mean(0)
    grad_b = -torch.sigmoid(-s_real).mean() + torch.sigmoid(s_fake).mean()
    w1, b1 = w0 - lr * grad_w, b0 - lr * grad_b
    (expected,) = torch.autograd.grad(softplus(-(f @ w1 + b1)).mean(), f)
    assert_close(unrolled_grad, expected)

    # ... which differs from the gradient through the current D (K = 0), which is D itself
    assert unrolled_discriminator(D, gan_d_loss, optimizer, real, None, fake, None, steps=0) is D
    (plain_grad,) = torch.autograd.grad(ns_g_loss(D(fake))[0], fake)
    assert not torch.allclose(plain_grad, unrolled_grad)


def test_unrolled_adam_steps_equal_adam_steps_and_leave_d_alone():
    torch.manual_seed(0)
    D = SmallD().double()
    optimizer = torch.optim.Adam(D.parameters(), lr=0.05, betas=(0.5, 0.999))
    real, fake = batches(1)
    # one real step first, so the unrolling continues from Adam's moment estimates
    gan_d_loss(D(real), D(fake))[0].backward()
    optimizer.step()
    before = copy.deepcopy(D.state_dict())

    scorer = unrolled_discriminator(D, gan_d_loss, optimizer, real, None, fake, None, steps=3)
    probe = torch.randn(4, 2, dtype=torch.float64)
    unrolled_scores = scorer(probe, None)

    twin = copy.deepcopy(D)
    twin_optimizer = torch.optim.Adam(twin.parameters(), lr=0.05, betas=(0.5, 0.999))
    twin_optimizer.load_state_dict(optimizer.state_dict())
    for _ in range(3):
        twin_optimizer.zero_grad()
        gan_d_loss(twin(real), twin(fake))[0].backward()
        twin_optimizer.step()
    assert_close(unrolled_scores, twin(probe))

    for key, value in D.state_dict().items():  # weights and batch-norm statistics unchanged
        assert_close(value, before[key], rtol=0, atol=0)
    grads_before = [p.grad.clone() for p in D.parameters()]
    fake_g = fake.clone().requires_grad_(True)
    scorer = unrolled_discriminator(D, gan_d_loss, optimizer, real, None, fake_g, None, steps=2)
    ns_g_loss(scorer(fake_g, None))[0].backward()
    assert fake_g.grad is not None and torch.isfinite(fake_g.grad).all()
    for p, g in zip(D.parameters(), grads_before):  # G's backward put nothing into D's gradients
        assert_close(p.grad, g, rtol=0, atol=0)
