"""Salimans et al. 2016: minibatch discrimination, virtual batch norm, feature matching, historical
averaging, the (K+1)-class loss, and the window average of G's weights; exact values on hand-made batches."""

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from ganrun.averaging import HistoricalAverage, WindowAverage
from ganrun.models.dcgan import Generator
from ganrun.models.salimans import MinibatchDiscrimination, VirtualBatchNorm, VirtualBatchNormNet
from ganrun.objectives.salimans import (feature_matching_g_loss, historical_averaging_penalty,
                                        semi_supervised_d_loss, semi_supervised_g_loss)

e = math.exp


def test_minibatch_discrimination_l1_features_on_a_hand_made_batch():
    layer = MinibatchDiscrimination(in_features=2, kernels=2, kernel_dim=2)
    with torch.no_grad():  # kernel 1: M_i = f(x_i); kernel 2: M_i = 2 f(x_i)
        layer.T.copy_(torch.tensor([[1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, 2.0]]))
    f = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    # L1 distances: |f0 - f1| = 1, |f0 - f2| = 2, |f1 - f2| = 3 (doubled for kernel 2); j = i gives exp(0) = 1
    o = torch.tensor([[1 + e(-1) + e(-2), 1 + e(-2) + e(-4)],
                      [1 + e(-1) + e(-3), 1 + e(-2) + e(-6)],
                      [1 + e(-2) + e(-3), 1 + e(-4) + e(-6)]])
    assert_close(layer(f), torch.cat([f, o], dim=1))


def test_minibatch_discrimination_of_a_collapsed_batch_counts_the_batch():
    layer = MinibatchDiscrimination(in_features=3, kernels=4, kernel_dim=2)
    same = torch.randn(1, 3).expand(5, 3)
    assert_close(layer(same)[:, 3:], torch.full((5, 4), 5.0))


def test_virtual_batch_norm_combines_the_reference_and_the_example_statistics():
    norm = VirtualBatchNorm(1, eps=0.0)
    norm.reference_size = 2
    # (N, C, H, W) = (3, 1, 1, 2): reference [0, 2], [4, 6] (mean 3, mean of squares 14, var 5); example [1, 5]
    x = torch.tensor([[0.0, 2.0], [4.0, 6.0], [1.0, 5.0]]).view(3, 1, 1, 2)
    # example: own mean 3, own mean of squares 13; mean = 3/3 + 2*3/3 = 3, mean_sq = 13/3 + 2*14/3 = 41/3, var = 14/3
    expected = torch.cat([(torch.tensor([0.0, 2.0, 4.0, 6.0]) - 3) / math.sqrt(5),
                          torch.tensor([-2.0, 2.0]) / math.sqrt(14 / 3)]).view(3, 1, 1, 2)
    assert_close(norm(x), expected)


def test_virtual_batch_norm_on_features_and_its_affine_part():
    norm = VirtualBatchNorm(1, eps=0.0)
    with torch.no_grad():
        norm.weight.fill_(2.0)
        norm.bias.fill_(0.5)
    norm.reference_size = 2
    # reference 1, 3 (mean 2, mean_sq 5, var 1); example 5: mean = 5/3 + 4/3 = 3, mean_sq = 25/3 + 10/3, var = 8/3
    out = norm(torch.tensor([[1.0], [3.0], [5.0]]))
    assert_close(out, torch.tensor([[-2.0 + 0.5], [2.0 + 0.5], [2 * 2 / math.sqrt(8 / 3) + 0.5]]))


def test_virtual_batch_norm_net_makes_each_sample_independent_of_its_batch():
    torch.manual_seed(0)
    g = VirtualBatchNormNet(Generator(4, (1, 8, 8), width=4), reference=torch.randn(6, 4))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in g.modules())
    z = torch.randn(5, 4)
    together = g(z)
    assert together.shape == (5, 1, 8, 8)
    assert_close(together[2:3], g(z[2:3]))  # BN would make this depend on the other four samples
    with pytest.raises(ValueError, match="no batch norm"):
        VirtualBatchNormNet(nn.Linear(2, 2), reference=torch.zeros(1, 2))


def test_feature_matching_loss_is_the_squared_distance_of_the_means():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    fake = torch.tensor([[0.0, 0.0], [1.0, 2.0]], requires_grad=True)  # mean (0.5, 1)
    loss, terms = feature_matching_g_loss(real, fake)
    assert_close(loss, torch.tensor(1.5 ** 2 + 2.0 ** 2))
    loss.backward()  # d/dfake_i = -2 (mean_real - mean_fake) / N
    assert_close(fake.grad, torch.tensor([[-1.5, -2.0], [-1.5, -2.0]]))
    assert_close(terms["feature_matching"], torch.tensor(6.25))


def test_historical_averaging_penalty_and_running_mean():
    layer = nn.Linear(1, 1)
    history = HistoricalAverage(layer)
    assert_close(history.penalty(layer), torch.tensor(0.0))
    for w, b in [(1.0, 0.0), (2.0, 1.0), (6.0, 2.0)]:
        with torch.no_grad():
            layer.weight.fill_(w)
            layer.bias.fill_(b)
        history.update(layer)
    assert_close(history.averages[0], torch.tensor([[3.0]]))  # (1 + 2 + 6) / 3
    assert_close(history.averages[1], torch.tensor([1.0]))
    with torch.no_grad():
        layer.weight.fill_(5.0)
        layer.bias.fill_(-1.0)
    assert_close(history.penalty(layer), torch.tensor((5.0 - 3.0) ** 2 + (-1.0 - 1.0) ** 2))
    assert_close(historical_averaging_penalty([torch.ones(2)], [torch.zeros(2)]), torch.tensor(2.0))
    copy = HistoricalAverage(layer)
    copy.load_state_dict(history.state_dict())
    assert copy.count == 3 and torch.equal(copy.averages[0], history.averages[0])


def test_window_average_is_the_mean_of_the_last_n_weights():
    layer = nn.Linear(1, 1, bias=False)
    window = WindowAverage(layer, size=2)
    for w in (1.0, 3.0, 7.0):
        with torch.no_grad():
            layer.weight.fill_(w)
        window.update_parameters(layer)
    assert_close(window.module.weight, torch.tensor([[5.0]]))  # (3 + 7) / 2: the 1 has left the window
    restored = WindowAverage(layer, size=2)
    restored.load_state_dict(window.state_dict())
    with torch.no_grad():
        layer.weight.fill_(9.0)
    restored.update_parameters(layer)
    assert_close(restored.module.weight, torch.tensor([[8.0]]))  # (7 + 9) / 2: the snapshots came back


def test_semi_supervised_losses_against_the_paper():
    ln = math.log
    # real 0: labelled 1, logits (0, ln 3): Z = 4, p(y=1|x) = 3/4, D = 4/5; real 1: unlabelled, Z = 4
    real = torch.tensor([[0.0, ln(3)], [ln(2), ln(2)]])
    fake = torch.tensor([[0.0, 0.0]])  # Z = 2, 1 - D = 1/3
    loss, terms = semi_supervised_d_loss(real, torch.tensor([1, -1]), fake)
    supervised, unsupervised = ln(4 / 3), ln(5 / 4) + ln(3)
    assert_close(terms["class_nll"], torch.tensor(supervised))
    assert_close(terms["unsupervised"], torch.tensor(unsupervised))
    assert_close(loss, torch.tensor(supervised + unsupervised))
    g_loss, _ = semi_supervised_g_loss(fake)  # -log D(G(z)) = -log(2/3)
    assert_close(g_loss, torch.tensor(ln(3 / 2)))
    none_labelled, terms = semi_supervised_d_loss(real, torch.tensor([-1, -1]), fake)
    assert_close(terms["class_nll"], torch.tensor(0.0))


def test_dcgan_discriminator_with_minibatch_discrimination_sees_the_batch():
    from ganrun.models.dcgan import Discriminator

    torch.manual_seed(0)
    d = Discriminator((1, 8, 8), width=4, minibatch_kernels=3, minibatch_kernel_dim=2).eval()
    x = torch.randn(4, 1, 8, 8)
    assert d(x).shape == (4,) and d.features(x).shape == (4, 4 * 16)
    assert d.output.in_features == 4 * 16 + 3
    # the same image scores differently beside other images: o(x_i) sums over the batch
    assert not torch.allclose(d(x)[:1], d(x[:1]))
    plain = Discriminator((1, 8, 8), width=4).eval()
    assert_close(plain(x)[:1], plain(x[:1]))


def test_historical_averaging_of_both_players_weighs_each_penalty():
    from ganrun.averaging import HistoricalAveraging

    g, d = nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)
    averaging = HistoricalAveraging(g, d, weight=0.5)
    for w in (1.0, 3.0):
        with torch.no_grad():
            d.weight.fill_(w)
        averaging.update("D", d)
    with torch.no_grad():
        d.weight.fill_(6.0)
    penalty, terms = averaging.penalty("D", d)  # 0.5 * (6 - 2)^2
    assert_close(penalty, torch.tensor(8.0))
    assert_close(terms["historical_D"], torch.tensor(16.0))
    assert_close(averaging.penalty("G", g)[0], torch.tensor(0.0))  # G has no history yet
    restored = HistoricalAveraging(g, d, weight=0.5)
    restored.load_state_dict(averaging.state_dict())
    assert_close(restored.penalty("D", d)[0], torch.tensor(8.0))
