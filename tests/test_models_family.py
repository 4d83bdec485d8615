"""Conditional G and D (label routing), AC-GAN's head, minibatch stddev, the autoencoder family, packing."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from ganrun.models import autoencoder, dcgan, layers, mlp, resnet
from ganrun.tricks import pack, packed_shape
from ganrun.sampling import grid_labels

FAMILIES = {"mlp": (mlp, {"width": 16, "depth": 2}, (2,)),
            "dcgan": (dcgan, {"width": 4}, (1, 8, 8)),
            "resnet": (resnet, {"width": 8}, (3, 8, 8))}
LATENT, CLASSES = 5, 3
LABELS = torch.tensor([0, 1, 2, 0, 1, 2])


def first_linear(module: nn.Module) -> nn.Linear:
    return next(m for m in module.modules() if isinstance(m, nn.Linear))


@pytest.mark.parametrize("family", FAMILIES)
def test_generator_labels_reach_only_their_samples(family):
    module, widths, shape = FAMILIES[family]
    torch.manual_seed(0)
    G = module.Generator(LATENT, shape, num_classes=CLASSES, **widths).eval()  # eval: BN does not mix samples
    z = torch.randn(len(LABELS), LATENT)
    before = G(z, LABELS)
    with torch.no_grad():  # the one-hot column of class 1 in G's first layer is class 1's embedding
        first_linear(G).weight[:, LATENT + 1] += 1.0
    after = G(z, LABELS)
    changed = (after - before).flatten(1).abs().amax(dim=1) > 0
    assert changed.tolist() == [label == 1 for label in LABELS.tolist()]
    with pytest.raises(ValueError, match="pass the labels"):
        G(z)


@pytest.mark.parametrize("family", FAMILIES)
def test_projection_discriminator_routes_labels_and_adds_an_inner_product(family):
    module, widths, shape = FAMILIES[family]
    torch.manual_seed(0)
    D = module.Discriminator(shape, num_classes=CLASSES, **widths).eval()
    unconditional = module.Discriminator(shape, **widths).eval()
    unconditional.load_state_dict({k: v for k, v in D.state_dict().items() if not k.startswith("label_head")})
    x = torch.randn(len(LABELS), *shape)
    with torch.no_grad():  # a zero embedding: exactly the unconditional score
        D.label_head.embed.weight.zero_()
    assert_close(D(x, LABELS), unconditional(x))
    with torch.no_grad():
        D.label_head.embed.weight[2] = 1.0  # <1, phi(x)> for class 2 only
    changed = D(x, LABELS) != unconditional(x)
    assert changed.tolist() == [label == 2 for label in LABELS.tolist()]
    with pytest.raises(ValueError, match="pass the labels"):
        D(x)


@pytest.mark.parametrize("family", FAMILIES)
def test_auxiliary_classifier_returns_logit_and_class_log_likelihood(family):
    module, widths, shape = FAMILIES[family]
    torch.manual_seed(0)
    D = module.Discriminator(shape, num_classes=CLASSES, auxiliary_classifier=True, **widths).eval()
    x = torch.randn(1, *shape).expand(CLASSES, *shape)  # one sample, asked about every class
    outputs = D(x, torch.arange(CLASSES))
    assert outputs.shape == (CLASSES, 2)
    assert_close(outputs[:, 0], outputs[:1, 0].expand(CLASSES))  # the real/fake logit ignores the label
    assert_close(outputs[:, 1].exp().sum(), torch.tensor(1.0))  # P(C = c | x) over c sums to one


def test_minibatch_stddev_appends_the_mean_standard_deviation():
    x = torch.tensor([[[[1.0, 2.0]]], [[[3.0, 6.0]]]])  # (2, 1, 1, 2): stds over the batch 1 and 2
    out = layers.MinibatchStdDev()(x)
    expected = (torch.tensor([1.0 + 1e-8, 4.0 + 1e-8]).sqrt()).mean()
    assert out.shape == (2, 2, 1, 2)
    assert_close(out[:, :1], x)
    assert_close(out[:, 1], expected.expand(2, 1, 2))
    points = torch.tensor([[0.0, 2.0], [2.0, 2.0]])  # stds 1 and 0
    assert_close(layers.MinibatchStdDev()(points)[:, 2], torch.full((2,), (1 + 1e-8) ** 0.5 / 2 + 1e-4 / 2))


@pytest.mark.parametrize("family", FAMILIES)
def test_discriminators_take_the_minibatch_stddev_layer(family):
    module, widths, shape = FAMILIES[family]
    D = module.Discriminator(shape, minibatch_std=True, **widths)
    assert any(isinstance(m, layers.MinibatchStdDev) for m in D.modules())
    assert D(torch.randn(4, *shape)).shape == (4,)


@pytest.mark.parametrize("resolution", [8, 16, 32])
def test_autoencoder_energy_is_the_mean_reconstruction_error(resolution):
    torch.manual_seed(0)
    shape = (3, resolution, resolution)
    G = autoencoder.Generator(LATENT, shape, width=4)
    assert G(torch.randn(2, LATENT)).shape == (2, *shape)
    x = torch.randn(2, *shape)
    for exponent in (1, 2):
        D = autoencoder.Discriminator(shape, width=4, code=6, exponent=exponent)
        expected = (x - D.reconstruct(x)).abs().pow(exponent).mean(dim=(1, 2, 3))
        assert_close(D(x), expected)
        assert D.encode(x).shape == (2, 6)


def test_autoencoder_rejects_other_sizes_and_labels():
    with pytest.raises(ValueError, match="set dataset.resolution"):
        autoencoder.Discriminator((3, 28, 28))
    with pytest.raises(ValueError, match="unconditional"):
        autoencoder.Discriminator((1, 8, 8), width=4)(torch.zeros(2, 1, 8, 8), torch.zeros(2, dtype=torch.long))


def test_pack_concatenates_consecutive_samples_along_channels():
    x = torch.arange(4 * 2 * 2 * 2, dtype=torch.float32).view(4, 2, 2, 2)
    packed = pack(x, 2)
    assert packed.shape == (2, 4, 2, 2)
    assert_close(packed[1], torch.cat([x[2], x[3]]))
    assert_close(pack(torch.arange(6.0).view(3, 2), 3), torch.arange(6.0).view(1, 6))
    D = mlp.Discriminator(packed_shape((2,), 4), width=8)
    assert D(pack(torch.randn(8, 2), 4)).shape == (2,)


def test_grid_rows_are_the_classes():
    labels = grid_labels(10, 64, torch.device("cpu"))
    rows = labels.view(10, 6)  # make_grid(nrow=6): row r holds samples 6r .. 6r + 5
    assert_close(rows, torch.arange(10)[:, None].expand(10, 6))
    assert grid_labels(3, 2, torch.device("cpu")).tolist() == [0, 1, 2]  # at least one per class
