"""DiffAugment (Zhao et al. 2020): each policy's effect on hand-made images, exact values, and that
gradients reach G through it."""

import pytest
import torch
from torch.testing import assert_close

from ganrun.diffaugment import DiffAugment, adjust_color, cut_out, random_cutout, random_translation, translate

IMAGE = torch.arange(16.0).view(1, 1, 4, 4)  # rows 0-3, 4-7, 8-11, 12-15


def test_translate_shifts_with_zero_padding():
    moved = translate(IMAGE, dx=torch.tensor([1]), dy=torch.tensor([-1]))  # right by 1, up by 1
    expected = torch.tensor([[0, 4, 5, 6], [0, 8, 9, 10], [0, 12, 13, 14], [0, 0, 0, 0]], dtype=torch.float32)
    assert_close(moved[0, 0], expected)
    assert_close(translate(IMAGE, torch.tensor([0]), torch.tensor([0])), IMAGE)


def test_cut_out_zeroes_a_clipped_square():
    cut = cut_out(IMAGE, cx=torch.tensor([0]), cy=torch.tensor([3]), size=2)  # rows 2-3, columns -1-0
    expected = IMAGE.clone()
    expected[0, 0, 2:4, 0] = 0
    assert_close(cut, expected)


def test_color_is_brightness_then_saturation_then_contrast():
    x = torch.tensor([[[[0.0, 1.0]], [[0.5, -0.5]]]])  # (1, 2 channels, 1, 2)
    b, s, c = (torch.tensor(v).view(1, 1, 1, 1) for v in (0.25, 2.0, 0.5))
    y = x + 0.25                                           # [[0.25, 1.25], [0.75, -0.25]]
    grey = y.mean(dim=1, keepdim=True)                     # [0.5, 0.5]
    y = grey + 2.0 * (y - grey)                            # [[0, 2], [1, -1]]
    expected = 0.5 + 0.5 * (y - 0.5)                       # image mean 0.5
    assert_close(adjust_color(x, b, s, c), expected)
    assert_close(expected, torch.tensor([[[[0.25, 1.25]], [[0.75, -0.25]]]]))


def test_random_policies_stay_in_their_ranges():
    torch.manual_seed(0)
    x = torch.ones(200, 1, 16, 16)
    # translation by at most 2 = 16 / 8 pixels: every row and column more than 2 from the border survives
    moved = random_translation(x)
    assert torch.all(moved[:, :, 2:14, 2:14] == 1)
    assert (moved == 0).any()
    # cutout: a square of side 8; at most 64 zeros per image, and some image loses exactly 64
    zeros = (random_cutout(x) == 0).flatten(1).sum(1)
    assert zeros.max() == 64 and zeros.min() > 0


def test_gradients_reach_the_generator_through_every_policy():
    torch.manual_seed(1)
    generator = torch.nn.Linear(4, 3 * 8 * 8)
    for policy in ("color", "translation", "cutout", "color,translation,cutout", ["color", "cutout"]):
        generator.zero_grad()
        fake = generator(torch.randn(6, 4)).view(6, 3, 8, 8)
        DiffAugment(policy)(fake).pow(2).sum().backward()
        assert generator.weight.grad.abs().sum() > 0, policy


def test_translation_gradient_is_the_kept_pixels():
    """T is linear in x for fixed shifts: d sum(T(x)) / dx is 1 where a pixel stays in the image, 0 elsewhere."""
    x = torch.ones(1, 1, 4, 4, requires_grad=True)
    translate(x, torch.tensor([1]), torch.tensor([0])).sum().backward()
    expected = torch.ones(1, 1, 4, 4)
    expected[..., 3] = 0  # the last column leaves the image
    assert_close(x.grad, expected)


def test_unknown_policy_and_empty_policy():
    with pytest.raises(ValueError, match="unknown policy flip"):
        DiffAugment("color,flip")
    x = torch.randn(2, 1, 4, 4)
    assert DiffAugment("")(x) is x
