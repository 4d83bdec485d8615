"""Datasets and batching: shapes, ranges, labels, the real files in shared/data, errors, determinism."""

from __future__ import annotations

import inspect
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.testing import assert_close
from torch.utils.data import Dataset
from torchvision import datasets
from torchvision.transforms import functional as TF

import ganrun.data as data
from ganrun.config.compose import CONF_DIR
from ganrun.errors import ConfigError
from ganrun.data import images

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.exists(), reason=f"real datasets not found at {DATA}")
LEVEL = 2 / 255  # one grey level in [-1, 1]


def check_images(ds, length, shape):
    x, y = ds[0]
    assert len(ds) == length
    assert ds.data_shape == shape and x.shape == shape
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and y.shape == ()
    if hasattr(ds, "tensors"):
        xs = ds.tensors[0]
        assert xs.shape == (length, *shape)
        assert -1 <= xs.min() < -0.9 and 0.9 < xs.max() <= 1  # uses (nearly) the whole range


# ---------------------------------------------------------------- configs


@pytest.mark.parametrize("option", sorted(p.stem for p in (REPO / "ganrun" / "conf" / "dataset").glob("*.yaml")))
def test_every_dataset_config_names_a_factory_that_takes_its_keys(option):
    from hydra import compose, initialize_config_dir
    from hydra.utils import get_method

    from ganrun.config.schemas import register_schemas

    register_schemas()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name=None, overrides=[f"+dataset={option}"]).dataset
    kwargs = {k: v for k, v in cfg.items() if k != "_target_"}
    factory = get_method(cfg._target_)
    assert callable(factory) and factory.__module__.startswith("ganrun.data")  # a factory of ganrun's datasets
    inspect.signature(factory).bind(**kwargs)  # TypeError on a key the factory does not take


# ---------------------------------------------------------------- digits and mixtures


def test_digits_are_sklearns_images_in_minus_one_one():
    from sklearn.datasets import load_digits

    ref = load_digits()
    ds = data.digits()
    check_images(ds, 1797, (1, 8, 8))
    x, y = ds.tensors
    assert_close(x[:, 0], torch.from_numpy(ref.images).float() / 8 - 1)
    assert_close(y, torch.from_numpy(ref.target).long())
    assert ds.num_classes == 10 and x.min() == -1 and x.max() == 1


def test_digits_resolution_and_channels():
    ds = data.digits(resolution=16, channels=3)
    check_images(ds, 1797, (3, 16, 16))
    x = ds.tensors[0]
    assert_close(x[:, 0], x[:, 2])  # grey in three equal channels
    assert_close(x[:, :, ::2, ::2].mean(), data.digits().tensors[0].mean(), atol=0.02, rtol=0)


def check_mixture(ds, modes, std, counts):
    x, y = ds.tensors
    assert x.shape == (sum(counts), 2) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert ds.data_shape == (2,) and ds.num_classes == len(modes) and ds.std == std
    assert_close(ds.modes, torch.tensor(modes, dtype=torch.float32))
    assert_close(torch.bincount(y, minlength=len(modes)), torch.tensor(counts))
    for k, mode in enumerate(ds.modes):  # each point drawn from the mode its label names
        points = x[y == k]
        error = 4 * std / math.sqrt(len(points))  # ~4 standard errors
        assert_close(points.mean(0), mode, atol=error, rtol=0)
        assert_close(points.std(0), torch.full((2,), std), atol=0, rtol=0.15)


def test_ring_modes_and_samples():
    ds = data.ring(num_samples=8003, seed=3)
    modes = [(2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)) for k in range(8)]
    check_mixture(ds, modes, 0.02, [1001] * 3 + [1000] * 5)  # the first 8003 % 8 modes get one more


def test_grid_modes_and_samples():
    ds = data.grid(num_samples=5000, std=0.05)
    modes = [(float(i), float(j)) for i in (-4, -2, 0, 2, 4) for j in (-4, -2, 0, 2, 4)]
    check_mixture(ds, modes, 0.05, [200] * 25)
    assert_close(data.grid(side=2, spacing=1.0, num_samples=10).modes,
                 torch.tensor([[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]]))


def test_mixture_is_drawn_from_its_seed():
    a, b, c = data.ring(num_samples=500, seed=0), data.ring(num_samples=500, seed=0), data.ring(num_samples=500, seed=1)
    assert_close(a.tensors, b.tensors)
    assert not torch.equal(a.tensors[0], c.tensors[0])
    assert not torch.equal(a.tensors[1][:50], torch.arange(50) % 8)  # the order is shuffled


# ---------------------------------------------------------------- torchvision sources


@needs_data
def test_mnist_test_split_in_memory_matches_the_pil_pipeline():
    ds = data.mnist(root=str(DATA), train=False, resolution=32, channels=1, download=False)
    check_images(ds, 10_000, (1, 32, 32))
    assert_close(ds.tensors[1][:10], torch.tensor([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]))
    assert ds.num_classes == 10
    raw = datasets.MNIST(str(DATA), train=False, transform=images.transform(32, 1, 1))
    for i in (0, 1, 9999):  # upsampling: torchvision's uint8 kernel equals PIL's exactly
        assert_close(ds[i][0], raw[i][0])


@needs_data
def test_mnist_too_big_for_memory_is_read_per_item(monkeypatch):
    monkeypatch.setattr(images, "IN_MEMORY_BYTES", 0)
    ds = data.mnist(root=str(DATA), train=False, resolution=20, channels=3)
    assert isinstance(ds, data.OnDisk) and not hasattr(ds, "tensors")
    x, y = ds[0]
    assert x.shape == ds.data_shape == (3, 20, 20) and x.dtype == torch.float32
    assert_close(y, torch.tensor(7))
    assert -1 <= x.min() and x.max() <= 1
    monkeypatch.undo()
    assert_close(x, data.mnist(root=str(DATA), train=False, resolution=20, channels=3)[0][0], atol=LEVEL + 1e-6, rtol=0)


@needs_data
def test_fashion_mnist_resolution_override():
    ds = data.fashion_mnist(root=str(DATA), train=False, resolution=64, channels=1)
    check_images(ds, 10_000, (1, 64, 64))
    assert_close(ds.tensors[1][:10], torch.tensor([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]))


class CIFAR10Subset(datasets.CIFAR10):  # shared/data/README.md: the stock class md5-checks the full files
    base_folder = "cifar-10-subset-batches-py"
    train_list = [["train_first4000", "6da9b7922884df56e7ed13ec3e920232"]]
    test_list = [["test_first1000", "76ed10b894dff811943a0d5145c03689"]]


@needs_data
def test_cifar10_png_folder_and_pickles_agree(monkeypatch):
    folder = data.image_folder(root=str(DATA / "cifar10_test1000"), resolution=32, channels=3)
    check_images(folder, 1000, (3, 32, 32))
    assert folder.classes[:2] == ["airplane", "automobile"] and folder.num_classes == 10
    assert_close(torch.bincount(torch.tensor(folder.labels)),
                 torch.tensor([103, 89, 100, 103, 90, 86, 112, 102, 106, 109]))
    assert folder.labels == datasets.ImageFolder(str(DATA / "cifar10_test1000")).targets

    monkeypatch.setattr(images.datasets, "CIFAR10", CIFAR10Subset)
    pickles = data.cifar10(root=str(DATA), train=False, resolution=32)
    check_images(pickles, 1000, (3, 32, 32))
    for i in (0, 1, 500, 999):  # the PNG's file name is its index in test_batch
        x, y = folder[i]
        index = int(folder.files[i].stem)
        assert_close(x, TF.to_tensor(Image.open(folder.files[i])) * 2 - 1)
        assert_close(pickles[index], (x, y))


@needs_data
def test_image_folder_resolution_and_grey():
    ds = data.image_folder(root=str(DATA / "cifar10_test1000"), resolution=16, channels=1)
    x, y = ds[0]
    assert x.shape == ds.data_shape == (1, 16, 16) and x.min() >= -1 and x.max() <= 1


def write_png(path: Path, size: tuple[int, int], seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def test_image_folder_with_classes_skips_unreadable_files(tmp_path, caplog):
    write_png(tmp_path / "cats" / "1.png", (40, 30), 0)
    write_png(tmp_path / "cats" / "deeper" / "2.png", (30, 40), 1)
    write_png(tmp_path / "dogs" / "3.png", (12, 12), 2)
    (tmp_path / "dogs" / "broken.png").write_bytes(b"not an image")
    good = (tmp_path / "cats" / "1.png").read_bytes()
    (tmp_path / "dogs" / "truncated.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "dogs" / "notes.txt").write_text("ignored: not an image extension")
    with caplog.at_level(logging.WARNING, logger="ganrun.data.folder"):
        ds = data.image_folder(root=str(tmp_path), resolution=8, channels=3)
    assert "skipped 2 unreadable" in caplog.text
    assert ds.classes == ["cats", "dogs"] and ds.num_classes == 2 and ds.labels == [0, 0, 1]
    assert [p.name for p in ds.files] == ["1.png", "2.png", "3.png"]
    for i in range(3):
        x, y = ds[i]
        assert x.shape == (3, 8, 8) and x.dtype == torch.float32 and -1 <= x.min() and x.max() <= 1
        assert_close(y, torch.tensor(ds.labels[i]))


def test_flat_image_folder_has_no_labels(tmp_path):
    write_png(tmp_path / "a.png", (16, 16), 0)
    write_png(tmp_path / "b.png", (16, 16), 1)
    write_png(tmp_path / "more" / "c.png", (16, 16), 2)
    ds = data.image_folder(root=str(tmp_path), resolution=16)
    assert len(ds) == 3 and ds.num_classes is None and ds.classes is None
    x, y = ds[0]
    assert_close(y, torch.tensor(-1))
    assert_close(x, TF.to_tensor(Image.open(tmp_path / "a.png")) * 2 - 1)  # 16x16: no resize


@pytest.mark.parametrize("factory, message", [
    (data.mnist, "MNIST files not found under .*: download them with dataset.download=true"),
    (data.fashion_mnist, "FashionMNIST files not found under .*FashionMNIST/raw/"),
    (data.cifar10, "CIFAR-10 files not found under .*cifar-10-batches-py/"),
    (data.celeba, "CelebA files not found under .*celeba/img_align_celeba/"),
    (data.lsun_bedroom, "LSUN cannot be downloaded by torchvision .*download bedroom_train_lmdb"),
    (data.image_folder, "is not a folder: point dataset.root at a folder of images"),
])
def test_missing_files_raise_a_config_error(tmp_path, factory, message):
    with pytest.raises(ConfigError, match=message):
        factory(root=str(tmp_path / "missing"), download=False)


def test_celeba_download_refused_by_google_drive_says_what_to_do(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise RuntimeError("Too many users have viewed or downloaded this file recently.")

    monkeypatch.setattr(images.datasets, "CelebA", refused)
    with pytest.raises(ConfigError, match="CelebA could not be downloaded from Google Drive .*by hand"):
        data.celeba(root=str(tmp_path), download=True)


def test_on_disk_labels():
    source = [(torch.zeros(1, 2, 2), 5)]
    _, y = data.OnDisk(source, name="s", data_shape=(1, 2, 2), num_classes=10)[0]
    assert_close(y, torch.tensor(5))
    _, y = data.OnDisk(source, name="s", data_shape=(1, 2, 2), num_classes=None)[0]  # CelebA, LSUN
    assert_close(y, torch.tensor(-1))


def test_folder_without_images_raises_a_config_error(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 nothing more")
    with pytest.raises(ConfigError, match=r"holds no readable images \(1 unreadable"):
        data.image_folder(root=str(tmp_path))


# ---------------------------------------------------------------- batches


class Numbered(Dataset):
    """Item i is (tensor([i.]), tensor(i)); no `.tensors`, so batched through a DataLoader."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int):
        return torch.tensor([float(i)]), torch.tensor(i)


def numbered_in_memory(size: int) -> data.InMemory:
    return data.InMemory(torch.arange(size, dtype=torch.float32)[:, None], torch.arange(size), name="n", num_classes=None)


def take(iterator, count):
    return [next(iterator) for _ in range(count)]


@pytest.mark.parametrize("make, workers", [(numbered_in_memory, 0), (Numbered, 0), (Numbered, 1)])
def test_batches_are_seeded_and_cover_each_epoch(make, workers):
    def batches(seed, drop_last=True):
        return data.infinite_batches(make(103), 10, seed=seed, device="cpu", num_workers=workers, drop_last=drop_last)

    first, again, other = take(batches(0), 20), take(batches(0), 20), take(batches(1), 20)
    assert_close(first, again)
    assert not torch.equal(first[0][1], other[0][1])
    for x, y in first:
        assert x.shape == (10, 1) and y.shape == (10,) and y.dtype == torch.int64 and x.device.type == "cpu"
        assert_close(x[:, 0], y.float())
    epochs = [torch.cat([y for _, y in first[:10]]), torch.cat([y for _, y in first[10:]])]
    for epoch in epochs:  # drop_last: 10 full batches, 100 distinct items of 103
        assert len(epoch.unique()) == 100
    assert not torch.equal(epochs[0], epochs[1])  # reshuffled

    short = take(batches(0, drop_last=False), 22)
    assert [len(y) for _, y in short] == [10] * 10 + [3] + [10] * 10 + [3]
    for epoch in (short[:11], short[11:]):  # every item exactly once per epoch
        assert_close(torch.cat([y for _, y in epoch]).sort().values, torch.arange(103))


def test_dataset_smaller_than_a_batch_raises_a_config_error(tmp_path):
    for i in range(5):
        write_png(tmp_path / f"{i}.png", (8, 8), i)
    ds = data.image_folder(name="image_folder", root=str(tmp_path), resolution=8)
    with pytest.raises(ConfigError, match="dataset=image_folder has 5 items, fewer than trainer.batch_size=64: lower"):
        data.infinite_batches(ds, 64, seed=0, device="cpu")
    x, y = next(data.infinite_batches(ds, 5, seed=0, device="cpu"))
    assert x.shape == (5, 3, 8, 8)
    assert_close(y, torch.full((5,), -1))
