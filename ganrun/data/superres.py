"""Super-resolution data: high-resolution images, low-resolution inputs made by bicubic downsampling.

`sr_folder` reads every image of `root` (training) or of each folder in `test_roots` (evaluation: Set5,
Set14 ...) as uint8 RGB (grey images repeated, as Set14's one grey image), cropped at the bottom/right
to a multiple of `scale` (the usual "modcrop"). `RandomPatches` streams training batches: for each
item a random image, a random `resolution` x `resolution` high-resolution patch (SRGAN: 96 px), and its
low-resolution input `downsample(patch, scale)`, bicubic with antialiasing (as MATLAB's imresize,
which made the benchmarks' inputs); its own generator's state is checkpointed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from ganrun.errors import ConfigError
from ganrun.data.augment import to_float
from ganrun.data.translation import image_files, image_mode

from .images import check_root


def downsample(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """float (N, C, H, W) in [-1, 1] -> (N, C, H / scale, W / scale), antialiased bicubic, clamped."""
    return F.interpolate(hr, scale_factor=1 / scale, mode="bicubic", antialias=True).clamp_(-1, 1)


def upsample_bicubic(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """The bicubic baseline: LR -> HR size by bicubic interpolation, clamped to [-1, 1]."""
    return F.interpolate(lr, scale_factor=scale, mode="bicubic").clamp_(-1, 1)


def _read(path: Path, scale: int) -> torch.Tensor:
    from PIL import Image

    image_mode(path)  # refuses odd modes with one line
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        rgb = rgb.crop((0, 0, width - width % scale, height - height % scale))
        data = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8)
        return data.view(rgb.size[1], rgb.size[0], 3).permute(2, 0, 1).contiguous()


def _folder(root: str, scale: int, least: int) -> list[torch.Tensor]:
    path = check_root(root)
    if not path.is_dir():
        raise ConfigError(f"{path} is not a folder of high-resolution images")
    images = [_read(f, scale) for f in image_files(path)]
    if not images:
        raise ConfigError(f"{path} holds no images")
    small = [f.name for f, x in zip(image_files(path), images) if min(x.shape[1:]) < least]
    if small:
        raise ConfigError(f"{path / small[0]} is smaller than {least} px: lower dataset.resolution")
    return images


class SRImages:
    """High-resolution uint8 images (a list: sizes differ) of one folder, with `scale` and `crop_size`."""

    def __init__(self, images: list[torch.Tensor], *, name: str, scale: int, crop_size: int) -> None:
        self.images, self.name, self.scale, self.crop_size = images, name, scale, crop_size
        self.data_shape = (3, crop_size, crop_size)
        self.num_classes = None

    def __len__(self) -> int:
        return len(self.images)


def sr_folder(*, name: str = "sr_folder", root: Optional[str] = None, scale: int = 4, resolution: int = 96,
              test_roots: Sequence[str] = (), train: bool = True, **_: object) -> SRImages | dict[str, SRImages]:
    """Training: the images of `root` (patches of `resolution`); test (train=False): {folder name: SRImages}
    for each of `test_roots`."""
    if scale < 2 or resolution % scale:
        raise ConfigError(f"dataset.resolution={resolution} must be a multiple of dataset.scale={scale} (>= 2)")
    if train:
        return SRImages(_folder(root, scale, resolution), name=name, scale=scale, crop_size=resolution)
    return {Path(r).name: SRImages(_folder(r, scale, scale), name=Path(r).name, scale=scale, crop_size=resolution)
            for r in test_roots}


class RandomPatches:
    """Endless (lr, hr) float batches in [-1, 1]: random images, random aligned patches."""

    def __init__(self, data: SRImages, batch_size: int, *, seed: int, device: torch.device) -> None:
        self.data, self.batch_size, self.device = data, batch_size, device
        self.generator = torch.Generator().manual_seed(seed)

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        s, g = self.data.crop_size, self.generator
        patches = []
        for index in torch.randint(len(self.data.images), (self.batch_size,), generator=g).tolist():
            image = self.data.images[index]
            top = int(torch.randint(image.shape[1] - s + 1, (), generator=g))
            left = int(torch.randint(image.shape[2] - s + 1, (), generator=g))
            patches.append(image[:, top:top + s, left:left + s])
        hr = to_float(torch.stack(patches).to(self.device))
        return downsample(hr, self.data.scale), hr

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["generator"])
