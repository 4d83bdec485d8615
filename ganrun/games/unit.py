"""UNIT / CoVAE-GAN (Liu, Breuel & Kautz 2017; the deck of lecture 13, "Joint image distribution") as a game.

Two VAEs E1/G1 and E2/G2 whose encoders share their last layers and decoders their first (models/unit.py)
map both domains to one latent space; D1 and D2 (CoGAN's coupled discriminator) judge each domain. Per step,
with z_a = mu_a + sigma_a * eps ~ q1(z|a) and z_b ~ q2(z|b): reconstructions G1(z_a), G2(z_b),
translations a->b = G2(z_a), b->a = G1(z_b), and the cycle a->b->a = G1(z'), z' ~ q2(z|a->b) (and back).
D_B sees real b against a->b, D_A real a against b->a (`judge_reconstructions` adds G1(z_a) and G2(z_b),
the deck's form); E and G minimise objectives/unit.py's weighted total, with the adversarial terms from the
run's Objective. As CycleGAN, each step encodes and translates once: D's update sees the translations
detached, E's and G's update reuses them with their graphs. Networks: `generator` = CoupledVAE (E1, E2,
G1, G2), `discriminator` = CoupledDiscriminator (D(x, 0) = D_A, D(x, 1) = D_B).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.errors import ConfigError
from ganrun.games.base import Game, Terms, Visual
from ganrun.games.helpers import TwoDomains, coupled_networks, read_dataset
from ganrun.games.translation import evaluating, unwrapped, visual
from ganrun.objectives.unit import UNITWeights, cycle_parts, generator_total, vae_parts
from ganrun.objectives.vae import reparameterize

DOMAINS = ("A", "B")


class UNITGame(TwoDomains, Game):
    def __init__(self, generator: nn.Module, discriminator: nn.Module, objective: Any, train: Any, test: Any, *,
                 batch_size: int, seed: int, device: torch.device, weights: UNITWeights, recon_p: int = 1,
                 unit_variance: bool = False, judge_reconstructions: bool = False, grid_rows: int = 8,
                 metrics: Optional[Callable[..., dict[str, float]]] = None):
        self.generator, self.discriminator, self.objective = generator, discriminator, objective
        self.d_steps = objective.d_steps
        self.weights, self.recon_p, self.unit_variance = weights, recon_p, unit_variance
        self.judge_reconstructions = judge_reconstructions
        self.batches = [infinite_batches(domain, batch_size, seed=seed + i, device=device)
                        for i, domain in enumerate(train.domains)]
        self.fixed = tuple(d.tensors[0][:grid_rows].to(device) for d in test.domains)
        self.data_shape, self.device, self.metrics = tuple(train.data_shape), device, metrics
        self.E, self.G, self.D = generator.encoder, generator.decoder, discriminator
        self._cache: Optional[tuple[Any, dict[str, Tensor]]] = None

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.E, self.G, self.D = wrap(self.generator.encoder), wrap(self.generator.decoder), wrap(self.discriminator)

    def encode(self, x: Tensor, index: int) -> tuple[Tensor, Tensor, Tensor]:
        """mu, logvar of q_index(z|x) and z = mu + sigma * eps (the reparameterisation)."""
        mu, logvar = self.E(x, index)
        if self.unit_variance:  # the paper's q = N(mu, I)
            logvar = torch.zeros_like(mu)
        return mu, logvar, reparameterize(mu, logvar, torch.randn_like(mu))

    def _streams(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        """Codes, reconstructions and translations of one batch, computed once per step (with graphs)."""
        if self._cache is None or self._cache[0] is not batch:
            out = {}
            for index, (domain, x) in enumerate(zip(DOMAINS, batch)):
                other = DOMAINS[1 - index]
                out[f"mu_{domain}"], out[f"logvar_{domain}"], z = self.encode(x, index)
                out[f"{domain}2{domain}"] = self.G(z, index)   # reconstruction stream
                out[f"{domain}2{other}"] = self.G(z, 1 - index)  # translation stream
            self._cache = (batch, out)
        return self._cache[1]

    def _fakes(self, streams: dict[str, Tensor], domain: str) -> Tensor:
        """What D of `domain` sees as fake: the translations into it (and its reconstructions)."""
        other = DOMAINS[1 - DOMAINS.index(domain)]
        fakes = [streams[f"{other}2{domain}"]]
        return torch.cat(fakes + [streams[f"{domain}2{domain}"]]) if self.judge_reconstructions else fakes[0]

    def discriminator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        streams = self._streams(batch)
        total, terms = 0.0, {}
        for index, (domain, real) in enumerate(zip(DOMAINS, batch)):
            fake = self._fakes(streams, domain).detach()
            real_scores, fake_scores = self.D(real, index), self.D(fake, index)
            loss, parts = self.objective.discriminator_loss(real_scores, fake_scores)
            penalty, penalty_parts = self.objective.penalty(self.discriminator.branch(index), real, fake[:len(real)])
            total = total + self.weights.gan * (loss + (0.0 if penalty is None else penalty))  # lambda0 L_GAN
            terms |= {f"D_{domain}/{k}": v for k, v in penalty_parts.items()}
            terms |= {f"D_{domain}/loss": loss.detach(), f"D_{domain}/real": real_scores.detach().mean(),
                      f"D_{domain}/fake": fake_scores.detach().mean()}
        return total, terms

    def after_discriminator_update(self) -> None:
        self.objective.after_discriminator_update(self.discriminator)

    def generator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        streams = self._streams(batch)
        self._cache = None
        total, terms = 0.0, {}
        for index, (domain, x) in enumerate(zip(DOMAINS, batch)):
            other = 1 - index
            translated = streams[f"{domain}2{DOMAINS[other]}"]
            fake = self._fakes(streams, DOMAINS[other])
            real_scores = self.D(batch[other], other) if self.objective.generator_sees_real else None
            gan, _ = self.objective.generator_loss(self.D(fake, other), real_scores)
            mu_c, logvar_c, z_c = self.encode(translated, other)  # q_other(z | x -> other)
            parts = {"gan": gan, **vae_parts(x, streams[f"{domain}2{domain}"], streams[f"mu_{domain}"],
                                             streams[f"logvar_{domain}"], self.recon_p),
                     **cycle_parts(x, self.G(z_c, index), mu_c, logvar_c, self.recon_p)}
            total = total + generator_total(parts, self.weights)
            terms |= {f"loss/{name}_{domain}": value.detach() for name, value in parts.items()}
        return total, terms

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        """Rows of held-out test images: A | A->B | A->B->A and B | B->A | B->A->B (posterior means)."""
        vae = unwrapped(generator)
        grids = {}
        with torch.no_grad(), evaluating(vae):
            for index, (domain, x) in enumerate(zip(DOMAINS, self.fixed)):
                other = DOMAINS[1 - index]
                there = vae(x, index)
                grids[f"translation/{domain}_{domain}2{other}_{domain}2{other}2{domain}"] = visual(
                    x, there, vae(there, 1 - index))
        return grids

    def translator(self, direction: str) -> tuple[nn.Module, int, int]:
        """x -> G_other(mu(E_source(x))), A -> B ("AtoB") or B -> A ("BtoA"), for `ganrun translate`."""
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction={direction}: UNIT translates AtoB or BtoA")
        return unwrapped(self.generator).translator(0 if direction == "AtoB" else 1), *self.data_shape[::2]

    def sheet(self, generator: nn.Module, num: int, noise: torch.Generator) -> tuple[Tensor, Tensor, int]:
        """For `ganrun sample`: pairs G1(z) | G2(z) from one z ~ N(0, I) of the shared latent space."""
        vae = unwrapped(generator)
        z = torch.randn(vae.latent_shape(num), generator=noise).to(self.device)
        with torch.no_grad(), evaluating(vae):
            return z, torch.stack([vae.decoder(z, 0), vae.decoder(z, 1)], dim=1).flatten(0, 1), 2

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.metrics is None:
            return {}
        vae = unwrapped(generator)
        with evaluating(vae):
            return self.metrics(vae.translator(0), vae.translator(1))


def build(cfg: Any, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int, name: str = "unit",
          own_metrics: bool = True, own_samples: bool = True, datasets: Any = None, gan_weight: float = 10.0,
          kl_weight: float = 0.1, recon_weight: float = 100.0, cycle_kl_weight: float = 0.1,
          cycle_recon_weight: float = 100.0, recon_p: int = 1, unit_variance: bool = False,
          judge_reconstructions: bool = False, grid_rows: int = 8) -> UNITGame:
    """architecture=unit (CoupledVAE, CoupledDiscriminator), a two-domain dataset (mnist_negative, mnist_edge)."""
    train = read_dataset(cfg, make)
    if not hasattr(train, "domains"):  # game.datasets lists the two-domain ones; the config checks refuse others
        raise ConfigError(f"game=unit needs a two-domain dataset (dataset=mnist_negative or mnist_edge), "
                          f"got dataset={cfg.dataset.name}")
    test = read_dataset(cfg, make, train=False)
    if recon_p not in (1, 2):
        raise ConfigError(f"game.recon_p={recon_p}: UNIT's reconstruction is L1 (1, the paper) or L2 (2)")
    generator, discriminator = coupled_networks(cfg, make, tuple(train.data_shape), device)
    metrics = None
    if evaluate:
        from ganrun.metrics.coupled import build_coupled_metrics

        m = cfg.metrics
        metrics = build_coupled_metrics(train, test, name=cfg.dataset.name, cache_dir=m.cache_dir, device=device,
                                        batch_size=m.batch_size, kid_subsets=m.kid_subsets,
                                        kid_subset_size=m.kid_subset_size, seed=m.seed)
    weights = UNITWeights(gan_weight, kl_weight, recon_weight, cycle_kl_weight, cycle_recon_weight)
    return UNITGame(generator, discriminator, make(cfg.objective), train, test, batch_size=cfg.trainer.batch_size,
                    seed=seed, device=device, weights=weights, recon_p=recon_p, unit_variance=unit_variance,
                    judge_reconstructions=judge_reconstructions, grid_rows=grid_rows, metrics=metrics)
