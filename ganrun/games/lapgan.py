"""LAPGAN (Denton et al. 2015) as a game: one GAN per level of a Laplacian pyramid.

Training (Sec. 3.2, Fig. 2): a real batch is split into its pyramid (models/laplacian.py): the
coarsest image I_K and the band-pass residuals h_k = I_k - u(I_{k+1}). Level K is a plain GAN on I_K.
Each finer level k is conditioned on the *real* low-pass image l_k = u(I_{k+1}): D_k is shown
l_k + h_k (real) against l_k + G_k(z_k, l_k) (fake), so the levels train independently, as the
paper's do (each from the real pyramid, never from generated coarser images). Their losses are summed:
the levels share no parameter, so one optimizer over all of them is the levels' separate updates.
The objective (cfg.objective; the paper's is the original GAN's) scores every level alike.
Sampling (Fig. 1) runs the whole pyramid coarse to fine: I~_K = G_K(z_K), I~_k = u(I~_{k+1}) +
G_k(z_k, u(I~_{k+1})); the grids show every level's images and the final one.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.games.base import Game, Terms, Visual
from ganrun.games.helpers import evaluate_from_noise, in_eval_mode, networks_and_evaluator, objective_state
from ganrun.models.lapgan import compose
from ganrun.models.laplacian import pyramid, up
from ganrun.models.progressive import resample

Level = tuple[Tensor | None, Tensor]  # (l_k, h_k): the upsampled real coarser image and the residual; (None, I_K)


def real_levels(x: Tensor, levels: int) -> list[Level]:
    """The real pyramid coarse to fine: [(None, I_K), (u(I_K), h_{K-1}), ..., (u(I_1), h_0)]."""
    bands = pyramid(x, levels)[::-1]  # [I_K, h_{K-1}, ..., h_0]
    out, image = [(None, bands[0])], bands[0]
    for h in bands[1:]:
        low = up(image)
        out.append((low, h))
        image = compose(low, h)
    return out


class LaplacianGame(Game):
    def __init__(self, generator: nn.Module, discriminator: nn.Module, objective: Any, dataset: Any, *,
                 batch_size: int, seed: int, device: torch.device, evaluator: Any = None, num_grid_samples: int = 64):
        self.generator, self.discriminator, self.objective = generator, discriminator, objective
        self.d_steps, self.batch_size, self.device, self.evaluator = objective.d_steps, batch_size, device, evaluator
        self.latent_dim, self.sides = generator.latent_dim, generator.sides
        self.batches = infinite_batches(dataset, batch_size, seed=seed, device=device)
        self.G_coarse, self.G_residuals, self.D = generator.coarse, list(generator.residuals), discriminator
        draws = torch.Generator().manual_seed(seed + 1)
        self.grid_latents = torch.randn(num_grid_samples, self.latent_dim, generator=draws).to(device)
        self.grid_noise = generator.noise(num_grid_samples, device, generator=draws)

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.G_coarse = wrap(self.generator.coarse)
        self.G_residuals = [wrap(g) for g in self.generator.residuals]
        self.D = wrap(self.discriminator)

    def has_penalty(self) -> bool:
        return self.objective.has_penalty

    def stateful_parts(self) -> dict[str, Any]:
        return {"batches": self.batches, **objective_state(self.objective)}

    def next_batch(self) -> list[Level]:
        return real_levels(next(self.batches)[0], len(self.sides))

    def fakes(self, batch: list[Level]) -> list[Tensor]:
        """Per level, what D_k is shown as fake: G_K(z_K), then l_k + G_k(z_k, l_k) on the real l_k."""
        n = len(batch[0][1])
        out = [self.G_coarse(torch.randn(n, self.latent_dim, device=self.device))]
        for g, (low, _) in zip(self.G_residuals, batch[1:]):
            z = torch.randn(n, self.generator.noise_channels, *low.shape[-2:], device=self.device)
            out.append(compose(low, g(z, low)))
        return out

    @staticmethod
    def reals(batch: list[Level]) -> list[Tensor]:
        """Per level, what D_k is shown as real: I_K, then l_k + h_k."""
        return [h if low is None else compose(low, h) for low, h in batch]

    def discriminator_loss(self, batch: list[Level]) -> tuple[Tensor, Terms]:
        with torch.no_grad():
            fakes = self.fakes(batch)
        total, terms = 0.0, {}
        for level, (real, fake) in enumerate(zip(self.reals(batch), fakes)):
            real_scores, fake_scores = self.D(real, level), self.D(fake, level)
            loss, _ = self.objective.discriminator_loss(real_scores, fake_scores)
            penalty, _ = self.objective.penalty(partial(self.discriminator, level=level), real, fake)
            loss = loss if penalty is None else loss + penalty
            total = total + loss
            side = self.sides[level]
            terms |= {f"level_{side}/D": loss.detach(), f"level_{side}/D_real": real_scores.detach().mean(),
                      f"level_{side}/D_fake": fake_scores.detach().mean()}
        return total, terms

    def after_discriminator_update(self) -> None:
        self.objective.after_discriminator_update(self.discriminator)

    def generator_loss(self, batch: list[Level]) -> tuple[Tensor, Terms]:
        total, terms = 0.0, {}
        for level, (real, fake) in enumerate(zip(self.reals(batch), self.fakes(batch))):
            real_scores = self.D(real, level) if self.objective.generator_sees_real else None
            loss, _ = self.objective.generator_loss(self.D(fake, level), real_scores)
            total = total + loss
            terms[f"level_{self.sides[level]}/G"] = loss.detach()
        return total, terms

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        """The sampled pyramid from fixed z_K and z_k: every level's images (upsampled to the final side,
        nearest, so the grids keep one size), the finest residual h~_0 and the final images."""
        images = in_eval_mode(generator, generator.levels, self.grid_latents, self.grid_noise)
        side = self.sides[-1]
        out = {f"samples/level_{s}": Visual(resample(im, side), nrow=8) for s, im in zip(self.sides[:-1], images)}
        if len(images) > 1:
            residual = images[-1] - up(images[-2])
            out["samples/residual_finest"] = Visual(residual / residual.abs().amax().clamp_min(1e-8), nrow=8)
        return out | {"samples/fixed": Visual(images[-1], nrow=8)}

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        return evaluate_from_noise(self.evaluator, generator, self.latent_dim, self.device)


def build(cfg: DictConfig, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "lapgan") -> LaplacianGame:
    """architecture=lapgan: `generator` the pyramid of G_k, `discriminator` the D_k (ganrun/models/lapgan.py)."""
    dataset, generator, discriminator, evaluator = networks_and_evaluator(cfg, make, device, evaluate)
    return LaplacianGame(generator, discriminator, make(cfg.objective), dataset, batch_size=cfg.trainer.batch_size,
                         seed=seed, device=device, evaluator=evaluator, num_grid_samples=cfg.trainer.num_grid_samples)
