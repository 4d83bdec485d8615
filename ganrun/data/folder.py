"""`image_folder`: any folder of images, with or without class subfolders.

Layout: when `root` holds only subfolders, each subfolder (and everything under it) is a class,
numbered in sorted order as torchvision's ImageFolder does; when `root` holds images itself (or no
subfolders), every image under it is one unlabelled set (y = -1, num_classes None). Folders and
files whose names start with "." are ignored; so are files without an image extension.

Unreadable images are skipped with a count: at construction every file is opened and checked with
PIL's `Image.verify` (reads headers and, for PNG, every chunk's checksum: about 0.2 ms per small
file), and the number skipped is logged as a warning. `verify` cannot see a truncated JPEG without
decoding it, so a file that still fails to decode while training is logged and replaced by the next
image in the list.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Optional

import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.datasets.folder import IMG_EXTENSIONS

from ganrun.errors import ConfigError

from .images import check_channels, check_root, transform

logger = logging.getLogger(__name__)


class ImageFiles(Dataset):
    """Image files loaded with PIL as RGB and passed through `transform`; y from `labels`."""

    def __init__(self, files: list[Path], labels: list[int], transform: Callable, *, name: str,
                 data_shape: tuple[int, ...], classes: Optional[list[str]]) -> None:
        self.files, self.labels, self.transform = files, labels, transform
        self.name = name
        self.data_shape = data_shape
        self.classes = classes
        self.num_classes = len(classes) if classes else None

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        for offset in range(len(self.files)):
            i = (index + offset) % len(self.files)
            try:
                with Image.open(self.files[i]) as image:
                    x = self.transform(image.convert("RGB"))
                return x, torch.tensor(self.labels[i], dtype=torch.int64)
            except OSError as err:  # e.g. a truncated JPEG, which passed Image.verify
                logger.warning("%s cannot be decoded (%s): using the next image instead", self.files[i], err)
        raise OSError(f"none of the {len(self.files)} images of dataset={self.name} can be decoded")


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMG_EXTENSIONS and not path.name.startswith(".")


def _readable(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.verify()
        return True
    except Exception:  # PIL raises OSError, SyntaxError, ValueError, struct.error... for bad files
        return False


def _images_under(folder: Path) -> tuple[list[Path], int]:
    """Readable images anywhere under `folder` in sorted walk order, and how many were unreadable."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath, f) for f in sorted(filenames) if _is_image(Path(f))]
    readable = [path for path in found if _readable(path)]
    return readable, len(found) - len(readable)


def image_folder(*, name: str = "image_folder", root: Optional[str] = None, resolution: int = 64,
                 channels: int = 3, num_classes: Optional[int] = None, download: bool = False,
                 train: bool = True) -> ImageFiles:
    """A folder of images as (channels, resolution, resolution) in [-1, 1]; `download` and `train`
    are accepted for the shared image schema and ignored (there is nothing to download or split)."""
    check_channels(channels)
    path = check_root(root)
    if not path.is_dir():
        raise ConfigError(f"dataset.root={path} is not a folder: point dataset.root at a folder of images")
    entries = sorted(path.iterdir())
    subfolders = [p for p in entries if p.is_dir() and not p.name.startswith(".")]
    if any(p.is_file() and _is_image(p) for p in entries) or not subfolders:
        files, skipped = _images_under(path)
        labels, classes = [-1] * len(files), None
    else:
        files, labels, classes, skipped = [], [], [], 0
        for folder in subfolders:
            found, bad = _images_under(folder)
            skipped += bad
            if found:  # a class needs at least one image
                labels += [len(classes)] * len(found)
                files += found
                classes.append(folder.name)
    if skipped:
        logger.warning("dataset=%s: skipped %d unreadable image file(s) under %s", name, skipped, path)
    if not files:
        raise ConfigError(f"dataset.root={path} holds no readable images ({skipped} unreadable; extensions: "
                          f"{' '.join(IMG_EXTENSIONS)}): point dataset.root at a folder of images")
    return ImageFiles(files, labels, transform(resolution, channels, 3), name=name,
                      data_shape=(channels, resolution, resolution), classes=classes)
