"""CoGAN (Liu & Tuzel 2016) as a game: one latent, two coupled generators, two coupled discriminators.

    min_{G1,G2} max_{D1,D2}  V(D1, G1) + V(D2, G2),   G_i = G_Li o G_H,  D_i = D_H o D_Li
Each domain is an ordinary GAN game on its own unpaired batches; the objective (any of ganrun's) is
called once per domain, and the shared layers receive both domains' gradients. The pair G1(z) | G2(z)
from one z is the method's idea, shown side by side in the grids; `translate` finds a real image's
z by latent search, x2 = G2(argmin_z ||G1(z) - x1||^2) (the lecture's translation), and back.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.games.helpers import in_eval_mode, objective_state, side_by_side

DOMAINS = ("A", "B")


def _named(terms: dict[str, Tensor], domain: str) -> dict[str, Tensor]:
    """A domain's terms: "D/real" -> "D/real_A", "value" -> "value_A"."""
    return {f"{name}_{domain}": value for name, value in terms.items()}


class CoGANGame:
    def __init__(self, generator: nn.Module, discriminator: nn.Module, objective: Any, dataset: Any, *,
                 latent_dim: int, batch_size: int, seed: int, device: torch.device, evaluator: Any = None,
                 num_grid_samples: int = 32, translate_steps: int = 500, translate_lr: float = 0.05):
        self.generator, self.discriminator, self.objective = generator, discriminator, objective
        self.d_steps = objective.d_steps
        self.latent_dim, self.batch_size, self.device = latent_dim, batch_size, device
        self.batches = [infinite_batches(domain, batch_size, seed=seed + i, device=device)
                        for i, domain in enumerate(dataset.domains)]
        self.evaluator = evaluator
        self.translate_steps, self.translate_lr = translate_steps, translate_lr
        self.G, self.D = generator, discriminator
        self.grid_latents = torch.randn(num_grid_samples, latent_dim,
                                        generator=torch.Generator().manual_seed(seed + 1)).to(device)

    def prepare(self, wrap: Any) -> None:
        self.G, self.D = wrap(self.generator), wrap(self.discriminator)

    def stateful_parts(self) -> dict[str, Any]:
        return {"batches_A": self.batches[0], "batches_B": self.batches[1], **objective_state(self.objective)}

    def start_step(self, step: int) -> None:
        pass

    def next_batch(self) -> tuple[Tensor, Tensor]:
        return next(self.batches[0])[0], next(self.batches[1])[0]

    def _latents(self) -> Tensor:
        return torch.randn(self.batch_size, self.latent_dim, device=self.device)

    def discriminator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        with torch.no_grad():
            fakes = self.G(self._latents())  # one z for both domains
        total, terms = 0.0, {}
        for index, (domain, real, fake) in enumerate(zip(DOMAINS, batch, fakes)):
            real_scores, fake_scores = self.D.domain(real, index), self.D.domain(fake, index)
            loss, parts = self.objective.discriminator_loss(real_scores, fake_scores)
            penalty, penalty_parts = self.objective.penalty(self.discriminator.branch(index), real, fake)
            total = total + loss + (0.0 if penalty is None else penalty)
            terms |= _named({**parts, **penalty_parts, "D/real": real_scores.detach().mean(),
                             "D/fake": fake_scores.detach().mean()}, domain)
        return total, terms

    def after_discriminator_update(self) -> None:
        self.objective.after_discriminator_update(self.discriminator)

    def generator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        fakes = self.G(self._latents())
        total, terms = 0.0, {}
        for index, (domain, real, fake) in enumerate(zip(DOMAINS, batch, fakes)):
            real_scores = self.D.domain(real, index) if self.objective.generator_sees_real else None
            loss, parts = self.objective.generator_loss(self.D.domain(fake, index), real_scores)
            total = total + loss
            terms |= _named(parts, domain)
        return total, terms

    def end_step(self, step: int) -> dict[str, Tensor]:
        return {}

    def scalars(self) -> dict[str, float]:
        return {}

    def images(self, generator: nn.Module) -> dict[str, tuple[Tensor, int]]:
        """Pairs G1(z) | G2(z) from the same z, side by side, 4 pairs a row."""
        first, second = in_eval_mode(generator, generator, self.grid_latents)
        return {"samples/pairs": (side_by_side(first, second), 8)}

    def translate(self, images: Tensor, generator: nn.Module | None = None, *, source: int = 0,
                  steps: int | None = None, lr: float | None = None) -> tuple[Tensor, Tensor]:
        """Latent search: z* = argmin_z ||G_source(z) - x||^2 (Adam on z from z = 0, G fixed), then
        (G_source(z*), G_other(z*)): the reconstruction and the translation of each image."""
        generator = generator or self.generator
        steps = self.translate_steps if steps is None else steps
        return latent_search(generator, images, source=source, steps=steps, lr=lr or self.translate_lr)

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.evaluator is None:
            return {}
        return self.evaluator(lambda n: in_eval_mode(generator, generator,
                                                   torch.randn(n, self.latent_dim, device=self.device)))


def latent_search(generator: nn.Module, images: Tensor, *, source: int, steps: int,
                  lr: float) -> tuple[Tensor, Tensor]:
    """See CoGANGame.translate. BatchNorm in eval mode; G's parameters untouched (no gradient kept)."""
    was_training = generator.training
    generator.eval()
    z = torch.zeros(len(images), generator.project.in_features, device=images.device, requires_grad=True)
    optimizer = torch.optim.Adam([z], lr=lr)
    try:
        for _ in range(steps):
            loss = (generator.domain(z, source) - images).square().flatten(1).sum(1).sum()
            (grad,) = torch.autograd.grad(loss, [z])
            z.grad = grad
            optimizer.step()
        with torch.no_grad():
            pair = generator(z)
    finally:
        generator.train(was_training)
    return pair[source], pair[1 - source]
