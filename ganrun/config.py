"""Typed schemas for every config group, and the checks that need more than a type.

The dataclasses are registered in Hydra's ConfigStore under `schema/<group>/<family>` and each YAML
option names its schema in its defaults list, so a typo or a wrong type fails while the config is
composed. `validate` adds the range and cross-group checks. Nothing here imports torch: the CLI runs
all of it before the (slow) import, so a bad override answers in about a second.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf


class ConfigError(ValueError):
    """A mistake in the user's config: printed as one line, exit code 2."""


CHECKPOINT_FORMAT = "ganrun-checkpoint-1"  # the marker every checkpoint ganrun writes holds (checkpoint.py)
CHECKPOINT_PATTERN = "step_*.pt"  # their names; a temporary file (".step_*.pt.tmp") never matches


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
    keep_checkpoints: int = 3  # the newest K checkpoint files are kept; 0 = every one
    # null: continue from this run folder's newest good checkpoint when it has one (re-run the same command);
    # PATH: start from that checkpoint file (or the newest in that run folder) when this folder has none yet.
    resume: Optional[str] = None
    resume_force: bool = False  # continue even when a config key that matters differs from the checkpoint's
    on_nan: str = "stop"  # stop | skip: what a non-finite loss, gradient or weight does
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
    fraction: float = 1.0  # a fixed random share of the training items (0.1: the data-efficient setting)


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
    energy: bool = False  # D outputs reconstruction energies (autoencoder), not logits
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
    sigmoid_cross_entropy: bool = False  # D's loss is the sigmoid cross-entropy: label smoothing applies
    energy: bool = False  # the losses take energies (EBGAN, BEGAN): D must be architecture=autoencoder
    auxiliary_classifier: bool = False  # AC-GAN: G gets labels, D a class head (conditional by construction)
    g_penalty: Any = None  # a term added to G's loss from D and the fakes (EBGAN's pull-away term)
    equilibrium: Any = None  # BEGAN: {gamma, lambda_k} of the k_t control
    unroll_steps: int = 0  # Unrolled GAN's K: G is judged by D after K differentiable D updates
    generator_sees_real: bool = False  # relativistic losses: G's loss takes D's scores of a real batch too
    divergence: Optional[str] = None  # f-GAN: one of config_family.FGAN_DIVERGENCES


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
    "metrics": {"default": MetricsConfig},
}


def register_schemas() -> None:
    # The tricks' schema lives in config_family.py, which imports ConfigError from here: imported late.
    from ganrun.config_family import TricksConfig
    from ganrun.config_recipes import RegularizerConfig

    store = ConfigStore.instance()
    extra = {"tricks": {"default": TricksConfig}, "regularizer": {"default": RegularizerConfig}}
    for group, families in {**SCHEMAS, **extra}.items():
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
    for key in ("trainer.sample_every", "trainer.checkpoint_every", "trainer.num_workers", "trainer.keep_checkpoints",
                "objective.clip_weights", "objective.unroll_steps", "dataset.std", "dataset.radius", "dataset.spacing"):
        _positive(cfg, key, allow_zero=True)

    direction = OmegaConf.select(cfg, "sweep.direction")
    if direction is not None and direction not in ("minimize", "maximize"):
        raise ConfigError(f"sweep.direction={direction}: use minimize or maximize")

    device = str(cfg.trainer.device)
    if device.split(":")[0] not in DEVICES:
        raise ConfigError(f"trainer.device={device} is unknown: use one of {', '.join(DEVICES)} (or cuda:N)")
    if cfg.trainer.progress not in ("auto", "bar", "lines", "off"):
        raise ConfigError(f"trainer.progress={cfg.trainer.progress}: use auto, bar, lines or off")
    if cfg.trainer.on_nan not in ("stop", "skip"):
        raise ConfigError(f"trainer.on_nan={cfg.trainer.on_nan}: use stop (end the run) or skip (drop the update)")
    if cfg.trainer.resume is not None:
        check_checkpoint_file(Path(cfg.trainer.resume), f"trainer.resume={cfg.trainer.resume}", folder_allowed=True)
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

    validate_metrics(cfg.metrics)
    from ganrun.config_family import validate_family, validate_tricks  # see register_schemas

    validate_family(cfg)
    from ganrun.config_recipes import validate_recipes

    validate_recipes(cfg)
    validate_tricks(cfg)


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


def check_checkpoint_file(path: Path, name: str, folder_allowed: bool = False) -> None:
    """What can be told about a checkpoint without torch: it exists, is not empty, is a zip archive
    (torch.save's format, whose directory sits at the end: a truncated file has none)."""
    if not path.exists():
        raise ConfigError(f"{name} does not exist: give a checkpoint file (checkpoints/step_*.pt) or a run folder")
    if path.is_dir() and folder_allowed:
        if not any(path.glob(f"checkpoints/{CHECKPOINT_PATTERN}")) and not any(path.glob(CHECKPOINT_PATTERN)):
            raise ConfigError(f"{name} is a folder without checkpoints (checkpoints/step_*.pt): "
                              "give a run folder or a checkpoint file")
        return  # a run folder: its newest checkpoint is read once torch is loaded
    if not path.is_file():
        raise ConfigError(f"{name} is not a file: give a checkpoint file (checkpoints/step_*.pt)")
    if path.stat().st_size == 0:
        raise ConfigError(f"{name} is an empty file (0 bytes), not a checkpoint: give a step_*.pt file ganrun wrote")
    if not zipfile.is_zipfile(path):
        raise ConfigError(f"{name} is not a ganrun checkpoint (not a torch archive: truncated, or another kind "
                          "of file): give a step_*.pt file ganrun wrote")
    with zipfile.ZipFile(path) as archive:  # the pickle of the dict's structure; the tensors are beside it
        pickles = [member for member in archive.namelist() if member.endswith("/data.pkl")]
        if not pickles or CHECKPOINT_FORMAT.encode() not in archive.read(pickles[0]):
            raise ConfigError(f"{name} has no '{CHECKPOINT_FORMAT}' marker, so ganrun did not write it: "
                              "give a step_*.pt file ganrun wrote")
