"""The VAE baseline as a game with no adversary (Kingma & Welling 2014; the decks' "always start
simple: AE, VAE, GAN", and the baseline of Lucic et al. 2018).

The "generator" is the whole VAE (encoder and decoder: optimizer_g trains both); there is no
discriminator and no D step. Each G step encodes a real batch, draws z = mu + sigma * eps and
minimises the negative ELBO (objectives/vae.py). Samples decode z ~ N(0, I), so the GANs' FID/KID/IS
score them alike; the grids show inputs next to their reconstructions, and samples.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.games.base import Game, Terms, Visual
from ganrun.games.helpers import evaluate_from_noise, in_eval_mode, read_dataset, side_by_side
from ganrun.objectives.vae import reparameterize

GRID_IMAGES = 32  # inputs in the reconstruction grid, each next to its reconstruction


class VAEGame(Game):
    """See the module docstring; `objective` is the negative ELBO (objectives/vae.py: NegativeELBO)."""

    d_steps = 0
    discriminator = None

    def __init__(self, vae: nn.Module, dataset: Any, *, batch_size: int, seed: int, device: torch.device,
                 objective: Any, evaluator: Any = None, num_grid_samples: int = 64):
        self.generator = vae
        self.latent_dim = vae.latent_dim
        self.batches = infinite_batches(dataset, batch_size, seed=seed, device=device)
        self.objective, self.device = objective, device
        self.evaluator = evaluator
        self.encoder, self.decoder = vae.encoder, vae.decoder
        draws = torch.Generator().manual_seed(seed + 1)
        index = torch.randperm(len(dataset), generator=draws)[:GRID_IMAGES]
        self.grid_inputs = torch.stack([dataset[int(i)][0] for i in index]).to(device)
        self.grid_latents = torch.randn(num_grid_samples, self.latent_dim, generator=draws).to(device)

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.encoder, self.decoder = wrap(self.generator.encoder), wrap(self.generator.decoder)

    def stateful_parts(self) -> dict[str, Any]:
        return {"batches": self.batches}

    def next_batch(self) -> Tensor:
        return next(self.batches)[0]

    def generator_loss(self, batch: Tensor) -> tuple[Tensor, Terms]:
        mu, logvar = self.encoder(batch)  # (N, L) each
        z = reparameterize(mu, logvar, torch.randn_like(mu))
        return self.objective(batch, self.decoder(z), mu, logvar)

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        """Inputs next to their reconstructions (decoded posterior means), and samples from the prior."""
        mu, _ = in_eval_mode(generator, generator.encode, self.grid_inputs)
        recon = in_eval_mode(generator, generator, mu)
        samples = in_eval_mode(generator, generator, self.grid_latents)
        return {"samples/reconstructions": Visual(side_by_side(self.grid_inputs, recon), nrow=8),
                "samples/fixed": Visual(samples, nrow=8)}

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        return evaluate_from_noise(self.evaluator, generator, self.latent_dim, self.device)


def build(cfg: DictConfig, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "vae", adversary: bool = False) -> VAEGame:
    """`architecture.generator` is the VAE (architecture=vae), `objective` its negative ELBO (objective=vae)."""
    dataset = read_dataset(cfg, make)
    vae = make(cfg.architecture.generator, data_shape=tuple(dataset.data_shape)).to(device)
    evaluator = None
    if evaluate:
        from ganrun.metrics import build_evaluator

        evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=make)
    return VAEGame(vae, dataset, batch_size=cfg.trainer.batch_size, seed=seed, device=device, objective=make(cfg.objective),
                   evaluator=evaluator, num_grid_samples=cfg.trainer.num_grid_samples)
