"""Checks of the modern recipes' config (issue 14): the regularizer, DiffAugment, the EMA half-life,
dataset.fraction and the schedules. No torch, like checks.py."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from ganrun.config.choices import DIFFAUGMENT_POLICIES, SCHEDULE_KINDS
from ganrun.errors import ConfigError


def policy_names(policy: Any) -> list[str]:
    """DiffAugment's policies from a list ([color,cutout]) or a comma-separated string ("color,cutout")."""
    items = policy.split(",") if isinstance(policy, str) else list(policy)
    return [str(item).strip() for item in items if str(item).strip()]


def validate_recipes(cfg: DictConfig) -> None:
    regularizer = cfg.get("regularizer") or OmegaConf.create({"every": 1, "weight_l2": 0.0})
    if regularizer.every < 1:
        raise ConfigError(f"regularizer.every={regularizer.every} must be >= 1 (StyleGAN2's lazy R1: 16)")
    if regularizer.weight_l2 < 0:
        raise ConfigError(f"regularizer.weight_l2={regularizer.weight_l2} must be >= 0")
    gamma = OmegaConf.select(regularizer, "penalty.gamma")
    if gamma is not None and gamma < 0:
        raise ConfigError(f"regularizer.penalty.gamma={gamma} must be >= 0")
    policy = cfg.tricks.get("diffaugment")
    if policy:
        names = policy_names(policy)
        unknown = [name for name in names if name not in DIFFAUGMENT_POLICIES]
        if unknown:
            raise ConfigError(f"tricks.diffaugment={','.join(names)}: {', '.join(unknown)} is no policy; use a subset of "
                              f"[{','.join(DIFFAUGMENT_POLICIES)}]")
        if OmegaConf.select(cfg, "dataset.resolution") is None:
            raise ConfigError(f"tricks.diffaugment augments images and dataset={cfg.dataset.name} is 2-D points")
    tricks = cfg.tricks
    if tricks.get("ema_halflife") is not None and (tricks.ema_halflife <= 0 or tricks.ema_decay is not None):
        raise ConfigError(f"tricks.ema_halflife={tricks.ema_halflife} must be > 0, without tricks.ema_decay")
    if tricks.get("ema_rampup") is not None and (tricks.ema_rampup <= 0 or tricks.get("ema_halflife") is None):
        raise ConfigError(f"tricks.ema_rampup={tricks.ema_rampup} ramps tricks.ema_halflife: set both, rampup > 0")
    fraction = OmegaConf.select(cfg, "dataset.fraction")
    if fraction is not None and not 0 < fraction <= 1:
        raise ConfigError(f"dataset.fraction={fraction} must be in (0, 1], e.g. 0.1 for a tenth of the data")
    _check_schedules(cfg)


def _schedule_nodes(node: Any, prefix: str = ""):
    if isinstance(node, DictConfig) and "kind" in node:
        yield prefix, node
    elif isinstance(node, DictConfig):
        for key, child in node.items():
            yield from _schedule_nodes(child, f"{prefix}.{key}" if prefix else str(key))


def _check_schedules(cfg: DictConfig) -> None:
    for path, spec in _schedule_nodes(OmegaConf.select(cfg, "schedules", default=None) or OmegaConf.create({})):
        if spec.kind not in SCHEDULE_KINDS:
            raise ConfigError(f"schedules.{path}.kind={spec.kind}: use one of {', '.join(SCHEDULE_KINDS)}")
        for key in ("start", "end"):
            if not isinstance(OmegaConf.select(spec, key), (int, float)) or isinstance(spec.get(key), bool):
                raise ConfigError(f"schedules.{path}.{key} must be a number, got {spec.get(key)}")
        steps = spec.get("steps")
        if steps is not None and (not isinstance(steps, int) or steps < 1):
            raise ConfigError(f"schedules.{path}.steps={steps} must be a positive integer (null: trainer.steps)")
        target = OmegaConf.select(cfg, path, default=None)
        if isinstance(target, bool) or not isinstance(target, (int, float)):
            raise ConfigError(f"schedules.{path}: the config has no number at {path} to schedule")
