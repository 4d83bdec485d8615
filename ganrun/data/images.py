"""Image datasets from torchvision and scikit-learn: x float32 in [-1, 1] of shape (C, R, R).

Every source gets DCGAN's preprocessing: Resize(R) (the shorter side) + CenterCrop(R), Grayscale(C)
where the source has another channel count, then ToTensor + Normalize(0.5, 0.5).

MNIST, FashionMNIST and CIFAR-10 are small: whenever all their items fit in IN_MEMORY_BYTES (1 GiB)
as float32 (MNIST and FashionMNIST up to 64x64, CIFAR-10 at 32x32), the uint8 arrays torchvision loads
are decoded once into an `InMemory` dataset with torchvision's tensor kernels (antialiased bilinear on
uint8, equal to PIL's to within one grey level), which batches far faster than PIL per item. Past
that size, and for CelebA and LSUN, items are read and transformed one at a time (`OnDisk`).

The `name` and `num_classes` arguments are the config's metadata: accepted, and the dataset reports
its own. A missing or undownloadable dataset raises a ConfigError saying what to do.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import torch
import torchvision.transforms.v2.functional as F
from torchvision import datasets
from torchvision import transforms as T

from ganrun.errors import ConfigError

from .base import InMemory, OnDisk

IN_MEMORY_BYTES = 2**30


def transform(resolution: int, channels: int, source_channels: int) -> T.Compose:
    """The PIL pipeline: PIL image -> float32 (channels, resolution, resolution) in [-1, 1]."""
    steps = [T.Resize(resolution), T.CenterCrop(resolution)]
    if channels != source_channels:
        steps.append(T.Grayscale(channels))  # RGB -> L, or L -> 3 equal channels
    return T.Compose(steps + [T.ToTensor(), T.Normalize([0.5] * channels, [0.5] * channels)])


def decode(images: torch.Tensor, resolution: int, channels: int, chunk: int = 4096) -> torch.Tensor:
    """`transform` on a whole uint8 array: (N, C, H, W) -> float32 (N, channels, R, R) in [-1, 1]."""
    out = torch.empty(len(images), channels, resolution, resolution)
    for start in range(0, len(images), chunk):
        part = F.center_crop(F.resize(images[start:start + chunk], [resolution], antialias=True), [resolution])
        if part.shape[1] != channels:
            part = F.rgb_to_grayscale(part) if channels == 1 else part.expand(-1, channels, -1, -1)
        out[start:start + chunk] = part.float().div_(255).sub_(0.5).div_(0.5)  # ToTensor + Normalize
    return out


# What torchvision needs beyond itself to load a dataset ganrun offers (declared in pyproject.toml):
# CelebA's download goes through Google Drive (gdown); LSUN is stored as lmdb databases.
REQUIRES = {"celeba": ("gdown",), "lsun_bedroom": ("lmdb",)}


def check_requirements(name: str) -> None:
    """ConfigError naming the package to install when a dataset's reader is missing."""
    from importlib.util import find_spec

    for module in REQUIRES.get(name, ()):
        if find_spec(module) is None:
            raise ConfigError(f"dataset={name} needs the package {module}: pip install {module} "
                              "(ganrun declares it; a partial install left it out)")


def check_channels(channels: int) -> None:
    if channels not in (1, 3):
        raise ConfigError(f"dataset.channels={channels} is not supported: use 1 (grey) or 3 (colour)")


def check_root(root: Optional[str]) -> Path:
    if root is None:
        raise ConfigError("dataset.root is not set: set dataset.root to the folder that holds (or will hold) the data")
    return Path(root).expanduser()


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _open(cls: type, title: str, layout: str, root: Optional[str], download: bool, **kwargs) -> datasets.VisionDataset:
    """`cls(root, download=download, **kwargs)` with torchvision's errors turned into ConfigErrors."""
    path = check_root(root)
    try:
        return cls(root=str(path), download=download, **kwargs)
    except (RuntimeError, OSError) as err:  # torchvision: "Dataset not found", failed or refused downloads
        if download:
            raise ConfigError(f"{title} could not be downloaded into {path} ({_first_line(err)}): check the "
                              f"network, or put {layout} under {path} yourself and set dataset.download=false") from err
        raise ConfigError(f"{title} files not found under {path}: download them with dataset.download=true, "
                          f"or point dataset.root at a folder holding {layout}") from err


def _arrays(source: datasets.VisionDataset, images: torch.Tensor, name: str, resolution: int,
            channels: int) -> InMemory | OnDisk:
    """A torchvision dataset that loaded all its images as uint8 `images` (N, C, H, W) and `targets`."""
    shape = (channels, resolution, resolution)
    num_classes = len(source.classes)
    if len(images) * math.prod(shape) * 4 <= IN_MEMORY_BYTES:
        labels = torch.as_tensor(source.targets, dtype=torch.int64)
        return InMemory(decode(images, resolution, channels), labels, name=name, num_classes=num_classes)
    source.transform = transform(resolution, channels, images.shape[1])
    return OnDisk(source, name=name, data_shape=shape, num_classes=num_classes)


def digits(*, name: str = "digits", resolution: int = 8, channels: int = 1, num_classes: int = 10) -> InMemory:
    """scikit-learn's 1,797 8x8 digits (values 0..16), bilinearly resized when resolution != 8."""
    from sklearn.datasets import load_digits  # slow import, needed only here

    check_channels(channels)
    data = load_digits()
    x = torch.from_numpy(data.images).float().unsqueeze(1) / 8 - 1  # (1797, 1, 8, 8), 0..16 -> [-1, 1]
    if resolution != 8:
        x = F.resize(x, [resolution], antialias=True).clamp_(-1, 1)
    x = x.expand(-1, channels, -1, -1).contiguous()
    return InMemory(x, torch.from_numpy(data.target).long(), name=name, num_classes=10)


def mnist(*, name: str = "mnist", root: Optional[str] = "data", resolution: int = 32, channels: int = 1,
          num_classes: Optional[int] = 10, download: bool = False, train: bool = True) -> InMemory | OnDisk:
    check_channels(channels)
    source = _open(datasets.MNIST, "MNIST", "MNIST/raw/train-images-idx3-ubyte and its three sibling files",
                   root, download, train=train)
    return _arrays(source, source.data.unsqueeze(1), name, resolution, channels)


def fashion_mnist(*, name: str = "fashion_mnist", root: Optional[str] = "data", resolution: int = 32,
                  channels: int = 1, num_classes: Optional[int] = 10, download: bool = False,
                  train: bool = True) -> InMemory | OnDisk:
    check_channels(channels)
    source = _open(datasets.FashionMNIST, "FashionMNIST",
                   "FashionMNIST/raw/train-images-idx3-ubyte and its three sibling files", root, download, train=train)
    return _arrays(source, source.data.unsqueeze(1), name, resolution, channels)


def cifar10(*, name: str = "cifar10", root: Optional[str] = "data", resolution: int = 32, channels: int = 3,
            num_classes: Optional[int] = 10, download: bool = False, train: bool = True) -> InMemory | OnDisk:
    check_channels(channels)
    source = _open(datasets.CIFAR10, "CIFAR-10", "cifar-10-batches-py/ (data_batch_1..5, test_batch, batches.meta)",
                   root, download, train=train)
    images = torch.from_numpy(source.data).permute(0, 3, 1, 2)  # (N, 32, 32, 3) -> (N, 3, 32, 32)
    return _arrays(source, images, name, resolution, channels)


def celeba(*, name: str = "celeba", root: Optional[str] = "data", resolution: int = 64, channels: int = 3,
           num_classes: Optional[int] = None, download: bool = False, train: bool = True) -> OnDisk:
    """Aligned CelebA without attributes (y = -1); train -> the 'train' split, else 'test'."""
    check_channels(channels)
    check_requirements("celeba")
    path = check_root(root)
    layout = "celeba/img_align_celeba/ with celeba/list_*.txt and celeba/identity_CelebA.txt"
    try:
        source = datasets.CelebA(str(path), split="train" if train else "test", target_type=[],
                                 transform=transform(resolution, channels, 3), download=download)
    except (RuntimeError, OSError) as err:
        if download:  # Google Drive's daily quota refuses most automated downloads
            raise ConfigError(f"CelebA could not be downloaded from Google Drive ({_first_line(err)}): download "
                              f"img_align_celeba.zip and the list files by hand as {layout} under {path} "
                              "and set dataset.download=false") from err
        raise ConfigError(f"CelebA files not found under {path}: download them with dataset.download=true, "
                          f"or point dataset.root at a folder holding {layout}") from err
    return OnDisk(source, name=name, data_shape=(channels, resolution, resolution), num_classes=None)


def lsun_bedroom(*, name: str = "lsun_bedroom", root: Optional[str] = "data", resolution: int = 64,
                 channels: int = 3, num_classes: Optional[int] = None, download: bool = False,
                 train: bool = True) -> OnDisk:
    """LSUN bedrooms (y = -1) from `root`/bedroom_train_lmdb (or bedroom_val_lmdb when train=false).
    Note torchvision caches the lmdb keys in a `_cache_*` file in the working directory."""
    check_channels(channels)
    check_requirements("lsun_bedroom")
    split = "bedroom_train" if train else "bedroom_val"
    path = check_root(root)
    if not (path / f"{split}_lmdb").is_dir():
        raise ConfigError(f"LSUN cannot be downloaded by torchvision and {path / (split + '_lmdb')} does not exist: "
                          f"download {split}_lmdb from the LSUN site (github.com/fyu/lsun) and set dataset.root "
                          "to the folder holding it")
    try:
        source = datasets.LSUN(str(path), classes=[split], transform=transform(resolution, channels, 3))
    except ModuleNotFoundError as err:
        raise ConfigError("LSUN is stored as lmdb databases: install the reader with `pip install lmdb`") from err
    return OnDisk(source, name=name, data_shape=(channels, resolution, resolution), num_classes=None)
