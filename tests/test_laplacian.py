"""LAPGAN's pyramid: bands by hand, and down/up reconstructs the image exactly."""

import torch
from torch.testing import assert_close

from ganrun.models.laplacian import down, pyramid, reconstruct, up


def test_pyramid_by_hand():
    x = torch.tensor([[1.0, 3.0], [5.0, 7.0]]).view(1, 1, 2, 2)
    h0, top = pyramid(x, levels=2)
    assert_close(top, torch.tensor([[[[4.0]]]]))
    assert_close(h0, x - 4.0)
    assert_close(up(down(x)), torch.full_like(x, 4.0))


def test_reconstruction_is_exact():
    x = torch.randn(3, 2, 16, 16, generator=torch.Generator().manual_seed(0))
    bands = pyramid(x, levels=4)
    assert [b.shape[-1] for b in bands] == [16, 8, 4, 2]
    assert_close(reconstruct(bands), x, rtol=0, atol=1e-6)
    dyadic = torch.randint(-128, 128, (2, 1, 8, 8)).float() / 4  # values whose means are exact in float32
    assert torch.equal(reconstruct(pyramid(dyadic, levels=3)), dyadic)
