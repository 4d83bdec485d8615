"""Config -> the plain objects a run trains: the game (its networks, data and objective) and what is
the same for every game: the two optimizers, G's EMA, the learning-rate schedules.

Every field of the Experiment with `state_dict()` and `load_state_dict()` goes into checkpoints under
its field name (run/state.py), as do the game's own `stateful_parts()`: a stateful component added
to either is carried automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.optim.lr_scheduler import LambdaLR
from torch.optim.swa_utils import AveragedModel

from ganrun.averaging import WindowAverage
from ganrun.errors import ConfigError
from ganrun.games.base import Game
from ganrun.run import distributed, fast_path
from ganrun.schedules import OptimizerGroups, ScheduledValues, assign
from ganrun.tricks import linear_decay, make_ema


@dataclass
class Experiment:
    game: Game
    generator: torch.nn.Module
    discriminator: torch.nn.Module | None
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer | None
    ema_generator: AveragedModel | None = None
    window_generator: WindowAverage | None = None  # G's weights averaged over the last n steps
    scheduler_d: LambdaLR | None = None
    scheduler_g: LambdaLR | None = None
    schedules: ScheduledValues | None = None  # the config's `schedules` over the built objects (schedules.py)


def resolve_device(name: str) -> torch.device:
    return distributed.auto_device() if name == "auto" else torch.device(name)


def make(node: DictConfig, **kwargs: Any) -> Any:
    """`hydra.utils.instantiate`, letting a user's mistake (ConfigError) through unwrapped.

    Every object of a run is made here (games get this function to make theirs): the one place to
    add Hydra 1.4's target allowlist.
    """
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as error:
        if isinstance(error.__cause__, (ConfigError, ValueError)):
            raise ConfigError(str(error.__cause__)) from error.__cause__
        raise


def build(cfg: DictConfig, device: torch.device, *, evaluate: bool = False) -> Experiment:
    """The game from `cfg.game` (a partial builder: ganrun/games/), then its optimizers and the tricks
    every game shares (EMA of G, linear learning-rate decay)."""
    game = make(cfg.game)(cfg, device=device, make=make, evaluate=evaluate, seed=cfg.seed + distributed.rank())
    optimizer_g = fast_path.make_optimizer(make(cfg.optimizer.generator), game.generator.parameters(), device)
    optimizer_d = None
    if game.discriminator is not None:
        optimizer_d = fast_path.make_optimizer(make(cfg.optimizer.discriminator), game.discriminator.parameters(),
                                               device)
    game.bind(optimizer_d, optimizer_g)
    tricks, decay = cfg.tricks, cfg.tricks.linear_lr_decay
    ema = tricks.ema_decay is not None or tricks.ema_halflife is not None  # a decay, or a ramped half-life
    exp = Experiment(
        game=game, generator=game.generator, discriminator=game.discriminator,
        optimizer_g=optimizer_g, optimizer_d=optimizer_d,
        ema_generator=make_ema(game.generator, tricks.ema_decay or 0.0) if ema else None,
        window_generator=WindowAverage(game.generator, tricks.window_average) if tricks.window_average else None,
        scheduler_d=(linear_decay(optimizer_d, cfg.trainer.steps, tricks.lr_decay_start)
                     if decay and optimizer_d is not None else None),
        scheduler_g=linear_decay(optimizer_g, cfg.trainer.steps, tricks.lr_decay_start) if decay else None,
    )
    exp.schedules = build_schedules(cfg, exp)
    return exp


class EmaDecay:
    """`tricks.ema_decay` as a schedule target: the EMA generator reads `.decay` at every update."""

    def __init__(self, ema: AveragedModel):
        self.ema = ema

    def set_scheduled(self, keys: tuple[str, ...], value: float) -> None:
        if keys != ("ema_decay",):
            raise KeyError(".".join(keys))
        self.ema.decay = value


class ObjectiveParts:
    """`objective.*` as a schedule target: its losses' and own penalty's arguments by their config names
    (objective.d_loss.a, objective.penalty.weight), other numbers as the Objective's attributes."""

    def __init__(self, objective: Any):
        self.objective = objective
        self.parts = {"d_loss": objective.d_loss, "g_loss": objective.g_loss, "g_penalty": objective.g_penalty,
                      "penalty": getattr(objective, "own_penalty", objective.d_penalty)}

    def set_scheduled(self, keys: tuple[str, ...], value: float) -> None:
        if keys[0] in self.parts:
            return assign(self.parts, keys, value)
        if len(keys) != 1 or not isinstance(getattr(self.objective, keys[0]), (int, float)):
            raise KeyError(".".join(keys))
        setattr(self.objective, keys[0], value)


def build_schedules(cfg: DictConfig, exp: Experiment) -> ScheduledValues | None:
    """The config's schedules over the run: optimizer.*, objective.*, regularizer.*, tricks.ema_decay."""
    if not cfg.get("schedules"):
        return None
    game = exp.game
    regularizer = getattr(game, "regularizer", None)
    root = {"optimizer": OptimizerGroups(exp.optimizer_g, exp.optimizer_d),
            "objective": ObjectiveParts(game.objective) if hasattr(game, "objective") else {},
            "regularizer": regularizer if regularizer is not None else {},
            "tricks": EmaDecay(exp.ema_generator) if exp.ema_generator is not None else {}}
    try:
        return ScheduledValues(cfg.schedules, root, cfg.trainer.steps)
    except ValueError as error:
        raise ConfigError(str(error)) from error
