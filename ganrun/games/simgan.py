"""SimGAN (Shrivastava et al. 2017): a refiner R makes synthetic images look real, keeping their content.

R minimises the local adversarial loss (the objective's generator loss averaged over D's patch scores:
the paper's sum of per-patch cross-entropies up to a constant) plus the self-regularisation
lambda ||R(x) - x||_1 (Eq. 4). D learns real images against refined ones, half of each refined batch
drawn from a history buffer of past refinements (Sec. 3.2, Algorithm 2; ganrun.tricks.ReplayBuffer).
For the first `pretrain_steps` steps R minimises the self-regularisation alone (the paper pretrains R so
before the adversarial game; D learns on those refinements meanwhile).
Metrics: FID_classifier of refined test synthetics against real images next to the unrefined ones'.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.games.base import Visual
from ganrun.games.helpers import read_dataset
from ganrun.games.translation import OneGeneratorGame, evaluating, unwrapped, visual
from ganrun.objectives.translation import patch_scores, self_regularization
from ganrun.tricks import ReplayBuffer

Terms = dict[str, Tensor]


class SimGAN(OneGeneratorGame):
    def __init__(self, generator: nn.Module, discriminator: nn.Module, objective: Any, synthetic: Any, real: Any,
                 test_synthetic: Any, *, batch_size: int, seed: int, device: torch.device, weight: float = 1.0,
                 history: int = 640, grid_rows: int = 8, evaluator: Optional[Any] = None,
                 pretrain_steps: int = 0) -> None:
        self._networks(generator, discriminator, objective)
        self.weight, self.pretrain_steps, self._pretraining = weight, pretrain_steps, pretrain_steps > 0
        self.synthetic = infinite_batches(synthetic, batch_size, seed=seed, device=device)
        self.real = infinite_batches(real, batch_size, seed=seed + 1, device=device)
        self.history = ReplayBuffer(history, 0.5) if history else None
        self.test = test_synthetic.tensors[0]
        self.fixed = self.test[:grid_rows].to(device)
        self.channels, self.size = self.test.shape[1], self.test.shape[-1]
        self.evaluator, self.device = evaluator, device
        self._unrefined: Optional[dict[str, float]] = None

    def stateful_parts(self) -> dict[str, Any]:
        parts = {"synthetic": self.synthetic, "real": self.real, **self._objective_parts()}
        return parts | ({"history": self.history} if self.history is not None else {})

    def next_batch(self) -> tuple[Tensor, Tensor]:
        return next(self.synthetic)[0], next(self.real)[0]  # (synthetic x, real y)

    def start_step(self, step: int) -> None:
        self._pretraining = step <= self.pretrain_steps  # the loop's steps count from 1

    def discriminator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        real, refined = batch[1], self._output(batch).detach()
        if self.history is not None:  # half of D's refined batch from the history (Algorithm 2)
            refined, _ = self.history.mix(refined, None)
        return self._judge(lambda d, images: patch_scores(d(images)), real, refined)

    def generator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        synthetic, refined = batch[0], self._output(batch, last=True)
        if self._pretraining:
            return self_regularization(refined, synthetic, self.weight)
        adversarial, terms = self.objective.generator_loss(patch_scores(self._d(refined)))
        regular, reg_terms = self_regularization(refined, synthetic, self.weight)
        return adversarial + regular, {**terms, **reg_terms, "loss/G_adversarial": adversarial.detach()}

    def scalars(self) -> dict[str, float]:
        return {"tricks/history_fill": self.history.fill()} if self.history is not None else {}

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        network = unwrapped(generator)
        with torch.no_grad(), evaluating(network):
            refined = network(self.fixed)
        return {"translation/synthetic_refined": visual(self.fixed, refined)}

    def translator(self, direction: str) -> tuple[nn.Module, int, int]:
        """R, its channels and size, for `ganrun translate`."""
        return self.generator, self.channels, self.size

    @torch.no_grad()
    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.evaluator is None:
            return {}
        network = unwrapped(generator)
        with evaluating(network):
            refined = torch.cat([network(x.to(self.device)).cpu() for x in self.test.split(256)])
        if self._unrefined is None:  # the synthetic images themselves: the score to beat
            self._unrefined = self.evaluator.evaluate_samples(self.test)
        scores = self.evaluator.evaluate_samples(refined)
        keep = ("FID_classifier", "KID_classifier")
        return {f"refined/{k}": scores[k] for k in keep} | {f"unrefined/{k}": self._unrefined[k] for k in keep}


def build(cfg: Any, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "simgan", own_metrics: bool = True, not_sampled: str = "",
          weight: float = 1.0, history: int = 640, grid_rows: int = 16,
          synthetic: Optional[Callable[..., Any]] = None, pretrain_steps: int = 0) -> SimGAN:
    """The refiner and the PatchGAN on the real dataset's images; `synthetic(train=...)` the rendered ones."""
    real = read_dataset(cfg, make)
    train, test = synthetic(train=True), synthetic(train=False)
    if tuple(train.data_shape) != tuple(real.data_shape):
        from ganrun.errors import ConfigError  # noqa: PLC0415

        raise ConfigError(f"synthetic images {tuple(train.data_shape)} and dataset={cfg.dataset.name} images "
                          f"{tuple(real.data_shape)} differ: set game.synthetic.resolution and dataset.resolution alike")
    channels = real.data_shape[0]
    generator = make(cfg.architecture.generator, channels=channels).to(device)
    discriminator = make(cfg.architecture.discriminator, in_channels=channels, size=real.data_shape[-1]).to(device)
    evaluator = None
    if evaluate:
        from ganrun.metrics import build_evaluator  # noqa: PLC0415

        evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=make)
    return SimGAN(generator, discriminator, make(cfg.objective), train, real, test, batch_size=cfg.trainer.batch_size,
                  seed=seed, device=device, weight=weight, history=history, grid_rows=grid_rows, evaluator=evaluator,
                  pretrain_steps=pretrain_steps)
