"""Super-resolution data and metrics, SimGAN's rendered digits, SRGAN's content networks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.testing import assert_close

from ganrun.errors import ConfigError
from ganrun.data.superres import RandomPatches, downsample, sr_folder, upsample_bicubic
from ganrun.data.synthetic_digits import synthetic_digits
from ganrun.metrics.translation import luminance, sr_scores
from ganrun.models.content import IMAGENET_MEAN, IMAGENET_STD, VGGFeatures, pixels, vgg19
from ganrun.models.refiner import Refiner


def _folder(root: Path, sizes: list[tuple[int, int]], mode: str = "RGB") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i, (h, w) in enumerate(sizes):
        shape = (h, w, 3) if mode == "RGB" else (h, w)
        Image.fromarray(np.random.default_rng(i).integers(0, 256, shape, dtype=np.uint8), mode).save(root / f"{i}.png")
    return root


def test_modcrop_grey_to_rgb_patches_and_resume(tmp_path):
    train = sr_folder(root=str(_folder(tmp_path / "train", [(18, 21), (16, 16)])), scale=4, resolution=16)
    assert [tuple(x.shape) for x in train.images] == [(3, 16, 20), (3, 16, 16)]
    tests = sr_folder(scale=4, resolution=16, train=False, test_roots=[str(_folder(tmp_path / "Set", [(9, 9)], "L"))])
    assert tuple(tests["Set"].images[0].shape) == (3, 8, 8)
    assert torch.equal(tests["Set"].images[0][0], tests["Set"].images[0][2])  # grey repeated
    stream = RandomPatches(train, 3, seed=0, device=torch.device("cpu"))
    state = stream.state_dict()
    lr, hr = next(stream)
    assert lr.shape == (3, 3, 4, 4) and hr.shape == (3, 3, 16, 16)
    assert_close(lr, downsample(hr, 4))
    again = RandomPatches(train, 3, seed=9, device=torch.device("cpu"))
    again.load_state_dict(state)
    assert_close(next(again)[1], hr)
    with pytest.raises(ConfigError, match="multiple of dataset.scale=4"):
        sr_folder(root=str(tmp_path / "train"), scale=4, resolution=10)
    with pytest.raises(ConfigError, match="smaller than 32 px"):
        sr_folder(root=str(tmp_path / "train"), scale=4, resolution=32)


def test_luminance_and_sr_scores_exact():
    white, black = torch.ones(1, 3, 1, 1), torch.zeros(1, 3, 1, 1)
    assert_close(luminance(white), torch.full((1, 1, 1, 1), 235 / 255))
    assert_close(luminance(black), torch.full((1, 1, 1, 1), 16 / 255))
    hr = torch.zeros(1, 3, 16, 16)
    off = hr.clone()
    off[..., :2, :] = 1.0  # changes only the border that 2 px shaving removes
    assert sr_scores(off, hr, 2)["SSIM"] == pytest.approx(1.0)
    grey = torch.full((1, 3, 16, 16), -1.0)  # Y = 16/255 against Y of 0 -> 128 / 255 ...
    mid = torch.zeros(1, 3, 16, 16)
    y_mid = (128 / 255) * (65.481 + 128.553 + 24.966) / 255 + 16 / 255
    expected = 10 * math.log10(1 / (y_mid - 16 / 255) ** 2)
    assert sr_scores(mid, grey, 2)["PSNR"] == pytest.approx(expected, rel=1e-5)


def test_bicubic_baseline_is_exact_on_constant_images():
    lr = torch.full((1, 3, 4, 4), 0.25)
    assert_close(upsample_bicubic(lr, 4), torch.full((1, 3, 16, 16), 0.25))


def test_content_networks_are_frozen():
    assert_close(pixels()(torch.ones(2)), torch.ones(2))
    net = VGGFeatures(torch.nn.Sequential(torch.nn.Identity()))  # VGG's input normalisation, frozen
    out = net(torch.zeros(1, 3, 2, 2))  # [-1, 1] -> [0, 1] -> ImageNet-normalised
    assert_close(out[0, :, 0, 0], (0.5 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD))
    assert not net.train().training
    with pytest.raises(ValueError, match="is not a file"):
        vgg19(weights="/nonexistent/vgg19.pth")


def test_synthetic_digits_are_deterministic_and_labelled():
    first, again = synthetic_digits(count=20, resolution=16), synthetic_digits(count=20, resolution=16)
    x, y = first.tensors
    assert x.shape == (20, 1, 16, 16) and y.tolist() == [i % 10 for i in range(20)]
    assert torch.equal(x, again.tensors[0]) and -1 <= float(x.min()) < float(x.max()) <= 1
    test = synthetic_digits(count=20, resolution=16, train=False)
    assert len(test) == 2 and not torch.equal(test.tensors[0], x[:2])
    assert Refiner(1, width=4, n_blocks=1)(x).shape == x.shape
