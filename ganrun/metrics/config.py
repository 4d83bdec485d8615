"""The `metrics` config node: its schema and the checks a type cannot make.

Imports neither torch nor the rest of ganrun.metrics, so the CLI can validate before the slow import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from omegaconf import DictConfig

from ganrun.config import ConfigError

FEATURES = ("auto", "inception", "classifier")
SPLITS = ("train", "test")


@dataclass
class MetricsConfig:
    enabled: bool = True  # false: no metrics during training (conf/metrics/none.yaml)
    every: int = 5000  # generator steps between evaluations; 0 = only at the end
    num_samples: int = 10_000  # generated images, and real images (at most the split's size)
    features: str = "auto"  # auto | inception | classifier; auto: classifier for digit datasets
    inception_weights: Optional[str] = None  # local torch-fidelity Inception file; null = download once
    split: str = "train"  # real images from the train or the test split
    batch_size: int = 100  # images per feature-network batch
    cache_dir: str = "outputs/.cache"  # real features and trained classifiers
    kid_subsets: int = 100
    kid_subset_size: int = 1000  # lowered (with a warning) to the number of samples when larger
    nearest_k: int = 3  # precision / recall neighbourhood (Kynkaanniemi et al. 2019)
    num_points: int = 2500  # samples for the 2-D mode metrics
    seed: int = 0  # evaluation noise and real subset: every evaluation sees the same draws


def validate_metrics(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first `metrics.*` value that cannot work, and the fix."""
    if cfg.features not in FEATURES:
        raise ConfigError(f"metrics.features={cfg.features}: use one of {', '.join(FEATURES)}")
    if cfg.split not in SPLITS:
        raise ConfigError(f"metrics.split={cfg.split}: use train or test")
    if cfg.every < 0:
        raise ConfigError(f"metrics.every={cfg.every} must be >= 0 (0 = only at the end)")
    for key in ("num_samples", "batch_size", "kid_subsets", "kid_subset_size", "nearest_k", "num_points"):
        if cfg[key] < 1:
            raise ConfigError(f"metrics.{key}={cfg[key]} must be > 0")
    if cfg.num_samples < 10:
        raise ConfigError(f"metrics.num_samples={cfg.num_samples} is too few: IS needs 10 splits, "
                          "and FID is meaningless below a few thousand (use 10000)")
    if cfg.inception_weights is not None and not Path(cfg.inception_weights).expanduser().is_file():
        raise ConfigError(f"metrics.inception_weights={cfg.inception_weights} is not a file: point it at "
                          "torch-fidelity's weights-inception-2015-12-05-6726825d.pth")
