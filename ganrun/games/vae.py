"""The VAE baseline as a game with no adversary (Kingma & Welling 2014; the "always start simple: AE,
VAE, GAN" of the decks, and the baseline of Lucic et al. 2018).

The "generator" is the whole VAE (encoder and decoder: optimizer_g trains both); there is no
discriminator and no D step. Each G step encodes a real batch, draws z = mu + sigma * eps and
minimises the negative ELBO (ganrun/objectives/vae.py). Samples decode z ~ N(0, I), so the same
FID/KID/IS as the GANs score them; the grids show inputs next to their reconstructions and samples.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.games.helpers import in_eval_mode, side_by_side
from ganrun.objectives_vae import negative_elbo, reparameterize

GRID_IMAGES = 32  # inputs in the reconstruction grid (each shown next to its reconstruction)


class VAEGame:
    """See the module docstring. `std` is the decoder's fixed standard deviation, `beta` the KL weight."""

    d_steps = 0
    discriminator = None

    def __init__(self, vae: nn.Module, dataset: Any, *, batch_size: int, seed: int, device: torch.device,
                 std: float, beta: float, evaluator: Any = None, num_grid_samples: int = 64):
        self.generator = vae
        self.latent_dim = vae.latent_dim
        self.batches = infinite_batches(dataset, batch_size, seed=seed, device=device)
        self.std, self.beta, self.device = std, beta, device
        self.evaluator = evaluator
        self.encoder, self.decoder = vae.encoder, vae.decoder
        gen = torch.Generator().manual_seed(seed + 1)
        index = torch.randperm(len(dataset), generator=gen)[:GRID_IMAGES]
        self.grid_inputs = torch.stack([dataset[int(i)][0] for i in index]).to(device)
        self.grid_latents = torch.randn(num_grid_samples, self.latent_dim, generator=gen).to(device)

    def prepare(self, wrap: Any) -> None:
        self.encoder, self.decoder = wrap(self.generator.encoder), wrap(self.generator.decoder)

    def stateful_parts(self) -> dict[str, Any]:
        return {"batches": self.batches}

    def start_step(self, step: int) -> None:
        pass

    def next_batch(self) -> Tensor:
        return next(self.batches)[0]

    def discriminator_loss(self, batch: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        raise RuntimeError("the VAE has no discriminator (d_steps = 0)")

    def after_discriminator_update(self) -> None:
        pass

    def generator_loss(self, batch: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        mu, logvar = self.encoder(batch)  # (N, L) each
        z = reparameterize(mu, logvar, torch.randn_like(mu))
        return negative_elbo(batch, self.decoder(z), mu, logvar, std=self.std, beta=self.beta)

    def end_step(self, step: int) -> dict[str, Tensor]:
        return {}

    def scalars(self) -> dict[str, float]:
        return {}

    def images(self, generator: nn.Module) -> dict[str, tuple[Tensor, int]]:
        """Inputs next to their reconstructions (decoded posterior means), and samples from the prior."""
        mu, _ = in_eval_mode(generator, generator.encode, self.grid_inputs)
        recon = in_eval_mode(generator, generator, mu)
        samples = in_eval_mode(generator, generator, self.grid_latents)
        return {"samples/reconstructions": (side_by_side(self.grid_inputs, recon), 8), "samples/fixed": (samples, 8)}

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.evaluator is None:
            return {}
        return self.evaluator(lambda n: in_eval_mode(generator, generator, torch.randn(n, self.latent_dim,
                                                                                     device=self.device)))
