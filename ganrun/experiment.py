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

from ganrun.errors import ConfigError
from ganrun.games.base import Game
from ganrun.run import distributed, fast_path
from ganrun.tricks import linear_decay, make_ema


@dataclass
class Experiment:
    game: Game
    generator: torch.nn.Module
    discriminator: torch.nn.Module | None
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer | None
    ema_generator: AveragedModel | None = None
    scheduler_d: LambdaLR | None = None
    scheduler_g: LambdaLR | None = None


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
    return Experiment(
        game=game, generator=game.generator, discriminator=game.discriminator,
        optimizer_g=optimizer_g, optimizer_d=optimizer_d,
        ema_generator=make_ema(game.generator, tricks.ema_decay) if tricks.ema_decay is not None else None,
        scheduler_d=(linear_decay(optimizer_d, cfg.trainer.steps, tricks.lr_decay_start)
                     if decay and optimizer_d is not None else None),
        scheduler_g=linear_decay(optimizer_g, cfg.trainer.steps, tricks.lr_decay_start) if decay else None,
    )
