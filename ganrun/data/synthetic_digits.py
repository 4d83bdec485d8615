"""SimGAN's "synthetic" images for MNIST: digits rendered from a font with Pillow, deterministically.

Each item is one digit 0-9 (its label) drawn white on black in Pillow's bundled default font (FreeType,
so every install renders the same), at a random size, stroke width, rotation and offset drawn from
`seed`, then resized to `resolution` (28: MNIST's). Clean and font-like, unlike handwriting: the gap
SimGAN's refiner is meant to close (Shrivastava et al. 2017 refine rendered eyes towards real ones).
Returns an `InMemory` dataset (x in [-1, 1], y the digit), the layout of ganrun's MNIST.
"""

from __future__ import annotations

import random

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from .base import InMemory


def render(digit: int, rng: random.Random, canvas: int = 56) -> np.ndarray:
    font = ImageFont.load_default(size=rng.randint(30, 44))
    image = Image.new("L", (canvas, canvas), 0)
    draw = ImageDraw.Draw(image)
    text = str(digit)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=0)
    x = (canvas - (right - left)) / 2 - left + rng.uniform(-3, 3)
    y = (canvas - (bottom - top)) / 2 - top + rng.uniform(-3, 3)
    stroke = rng.randint(0, 3)
    draw.text((x, y), text, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    return np.asarray(image.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR))


def synthetic_digits(*, name: str = "synthetic_digits", count: int = 10_000, resolution: int = 28, seed: int = 0,
                     train: bool = True, channels: int = 1, num_classes: int = 10, **_: object) -> InMemory:
    """`count` rendered digits (the test split: count // 10 more, from another seed)."""
    rng = random.Random(seed if train else seed + 1_000_003)
    n = count if train else max(count // 10, 1)
    labels = [i % 10 for i in range(n)]
    images = np.stack([render(d, rng) for d in labels])  # (n, 56, 56) uint8
    x = torch.from_numpy(images).float().unsqueeze(1).div_(127.5).sub_(1)
    x = torch.nn.functional.interpolate(x, size=resolution, mode="bilinear", antialias=True).clamp_(-1, 1)
    return InMemory(x.contiguous(), torch.tensor(labels, dtype=torch.int64), name=name, num_classes=10)
