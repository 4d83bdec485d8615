"""Schemas of the video datasets (ganrun/data/moving_mnist.py, video.py), registered with the others
by schemas.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class MovingMnistDatasetConfig:
    """Moving MNIST built from MNIST at load time (ganrun/data/moving_mnist.py)."""
    _target_: str = "ganrun.data.moving_mnist"
    name: str = "moving_mnist"
    root: Optional[str] = "data"  # holds MNIST/raw/
    resolution: int = 64
    frames: int = 16  # T
    num_digits: int = 2
    size: int = 10_000  # clips
    seed: int = 0  # the clips' digits and trajectories
    channels: int = 1
    num_classes: Optional[int] = None
    download: bool = False
    train: bool = True


@dataclass
class VideoFolderDatasetConfig:
    """Clips under `root` (ganrun/data/video.py): strips, frame folders or video files."""
    _target_: str = "ganrun.data.video_folder"
    name: str = "video_folder"
    root: Optional[str] = None
    layout: str = "frame_folders"  # strips | frame_folders | videos
    resolution: int = 64
    frames: int = 16  # T, taken every `every_nth` frame
    every_nth: int = 1
    channels: int = 3
    num_classes: Optional[int] = None
    download: bool = False
    train: bool = True


@dataclass
class WeizmannDatasetConfig:
    _target_: str = "ganrun.data.weizmann_actions"
    name: str = "weizmann_actions"
    root: Optional[str] = "data/weizmann_actions"
    resolution: int = 64
    frames: int = 16
    every_nth: int = 2  # MoCoGAN reads the actions every 2nd frame
    test_pairs: int = 2  # mirror pairs (actors) per action held out as the test split
    channels: int = 3
    num_classes: Optional[int] = 4
    download: bool = False
    train: bool = True
