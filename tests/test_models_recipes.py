"""R3GAN's modernised ResNet, SNGAN's config, the DCGAN G's LeakyReLU / PixelShuffle options and
dataset.fraction."""

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from ganrun.data.base import InMemory, take_fraction
from ganrun.models import dcgan, r3gan


def test_r3gan_shapes_and_no_normalisation():
    g = r3gan.Generator(8, (3, 16, 16), width=8, blocks_per_stage=1, expansion=2, cardinality=4)
    d = r3gan.Discriminator((3, 16, 16), width=8, blocks_per_stage=1, expansion=2, cardinality=4)
    x = g(torch.randn(5, 8))
    assert x.shape == (5, 3, 16, 16) and d(x).shape == (5,)
    norms = (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm2d)
    assert not any(isinstance(m, norms) for m in [*g.modules(), *d.modules()])


def test_r3gan_blocks_are_grouped_1_3_1_bottlenecks_starting_as_the_identity():
    block = r3gan.Bottleneck(8, expansion=2, cardinality=4, num_blocks=16)
    assert (block.expand.kernel_size, block.grouped.kernel_size, block.project.kernel_size) == ((1, 1), (3, 3), (1, 1))
    assert block.grouped.groups == 4 and block.expand.out_channels == 16
    x = torch.randn(2, 8, 4, 4)
    assert_close(block(x), x)  # Fix-up: the branch's last conv starts at zero
    # the other branch convs: He init for LeakyReLU(0.2), std sqrt(2 / 1.04) / sqrt(fan_in), times
    # L^(-1/4) = 16^(-1/4) = 1/2; fan_in 64 here
    torch.manual_seed(0)
    big = r3gan.Bottleneck(64, expansion=2, cardinality=4, num_blocks=16)
    assert big.expand.weight.std().item() == pytest.approx(0.5 * (2 / 1.04) ** 0.5 / 8, rel=0.05)


def test_r3gan_rejects_a_cardinality_that_does_not_divide():
    with pytest.raises(ValueError, match="divisible by cardinality"):
        r3gan.Bottleneck(6, expansion=1, cardinality=4, num_blocks=1)


@pytest.mark.parametrize("kernel_size", [4, 5])
def test_dcgan_leaky_relu_and_pixel_shuffle(kernel_size):
    g = dcgan.Generator(8, (1, 16, 16), width=4, kernel_size=kernel_size, leaky_relu=0.2, pixel_shuffle=True)
    assert g(torch.randn(3, 8)).shape == (3, 1, 16, 16)
    kinds = {type(m) for m in g.modules()}
    assert nn.PixelShuffle in kinds and nn.LeakyReLU in kinds
    assert nn.ConvTranspose2d not in kinds and nn.ReLU not in kinds


def test_take_fraction_keeps_the_same_subset_for_every_run():
    def data():
        return InMemory(torch.arange(20.0).view(20, 1), torch.arange(20), name="toy", num_classes=None)
    a, b = take_fraction(data(), 0.25), take_fraction(data(), 0.25)
    assert len(a) == 5
    assert_close(a.tensors[1], b.tensors[1])
    assert_close(a.tensors[0][:, 0].long(), a.tensors[1])  # images keep their labels
    assert take_fraction(data(), 1.0).tensors[1].tolist() == list(range(20))
    with pytest.raises(ValueError, match="fraction"):
        take_fraction(data(), 0.0)
