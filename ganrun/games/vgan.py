"""VGAN (Vondrick, Pirsiavash & Torralba 2016): one generator of whole clips, m ⊙ f + (1 − m) ⊙ b,
against one spatio-temporal 3-D conv D. D's and G's losses are the objective's (the paper: the
minimax GAN with the non-saturating G loss, `objective=ns`); G's loss adds the mask prior λ‖m‖₁
(λ = 0.1), which keeps the static background stream in use."""

from __future__ import annotations

from typing import Any, Callable

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from ganrun.config.checks import is_conditional
from ganrun.errors import ConfigError
from ganrun.games.base import Terms, Visual
from ganrun.games.video import (InstanceNoise, VideoGame, adversarial_d_term, adversarial_g_term, clip_batches,
                                clip_views, in_eval_mode, video_evaluator)
from ganrun.models.video import composite, mask_sparsity
from ganrun.objectives import Objective


class VGAN(VideoGame):
    def __init__(self, *, generator: nn.Module, discriminator: nn.Module, objective: Objective, batches: Any,
                 latent_dim: int, batch_size: int, mask_weight: float, fixed_latents: Tensor,
                 noise: InstanceNoise | None = None, evaluator: Any = None) -> None:
        self.generator = self.G = generator
        self.discriminator = self.D = discriminator
        self.objective, self.d_steps = objective, objective.d_steps
        self.batches, self.latent_dim, self.batch_size = batches, latent_dim, batch_size
        self.mask_weight, self.fixed_latents, self.evaluator = mask_weight, fixed_latents, evaluator
        self.noise = noise or InstanceNoise()
        self.last_real: Tensor | None = None
        self.last_fake: Tensor | None = None

    def latents(self, count: int) -> Tensor:
        return torch.randn(count, self.latent_dim, device=self.fixed_latents.device)

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.G, self.D = wrap(self.generator), wrap(self.discriminator)

    def next_batch(self) -> Tensor:
        return next(self.batches)[0]  # (N, C, T, H, W)

    def discriminator_loss(self, real: Tensor) -> tuple[Tensor, Terms]:
        with torch.no_grad():
            fake = self.G(self.latents(len(real)))
        real, fake = self.noise(real), self.noise(fake)
        self.last_real = self.D(real)
        return adversarial_d_term(self.objective, self.last_real, self.D(fake), self.discriminator, real, fake, "D",
                                  prefix=False)

    def generator_loss(self, real: Tensor) -> tuple[Tensor, Terms]:
        foreground, mask, background = self.G(self.latents(self.batch_size), streams=True)
        self.last_fake = self.D(self.noise(composite(mask, foreground, background)))
        loss, terms = adversarial_g_term(self.objective, self.last_fake, "adversarial")
        sparsity = mask_sparsity(mask, self.mask_weight)
        return loss + sparsity, {**terms, "loss/mask_L1": sparsity.detach(), "VGAN/mask_mean": mask.detach().mean()}

    def end_step(self, step: int) -> Terms:
        return self.objective.after_step(self.last_real, self.last_fake)

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        foreground, mask, background = in_eval_mode(generator, self.fixed_latents, True)
        views = clip_views("samples/clips", composite(mask, foreground, background))
        views.update(clip_views("samples/foreground", foreground))
        views.update(clip_views("samples/mask", mask * 2 - 1))  # [0, 1] shown as black to white
        views["samples/background"] = Visual(background)
        return views

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.evaluator is None:
            return {}
        return self.evaluator(lambda n: (in_eval_mode(generator, self.latents(n)), None))


def build(cfg: DictConfig, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "vgan", mask_weight: float = 0.1) -> VGAN:
    if is_conditional(cfg):
        raise ConfigError("game=vgan has no conditional form: set conditional=false (game=mocogan takes actions)")
    dataset, batches = clip_batches(cfg, make, device, seed)
    shape, latent_dim = tuple(dataset.data_shape), cfg.architecture.latent_dim
    generator = make(cfg.architecture.generator, data_shape=shape).to(device)
    discriminator = make(cfg.architecture.discriminator, data_shape=shape).to(device)
    fixed = torch.randn(cfg.trainer.num_grid_samples, latent_dim,
                        generator=torch.Generator().manual_seed(cfg.seed + 1)).to(device)
    return VGAN(generator=generator, discriminator=discriminator, objective=make(cfg.objective), batches=batches,
                latent_dim=latent_dim, batch_size=cfg.trainer.batch_size, mask_weight=mask_weight,
                fixed_latents=fixed,
                noise=InstanceNoise(cfg.tricks.instance_noise.std, cfg.tricks.instance_noise.anneal_steps),
                evaluator=video_evaluator(cfg, make, device, evaluate))
