"""Latent arithmetic, memorisation, conditional accuracy and the linear probe on hand-made values."""

import math

import pytest
import torch
from torch.testing import assert_close

from ganrun.latent_arithmetic import compose, parse, strip, term_latents
from ganrun.metrics.conditional import conditional_accuracy, per_class_accuracy
from ganrun.metrics.memorisation import memorisation, nearest, neighbour_grid, share_nearer
from ganrun.metrics.probe import discriminator_features, linear_probe, standardise
from ganrun.models.dcgan import Discriminator


def test_parse_and_compose_on_known_vectors():
    latents = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0], [4.0, 0.0]])
    assert parse("3 + 1-0") == [(1, [3]), (1, [1]), (-1, [0])]
    assert_close(compose(latents, "3+1-0"), torch.tensor([3.0, 1.0]))
    assert_close(compose(latents, "[0,1,2]-[2,3]+1"), torch.tensor([1 - 3.0, 1 - 1.0 + 1.0]))
    assert_close(compose(latents, "-2"), torch.tensor([-2.0, -2.0]))
    assert_close(term_latents(latents, "[0,3]-1"), torch.tensor([[2.5, 0.0], [0.0, 1.0]]))
    for bad in ("3+", "3 7", "a", "", "[1,]"):
        with pytest.raises(ValueError, match="latent expression"):
            compose(latents, bad)
    with pytest.raises(ValueError, match="holds 4 latents"):
        compose(latents, "1+4")


def test_interpolation_strips():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert_close(strip(a, b, 3, "lerp"), torch.tensor([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]))
    half = math.sqrt(0.5)  # the great circle's midpoint keeps the norm
    assert_close(strip(a, b, 3, "slerp"), torch.tensor([[1.0, 0.0], [half, half], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="slerp or lerp"):
        strip(a, b, 3, "cubic")


def test_nearest_neighbours_and_the_memorisation_share():
    references = torch.tensor([[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]])
    distances, indices = nearest(torch.tensor([[0.0, 1.0]]), references, k=3)
    assert_close(distances, torch.tensor([[1.0, math.sqrt(18.0), math.sqrt(101.0)]]))
    assert indices.tolist() == [[0, 1, 2]]
    # test images' nearest distances 1, 2, 3, 4: median 2.5, 5th percentile 1.15
    test = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert share_nearer(torch.tensor([1.0, 2.4, 3.0]), test) == pytest.approx(2 / 3)
    assert share_nearer(torch.tensor([1.0, 2.4, 3.0]), test, quantile=0.05) == pytest.approx(1 / 3)


def test_memorisation_of_copies_and_its_grid():
    torch.manual_seed(0)
    train, test = torch.rand(20, 1, 2, 2) * 2 - 1, torch.rand(10, 1, 2, 2) * 2 - 1
    copies = train[[4, 7]]
    results, grids = memorisation(copies, train, test, k=3, features=lambda x: x.flatten(1) * 2)
    assert results["memorisation_pixel_median"] == 1.0 and results["memorisation_feature_p05"] == 1.0
    assert results["nn_distance_pixel"] == 0.0
    assert grids["pixel"].shape == (2 * 4, 1, 2, 2)
    assert torch.equal(grids["pixel"][0], copies[0]) and torch.equal(grids["pixel"][1], train[4])
    _, indices = nearest(copies, train, 2)
    assert torch.equal(neighbour_grid(copies, train, indices)[[3, 4]], torch.stack([copies[1], train[7]]))


def test_per_class_accuracy_and_the_conditional_accuracy_loop():
    results = per_class_accuracy(torch.tensor([0, 1, 1, 2, 2, 2]), torch.tensor([0, 0, 1, 1, 2, 2]), 4)
    assert results == {"conditional_accuracy": pytest.approx(4 / 6), "conditional_accuracy/0": 0.5,
                       "conditional_accuracy/1": 0.5, "conditional_accuracy/2": 1.0}

    def generate(labels):  # class c -> an image whose pixels are all c / 10 (as uint8: (c/10 + 1) * 127.5)
        return (labels.float() / 10).view(-1, 1, 1, 1).expand(-1, 1, 2, 2)

    def classifier(images):  # reads the class back, except that it calls every 2 a 0
        c = (images[:, 0, 0, 0].float() / 127.5 - 1).mul(10).round().long()
        c = torch.where(c == 2, torch.zeros_like(c), c)
        return images.flatten(1).float(), torch.nn.functional.one_hot(c, 3).float()

    results = conditional_accuracy(generate, classifier, 3, per_class=4, batch_size=5)
    assert results == {"conditional_accuracy": pytest.approx(2 / 3), "conditional_accuracy/0": 1.0,
                       "conditional_accuracy/1": 1.0, "conditional_accuracy/2": 0.0}


def test_linear_probe_on_separable_features_and_on_dcgan_features():
    train, test = torch.tensor([[1.0, 0.0], [3.0, 2.0]]), torch.tensor([[5.0, 4.0]])
    train_s, test_s = standardise(train, test)  # mean (2, 1), std (sqrt 2, sqrt 2)
    assert_close(train_s, torch.tensor([[-1.0, -1.0], [1.0, 1.0]]) / math.sqrt(2))
    assert_close(test_s, torch.tensor([[3.0, 3.0]]) / math.sqrt(2))
    torch.manual_seed(0)
    centres = torch.randn(3, 8) * 5
    y = torch.arange(60) % 3
    x = centres[y] + torch.randn(60, 8)
    results = linear_probe(x[:45], y[:45], x[45:], y[45:], 3)
    assert results == {"probe_accuracy": 1.0, "probe_train_accuracy": 1.0}
    d = Discriminator((1, 8, 8), width=4)
    features = discriminator_features(d, torch.zeros(3, 1, 8, 8), batch_size=2)
    assert features.shape == (3, 4 * 16) and d.training  # width 4 at the 4x4 map

