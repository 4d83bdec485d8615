"""Progressive growing's pieces against hand-computed values: equalised LR, fade-in, pixel norm, schedule."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from ganrun.models.growth import growth
from ganrun.models.progressive import (Discriminator, EqualizedConv2d, EqualizedLinear, Generator, PixelNorm,
                                       fade_in, he_scale, real_at, resample)


def test_he_scale_and_equalized_layers_apply_the_scaled_weight():
    assert he_scale(9 * 4) == pytest.approx(math.sqrt(2.0) / 6.0, abs=0, rel=1e-15)  # sqrt(2 / 36)
    conv = EqualizedConv2d(4, 2, 3)
    assert conv.scale == pytest.approx(math.sqrt(2.0 / 36.0), rel=1e-15)
    x = torch.randn(2, 4, 5, 5)
    assert_close(conv(x), F.conv2d(x, conv.weight * math.sqrt(2.0 / 36.0), conv.bias, padding=1))
    linear = EqualizedLinear(8, 3, gain=1.0)
    v = torch.randn(2, 8)
    assert_close(linear(v), v @ (linear.weight / math.sqrt(8.0)).T)
    assert_close(linear.bias, torch.zeros(3))


def test_fade_in_blend_by_hand():
    old, new = torch.tensor([1.0, 2.0]), torch.tensor([3.0, -2.0])
    assert_close(fade_in(0.25, old, new), torch.tensor([1.5, 1.0]))  # 0.75 old + 0.25 new
    assert_close(fade_in(0.0, old, new), old)
    assert_close(fade_in(1.0, old, new), new)


def test_pixel_norm_by_hand():
    x = torch.tensor([3.0, 4.0]).view(1, 2, 1, 1)  # mean square 12.5
    assert_close(PixelNorm()(x), x / math.sqrt(12.5 + 1e-8))


@pytest.mark.parametrize("images,expected", [
    (0, (0, 1.0)), (99, (0, 1.0)),          # stabilise 4x4 for 100 images
    (100, (1, 0.0)), (125, (1, 0.5)),       # fade in 8x8 over 50 images
    (150, (1, 1.0)), (249, (1, 1.0)),       # stabilise 8x8 for 100
    (250, (2, 0.0)), (290, (2, 0.8)),       # fade in 16x16
    (300, (2, 1.0)), (10**6, (2, 1.0)),     # the last level stays
])
def test_growth_schedule_by_hand(images, expected):
    level, alpha = growth(images, levels=3, fade_images=50, stable_images=100)
    assert (level, alpha) == pytest.approx(expected, abs=0)


def test_generator_fade_in_is_the_blend_of_both_levels():
    torch.manual_seed(0)
    g = Generator(latent_dim=8, data_shape=(1, 16, 16), width=4, max_channels=8)
    z = torch.randn(3, 8)
    assert g(z).shape == (3, 1, 16, 16) and g(z, level=0).shape == (3, 1, 4, 4)
    old, new = resample(g(z, level=0), 8), g(z, level=1)
    assert_close(g(z, level=1, alpha=0.3), 0.7 * old + 0.3 * new)
    assert_close(g(z, level=1, alpha=0.0), old)


def test_discriminator_levels_and_fade_in():
    torch.manual_seed(0)
    d = Discriminator(data_shape=(1, 16, 16), width=4, max_channels=8)
    x = torch.randn(4, 1, 8, 8)
    assert d(torch.randn(4, 1, 16, 16)).shape == (4,) and d(torch.randn(4, 1, 4, 4), level=0).shape == (4,)
    direct = d.last(d.from_rgb[0](F.avg_pool2d(x, 2))).flatten()  # alpha 0: only the old 4x4 path
    assert_close(d(x, level=1, alpha=0.0), direct)


def test_real_images_fade_like_the_generator():
    x = torch.arange(16.0).view(1, 1, 4, 4).repeat(1, 1, 2, 2)  # 8x8
    half = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
    assert_close(real_at(x, 8, 0.25), 0.75 * half + 0.25 * x)
    assert_close(real_at(x, 4, 0.25), F.avg_pool2d(x, 2))
