"""The translation tasks made at load time from real data: grey -> colour and x4 SR of CIFAR-10, edges -> digit."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch.testing import assert_close

from ganrun.data.derived import cifar10_sr, cifar10_uint8, edge_map, edges2digit, grey2colour, luma, mnist_uint8
from ganrun.errors import ConfigError
from tests.conftest import compose_config

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.exists(), reason=f"the shared real data ({DATA}) is not on this machine")


def test_luma_is_itu_601_rounded():
    rgb = torch.tensor([[255, 0, 0], [10, 20, 30], [200, 100, 50], [1, 1, 1]], dtype=torch.uint8).T
    grey = luma(rgb.reshape(1, 3, 2, 2))
    # 0.299 * 255 = 76.245; 2.99 + 11.74 + 3.42 = 18.15; 59.8 + 58.7 + 5.7 = 124.2; 1
    assert_close(grey, torch.tensor([[76, 18], [124, 1]], dtype=torch.uint8).view(1, 1, 2, 2))


def test_edge_map_is_the_morphological_gradient():
    digit = torch.zeros(1, 1, 5, 5, dtype=torch.uint8)
    digit[0, 0, 2, 2] = 200
    expected = torch.zeros(1, 1, 5, 5, dtype=torch.uint8)
    expected[0, 0, 1:4, 1:4] = 200  # dilation 200, erosion 0 around the one bright pixel
    assert_close(edge_map(digit), expected)
    block = torch.full((1, 1, 5, 5), 90, dtype=torch.uint8)
    block[0, 0, :, :2] = 30
    expected = torch.zeros(1, 1, 5, 5, dtype=torch.uint8)
    expected[0, 0, :, 1:3] = 60  # the two columns beside the step see both 30 and 90
    assert_close(edge_map(block), expected)


@needs_data
def test_grey2colour_pairs_each_image_with_its_luma():
    test = grey2colour(root=str(DATA), train=False, max_items=6, resolution=16)
    assert (tuple(test.a.shape), tuple(test.b.shape), test.paired) == ((6, 1, 16, 16), (6, 3, 16, 16), True)
    colour = cifar10_uint8(str(DATA), False)[:6]
    assert_close(test.b, F.interpolate(colour.float(), size=16, mode="bilinear", antialias=True).round().to(torch.uint8),
                 atol=1, rtol=0)
    train = grey2colour(root=str(DATA), train=True, max_items=4, load_size=32, resolution=24)
    assert_close(train.a, luma(train.b))
    assert_close(train.b, cifar10_uint8(str(DATA), True)[:4])
    assert (train.shape_a, train.shape_b) == ((1, 24, 24), (3, 24, 24))
    with pytest.raises(ConfigError, match="need 8 <= resolution"):
        grey2colour(root=str(DATA), load_size=16, resolution=32)


@needs_data
def test_edges2digit_pairs_each_digit_with_its_edges():
    data = edges2digit(root=str(DATA), train=False, max_items=5, load_size=28, resolution=28)
    assert_close(data.b, mnist_uint8(str(DATA), False)[:5])
    assert_close(data.a, edge_map(data.b))
    assert data.a.float().mean() > 0 and (data.a > 0).sum() > (data.b > 0).sum() / 2  # edges are drawn


@needs_data
def test_cifar10_sr_gives_whole_images_and_checks_its_sizes():
    test = cifar10_sr(root=str(DATA), train=False, max_items=3)["cifar10_test"]
    assert (len(test), test.scale, test.crop_size) == (3, 4, 32)
    assert_close(torch.stack(test.images), cifar10_uint8(str(DATA), False)[:3])
    assert cifar10_sr(root=str(DATA), max_items=2, resolution=16).data_shape == (3, 16, 16)
    with pytest.raises(ConfigError, match="multiple of dataset.scale=4"):
        cifar10_sr(root=str(DATA), resolution=30)


@needs_data
def test_dataset_configs_and_sr_resolution_reach_the_data():
    cfg = compose_config(["game=pix2pix", "dataset=cifar10_grey2colour", f"dataset.root={DATA}", "dataset.max_items=2"])
    assert instantiate(cfg.dataset).shape_a == (1, 32, 32)
    cfg = compose_config(["experiment=srresnet_bsd68_cpu", f"dataset.root={DATA}/sr_benchmarks/Set5",
                          "dataset.resolution=48"])
    assert instantiate(cfg.dataset).data_shape == (3, 48, 48)  # was ignored once (96 px crops whatever it said)
