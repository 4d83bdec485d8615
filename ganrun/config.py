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
    auxiliary_classifier: bool = False  # AC-GAN: D gets a class head (needs conditional=true)
    g_penalty: Any = None  # a term added to G's loss from D and the fakes (EBGAN's pull-away term)
    equilibrium: Any = None  # BEGAN: {gamma, lambda_k} of the k_t control
    unroll_steps: int = 0  # Unrolled GAN's K: G is judged by D after K differentiable D updates
    divergence: Optional[str] = None  # f-GAN: one of FGAN_DIVERGENCES


@dataclass
class OptimizerConfig:
    name: str = "???"
    lr: float = 2e-4
    betas: Optional[List[float]] = None  # adam
    alpha: Optional[float] = None  # rmsprop
    momentum: Optional[float] = None  # sgd
    generator: Any = None
    discriminator: Any = None


@dataclass
class LabelSmoothingConfig:
    real: float = 1.0  # 0.9: one-sided label smoothing (Salimans et al. 2016)
    fake: float = 0.0  # 0.1 with real 0.9: two-sided (ganhacks)


@dataclass
class InstanceNoiseConfig:
    std: float = 0.0  # std of the Gaussian noise on D's inputs at the first step; 0 = off
    anneal_steps: int = 0  # linearly down to 0 over this many steps; 0 = constant


@dataclass
class HistoryConfig:
    size: int = 0  # past generated samples kept (Shrivastava et al. 2017); 0 = off
    fraction: float = 0.5  # share of D's fake batch drawn from the buffer (the paper: half)


@dataclass
class AdaptiveConfig:
    t_d: Optional[float] = None  # while loss_D > t_d: train D (seed 001); null = objective.d_steps updates
    t_g: Optional[float] = None  # while loss_G > t_g: train G; null = one update
    max_updates: int = 10  # cap on each while loop


@dataclass
class TricksConfig:
    label_smoothing: LabelSmoothingConfig = field(default_factory=LabelSmoothingConfig)
    instance_noise: InstanceNoiseConfig = field(default_factory=InstanceNoiseConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    ema_decay: Optional[float] = None  # EMA of G's weights for grids and metrics, e.g. 0.999
    minibatch_std: bool = False  # Karras et al. 2018's minibatch stddev feature in D
    mixed_bn_batches: bool = False  # one real+fake batch through D instead of real-only / fake-only
    latent: str = "gaussian"  # gaussian | uniform | spherical
    adaptive: AdaptiveConfig = field(default_factory=AdaptiveConfig)
    linear_lr_decay: bool = False  # both learning rates linearly to 0 at trainer.steps
    grad_clip: Optional[float] = None  # clip D's and G's global gradient norm
    pack: int = 1  # PacGAN: D judges `pack` samples concatenated along channels


SCHEMAS = {
    "trainer": {"default": TrainerConfig},
    "tricks": {"default": TricksConfig},
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
LATENT_PRIORS = ("gaussian", "uniform", "spherical")
FGAN_DIVERGENCES = ("kl", "reverse_kl", "js", "pearson", "squared_hellinger")  # = objectives_f.DIVERGENCES


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
                "objective.clip_weights", "objective.unroll_steps", "dataset.std", "dataset.radius", "dataset.spacing"):
        _positive(cfg, key, allow_zero=True)

    device = str(cfg.trainer.device)
    if device.split(":")[0] not in DEVICES:
        raise ConfigError(f"trainer.device={device} is unknown: use one of {', '.join(DEVICES)} (or cuda:N)")
    if cfg.trainer.progress not in ("auto", "bar", "lines", "off"):
        raise ConfigError(f"trainer.progress={cfg.trainer.progress}: use auto, bar, lines or off")

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

    _check_family(cfg)
    _check_tricks(cfg)


def dataset_classes(data: DictConfig) -> int | None:
    """How many labels a dataset's items carry: its classes, or for the 2-D mixtures their modes."""
    side = OmegaConf.select(data, "side")
    return OmegaConf.select(data, "num_classes") or OmegaConf.select(data, "num_modes") or (side and side * side)


def is_conditional(cfg: DictConfig) -> bool:
    """Labels go into G and D: conditional=true, or AC-GAN, which is conditional by construction."""
    return bool(OmegaConf.select(cfg, "conditional", default=False) or cfg.objective.auxiliary_classifier)


def _check_family(cfg: DictConfig) -> None:
    """Objective x architecture x conditioning: the pairs that cannot work."""
    arch, objective = cfg.architecture, cfg.objective
    if objective.energy and not arch.energy:
        raise ConfigError(f"objective={objective.name} scores reconstruction energies: use architecture=autoencoder")
    if arch.energy and not objective.energy:
        raise ConfigError(f"architecture={arch.name} outputs energies, not logits: use objective=ebgan or began")
    if not isinstance(OmegaConf.select(cfg, "conditional", default=False), bool):
        raise ConfigError(f"conditional={cfg.conditional} must be true or false")
    what = f"objective={objective.name}" if objective.auxiliary_classifier else "conditional=true"
    if is_conditional(cfg) and dataset_classes(cfg.dataset) is None:
        raise ConfigError(f"{what} needs labels, and dataset={cfg.dataset.name} has none: "
                          "use a labelled dataset (digits, mnist, fashion_mnist, cifar10, ring, grid)")
    if is_conditional(cfg) and arch.energy:
        raise ConfigError(f"architecture={arch.name} has no conditional form: set conditional=false")
    if objective.divergence is not None and objective.divergence not in FGAN_DIVERGENCES:
        raise ConfigError(f"objective.divergence={objective.divergence}: use one of {', '.join(FGAN_DIVERGENCES)}")
    if objective.equilibrium is not None:
        gamma, lambda_k = objective.equilibrium.gamma, objective.equilibrium.lambda_k
        if not 0 < gamma <= 1 or lambda_k < 0:
            raise ConfigError(f"objective.equilibrium gamma={gamma}, lambda_k={lambda_k}: BEGAN needs "
                              "0 < gamma <= 1 and lambda_k >= 0 (the paper: 0.5 and 0.001)")


def _check_tricks(cfg: DictConfig) -> None:
    tricks = cfg.tricks
    smoothing = tricks.label_smoothing
    for key in ("real", "fake"):
        if not 0 <= smoothing[key] <= 1:
            raise ConfigError(f"tricks.label_smoothing.{key}={smoothing[key]} is a target probability: 0 to 1")
    if (smoothing.real, smoothing.fake) != (1.0, 0.0) and not cfg.objective.sigmoid_cross_entropy:
        raise ConfigError(f"label smoothing changes the targets of the sigmoid cross-entropy and "
                          f"objective={cfg.objective.name} has none: use ns, minimax, dragan, unrolled or acgan")
    for key in ("instance_noise.std", "instance_noise.anneal_steps", "history.size"):
        _positive(cfg, f"tricks.{key}", allow_zero=True)
    for key in ("adaptive.max_updates", "grad_clip", "pack"):
        _positive(cfg, f"tricks.{key}")
    if not 0 < tricks.history.fraction <= 1:
        raise ConfigError(f"tricks.history.fraction={tricks.history.fraction} must be in (0, 1] (the paper: 0.5)")
    if tricks.ema_decay is not None and not 0 <= tricks.ema_decay < 1:
        raise ConfigError(f"tricks.ema_decay={tricks.ema_decay} must be in [0, 1), e.g. 0.999")
    if tricks.latent not in LATENT_PRIORS:
        raise ConfigError(f"tricks.latent={tricks.latent}: use one of {', '.join(LATENT_PRIORS)}")
    if cfg.trainer.batch_size % tricks.pack:
        raise ConfigError(f"tricks.pack={tricks.pack} must divide trainer.batch_size={cfg.trainer.batch_size}: "
                          "D judges the batch in packs of that many samples")
    if tricks.pack > 1 and is_conditional(cfg):
        raise ConfigError("tricks.pack > 1 packs samples of different classes: set conditional=false")
    if tricks.minibatch_std and cfg.architecture.energy:
        raise ConfigError(f"tricks.minibatch_std adds a feature to a classifier D, not to architecture={cfg.architecture.name}")
