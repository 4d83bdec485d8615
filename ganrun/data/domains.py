"""CoGAN's digit domain pairs (Liu & Tuzel 2016, Sec. 5): MNIST <-> negative MNIST, MNIST <-> edge MNIST.

Built deterministically from MNIST, unpaired as in the paper: the split is halved by index parity
(even items stay MNIST: domain A; odd items are transformed: domain B), so no image appears in both
domains and nothing tells the model which images correspond. The transforms act on images in [-1, 1]:
`negative` is 1 - x in [0, 1], i.e. -x; `edges` is the morphological gradient (3x3 dilation minus
3x3 erosion) of the [0, 1] image, a deterministic stand-in for the paper's Canny edge detector.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

from .base import InMemory
from .images import mnist

Transform = Callable[[torch.Tensor], torch.Tensor]


def negative(x: torch.Tensor) -> torch.Tensor:
    """Negative images: x -> -x in [-1, 1] (1 - x in [0, 1])."""
    return -x


def edges(x: torch.Tensor) -> torch.Tensor:
    """Morphological gradient of (N, C, H, W) images in [-1, 1]: max3x3 - min3x3 of x in [0, 1], to [-1, 1]."""
    unit = (x + 1) / 2
    dilated = F.max_pool2d(unit, 3, stride=1, padding=1)
    eroded = -F.max_pool2d(-unit, 3, stride=1, padding=1)
    return (dilated - eroded) * 2 - 1


class Coupled:
    """Two unpaired labelled domains: `domains = (A, B)`, each an InMemory of (x, y); labels are for metrics."""

    def __init__(self, a: InMemory, b: InMemory, *, name: str):
        self.domains = (a, b)
        self.name = name
        self.data_shape = a.data_shape
        self.num_classes = a.num_classes

    def __len__(self) -> int:
        return min(len(d) for d in self.domains)


def coupled(source: InMemory, transform: Transform, *, name: str) -> Coupled:
    """Even items of `source` as domain A, odd items through `transform` as domain B."""
    x, y = source.tensors
    a = InMemory(x[0::2].contiguous(), y[0::2].contiguous(), name=f"{name}_A", num_classes=source.num_classes)
    b = InMemory(transform(x[1::2]).contiguous(), y[1::2].contiguous(), name=f"{name}_B",
                 num_classes=source.num_classes)
    return Coupled(a, b, name=name)


def coupled_mnist(*, transform: Transform, name: str, root: Optional[str] = "data",
                  resolution: int = 32, channels: int = 1, num_classes: Optional[int] = 10, download: bool = False,
                  train: bool = True, fraction: float = 1.0) -> Coupled:
    """MNIST and `transform`(MNIST) as CoGAN's two domains (dataset=mnist_negative, dataset=mnist_edge)."""
    source = mnist(root=root, resolution=resolution, channels=channels, download=download, train=train,
                   fraction=fraction)
    if not hasattr(source, "tensors"):
        raise ValueError(f"{name} needs MNIST in memory: use dataset.resolution <= 64")
    return coupled(source, transform, name=name)


def mnist_negative(*, name: str = "mnist_negative", **options) -> Coupled:
    """dataset=mnist_negative: MNIST <-> negative MNIST."""
    return coupled_mnist(transform=negative, name=name, **options)


def mnist_edge(*, name: str = "mnist_edge", **options) -> Coupled:
    """dataset=mnist_edge: MNIST <-> edge MNIST."""
    return coupled_mnist(transform=edges, name=name, **options)
