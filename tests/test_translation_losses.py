"""Exact values of the translation terms (ganrun.objectives.translation) and of CycleGAN's image pool."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from ganrun.games.pool import ImagePool
from ganrun.objectives.translation import (content_loss, cycle_loss, identity_loss, l1_reconstruction, patch_scores,
                                           perceptual_loss, pix2pix_discriminator_loss, self_regularization)

Y = torch.tensor([[[[0.5, -0.5], [1.0, 0.0]]]])  # (1, 1, 2, 2)
G = torch.tensor([[[[0.0, -0.5], [0.0, 1.0]]]])  # |Y - G| = 0.5, 0, 1, 1: mean 0.625; squared 0.25, 0, 1, 1: mean 0.5625


def test_pix2pix_l1_is_lambda_100_times_the_mean_absolute_error():
    loss, terms = l1_reconstruction(G, Y)
    assert_close(loss, torch.tensor(62.5))
    assert_close(terms["loss/L1"], torch.tensor(0.625))
    assert_close(l1_reconstruction(G, Y, weight=10.0)[0], torch.tensor(6.25))


def test_pix2pix_halves_the_discriminator_loss():
    assert_close(pix2pix_discriminator_loss(torch.tensor(1.3862944)), torch.tensor(0.6931472))


def test_cycle_loss_l1_and_discogan_l2():
    loss, terms = cycle_loss(Y, G, name="loss/cycle_A")
    assert_close(loss, torch.tensor(6.25))
    assert_close(terms["loss/cycle_A"], torch.tensor(0.625))
    assert_close(cycle_loss(Y, G, weight=1.0, p=2)[0], torch.tensor(0.5625))
    with pytest.raises(ValueError, match="p = 1"):
        cycle_loss(Y, G, p=3)


def test_cycle_loss_is_zero_when_g_and_f_are_inverse_identities():
    a = torch.rand(4, 3, 8, 8) * 2 - 1
    g = f = torch.nn.Identity()
    loss, terms = cycle_loss(a, f(g(a)))
    assert_close(loss, torch.tensor(0.0))
    assert_close(terms["loss/cycle"], torch.tensor(0.0))


def test_identity_loss_is_half_lambda_times_the_l1():
    loss, terms = identity_loss(Y, G)
    assert_close(loss, torch.tensor(0.5 * 10 * 0.625))
    assert_close(terms["loss/identity"], torch.tensor(0.625))


def test_srgan_content_and_perceptual_loss():
    content, terms = content_loss(G, Y)
    assert_close(content, torch.tensor(0.5625))
    assert_close(terms["loss/content"], torch.tensor(0.5625))
    assert_close(perceptual_loss(content, torch.tensor(2.0)), torch.tensor(0.5625 + 2e-3))


def test_simgan_self_regularisation():
    loss, terms = self_regularization(G, Y, weight=0.5)
    assert_close(loss, torch.tensor(0.3125))
    assert_close(terms["loss/self_regularization"], torch.tensor(0.625))


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="one shape"):
        l1_reconstruction(G, torch.zeros(1, 1, 2, 3))


def test_patch_scores_flatten_the_map():
    scores = torch.arange(8.0).view(2, 1, 2, 2)
    assert_close(patch_scores(scores), torch.arange(8.0))


def test_image_pool_fills_then_swaps_half_the_time_and_resumes_identically():
    pool = ImagePool(2, seed=0)
    first = torch.tensor([[1.0], [2.0]])
    assert_close(pool.query(first), first)  # room: the new images come back
    state = pool.state_dict()
    out = pool.query(torch.tensor([[3.0], [4.0], [5.0], [6.0]]))
    assert out.shape == (4, 1)
    for value, new in zip(out.flatten().tolist(), [3.0, 4.0, 5.0, 6.0]):
        assert value == new or value in (1.0, 2.0, 3.0, 4.0, 5.0)  # new, or one stored before it
    resumed = ImagePool(2, seed=123)
    resumed.load_state_dict(state)
    assert_close(resumed.query(torch.tensor([[3.0], [4.0], [5.0], [6.0]])), out)
    assert_close(ImagePool(0).query(first), first)
