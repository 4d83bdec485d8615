"""CoGAN (Liu & Tuzel 2016) as a game: one latent, two coupled generators, two coupled discriminators.

    min_{G1,G2} max_{D1,D2}  V(D1, G1) + V(D2, G2),   G_i = G_Li o G_H,  D_i = D_H o D_Li
Each domain is an ordinary GAN game on its own unpaired batches; the objective (any of ganrun's) is
called once per domain, and the shared layers receive both domains' gradients. The pair G1(z) | G2(z)
from one z is the method's idea, shown side by side in the grids; `translate` finds a real image's
z by latent search, x2 = G2(argmin_z ||G1(z) - x1||^2) (the lecture's translation), and back.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.games.base import Game, Terms, Visual
from ganrun.games.helpers import TwoDomains, coupled_networks, in_eval_mode, read_dataset, side_by_side

DOMAINS = ("A", "B")


def _named(terms: Terms, domain: str) -> Terms:
    """A domain's terms: "D/real" -> "D/real_A", "value" -> "value_A"."""
    return {f"{name}_{domain}": value for name, value in terms.items()}


class CoGANGame(TwoDomains, Game):
    def __init__(self, generator: nn.Module, discriminator: nn.Module, objective: Any, dataset: Any, *,
                 latent_dim: int, batch_size: int, seed: int, device: torch.device, evaluator: Any = None,
                 num_grid_samples: int = 32, translate_steps: int = 500, translate_lr: float = 0.05,
                 test_data: Callable[[], Any] | None = None):
        self.generator, self.discriminator, self.objective = generator, discriminator, objective
        self.d_steps = objective.d_steps
        self.latent_dim, self.batch_size, self.device = latent_dim, batch_size, device
        self.data_shape = tuple(dataset.data_shape)
        self.batches = [infinite_batches(domain, batch_size, seed=seed + i, device=device)
                        for i, domain in enumerate(dataset.domains)]
        self.evaluator = evaluator
        self.translate_steps, self.translate_lr, self.test_data = translate_steps, translate_lr, test_data
        self.G, self.D = generator, discriminator
        self.grid_latents = torch.randn(num_grid_samples, latent_dim,
                                        generator=torch.Generator().manual_seed(seed + 1)).to(device)

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.G, self.D = wrap(self.generator), wrap(self.discriminator)

    def _latents(self) -> Tensor:
        return torch.randn(self.batch_size, self.latent_dim, device=self.device)

    def discriminator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        with torch.no_grad():
            fakes = self.G(self._latents())  # one z for both domains
        total, terms = 0.0, {}
        for index, (domain, real, fake) in enumerate(zip(DOMAINS, batch, fakes)):
            real_scores, fake_scores = self.D(real, index), self.D(fake, index)
            loss, parts = self.objective.discriminator_loss(real_scores, fake_scores)
            penalty, penalty_parts = self.objective.penalty(self.discriminator.branch(index), real, fake)
            total = total + loss + (0.0 if penalty is None else penalty)
            terms |= _named({**parts, **penalty_parts, "D/real": real_scores.detach().mean(),
                             "D/fake": fake_scores.detach().mean()}, domain)
        return total, terms

    def after_discriminator_update(self) -> None:
        self.objective.after_discriminator_update(self.discriminator)

    def generator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        fakes = self.G(self._latents())
        total, terms = 0.0, {}
        for index, (domain, real, fake) in enumerate(zip(DOMAINS, batch, fakes)):
            real_scores = self.D(real, index) if self.objective.generator_sees_real else None
            loss, parts = self.objective.generator_loss(self.D(fake, index), real_scores)
            total = total + loss
            terms |= _named(parts, domain)
        return total, terms

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        """Pairs G1(z) | G2(z) from the same z, side by side, 4 pairs a row."""
        first, second = in_eval_mode(generator, generator, self.grid_latents)
        return {"samples/pairs": Visual(side_by_side(first, second), nrow=8)}

    translation_columns = ("input", "reconstruction G_source(z*)", "translation G_other(z*)")

    def translate(self, generator: nn.Module, *, num: int, seed: int = 0, source: str = "A",
                  steps: int | None = None, lr: float | None = None) -> list[Tensor]:
        """Held-out images of domain `source` (A or B), their latent z* = argmin_z ||G_source(z) - x||^2
        found by `steps` Adam steps, and [x, G_source(z*), G_other(z*)] (the lecture's translation)."""
        if source not in DOMAINS:
            raise ValueError(f"source={source} is not a domain: use A or B")
        if self.test_data is None:
            raise ValueError("this game was built without held-out data to translate")
        index = DOMAINS.index(source)
        images = self.test_data().domains[index]
        pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:num]
        x = images.tensors[0][pick].to(self.device)
        steps = self.translate_steps if steps is None else steps
        same, other = latent_search(generator, x, source=index, steps=steps, lr=lr or self.translate_lr)
        return [x, same, other]

    def translator(self, direction: str) -> tuple[nn.Module, int, int]:
        """For a command that runs a translation network x -> y (issue 11's `ganrun translate`): the latent
        search as a module, A -> B ("AtoB") or B -> A ("BtoA"), its input channels and side."""
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction={direction}: CoGAN translates AtoB or BtoA")
        source = 0 if direction == "AtoB" else 1
        channels, side = self.data_shape[0], self.data_shape[-1]
        return LatentSearch(self.generator, source, self.translate_steps, self.translate_lr), channels, side

    def sheet(self, generator: nn.Module, num: int, noise: torch.Generator) -> tuple[Tensor, Tensor, int]:
        """For `ganrun sample`: the latents and the pairs G1(z) | G2(z) (2 num images, a pair side by side)."""
        z = torch.randn(num, self.latent_dim, generator=noise).to(self.device)
        return z, side_by_side(*in_eval_mode(generator, generator, z)), 2

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


class LatentSearch(nn.Module):
    """x -> G_other(argmin_z ||G_source(z) - x||^2) as a module (gradients on z even under no_grad)."""

    def __init__(self, generator: nn.Module, source: int, steps: int, lr: float):
        super().__init__()
        self.generator, self.source, self.steps, self.lr = generator, source, steps, lr

    def forward(self, x: Tensor) -> Tensor:
        with torch.enable_grad():
            return latent_search(self.generator, x, source=self.source, steps=self.steps, lr=self.lr)[1]


def build(cfg: DictConfig, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "cogan", own_metrics: bool = True, own_samples: bool = True, datasets: Any = None,
          translate_steps: int = 500, translate_lr: float = 0.05) -> CoGANGame:
    """architecture=cogan (coupled G and D), dataset=mnist_negative or mnist_edge (two domains)."""
    dataset = read_dataset(cfg, make)
    generator, discriminator = coupled_networks(cfg, make, tuple(dataset.data_shape), device)
    evaluator = None
    if evaluate:
        from ganrun.metrics.pairs import build_pair_evaluator

        metrics = cfg.metrics
        evaluator = build_pair_evaluator(dataset, read_dataset(cfg, make, train=False), name=cfg.dataset.name,
                                         cache_dir=metrics.cache_dir, num_samples=metrics.num_samples,
                                         batch_size=metrics.batch_size, seed=metrics.seed, device=device)
    return CoGANGame(generator, discriminator, make(cfg.objective), dataset, latent_dim=cfg.architecture.latent_dim,
                     batch_size=cfg.trainer.batch_size, seed=seed, device=device, evaluator=evaluator,
                     num_grid_samples=cfg.trainer.num_grid_samples // 2, translate_steps=translate_steps,
                     translate_lr=translate_lr, test_data=lambda: read_dataset(cfg, make, train=False))
