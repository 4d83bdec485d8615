"""The VAE's pure functions against hand-computed values, and its networks' shapes."""

import math

import pytest
import torch
from torch.testing import assert_close

from ganrun.models.vae import VAE
from ganrun.objectives.vae import NegativeELBO, gaussian_nll, kl_diagonal_gaussian, negative_elbo, reparameterize


def test_kl_of_a_diagonal_gaussian_by_hand():
    mu = torch.tensor([[0.0, 0.0], [1.0, -2.0]])
    logvar = torch.tensor([[0.0, 0.0], [math.log(4.0), 0.0]])
    # row 1: 1/2 [(4 + 1 - 1 - log 4) + (1 + 4 - 1 - 0)] = 4 - log 2
    assert_close(kl_diagonal_gaussian(mu, logvar), torch.tensor([0.0, 4.0 - math.log(2.0)]))


def test_kl_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    assert_close(kl_diagonal_gaussian(mu, logvar), torch.distributions.kl_divergence(q, p).sum(1))


def test_reparameterize_by_hand_and_its_gradients():
    mu = torch.tensor([1.0], requires_grad=True)
    logvar = torch.tensor([math.log(4.0)], requires_grad=True)
    z = reparameterize(mu, logvar, torch.tensor([0.5]))
    assert_close(z, torch.tensor([2.0]))  # 1 + 2 * 0.5
    z.sum().backward()
    assert_close(mu.grad, torch.tensor([1.0]))
    assert_close(logvar.grad, torch.tensor([0.5 * 2.0 * 0.5]))  # d/dlv e^(lv/2) eps = e^(lv/2) eps / 2


def test_gaussian_nll_by_hand():
    x, mean = torch.tensor([[1.0, 0.0]]), torch.zeros(1, 2)
    assert_close(gaussian_nll(x, mean, 1.0), torch.tensor([0.5 + math.log(2 * math.pi)]))
    # std 0.5: 1 / (2 * 0.25) + 2/2 log(2 pi 0.25)
    assert_close(gaussian_nll(x, mean, 0.5), torch.tensor([2.0 + math.log(0.5 * math.pi)]))


def test_negative_elbo_is_nll_plus_beta_kl():
    x = torch.tensor([[[[1.0, 0.0]]], [[[0.0, 0.0]]]])  # (2, 1, 1, 2)
    mu = torch.tensor([[0.0, 0.0], [1.0, -2.0]])
    logvar = torch.tensor([[0.0, 0.0], [math.log(4.0), 0.0]])
    nll = (0.5 + 0.0) / 2 + math.log(2 * math.pi)  # batch mean of 0.5 + log 2pi and 0 + log 2pi
    kl = (4.0 - math.log(2.0)) / 2
    loss, terms = negative_elbo(x, torch.zeros_like(x), mu, logvar, std=1.0, beta=0.5)
    assert_close(loss, torch.tensor(nll + 0.5 * kl))
    assert_close(terms["loss/reconstruction"], torch.tensor(nll))
    assert_close(terms["loss/KL"], torch.tensor(kl))
    assert_close(terms["loss/negative_elbo"], torch.tensor(nll + kl))


def test_vae_shapes_and_prior_start():
    vae = VAE(latent_dim=6, data_shape=(1, 16, 16), width=4)
    mu, logvar = vae.encode(torch.randn(3, 1, 16, 16))
    assert mu.shape == logvar.shape == (3, 6)
    assert_close(mu, torch.zeros(3, 6))  # the zero head starts q(z|x) at the prior
    assert vae(torch.randn(3, 6)).shape == (3, 1, 16, 16)


def test_negative_elbo_object_and_its_bad_settings():
    x = torch.tensor([[[[1.0, 0.0]]]])
    objective = NegativeELBO(std=0.5, beta=2.0)
    assert objective.d_steps == 0
    loss, _ = objective(x, torch.zeros_like(x), torch.zeros(1, 2), torch.zeros(1, 2))
    assert_close(loss, torch.tensor(2.0 + math.log(0.5 * math.pi)))  # KL 0 at the prior
    for bad in ({"std": 0.0}, {"beta": -1.0}):
        with pytest.raises(ValueError, match="objective=vae"):
            NegativeELBO(**bad)
