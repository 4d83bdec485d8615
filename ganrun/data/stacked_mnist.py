"""Stacked MNIST: three MNIST digits as the R, G and B channels, 1,000 modes.

The mode-collapse benchmark of Unrolled GAN (Metz et al. 2017), VEEGAN and PacGAN. Each item
stacks three digits drawn independently (from a `torch.Generator` seeded with `seed`) from one
MNIST split, preprocessed exactly as `ganrun.data.mnist` (so the MNIST classifier sees the images
it was trained on); its label is 100 * d_R + 10 * d_G + d_B. The digits are held once, in memory;
items are stacked on access.
"""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ganrun.data.images import mnist


class StackedMNIST(Dataset):
    num_classes = 1000

    def __init__(self, digits: Dataset, num_samples: int, seed: int, name: str = "stacked_mnist") -> None:
        self.channel_source = digits  # the MNIST split whose classifier labels each channel (metrics)
        self.x, self.y = digits.tensors  # (M, 1, R, R) float32, (M,) int64
        self.index = torch.randint(len(self.y), (num_samples, 3), generator=torch.Generator().manual_seed(seed))
        self.name = name
        self.data_shape = (3, *self.x.shape[2:])

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, item: int) -> tuple[Tensor, Tensor]:
        r, g, b = self.index[item]
        x = torch.cat([self.x[r], self.x[g], self.x[b]])  # (3, R, R)
        return x, 100 * self.y[r] + 10 * self.y[g] + self.y[b]


def stacked_mnist(root: Optional[str] = "data", resolution: int = 32, num_samples: int = 100_000, seed: int = 0,
                  download: bool = False, train: bool = True, name: str = "stacked_mnist",
                  **metadata: Any) -> StackedMNIST:
    """`num_samples` stacked items from MNIST's train (or test) split; `metadata` (channels,
    num_classes: the config's) is accepted and ignored: the dataset is always 3 channels, 1000 classes."""
    digits = mnist(root=root, resolution=resolution, channels=1, download=download, train=train)
    if not hasattr(digits, "tensors"):
        raise ValueError(f"stacked_mnist at {resolution}px does not fit in memory: use a resolution of at most 64")
    return StackedMNIST(digits, num_samples, seed, name)
