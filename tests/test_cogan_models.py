"""CoGAN's weight sharing: one parameter object per shared layer, gradients from both branches;
the digit domains built from MNIST exactly."""

from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from ganrun.data.base import InMemory
from ganrun.data.domains import coupled, edges, mnist_negative, negative
from ganrun.models.cogan import CoupledDiscriminator, CoupledGenerator

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _grads(module, loss):
    module.zero_grad(set_to_none=True)
    loss.backward()
    return {name: p.grad.clone() for name, p in module.named_parameters() if p.grad is not None}


def test_generator_shares_high_level_layers_as_one_object():
    g = CoupledGenerator(latent_dim=4, data_shape=(1, 16, 16), width=4, private_layers=1)
    names = [n for n, _ in g.named_parameters()]
    assert len(names) == len(set(id(p) for p in g.parameters()))  # no parameter listed twice
    assert g.branch(0).coupled is g.branch(1).coupled
    assert list(g.branch(0).parameters()) == []  # a branch owns nothing: the pair's parameters are the ones
    shared = g.shared[2].weight  # the first shared transposed conv
    z = torch.randn(5, 4)
    only_1, only_2 = _grads(g, g.domain(z, 0).sum()), _grads(g, g.domain(z, 1).square().sum())
    both = _grads(g, g.domain(z, 0).sum() + g.domain(z, 1).square().sum())
    for name in ("project.weight", "shared.2.weight"):  # shared: gradients arrive from both branches
        assert only_1[name].abs().sum() > 0 and only_2[name].abs().sum() > 0
        assert_close(both[name], only_1[name] + only_2[name])
    assert "private.1.0.weight" not in only_1 and "private.0.0.weight" not in only_2  # private: one branch
    x1, x2 = g(z)
    assert_close(x1, g.domain(z, 0))
    assert_close(x2, g.branch(1)(z))
    assert x1.shape == (5, 1, 16, 16) and shared.shape == (8, 4, 5, 5)


def test_discriminator_shares_its_last_layers():
    d = CoupledDiscriminator(data_shape=(1, 16, 16), width=4, private_layers=1)
    x1, x2 = torch.randn(3, 1, 16, 16), torch.randn(3, 1, 16, 16)
    only_1, only_2 = _grads(d, d.domain(x1, 0).sum()), _grads(d, d.domain(x2, 1).sum())
    for name in ("shared.0.weight", "output.weight"):
        assert only_1[name].abs().sum() > 0 and only_2[name].abs().sum() > 0
    assert "private.1.0.weight" not in only_1 and "private.0.0.weight" not in only_2
    s1, s2 = d(x1, 0), d(x2, 1)
    assert s1.shape == s2.shape == (3,)
    assert_close(s2, d.branch(1)(x2))
    assert_close(s1, d.domain(x1, 0))


def test_private_layers_out_of_range_is_one_sentence():
    with pytest.raises(ValueError, match="private_layers"):
        CoupledGenerator(latent_dim=4, data_shape=(1, 16, 16), width=4, private_layers=3)


def test_domain_transforms_by_hand():
    x = torch.full((1, 1, 3, 3), -1.0)
    x[0, 0, 1, 1] = 1.0  # one white pixel on black
    assert_close(negative(x), -x)
    # dilation: all white; erosion: all black except nothing -> gradient 1 everywhere -> 1 in [-1, 1]
    assert_close(edges(x), torch.ones(1, 1, 3, 3))
    flat = torch.zeros(1, 1, 4, 4)  # a constant image has no edges (zero padding is -inf for max_pool)
    assert_close(edges(flat), torch.full((1, 1, 4, 4), -1.0))


def test_coupled_halves_are_disjoint_and_transformed():
    x = torch.arange(6, dtype=torch.float32).view(6, 1, 1, 1)
    pair = coupled(InMemory(x, torch.arange(6), name="t", num_classes=6), negative, name="t")
    a, b = pair.domains
    assert_close(a.tensors[0].flatten(), torch.tensor([0.0, 2.0, 4.0]))
    assert_close(b.tensors[0].flatten(), torch.tensor([-1.0, -3.0, -5.0]))
    assert b.tensors[1].tolist() == [1, 3, 5] and len(pair) == 3


def test_negative_mnist_from_shared_data():
    if not (DATA / "MNIST" / "raw").is_dir():
        pytest.skip(f"no MNIST under {DATA} (a clone without ../shared)")
    pair = mnist_negative(root=str(DATA), resolution=16, train=False)
    a, b = pair.domains
    assert len(a) == len(b) == 5000 and pair.data_shape == (1, 16, 16)
    assert a.tensors[0].min() >= -1 and b.tensors[0].max() <= 1
    assert a.tensors[0].mean() < -0.5 < 0.5 < b.tensors[0].mean()  # black digits on white
