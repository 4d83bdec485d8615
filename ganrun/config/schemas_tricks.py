"""The `tricks` group's schema (ganrun/conf/tricks/default.yaml), registered with the others by schemas.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


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
    t_d: Optional[float] = None  # while loss_D > t_d: train D (ganhacks #14's schedule); null = objective.d_steps updates
    t_g: Optional[float] = None  # while loss_G > t_g: train G; null = one update
    max_updates: int = 10  # cap on each while loop


@dataclass
class MinibatchDiscriminationConfig:
    kernels: int = 0  # B cross-sample features of Salimans et al. 2016 in D (dcgan); 0 = off
    kernel_dim: int = 5  # C, the rows compared by L1 distance (their code: 5)


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
    lr_decay_start: float = 0.0  # fraction of trainer.steps before the decay starts (CycleGAN: 0.5)
    grad_clip: Optional[float] = None  # clip D's and G's global gradient norm
    pack: int = 1  # PacGAN: D judges `pack` samples concatenated along channels
    # DiffAugment on every input of D: a list of policies, [color,translation,cutout], or one string "color,cutout"
    diffaugment: Any = None
    ema_halflife: Optional[float] = None  # instead of ema_decay: the EMA's half-life in G updates (decay 0.5^(1/h))
    ema_rampup: Optional[float] = None  # with it: half-life min(ema_halflife, rampup x step) (StyleGAN2-ADA: 0.05)
    # Salimans et al. 2016
    minibatch_discrimination: MinibatchDiscriminationConfig = field(default_factory=MinibatchDiscriminationConfig)
    virtual_batch_norm: int = 0  # size of G's fixed reference batch for virtual batch norm; 0 = off
    feature_matching: bool = False  # G minimises ||E f(x) - E f(G(z))||^2 on D's penultimate features
    historical_averaging: float = 0.0  # weight of ||theta - mean of past theta||^2 in both players' losses
    window_average: int = 0  # G's weights averaged over the last n steps (for grids and metrics); 0 = off
