"""Progressive growing of GANs (Karras et al. 2018) as a game: G(z) vs D(x) at a growing resolution.

At each step the growth schedule (models/growth.py, in real images shown to D) gives the level and
the fade-in alpha; G draws at that level, D judges at it, and real images are downsampled to it (and
blended with the coarser level during a fade-in, as G's output is). The objective is the paper's
WGAN-GP (lambda = 10) plus the drift term eps_drift * E[D(x)^2], eps_drift = 0.001 (their Sec. A.1),
which keeps the critic's output near zero. Grids show the current resolution; metrics are computed
at the final resolution (samples of an earlier level upsampled, nearest neighbour).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.games.base import Game, Terms, Visual
from ganrun.games.helpers import in_eval_mode, networks_and_evaluator, objective_state
from ganrun.models.growth import growth
from ganrun.models.progressive import real_at, resample
from ganrun.objectives.vae import drift_penalty


class ProgressiveGame(Game):
    def __init__(self, generator: nn.Module, discriminator: nn.Module, objective: Any, dataset: Any, *,
                 latent_dim: int, batch_size: int, seed: int, device: torch.device, fade_images: int,
                 stable_images: int, drift: float = 0.001, evaluator: Any = None, num_grid_samples: int = 64):
        self.generator, self.discriminator, self.objective = generator, discriminator, objective
        self.d_steps = objective.d_steps
        self.latent_dim, self.batch_size, self.device = latent_dim, batch_size, device
        self.fade_images, self.stable_images, self.drift = fade_images, stable_images, drift
        self.final_side = dataset.data_shape[-1]
        self.batches = infinite_batches(dataset, batch_size, seed=seed, device=device)
        self.evaluator = evaluator
        self.G, self.D = generator, discriminator
        self.level, self.alpha = 0, 1.0
        self.grid_latents = torch.randn(num_grid_samples, latent_dim,
                                        generator=torch.Generator().manual_seed(seed + 1)).to(device)

    @property
    def side(self) -> int:
        return 4 * 2**self.level

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.G, self.D = wrap(self.generator), wrap(self.discriminator)

    def has_penalty(self) -> bool:
        return self.objective.has_penalty

    def stateful_parts(self) -> dict[str, Any]:
        return {"batches": self.batches, **objective_state(self.objective)}

    def start_step(self, step: int) -> None:
        """The schedule at the images D has seen before this step: (step - 1) * d_steps * batch_size."""
        images = (step - 1) * max(self.d_steps, 1) * self.batch_size
        self.level, self.alpha = growth(images, self.generator.levels, self.fade_images, self.stable_images)

    def next_batch(self) -> Tensor:
        return real_at(next(self.batches)[0], self.side, self.alpha)

    def _fake(self) -> Tensor:
        z = torch.randn(self.batch_size, self.latent_dim, device=self.device)
        return self.G(z, self.level, self.alpha)

    def _critic(self, discriminator: nn.Module) -> Any:
        level, alpha = self.level, self.alpha
        return lambda x: discriminator(x, level, alpha)

    def discriminator_loss(self, batch: Tensor) -> tuple[Tensor, Terms]:
        with torch.no_grad():
            fake = self._fake()
        real_scores, fake_scores = self.D(batch, self.level, self.alpha), self.D(fake, self.level, self.alpha)
        loss, terms = self.objective.discriminator_loss(real_scores, fake_scores)
        penalty, penalty_terms = self.objective.penalty(self._critic(self.discriminator), batch, fake)
        drift, drift_terms = drift_penalty(real_scores, self.drift)
        loss = loss + drift if penalty is None else loss + penalty + drift
        return loss, {**terms, **penalty_terms, **drift_terms,
                                        "D/real": real_scores.detach().mean(), "D/fake": fake_scores.detach().mean()}

    def after_discriminator_update(self) -> None:
        self.objective.after_discriminator_update(self.discriminator)

    def generator_loss(self, batch: Tensor) -> tuple[Tensor, Terms]:
        real_scores = self.D(batch, self.level, self.alpha) if self.objective.generator_sees_real else None
        return self.objective.generator_loss(self.D(self._fake(), self.level, self.alpha), real_scores)

    def scalars(self) -> dict[str, float]:
        return {"progressive/resolution": float(self.side), "progressive/alpha": float(self.alpha)}

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        """Samples at the current resolution, upsampled to the final one so the grid keeps its size."""
        samples = in_eval_mode(generator, generator, self.grid_latents, self.level, self.alpha)
        return {"samples/fixed": Visual(resample(samples, self.final_side), nrow=8)}

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.evaluator is None:
            return {}
        sample = lambda n: resample(in_eval_mode(generator, generator, torch.randn(n, self.latent_dim, device=self.device),  # noqa: E731
                                               self.level, self.alpha), self.final_side)
        return self.evaluator(sample)


def build(cfg: DictConfig, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "progressive", fade_images: int = 800_000, stable_images: int = 800_000,
          drift: float = 0.001) -> ProgressiveGame:
    """architecture=progressive; the phases in real images shown to D (the paper: 800k each)."""
    dataset, generator, discriminator, evaluator = networks_and_evaluator(cfg, make, device, evaluate)
    return ProgressiveGame(generator, discriminator, make(cfg.objective), dataset,
                           latent_dim=cfg.architecture.latent_dim, batch_size=cfg.trainer.batch_size, seed=seed,
                           device=device, fade_images=fade_images, stable_images=stable_images, drift=drift,
                           evaluator=evaluator, num_grid_samples=cfg.trainer.num_grid_samples)
