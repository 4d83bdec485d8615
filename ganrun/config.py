"""Typed schemas for every config group, and the checks that need more than a type.

The dataclasses are registered in Hydra's ConfigStore under `schema/<group>/<family>` and each YAML
option names its schema in its defaults list, so a typo or a wrong type fails while the config is
composed. `validate` adds the range and cross-group checks. Nothing here imports torch: the CLI runs
all of it before the (slow) import, so a bad override answers in about a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf


class ConfigError(ValueError):
    """A mistake in the user's config: printed as one line, exit code 2."""


# ---------------------------------------------------------------- schemas


@dataclass
class TrainerConfig:
    steps: int = 2000  # generator updates
    batch_size: int = 64
    device: str = "auto"  # auto = CUDA when present, else CPU
    log_every: int = 50  # scalars and the progress line
    sample_every: int = 500  # fixed-noise grid; 0 = only at the end
    checkpoint_every: int = 1000  # 0 = only at the end
    num_grid_samples: int = 64
    num_workers: int = 0  # DataLoader workers for datasets read from disk
    progress: str = "auto"  # auto | bar | lines | off
    # The fast path (ganrun/fast_path.py, docs/benchmarks.md)
    precision: str = "fp32"  # fp32 | bf16 | fp16: autocast dtype of G's and D's passes (fp16 adds loss scaling)
    channels_last: bool = False  # NHWC weights for the convolutional nets
    compile: bool = False  # torch.compile G and D (a gradient penalty's pass through D stays eager)
    compile_backend: str = "inductor"  # aot_eager: trace without generating code (debugging)
    tf32: bool = True  # CUDA: TF32 tensor cores for fp32 matmuls and convolutions
    cudnn_benchmark: bool = True  # CUDA: cuDNN times its algorithms once per shape
    data_on_device: bool = True  # in-memory datasets copied to the device once, batched by index there
    reuse_fake: bool = False  # G's update reuses the D step's fakes (d_steps=1): not Algorithm 1's fresh z


@dataclass
class ImageDatasetConfig:
    _target_: str = "???"
    name: str = "???"
    root: Optional[str] = None
    resolution: int = 32
    channels: int = 3
    num_classes: Optional[int] = None
    download: bool = False
    train: bool = True


@dataclass
class DigitsDatasetConfig:
    _target_: str = "ganrun.data.digits"
    name: str = "digits"
    resolution: int = 8
    channels: int = 1
    num_classes: int = 10


@dataclass
class RingDatasetConfig:
    _target_: str = "ganrun.data.ring"
    name: str = "ring"
    num_modes: int = 8
    radius: float = 2.0
    std: float = 0.02
    num_samples: int = 100_000  # drawn once from `seed`; effectively unlimited data
    seed: int = 0


@dataclass
class GridDatasetConfig:
    _target_: str = "ganrun.data.grid"
    name: str = "grid"
    side: int = 5  # side x side modes at {-(side-1), ..., side-1} * spacing / 2
    spacing: float = 2.0
    std: float = 0.05
    num_samples: int = 100_000
    seed: int = 0


@dataclass
class ArchitectureConfig:
    name: str = "???"
    latent_dim: int = 100
    # Resolutions the generator can make; null = any. `points`: whether it models 2-D points.
    resolutions: Optional[List[int]] = None
    points: bool = False
    spectral_norm: bool = False  # spectral normalization on every layer of D
    generator: Any = None
    discriminator: Any = None


@dataclass
class ObjectiveConfig:
    name: str = "???"
    d_steps: int = 1  # the seeds' k: D updates per G update
    d_loss: Any = None
    g_loss: Any = None
    penalty: Any = None
    clip_weights: Optional[float] = None  # WGAN: clamp D's weights to [-c, c] after each D step


@dataclass
class OptimizerConfig:
    name: str = "???"
    lr: float = 2e-4
    betas: Optional[List[float]] = None  # adam
    alpha: Optional[float] = None  # rmsprop
    momentum: Optional[float] = None  # sgd
    fused: Optional[bool] = None  # adam, sgd: null lets the trainer pick fused kernels where the device has them
    generator: Any = None
    discriminator: Any = None


SCHEMAS = {
    "trainer": {"default": TrainerConfig},
    "dataset": {
        "image": ImageDatasetConfig,
        "digits": DigitsDatasetConfig,
        "ring": RingDatasetConfig,
        "grid": GridDatasetConfig,
    },
    "architecture": {"default": ArchitectureConfig},
    "objective": {"default": ObjectiveConfig},
    "optimizer": {"default": OptimizerConfig},
}


def register_schemas() -> None:
    store = ConfigStore.instance()
    for group, families in SCHEMAS.items():
        for family, node in families.items():
            # Stored outside any config group so they stay out of `--help`'s list of groups.
            store.store(name=f"{group}_{family}_schema", node=node)


# ---------------------------------------------------------------- checks

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")


def _positive(cfg: DictConfig, key: str, allow_zero: bool = False) -> None:
    value = OmegaConf.select(cfg, key)
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{key}={value} is out of range: it must be {bound} (e.g. {key}=1)")


def validate(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first value that cannot work, and how to fix it."""
    for key in ("trainer.steps", "trainer.batch_size", "trainer.log_every", "trainer.num_grid_samples",
                "objective.d_steps", "architecture.latent_dim", "optimizer.lr",
                "optimizer.generator.lr", "optimizer.discriminator.lr",
                "dataset.num_modes", "dataset.side", "dataset.num_samples"):
        _positive(cfg, key)
    for key in ("trainer.sample_every", "trainer.checkpoint_every", "trainer.num_workers",
                "objective.clip_weights", "dataset.std", "dataset.radius", "dataset.spacing"):
        _positive(cfg, key, allow_zero=True)

    device = str(cfg.trainer.device)
    if device.split(":")[0] not in DEVICES:
        raise ConfigError(f"trainer.device={device} is unknown: use one of {', '.join(DEVICES)} (or cuda:N)")
    if cfg.trainer.progress not in ("auto", "bar", "lines", "off"):
        raise ConfigError(f"trainer.progress={cfg.trainer.progress}: use auto, bar, lines or off")
    if cfg.trainer.precision not in PRECISIONS:
        raise ConfigError(f"trainer.precision={cfg.trainer.precision} is unknown: use one of {', '.join(PRECISIONS)}")
    if cfg.trainer.reuse_fake and cfg.objective.d_steps != 1:
        raise ConfigError(f"trainer.reuse_fake=true needs objective.d_steps=1 (one fake batch per step to reuse), "
                          f"got objective.d_steps={cfg.objective.d_steps}: set trainer.reuse_fake=false")

    arch, data = cfg.architecture, cfg.dataset
    resolution = OmegaConf.select(data, "resolution")
    if resolution is None:  # 2-D points
        if not arch.points:
            raise ConfigError(f"architecture={arch.name} makes images but dataset={data.name} is 2-D points: "
                              "use architecture=mlp")
    elif arch.resolutions is not None and resolution not in arch.resolutions:
        allowed = ", ".join(str(r) for r in arch.resolutions)
        raise ConfigError(f"architecture={arch.name} cannot make {resolution}x{resolution} images: "
                          f"set dataset.resolution to one of {allowed}")
    if resolution is not None and resolution < 1:
        raise ConfigError(f"dataset.resolution={resolution} must be > 0")

    root = OmegaConf.select(data, "root")
    if "root" in data and root is None:
        raise ConfigError(f"dataset={data.name} needs dataset.root: the folder that holds its files")
    if root is not None and not OmegaConf.select(data, "download", default=False) and not Path(root).exists():
        raise ConfigError(f"dataset.root={root} does not exist: point dataset.root at the {data.name} files "
                          "(or set dataset.download=true where torchvision can download them)")
