"""Small pieces the games of issue 12 (VAE, CoGAN, progressive) share."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ganrun.rng import isolated_rng


@torch.no_grad()
def in_eval_mode(module: nn.Module, fn: Any, *args: Any) -> Any:
    """fn(*args) with `module` in eval mode (BatchNorm's running statistics untouched), mode restored."""
    was_training = module.training
    module.eval()
    try:
        return fn(*args)
    finally:
        module.train(was_training)


def side_by_side(a: Tensor, b: Tensor) -> Tensor:
    """(N, ...) and (N, ...) -> (2N, ...): a_0, b_0, a_1, b_1, ... (pairs next to each other in a grid)."""
    return torch.stack([a, b], dim=1).flatten(0, 1)


def objective_state(objective: Any) -> dict[str, Any]:
    """The objective as a checkpoint part when it has state (BEGAN's k_t), else nothing."""
    return {"objective": objective} if hasattr(objective, "state_dict") else {}


def coupled_networks(cfg: Any, make: Any, data_shape: tuple[int, ...], device: Any) -> tuple[nn.Module, nn.Module]:
    """G and D of `cfg.architecture` for images of `data_shape`, on `device` (the games built from one
    dataset's shape: CoGAN, UNIT, LAPGAN, progressive)."""
    generator = make(cfg.architecture.generator, data_shape=data_shape).to(device)
    discriminator = make(cfg.architecture.discriminator, data_shape=data_shape).to(device)
    return generator, discriminator


def read_dataset(cfg: Any, make: Any, **split: Any) -> Any:
    """`cfg.dataset` made (with `split`, e.g. train=False), drawing nothing from training's random streams:
    a first read, a cache hit or an import (sklearn's, for digits) must not move the networks' init."""
    with isolated_rng():
        return make(cfg.dataset, **split)


def networks_and_evaluator(cfg: Any, make: Any, device: Any, evaluate: bool) -> tuple[Any, nn.Module, nn.Module, Any]:
    """The dataset, G and D of `cfg.architecture` for its images, and the metrics' evaluator when
    `evaluate` (the one-dataset games with their own networks: LAPGAN, progressive growing)."""
    dataset = read_dataset(cfg, make)
    generator, discriminator = coupled_networks(cfg, make, tuple(dataset.data_shape), device)
    evaluator = None
    if evaluate:
        from ganrun.metrics import build_evaluator

        evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=make)
    return dataset, generator, discriminator, evaluator


def evaluate_from_noise(evaluator: Any, generator: nn.Module, latent_dim: int, device: Any) -> dict[str, float]:
    """The metrics of G's samples from z ~ N(0, I), G in eval mode; nothing when no metrics were asked for."""
    if evaluator is None:
        return {}
    return evaluator(lambda n: in_eval_mode(generator, generator, torch.randn(n, latent_dim, device=device)))


class TwoDomains:
    """What the games on two unpaired domains share (CoGAN, UNIT): a batch stream per domain, checkpointed
    with the objective's state; set `batches` and `objective`."""

    batches: list
    objective: Any

    def has_penalty(self) -> bool:
        return self.objective.has_penalty

    def stateful_parts(self) -> dict[str, Any]:
        return {"batches_A": self.batches[0], "batches_B": self.batches[1], **objective_state(self.objective)}

    def next_batch(self) -> tuple[Tensor, Tensor]:
        return next(self.batches[0])[0], next(self.batches[1])[0]
