"""Moving MNIST (Srivastava, Mansimov & Salakhutdinov 2015), built at load time from the real MNIST.

The standard construction (the authors' `moving_mnist.py`): each of `num_digits` 28x28 digits starts
at a uniform position in the unit square of top-left corners, moves in a uniform random direction by
`step_length` (0.1 of the free canvas, 64 - 28 = 36 px, per frame) and bounces: a coordinate that
leaves [0, 1] is clamped to the wall and its velocity component flips sign. The position is taken
after each move, corners are scaled to the free canvas and floored; digits are drawn with a pixel-wise
maximum. At resolution R the canvas is R x R and the digits are resized to round(28 * R / 64), so a
32x32 clip is the 64x64 construction at half size. Everything is drawn from `numpy.random.default_rng(seed)`:
one seed gives the same clips on any machine.

Items are clips x float32 (1, T, R, R) in [-1, 1] with y = -1 (no label); `digits` holds each clip's
MNIST labels (N, num_digits). Clips that fit in `IN_MEMORY_BYTES` are rendered once into `tensors`
(batched on the device); larger sets render each clip when it is read.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch
import torchvision.transforms.v2.functional as F
from torch.utils.data import Dataset
from torchvision import datasets

from ganrun.errors import ConfigError

from .base import InMemory
from .images import _open

IN_MEMORY_BYTES = 2**28  # 256 MiB of float32 clips


def bounce(position: np.ndarray, velocity: np.ndarray, steps: int, step_length: float) -> np.ndarray:
    """Positions (steps, ...) in [0, 1] after each of `steps` moves; `position`, `velocity` (...,) are
    copied. Srivastava et al.'s rule: move, then clamp to a wall it crossed and flip that component."""
    position, velocity = position.astype(np.float64).copy(), velocity.astype(np.float64).copy()
    out = np.empty((steps,) + position.shape)
    for t in range(steps):
        position += velocity * step_length
        low, high = position <= 0, position >= 1
        position[low], position[high] = 0.0, 1.0
        velocity[low | high] *= -1
        out[t] = position
    return out


def trajectories(rng: np.random.Generator, count: int, frames: int, num_digits: int,
                 step_length: float = 0.1) -> np.ndarray:
    """Top-left corners in [0, 1]: (count, num_digits, frames, 2) as (row, column)."""
    start = rng.random((count, num_digits, 2))
    theta = rng.random((count, num_digits)) * 2 * math.pi
    velocity = np.stack([np.sin(theta), np.cos(theta)], axis=-1)
    return np.moveaxis(bounce(start, velocity, frames, step_length), 0, 2)


def render(images: torch.Tensor, corners: np.ndarray, resolution: int) -> torch.Tensor:
    """uint8 digits (D, d, d) at corners (D, T, 2) in [0, 1] -> uint8 frames (T, R, R), max-composited."""
    size = images.shape[-1]
    pixels = np.floor(corners * (resolution - size)).astype(np.int64)  # (D, T, 2)
    frames = torch.zeros(corners.shape[1], resolution, resolution, dtype=torch.uint8)
    for digit, path in zip(images, pixels):
        for t, (row, col) in enumerate(path):
            window = frames[t, row:row + size, col:col + size]
            torch.maximum(window, digit, out=window)
    return frames


class MovingMNIST(Dataset):
    """Clips (1, T, R, R) of `num_digits` bouncing MNIST digits; see the module docstring."""

    def __init__(self, digits: torch.Tensor, labels: torch.Tensor, *, size: int, frames: int, resolution: int,
                 num_digits: int, seed: int, step_length: float = 0.1, name: str = "moving_mnist") -> None:
        if num_digits not in (1, 2) or frames < 2 or resolution < 16 or size < 1:
            raise ValueError(f"moving_mnist needs num_digits in (1, 2), frames >= 2, resolution >= 16 and "
                             f"size >= 1, got {num_digits}, {frames}, {resolution}, {size}")
        rng = np.random.default_rng(seed)
        side = round(28 * resolution / 64)
        self.images = F.resize(digits[:, None], [side], antialias=True)[:, 0]  # (M, d, d) uint8
        self.choice = torch.from_numpy(rng.integers(0, len(digits), (size, num_digits)))
        self.corners = trajectories(rng, size, frames, num_digits, step_length)  # (N, D, T, 2)
        self.digits = labels[self.choice]  # (N, D)
        self.source = (digits, labels)
        self.name, self.resolution = name, resolution
        self.data_shape = (1, frames, resolution, resolution)
        self.num_classes: Optional[int] = None
        if size * math.prod(self.data_shape) * 4 <= IN_MEMORY_BYTES:
            x = torch.stack([self.clip(i) for i in range(size)])
            self.tensors = (x, torch.full((size,), -1, dtype=torch.int64))

    def clip(self, index: int) -> torch.Tensor:
        frames = render(self.images[self.choice[index]], self.corners[index], self.resolution)
        return frames.float().div_(127.5).sub_(1)[None]  # (1, T, R, R) in [-1, 1]

    def __len__(self) -> int:
        return len(self.choice)

    def labelled_frames(self, size: int = 2000, seed: int = 12345) -> InMemory:
        """Frames of one-digit clips of this size and length, labelled by their digit: what a frame
        classifier for the video metrics trains on (two-digit frames have no single label)."""
        single = MovingMNIST(*self.source, size=size, frames=self.data_shape[1], resolution=self.resolution,
                             num_digits=1, seed=seed)
        clips = torch.stack([single[i][0] for i in range(size)])  # (size, 1, T, R, R)
        frames = clips.transpose(1, 2).flatten(0, 1).contiguous()
        return InMemory(frames, single.digits[:, 0].repeat_interleave(clips.shape[2]), name=f"{self.name}_frames",
                        num_classes=10)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if hasattr(self, "tensors"):
            return self.tensors[0][index], self.tensors[1][index]
        return self.clip(index), torch.tensor(-1, dtype=torch.int64)


def moving_mnist(*, name: str = "moving_mnist", root: Optional[str] = "data", resolution: int = 64,
                 frames: int = 16, num_digits: int = 2, size: int = 10000, seed: int = 0, channels: int = 1,
                 num_classes: Optional[int] = None, download: bool = False, train: bool = True) -> MovingMNIST:
    """Moving MNIST from MNIST's train digits (train=True) or test digits; `seed` fixes the clips
    (the evaluation split uses seed + 1 so its trajectories differ too)."""
    if channels != 1:
        raise ConfigError(f"dataset.channels={channels}: moving_mnist is grey, set dataset.channels=1")
    source = _open(datasets.MNIST, "MNIST", "MNIST/raw/train-images-idx3-ubyte and its three sibling files",
                   root, download, train=train)
    return MovingMNIST(source.data, source.targets, size=size, frames=frames, resolution=resolution,
                       num_digits=num_digits, seed=seed if train else seed + 1, name=name)
