"""Building the modern recipes' parts from the config (issue 14): D's penalties (the objective's own,
the R1/R2 regularizer, lazily, and an L2 penalty on D's weights), DiffAugment, and the schedules."""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from omegaconf import DictConfig

from ganrun.config import ConfigError
from ganrun.diffaugment import DiffAugment
from ganrun.regularizers import Lazy, Penalties, weight_penalty
from ganrun.schedules import OptimizerGroups, ScheduledValues


def build_penalty(cfg: DictConfig, make: Callable[..., Any]) -> tuple[Penalties | None, Lazy | None]:
    """D's penalty, all its terms summed (None when there is none), and the lazy regularizer (state)."""
    own = make(cfg.objective.penalty) if cfg.objective.penalty is not None else None
    regularizer = cfg.regularizer
    lazy = Lazy(make(regularizer.penalty), regularizer.every) if regularizer.penalty is not None else None
    weights = partial(weight_penalty, weight=regularizer.weight_l2) if regularizer.weight_l2 > 0 else None
    parts = [p for p in (own, lazy, weights) if p is not None]
    return (Penalties(parts) if parts else None), lazy


def build_augment(policy: str | None) -> DiffAugment | None:
    return DiffAugment(policy) if policy else None


class EmaDecay:
    """`tricks.ema_decay` as a schedule target: the EMA generator reads `.decay` at every update."""

    def __init__(self, ema: Any):
        self.ema = ema

    def set_scheduled(self, keys: tuple[str, ...], value: float) -> None:
        if keys != ("ema_decay",):
            raise KeyError(".".join(keys))
        self.ema.decay = value


def build_schedules(cfg: DictConfig, exp: Any) -> ScheduledValues:
    """The config's schedules over the built run: optimizer.*, objective.{d_loss,g_loss}.*,
    regularizer.penalty.*, regularizer.every, tricks.ema_decay."""
    root = {"optimizer": OptimizerGroups(exp.optimizer_g, exp.optimizer_d),
            "objective": {"d_loss": exp.d_loss, "g_loss": exp.g_loss},
            "regularizer": exp.regularizer if exp.regularizer is not None else {},
            "tricks": EmaDecay(exp.ema_generator) if exp.ema_generator is not None else {}}
    try:
        return ScheduledValues(cfg.get("schedules"), root, cfg.trainer.steps)
    except ValueError as error:
        raise ConfigError(str(error)) from error
