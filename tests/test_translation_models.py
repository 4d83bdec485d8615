"""Shapes, structure and initialisation of the translation networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganrun.models.patchgan import ConditionalPatchGAN, PatchGAN, receptive_field, smallest_input
from ganrun.models.resnet_generator import ResnetGenerator
from ganrun.models.srresnet import SRDiscriminator, SRResNet
from ganrun.models.unet import UNet


def test_unet_maps_images_to_images_with_pix2pix_dropout():
    net = UNet(3, 1, size=32, width=4)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 1, 32, 32)
    assert not [m for m in net.modules() if isinstance(m, nn.Dropout)]  # 5 levels: none at width * 8 twice
    big = UNet(3, 3, size=256, width=2)  # the paper's 8 levels: num_downs - 5 = 3 dropout levels
    assert sum(isinstance(m, nn.Dropout) for m in big.modules()) == 3
    assert sum(isinstance(m, nn.Conv2d) for m in big.modules()) == 8
    assert not any(isinstance(m, nn.Dropout) for m in UNet(3, 3, size=256, width=2, dropout=False).modules())


def test_unet_skips_carry_the_input():
    """Every inner level returns [its input, its decoded output] along channels: the skip connection."""
    net = UNet(1, 1, size=16, width=4, norm="none")
    level = net.net.model[1]  # the level under the outermost down-conv
    h = torch.randn(1, 4, 8, 8)
    out = level(h)
    assert out.shape == (1, 8, 8, 8)
    assert torch.equal(out[:, :4], h)


def test_unet_refuses_a_side_it_cannot_halve():
    with pytest.raises(ValueError, match="multiple of 32"):
        UNet(3, 3, size=48, width=4, num_downs=5)


def test_resnet_generator_blocks_and_shape():
    net = ResnetGenerator(3, 3, width=4, n_blocks=6)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 3, 32, 32)
    from ganrun.models.resnet_generator import ResidualBlock
    assert sum(isinstance(m, ResidualBlock) for m in net.modules()) == 6
    assert any(isinstance(m, nn.InstanceNorm2d) for m in net.modules())
    assert sum(isinstance(m, ResidualBlock) for m in ResnetGenerator(1, 1, width=2).modules()) == 9


def test_patchgan_receptive_field_and_map_size():
    assert [receptive_field(n) for n in (1, 2, 3)] == [16, 34, 70]
    assert PatchGAN(3, width=4)(torch.randn(2, 3, 256, 256)).shape == (2, 1, 30, 30)  # the paper's 30x30 map
    assert PatchGAN(3, width=4, n_layers=2)(torch.randn(1, 3, 16, 16)).shape == (1, 1, 2, 2)
    assert smallest_input(3) == 24
    with pytest.raises(ValueError, match="at least 24 px"):
        PatchGAN(3, n_layers=3, size=16)


def test_patchgan_receptive_field_is_what_the_network_sees():
    """The gradient of the corner score reaches exactly receptive_field(2) - padding pixels of the input."""
    net = PatchGAN(1, width=2, n_layers=2, norm="none")
    x = torch.randn(1, 1, 64, 64, requires_grad=True)
    net(x)[0, 0, 5, 5].backward()
    rows = (x.grad[0, 0].abs().sum(1) > 0).nonzero().flatten()
    assert int(rows.max() - rows.min() + 1) == receptive_field(2)


def test_conditional_patchgan_sees_the_pair():
    net = ConditionalPatchGAN(PatchGAN(4, width=4, n_layers=1))
    assert net.patchgan.net[0].in_channels == 4
    assert net(torch.randn(2, 1, 16, 16), torch.randn(2, 3, 16, 16)).shape == (2, 1, 6, 6)


def test_normal_init_and_norm_choice():
    net = PatchGAN(3, width=16, norm="instance")
    weights = torch.cat([m.weight.detach().flatten() for m in net.modules() if isinstance(m, nn.Conv2d)])
    assert abs(float(weights.std()) - 0.02) < 0.002 and abs(float(weights.mean())) < 0.002
    assert any(isinstance(m, nn.InstanceNorm2d) for m in net.modules())
    convs = [m for m in PatchGAN(3, width=4, norm="batch").modules() if isinstance(m, nn.Conv2d)]
    assert [c.bias is None for c in convs] == [False, True, True, True, False]
    with pytest.raises(ValueError, match="norm='group'"):
        PatchGAN(3, norm="group")


def test_srresnet_upsamples_by_scale_and_discriminator_scores():
    net = SRResNet(3, scale=4, width=8, n_blocks=2)
    assert net(torch.randn(2, 3, 8, 8)).shape == (2, 3, 32, 32)
    assert sum(isinstance(m, nn.PixelShuffle) for m in net.modules()) == 2
    assert SRDiscriminator(3, width=4, hidden=8)(torch.randn(2, 3, 32, 32)).shape == (2,)
    with pytest.raises(ValueError, match="scale must be"):
        SRResNet(3, scale=3)


def test_srresnet_bicubic_skip_starts_as_bicubic_and_learns_the_residual():
    x = torch.randn(2, 3, 6, 6)
    net = SRResNet(3, scale=2, width=4, n_blocks=1, bicubic_skip=True)
    bicubic = torch.nn.functional.interpolate(x, scale_factor=2, mode="bicubic")
    torch.testing.assert_close(net(x), bicubic)
    with torch.no_grad():
        net.tail[-1].bias.fill_(0.25)
    torch.testing.assert_close(net(x), bicubic + 0.25)
    assert SRResNet(3, scale=2, width=4, n_blocks=1).tail[-1].weight.abs().sum() > 0  # paper's init when off
