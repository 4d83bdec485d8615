"""Real clips: a folder of videos, of frame folders or of frame strips, and the Weizmann actions.

Every video is decoded once, resized to R x R (shorter side, then centre crop, antialiased) and kept
as uint8 (T_i, C, R, R). An item is a window of `frames` frames taken every `every_nth` frame (MoCoGAN
reads the actions every 2nd frame); items enumerate every window start of every video, so a seed's
shuffle fixes the batches. x is float32 (C, frames, R, R) in [-1, 1], y the clip's class (its
subfolder) or -1.

`layout` says what a clip is under `root` (clips directly under it, or under class subfolders):
- a strip: one image whose width is a multiple of its height, frame k = img[:, H*k : H*(k+1)]
  (MoCoGAN's preprocessed data);
- a frame folder: a folder of images, one clip, frames in sorted name order;
- a video file (.mp4 .avi .mov .mkv .webm), decoded with torchcodec or PyAV, whichever is installed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torchvision.transforms.v2.functional as F
from PIL import Image
from torch.utils.data import Dataset
from torchvision.datasets.folder import IMG_EXTENSIONS

from ganrun.errors import ConfigError

from .base import InMemory
from .images import check_channels, check_root

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def split_strip(image: np.ndarray) -> torch.Tensor:
    """(H, k*H, C) uint8 -> (k, C, H, H)."""
    height, width = image.shape[:2]
    if width % height:
        raise ValueError(f"a frame strip must be k frames of {height}x{height}, got width {width}")
    frames = torch.from_numpy(image).permute(2, 0, 1)  # (C, H, kH)
    return frames.unflatten(2, (width // height, height)).permute(2, 0, 1, 3)


def _image(path: Path, channels: int) -> np.ndarray:
    with Image.open(path) as image:
        return np.array(image.convert("RGB" if channels == 3 else "L")).reshape(image.height, image.width, -1)


def decode_video(path: Path) -> torch.Tensor:
    """A video file as uint8 (T, 3, H, W), by torchcodec or PyAV; a ConfigError when neither is installed."""
    try:
        from torchcodec.decoders import VideoDecoder
        return VideoDecoder(str(path))[:]
    except ImportError:
        pass
    try:
        import av
    except ImportError as err:
        raise ConfigError(f"{path} is a video file and no video decoder is installed: `pip install torchcodec` "
                          "(or `pip install av`), or convert the clips to frame folders") from err
    with av.open(str(path)) as container:
        frames = [torch.from_numpy(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    return torch.stack(frames).permute(0, 3, 1, 2)


def read_clip(path: Path, channels: int) -> torch.Tensor:
    """One clip at `path` (strip, frame folder or video file) as uint8 (T, channels, H, W)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMG_EXTENSIONS)
        return torch.stack([torch.from_numpy(_image(p, channels)).permute(2, 0, 1) for p in files])
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        video = decode_video(path)
        return F.rgb_to_grayscale(video) if channels == 1 else video
    return split_strip(_image(path, channels))


LAYOUTS = ("strips", "frame_folders", "videos")


def _is_clip(path: Path, layout: str) -> bool:
    if path.name.startswith("."):
        return False
    if layout == "frame_folders":
        return path.is_dir() and any(p.suffix.lower() in IMG_EXTENSIONS for p in path.iterdir())
    extensions = IMG_EXTENSIONS if layout == "strips" else VIDEO_EXTENSIONS
    return path.is_file() and path.suffix.lower() in extensions


def find_clips(root: Path, layout: str) -> tuple[list[Path], list[int], Optional[list[str]]]:
    """Clips directly under `root` (unlabelled), else under class subfolders (labels in sorted order)."""
    if layout not in LAYOUTS:
        raise ConfigError(f"dataset.layout={layout} is not one of {', '.join(LAYOUTS)}")
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    clips = [p for p in entries if _is_clip(p, layout)]
    if clips:
        return clips, [-1] * len(clips), None
    labels, classes = [], []
    for folder in (p for p in entries if p.is_dir()):
        found = [p for p in sorted(folder.iterdir()) if _is_clip(p, layout)]
        if found:
            clips += found
            labels += [len(classes)] * len(found)
            classes.append(folder.name)
    return clips, labels, classes


class Clips(Dataset):
    """Windows of `frames` frames (every `every_nth`) over decoded videos; see the module docstring."""

    def __init__(self, videos: list[torch.Tensor], labels: list[int], *, frames: int, every_nth: int,
                 name: str, classes: Optional[list[str]]) -> None:
        span = (frames - 1) * every_nth + 1
        kept = [(v, y) for v, y in zip(videos, labels) if len(v) >= span]
        if not kept:
            raise ConfigError(f"dataset={name}: no clip has the {span} frames that dataset.frames={frames} "
                              f"every {every_nth} need: lower dataset.frames or dataset.every_nth")
        self.videos, self.labels = [v for v, _ in kept], torch.tensor([y for _, y in kept], dtype=torch.int64)
        self.windows = [(i, s) for i, v in enumerate(self.videos) for s in range(len(v) - span + 1)]
        self.frames, self.every_nth, self.name, self.classes = frames, every_nth, name, classes
        self.num_classes = len(classes) if classes else None
        channels, size = self.videos[0].shape[1], self.videos[0].shape[-1]
        self.data_shape = (channels, frames, size, size)

    def __len__(self) -> int:
        return len(self.windows)

    def labelled_frames(self) -> InMemory:
        """Every frame of every video with its clip's class: what a frame classifier trains on."""
        if not self.num_classes:
            raise ConfigError(f"dataset={self.name} has no classes (class subfolders): its video metrics need a "
                              "frame classifier trained on labelled frames")
        frames = torch.cat(self.videos).float().div_(127.5).sub_(1)
        labels = torch.cat([y.repeat(len(v)) for v, y in zip(self.videos, self.labels)])
        return InMemory(frames, labels, name=f"{self.name}_frames", num_classes=self.num_classes)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        video, start = self.windows[index]
        stop = start + (self.frames - 1) * self.every_nth + 1
        clip = self.videos[video][start:stop:self.every_nth]  # (T, C, R, R) uint8
        return clip.permute(1, 0, 2, 3).float().div_(127.5).sub_(1), self.labels[video]


def _resized(video: torch.Tensor, resolution: int) -> torch.Tensor:
    return F.center_crop(F.resize(video, [resolution], antialias=True), [resolution])


def load_clips(paths: list[Path], labels: list[int], classes: Optional[list[str]], *, name: str, resolution: int,
               channels: int, frames: int, every_nth: int) -> Clips:
    videos = [_resized(read_clip(p, channels), resolution) for p in paths]
    return Clips(videos, labels, frames=frames, every_nth=every_nth, name=name, classes=classes)


def video_folder(*, name: str = "video_folder", root: Optional[str] = None, layout: str = "frame_folders",
                 resolution: int = 64, frames: int = 16, every_nth: int = 1, channels: int = 3, num_classes: Optional[int] = None, download: bool = False,
                 train: bool = True) -> Clips:
    """Any folder of clips (see the module docstring); `download` and `train` are accepted and ignored."""
    check_channels(channels)
    path = check_root(root)
    if not path.is_dir():
        raise ConfigError(f"dataset.root={path} is not a folder: point dataset.root at a folder of clips")
    clips, labels, classes = find_clips(path, layout)
    if not clips:
        raise ConfigError(f"dataset.root={path} holds no clips of dataset.layout={layout} (strips: "
                          f"images; frame_folders: folders of images; videos: {' '.join(VIDEO_EXTENSIONS)})")
    return load_clips(clips, labels, classes, name=name, resolution=resolution, channels=channels,
                      frames=frames, every_nth=every_nth)


def mirror_pair(path: Path) -> int:
    """The Weizmann strips 2n and 2n+1 are a clip and its mirror image: both get pair n."""
    number = re.search(r"\d+", path.stem)
    if number is None:
        raise ConfigError(f"{path}: Weizmann strips are named by their number (00000002.png)")
    return int(number.group()) // 2


def weizmann_actions(*, name: str = "weizmann_actions", root: Optional[str] = "data/weizmann_actions",
                     resolution: int = 64, frames: int = 16, every_nth: int = 2, channels: int = 3,
                     test_pairs: int = 2, num_classes: Optional[int] = 4, download: bool = False,
                     train: bool = True) -> Clips:
    """The Weizmann actions as MoCoGAN preprocessed them (class subfolders of strips). The last
    `test_pairs` mirror pairs (actors) of each action are the test split (train=false), the rest train:
    a clip and its mirror are always on the same side."""
    check_channels(channels)
    path = check_root(root)
    if not path.is_dir():
        raise ConfigError(f"dataset.root={path} does not exist: point dataset.root at weizmann_actions/ "
                          "(the {0_wave1_onehand,1_wave2_twohands,3_jack,4_bend}/*.png strips)")
    clips, labels, classes = find_clips(path, "strips")
    if classes is None:
        raise ConfigError(f"dataset.root={path} has no action subfolders: point it at weizmann_actions/")
    chosen = []
    for label in range(len(classes)):
        pairs = sorted({mirror_pair(p) for p, y in zip(clips, labels) if y == label})
        held_out = set(pairs[len(pairs) - test_pairs:]) if test_pairs else set()
        chosen += [(p, y) for p, y in zip(clips, labels) if y == label and (mirror_pair(p) in held_out) != train]
    return load_clips([p for p, _ in chosen], [y for _, y in chosen], classes, name=name, resolution=resolution,
                      channels=channels, frames=frames, every_nth=every_nth)
