"""Image-to-image translation datasets: pix2pix's paired layouts and CycleGAN's unpaired one.

Layouts (those of junyanz/pytorch-CycleGAN-and-pix2pix, whose options are the defaults here):
- `aligned`: `root/<split>/*` images holding A and B side by side (A left, B right), or two folders of
  matched file names `root/A/<split>/x.png` and `root/B/<split>/x.png` (the input of the reference's
  `combine_A_and_B.py`). `direction=BtoA` swaps the two: the input is always `a`, the target `b`.
- `unaligned`: `root/trainA`, `root/trainB`, `root/testA`, `root/testB`, any number of images each.
Splits: `train=True` reads `train`, else `test` (or `val` when a paired root has no `test`).

Every image is decoded once, resized to `load_size` x `load_size` (bicubic, as the reference's
`Resize([load, load])`) and kept as uint8 (N, C, L, L); `RandomCropFlip` (augment.py) crops
`resolution` (the reference's crop_size) and flips per batch while training. The test split is resized
to `resolution` directly
(no crop, no flip), so metrics see whole images.

Channels: `channels_a` / `channels_b` = null infers each domain's from its files (1 when every image is
grey, else 3; grey images in a colour domain are repeated to RGB as the reference's convert("RGB"));
1 or 3 converts. Images of modes other than 1, L, LA, P, RGB, RGBA (16-bit, float, CMYK...) are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.datasets.folder import IMG_EXTENSIONS

from ganrun.errors import ConfigError

from .images import check_root

GREY_MODES = ("1", "L", "LA")
COLOUR_MODES = ("P", "RGB", "RGBA")
DIRECTIONS = ("AtoB", "BtoA")


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS and not p.name.startswith("."))


def image_mode(path: Path) -> str:
    """The PIL mode of one file (header only), refusing modes ganrun does not convert."""
    try:
        with Image.open(path) as image:
            mode = image.mode
    except Exception as err:  # PIL raises OSError, SyntaxError, ValueError... for bad files
        raise ConfigError(f"{path} is not a readable image ({type(err).__name__}): remove or replace it") from err
    if mode not in GREY_MODES + COLOUR_MODES:
        raise ConfigError(f"{path} has image mode {mode}, which ganrun does not read: convert it to 8-bit grey or "
                          "RGB (e.g. PIL's image.convert('RGB'))")
    return mode


def domain_channels(files: list[Path], channels: Optional[int], where: str) -> int:
    """1 or 3: the configured count, or the files' own (1 only when every image is grey)."""
    if channels is not None:
        if channels not in (1, 3):
            raise ConfigError(f"{where}: channels={channels} is not supported: use 1 (grey), 3 (colour) or null (infer)")
        return channels
    return 1 if all(image_mode(path) in GREY_MODES for path in files) else 3


def load(path: Path, size: int, channels: int, box: Optional[tuple[int, int, int, int]] = None) -> torch.Tensor:
    """One image (optionally the `box` part of it) as uint8 (channels, size, size), bicubic-resized."""
    with Image.open(path) as image:
        image_mode(path)
        image = image.convert("L" if channels == 1 else "RGB")
        if box is not None:
            image = image.crop(box)
        image = image.resize((size, size), Image.BICUBIC)
    data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    return data.view(size, size, channels).permute(2, 0, 1).contiguous()


class Domains(Dataset):
    """Two image domains as uint8 tensors `a` (N, Ca, L, L) and `b` (M, Cb, L, L), L = load_size.

    Paired (N == M, item i of `a` goes with item i of `b`): `tensors = (a, b)`, so `infinite_batches`
    draws matched pairs. Unpaired: `domain("a")` and `domain("b")` are separate datasets to stream."""

    def __init__(self, a: torch.Tensor, b: torch.Tensor, *, name: str, paired: bool, crop_size: int,
                 train: bool, files_a: list[Path], files_b: list[Path]) -> None:
        self.a, self.b, self.name, self.paired, self.crop_size, self.train = a, b, name, paired, crop_size, train
        self.files_a, self.files_b = files_a, files_b
        self.shape_a = (a.shape[1], crop_size, crop_size)
        self.shape_b = (b.shape[1], crop_size, crop_size)
        self.data_shape = self.shape_b  # what a translator makes
        self.num_classes = None
        if paired:
            self.tensors = (a, b)

    def __len__(self) -> int:
        return len(self.a)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.paired:
            raise TypeError("an unpaired dataset has no items of its own: stream domain('a') and domain('b')")
        return self.a[index], self.b[index]

    def domain(self, which: str) -> "Domain":
        images = {"a": self.a, "b": self.b}[which]
        return Domain(images, name=f"{self.name}_{which}")


class Domain(Dataset):
    """One domain's images as `(x, x)` items, `tensors = (x, x)` (the batch stream's in-memory form)."""

    def __init__(self, images: torch.Tensor, *, name: str) -> None:
        self.tensors = (images, images)
        self.name = name
        self.data_shape = tuple(images.shape[1:])
        self.num_classes = None

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.tensors[0][index], self.tensors[0][index]


def _sizes(load_size: int, crop_size: int, train: bool) -> int:
    if not 8 <= crop_size <= load_size:
        raise ConfigError(f"dataset.resolution={crop_size} and dataset.load_size={load_size}: "
                          "need 8 <= resolution (the crop) <= load_size")
    return load_size if train else crop_size


def _paired_files(root: Path, split: str) -> tuple[Optional[list[Path]], Optional[list[Path]]]:
    """(files, None) for the side-by-side layout, (files_a, files_b) for matched folders."""
    if (root / split).is_dir():
        return image_files(root / split), None
    folder_a, folder_b = root / "A" / split, root / "B" / split
    if not (folder_a.is_dir() and folder_b.is_dir()):
        raise ConfigError(f"dataset.root={root} has neither {split}/ (A|B images side by side) nor A/{split}/ and "
                          f"B/{split}/ (matched file names): point dataset.root at a pix2pix-layout folder")
    files_a, names_b = image_files(folder_a), {p.name for p in image_files(folder_b)}
    missing = [p.name for p in files_a if p.name not in names_b]
    if missing or len(names_b) != len(files_a):
        raise ConfigError(f"dataset.root={root}: A/{split}/ and B/{split}/ do not hold the same file names "
                          f"({len(files_a)} vs {len(names_b)} files; e.g. {(missing or ['?'])[0]} has no partner)")
    return files_a, [folder_b / p.name for p in files_a]


def _check_pair_sizes(files_a: list[Path], files_b: Optional[list[Path]]) -> None:
    for i, path in enumerate(files_a):
        with Image.open(path) as image:
            width, height = image.size
        if files_b is None and width % 2:
            raise ConfigError(f"{path} is {width}x{height}: an A|B pair needs an even width (A left, B right, "
                              "of equal sizes)")
        if files_b is not None:
            with Image.open(files_b[i]) as other:
                if other.size != (width, height):
                    raise ConfigError(f"{path} is {width}x{height} but {files_b[i]} is {other.size[0]}x"
                                      f"{other.size[1]}: paired A and B images must have the same size")


def aligned(*, name: str = "aligned", root: Optional[str] = None, direction: str = "AtoB", load_size: int = 286,
            resolution: int = 256, channels_a: Optional[int] = None, channels_b: Optional[int] = None,
            max_items: Optional[int] = None, train: bool = True, **_: object) -> Domains:
    """pix2pix's paired data; `a` is the input (A, or B when direction=BtoA), `b` the target."""
    if direction not in DIRECTIONS:
        raise ConfigError(f"dataset.direction={direction} is not one of {', '.join(DIRECTIONS)}")
    path = check_root(root)
    split = "train" if train else next((s for s in ("test", "val") if (path / s).is_dir() or (path / "A" / s).is_dir()),
                                       "test")
    files_a, files_b = _paired_files(path, split)
    files_a = files_a[:max_items]
    files_b = files_b[:max_items] if files_b is not None else None
    if not files_a:
        raise ConfigError(f"dataset.root={path}: no images in its {split} split")
    _check_pair_sizes(files_a, files_b)
    crop_size = resolution
    size = _sizes(load_size, crop_size, train)
    channels = [domain_channels(files_a, channels_a, f"dataset.channels_a ({path})"),
                domain_channels(files_b or files_a, channels_b, f"dataset.channels_b ({path})")]
    images: list[list[torch.Tensor]] = [[], []]
    for i, file in enumerate(files_a):
        if files_b is None:
            with Image.open(file) as image:
                width, height = image.size
            boxes = [(0, 0, width // 2, height), (width // 2, 0, width, height)]
            parts = [load(file, size, c, box) for c, box in zip(channels, boxes)]
        else:
            parts = [load(file, size, channels[0]), load(files_b[i], size, channels[1])]
        images[0].append(parts[0])
        images[1].append(parts[1])
    a, b = torch.stack(images[0]), torch.stack(images[1])
    names = (files_a, files_b or files_a)
    if direction == "BtoA":
        a, b, names = b, a, names[::-1]
    return Domains(a, b, name=name, paired=True, crop_size=crop_size, train=train, files_a=names[0],
                   files_b=names[1])


def unaligned(*, name: str = "unaligned", root: Optional[str] = None, direction: str = "AtoB", load_size: int = 286,
              resolution: int = 256, channels_a: Optional[int] = None, channels_b: Optional[int] = None,
              max_items: Optional[int] = None, train: bool = True, **_: object) -> Domains:
    """CycleGAN's unpaired data: `a` from trainA (or testA), `b` from trainB (or testB); swapped by BtoA."""
    if direction not in DIRECTIONS:
        raise ConfigError(f"dataset.direction={direction} is not one of {', '.join(DIRECTIONS)}")
    path = check_root(root)
    split = "train" if train else "test"
    folders = [path / f"{split}A", path / f"{split}B"]
    for folder in folders:
        if not folder.is_dir():
            raise ConfigError(f"dataset.root={path} has no {folder.name}/: an unpaired root holds trainA/, trainB/, "
                              "testA/ and testB/")
    files = [image_files(folder)[:max_items] for folder in folders]
    for folder, found in zip(folders, files):
        if not found:
            raise ConfigError(f"{folder} holds no images (extensions: {' '.join(IMG_EXTENSIONS)})")
    crop_size = resolution
    size = _sizes(load_size, crop_size, train)
    channels = [domain_channels(files[0], channels_a, f"dataset.channels_a ({folders[0]})"),
                domain_channels(files[1], channels_b, f"dataset.channels_b ({folders[1]})")]
    a, b = (torch.stack([load(f, size, c) for f in found]) for found, c in zip(files, channels))
    if direction == "BtoA":
        a, b, files = b, a, files[::-1]
    return Domains(a, b, name=name, paired=False, crop_size=crop_size, train=train, files_a=files[0],
                   files_b=files[1])


def check_same_channels(data: Domains, why: str) -> None:
    """A grey/RGB mismatch between the two domains, refused where `why` needs them equal."""
    if data.shape_a[0] != data.shape_b[0]:
        kinds = {1: "grey", 3: "colour"}
        raise ConfigError(f"dataset={data.name}: domain A is {kinds[data.shape_a[0]]} and domain B "
                          f"{kinds[data.shape_b[0]]}, but {why} needs both alike: set dataset.channels_a and "
                          "dataset.channels_b to the same value")


def check_splits_match(train: Domains, test: Domains) -> None:
    """The test split's channels must be the training split's (a grey testA beside a colour trainA)."""
    if (train.shape_a[0], train.shape_b[0]) != (test.shape_a[0], test.shape_b[0]):
        raise ConfigError(f"dataset={train.name}: the train split has {train.shape_a[0]}/{train.shape_b[0]} channels "
                          f"(A/B) and the test split {test.shape_a[0]}/{test.shape_b[0]}: set dataset.channels_a "
                          "and dataset.channels_b")
