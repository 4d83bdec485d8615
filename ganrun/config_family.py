"""The GAN family's and the training tricks' config: the `tricks` schema and the checks of which
objective, architecture, conditioning and trick go together. No torch, like config.py, whose
`register_schemas` and `validate` call into this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import DictConfig, OmegaConf

from ganrun.config import ConfigError, _positive

LATENT_PRIORS = ("gaussian", "uniform", "spherical")  # = tricks.LATENT_PRIORS
FGAN_DIVERGENCES = ("kl", "reverse_kl", "js", "pearson", "squared_hellinger")  # = objectives_f.DIVERGENCES


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
    ema_halflife: Optional[float] = None  # instead: the EMA's half-life in G updates (decay 0.5^(1/h))
    ema_rampup: Optional[float] = None  # with it: half-life min(ema_halflife, rampup x step) (StyleGAN2-ADA: 0.05)
    minibatch_std: bool = False  # Karras et al. 2018's minibatch stddev feature in D
    mixed_bn_batches: bool = False  # one real+fake batch through D instead of real-only / fake-only
    latent: str = "gaussian"  # gaussian | uniform | spherical
    adaptive: AdaptiveConfig = field(default_factory=AdaptiveConfig)
    linear_lr_decay: bool = False  # both learning rates linearly to 0 at trainer.steps
    grad_clip: Optional[float] = None  # clip D's and G's global gradient norm
    pack: int = 1  # PacGAN: D judges `pack` samples concatenated along channels
    # DiffAugment on every input of D: a list of policies, [color,translation,cutout], or one string "color,cutout"
    diffaugment: Any = None


def dataset_classes(data: DictConfig) -> int | None:
    """How many labels a dataset's items carry: its classes, or for the 2-D mixtures their modes."""
    side = OmegaConf.select(data, "side")
    return OmegaConf.select(data, "num_classes") or OmegaConf.select(data, "num_modes") or (side and side * side)


def is_conditional(cfg: DictConfig) -> bool:
    """Labels go into G and D: conditional=true, or AC-GAN, which is conditional by construction."""
    return bool(OmegaConf.select(cfg, "conditional", default=False) or cfg.objective.auxiliary_classifier)


def validate_family(cfg: DictConfig) -> None:
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


def validate_tricks(cfg: DictConfig) -> None:
    """Each trick's values, and the tricks that do not fit the objective, the batch or the labels."""
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
    if tricks.ema_halflife is not None and (tricks.ema_halflife <= 0 or tricks.ema_decay is not None):
        raise ConfigError(f"tricks.ema_halflife={tricks.ema_halflife} must be > 0, without tricks.ema_decay")
    if tricks.ema_rampup is not None and (tricks.ema_rampup <= 0 or tricks.ema_halflife is None):
        raise ConfigError(f"tricks.ema_rampup={tricks.ema_rampup} ramps tricks.ema_halflife: set both, rampup > 0")
    if tricks.latent not in LATENT_PRIORS:
        raise ConfigError(f"tricks.latent={tricks.latent}: use one of {', '.join(LATENT_PRIORS)}")
    if cfg.trainer.batch_size % tricks.pack:
        raise ConfigError(f"tricks.pack={tricks.pack} must divide trainer.batch_size={cfg.trainer.batch_size}: "
                          "D judges the batch in packs of that many samples")
    if tricks.pack > 1 and is_conditional(cfg):
        raise ConfigError("tricks.pack > 1 packs samples of different classes: set conditional=false")
    if tricks.minibatch_std and cfg.architecture.energy:
        raise ConfigError(f"tricks.minibatch_std adds a feature to a classifier D, not to architecture={cfg.architecture.name}")


def model_options(cfg: DictConfig, num_classes: int | None) -> tuple[dict, dict]:
    """Keyword arguments for G and for D beyond the architecture node's, only where a switch is on (so
    every family's defaults stay its paper's): the classes when conditional, AC-GAN's class head
    instead of the projection, the minibatch stddev layer."""
    labels = {"num_classes": num_classes} if is_conditional(cfg) else {}
    d_options = dict(labels)
    if cfg.objective.auxiliary_classifier:
        d_options["auxiliary_classifier"] = True
    if cfg.tricks.minibatch_std:
        d_options["minibatch_std"] = True
    return labels, d_options


def smoothing_targets(cfg: DictConfig) -> dict:
    """The D loss's soft targets under label smoothing; none (the loss's own 1 and 0) when off."""
    smoothing = cfg.tricks.label_smoothing
    if (smoothing.real, smoothing.fake) == (1.0, 0.0):
        return {}
    return {"real_target": smoothing.real, "fake_target": smoothing.fake}
