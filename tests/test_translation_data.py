"""The translation layouts (ganrun.data.translation), their one-line errors, and RandomCropFlip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.testing import assert_close

from ganrun.errors import ConfigError
from ganrun.data.augment import RandomCropFlip, to_float
from ganrun.data.translation import aligned, check_same_channels, check_splits_match, unaligned

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _save(path: Path, array: np.ndarray, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)


def _pair(root: Path, split: str, name: str, left: int, right: int, size: int = 8) -> None:
    ab = np.zeros((size, 2 * size, 3), np.uint8)
    ab[:, :size], ab[:, size:] = left, right
    _save(root / split / name, ab)


def test_side_by_side_pairs_and_direction(tmp_path):
    for i in range(3):
        _pair(tmp_path, "train", f"{i}.png", left=10 * i, right=200)
    _pair(tmp_path, "val", "0.png", left=1, right=2)
    data = aligned(root=str(tmp_path), load_size=10, resolution=8)
    assert data.a.shape == (3, 3, 10, 10) and data.b.shape == (3, 3, 10, 10) and data.paired
    assert data.a[:, 0, 0, 0].tolist() == [0, 10, 20] and data.b.unique().tolist() == [200]
    swapped = aligned(root=str(tmp_path), direction="BtoA", load_size=8, resolution=8)
    assert swapped.a.unique().tolist() == [200]
    test = aligned(root=str(tmp_path), load_size=10, resolution=8, train=False)  # no test/: val/, resized to crop
    assert test.a.shape == (1, 3, 8, 8) and test.a.unique().tolist() == [1]


def test_matched_folders_and_their_errors(tmp_path):
    for domain, value in (("A", 5), ("B", 7)):
        for name in ("x.png", "y.png"):
            _save(tmp_path / domain / "train" / name, np.full((8, 8), value, np.uint8))
    data = aligned(root=str(tmp_path), load_size=8, resolution=8)
    assert data.shape_a == (1, 8, 8) and data.a.unique().tolist() == [5] and data.b.unique().tolist() == [7]
    _save(tmp_path / "B" / "train" / "y.png", np.zeros((16, 16), np.uint8))
    with pytest.raises(ConfigError, match="y.png is 8x8 but .*y.png is 16x16: paired A and B images must have"):
        aligned(root=str(tmp_path), load_size=8, resolution=8)
    (tmp_path / "B" / "train" / "y.png").unlink()
    with pytest.raises(ConfigError, match="do not hold the same file names"):
        aligned(root=str(tmp_path), load_size=8, resolution=8)


def test_bad_paired_layouts(tmp_path):
    with pytest.raises(ConfigError, match="has neither train/"):
        aligned(root=str(tmp_path))
    _save(tmp_path / "train" / "odd.png", np.zeros((8, 15, 3), np.uint8))
    with pytest.raises(ConfigError, match="needs an even width"):
        aligned(root=str(tmp_path), load_size=8, resolution=8)
    with pytest.raises(ConfigError, match="dataset.direction=AB"):
        aligned(root=str(tmp_path), direction="AB")


def test_unpaired_layout_channels_and_errors(tmp_path):
    for split, count in (("train", 3), ("test", 1)):
        for i in range(count):
            _save(tmp_path / f"{split}A" / f"{i}.png", np.full((12, 12), 9, np.uint8))  # grey
            _save(tmp_path / f"{split}B" / f"{i}.jpg", np.full((12, 12, 3), 99, np.uint8))
    data = unaligned(root=str(tmp_path), load_size=10, resolution=8)
    assert data.a.shape == (3, 1, 10, 10) and data.b.shape == (3, 3, 10, 10) and not data.paired
    with pytest.raises(ConfigError, match="domain A is grey and domain B colour, but the identity loss"):
        check_same_channels(data, "the identity loss")
    both = unaligned(root=str(tmp_path), load_size=10, resolution=8, channels_a=3)
    check_same_channels(both, "the identity loss")
    assert both.a.shape == (3, 3, 10, 10) and both.a.unique().tolist() == [9]
    test = unaligned(root=str(tmp_path), load_size=10, resolution=8, train=False)
    check_splits_match(data, test)
    with pytest.raises(ConfigError, match="the train split has 3/3 channels"):
        check_splits_match(both, test)
    for path in (tmp_path / "trainB").iterdir():
        path.unlink()
    (tmp_path / "trainB").rmdir()
    with pytest.raises(ConfigError, match="has no trainB/: an unpaired root holds"):
        unaligned(root=str(tmp_path))


def test_odd_image_modes_are_refused(tmp_path):
    for split in ("trainA", "trainB"):
        _save(tmp_path / split / "0.png", np.zeros((8, 8, 3), np.uint8))
    Image.fromarray(np.zeros((8, 8), np.uint16)).save(tmp_path / "trainA" / "deep.png")  # 16-bit grey
    with pytest.raises(ConfigError, match=r"deep.png has image mode I;16, which ganrun does not read"):
        unaligned(root=str(tmp_path), load_size=8, resolution=8)


def test_random_crop_flip_applies_one_crop_to_both_and_resumes():
    images = torch.arange(2 * 16, dtype=torch.uint8).view(2, 1, 4, 4)
    augment = RandomCropFlip(2, seed=0)
    state = augment.state_dict()
    a, b = augment(images, images + 1)
    assert a.shape == (2, 1, 2, 2)
    assert_close(b, a + 1 / 127.5)  # the same crop and flip for both
    for i in range(2):  # each crop is a window of item i, flipped or not
        windows = [to_float(images[i, :, r:r + 2, c:c + 2]) for r in range(3) for c in range(3)]
        assert any(torch.equal(a[i], w) or torch.equal(a[i], w.flip(-1)) for w in windows)
    again = RandomCropFlip(2, seed=5)
    again.load_state_dict(state)
    assert_close(again(images)[0], a)
    whole = RandomCropFlip(4, flip=False)(images)[0]
    assert_close(whole, to_float(images))


@pytest.mark.skipif(not SHARED_DATA.exists(), reason=f"real datasets not found at {SHARED_DATA}")
def test_shared_edges2shoes_and_shoes2handbags():
    shoes = aligned(root=str(SHARED_DATA / "edges2shoes_handbags" / "shoes"), direction="BtoA", load_size=36,
                    resolution=32, max_items=4)
    assert shoes.a.shape == (4, 3, 36, 36)
    # edges (the input after BtoA) are mostly white, photos of shoes mostly a white background too, but
    # edges are near-binary: far fewer distinct grey levels than the photos
    assert shoes.a.float().mean() > 200 and len(shoes.a.unique()) < len(shoes.b.unique())
    unpaired = unaligned(root=str(SHARED_DATA / "shoes2handbags"), load_size=32, resolution=32, max_items=2,
                         train=False)
    assert unpaired.a.shape == (2, 3, 32, 32) and unpaired.b.shape == (2, 3, 32, 32)
