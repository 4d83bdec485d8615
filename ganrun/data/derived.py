"""Translation tasks made at load time, deterministically, from real data (no files of their own).

- `grey2colour` (dataset=cifar10_grey2colour): paired, input the luma of a CIFAR-10 image (ITU-R 601-2:
  round(0.299 R + 0.587 G + 0.114 B), as PIL's convert("L")), target the image.
- `edges2digit` (dataset=mnist_edges2digit): paired, input the morphological-gradient edges of an MNIST
  digit (ganrun.data.domains.edges: 3x3 dilation minus 3x3 erosion, CoGAN's edge domain), target the digit.
- `cifar10_sr` (dataset=cifar10_sr): x`scale` super-resolution of CIFAR-10, the 32 px images as the
  high-resolution ones (SRGAN's game makes the low-resolution inputs by antialiased bicubic downsampling).

CIFAR-10 is read from `root/cifar-10-batches-py` (the official batches) or, when that is absent,
`root/cifar-10-subset-batches-py` (the shared data's first 4,000 train + 1,000 test images). The paired
tasks are `Domains` as the pix2pix layout gives them: uint8, `load_size` for training (cropped to
`resolution` per batch), `resolution` for the test split.
"""

from __future__ import annotations

from typing import Optional

import torch
import torchvision.transforms.v2.functional as TF

from ganrun.errors import ConfigError

from .domains import edges
from .images import _open, check_root
from .superres import SRImages
from .translation import Domains, _sizes


def cifar10_uint8(root: Optional[str], train: bool) -> torch.Tensor:
    """CIFAR-10's images (N, 3, 32, 32) uint8: the official batches, or the shared data's subset."""
    from torchvision import datasets

    class Subset(datasets.CIFAR10):  # the stock class md5-checks the full files
        base_folder = "cifar-10-subset-batches-py"
        train_list = [["train_first4000", "6da9b7922884df56e7ed13ec3e920232"]]
        test_list = [["test_first1000", "76ed10b894dff811943a0d5145c03689"]]

    path = check_root(root)
    cls = datasets.CIFAR10 if (path / "cifar-10-batches-py").is_dir() else Subset
    source = _open(cls, "CIFAR-10", "cifar-10-batches-py/ or cifar-10-subset-batches-py/", root, False, train=train)
    return torch.from_numpy(source.data).permute(0, 3, 1, 2).contiguous()


def mnist_uint8(root: Optional[str], train: bool) -> torch.Tensor:
    """MNIST's digits (N, 1, 28, 28) uint8."""
    from torchvision import datasets

    source = _open(datasets.MNIST, "MNIST", "MNIST/raw/train-images-idx3-ubyte and its three sibling files", root,
                   False, train=train)
    return source.data.unsqueeze(1).contiguous()


def _resize(images: torch.Tensor, side: int) -> torch.Tensor:
    return images if images.shape[-1] == side else TF.resize(images, [side, side], antialias=True)


def _paired(a: torch.Tensor, b: torch.Tensor, *, name: str, load_size: int, resolution: int, train: bool,
            max_items: Optional[int]) -> Domains:
    side = _sizes(load_size, resolution, train)
    a, b = _resize(a[:max_items], side), _resize(b[:max_items], side)
    return Domains(a, b, name=name, paired=True, crop_size=resolution, train=train, files_a=[], files_b=[])


def luma(rgb: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> uint8 (N, 1, H, W): round(0.299 R + 0.587 G + 0.114 B) (ITU-R 601-2)."""
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64).view(1, 3, 1, 1)
    return (rgb.double() * weights).sum(1, keepdim=True).round().to(torch.uint8)


def grey2colour(*, name: str = "cifar10_grey2colour", root: Optional[str] = None, load_size: int = 32,
                resolution: int = 32, max_items: Optional[int] = None, train: bool = True, **_: object) -> Domains:
    """CIFAR-10 grey (1 channel) -> colour (3 channels), paired."""
    colour = cifar10_uint8(root, train)
    return _paired(luma(colour), colour, name=name, load_size=load_size, resolution=resolution, train=train,
                   max_items=max_items)


def edge_map(digits: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 1, H, W) digits -> uint8 edge maps (morphological gradient), exactly (round half away)."""
    unit = edges(digits.float().div(127.5).sub(1))  # in [-1, 1]
    return unit.add(1).mul(127.5).round().to(torch.uint8)


def edges2digit(*, name: str = "mnist_edges2digit", root: Optional[str] = None, load_size: int = 32,
                resolution: int = 32, max_items: Optional[int] = None, train: bool = True, **_: object) -> Domains:
    """MNIST edges -> digit, paired; the edges are taken at `load_size` (after resizing the digit)."""
    digits = _resize(mnist_uint8(root, train)[:max_items], _sizes(load_size, resolution, train))
    return _paired(edge_map(digits), digits, name=name, load_size=load_size, resolution=resolution, train=train,
                   max_items=None)


def cifar10_sr(*, name: str = "cifar10_sr", root: Optional[str] = None, scale: int = 4, resolution: int = 32,
               max_items: Optional[int] = None, train: bool = True, **_: object) -> SRImages | dict[str, SRImages]:
    """CIFAR-10 x`scale`: training patches of `resolution` (32: whole images); test: {"cifar10_test": ...}."""
    if scale < 2 or resolution % scale or resolution > 32:
        raise ConfigError(f"dataset.resolution={resolution} must be a multiple of dataset.scale={scale} (>= 2) "
                          "and at most CIFAR-10's 32 px")
    images = list(cifar10_uint8(root, train)[:max_items])
    data = SRImages(images, name=name if train else "cifar10_test", scale=scale, crop_size=resolution)
    return data if train else {"cifar10_test": data}
