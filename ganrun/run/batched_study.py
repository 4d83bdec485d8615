"""A 2-D mode-collapse study's seeds trained together (ganrun.run.batched) and scored as the papers do.

`train_seeds(cfg, seeds)` builds each seed's run exactly as `ganrun train` does (same code, right after
`seed_everything(seed)`), trains them together for `cfg.trainer.steps`, and hands back each seed's
trained generator; `score_seed` draws 2,500 samples from it (eval mode, fixed latents) and applies
`ganrun.metrics.modes.mode_metrics` (modes captured, % high quality, reverse KL).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from ganrun import experiment
from ganrun.games.gan import generate
from ganrun.metrics.modes import mode_metrics
from ganrun.run import fast_path, state
from ganrun.run.batched import BatchedGAN, Seed, check_supported
from ganrun.sampling import LATENT_PRIORS

SAMPLE_SEED = 1234  # the latents of the scored samples, the same for every seed and method


@dataclass
class Trained:
    seed: int
    generator: nn.Module
    dataset: object
    latent_dim: int


def build_batched(cfg: DictConfig, seeds: list[int]) -> tuple[BatchedGAN, list]:
    """One BatchedGAN over `seeds`, each seed's networks, batches and noise those of its separate run."""
    check_supported(cfg)
    device = torch.device("cpu")
    runs, built = [], []
    for seed in seeds:
        seed_cfg = OmegaConf.merge(cfg, {"seed": int(seed)})
        state.seed_everything(seed)
        game = experiment.build(seed_cfg, device).game  # the separate run's game, from the same global RNG
        noise = torch.Generator().set_state(torch.get_rng_state())  # where its loop starts drawing latents
        runs.append(Seed(game.generator, game.discriminator, game.batches, noise))
        built.append(game)
    objective = built[0].objective

    def optimizer(node):
        return lambda parameters: fast_path.make_optimizer(experiment.make(node), parameters, device)

    batched = BatchedGAN(runs, optimizer_g=optimizer(cfg.optimizer.generator),
                         optimizer_d=optimizer(cfg.optimizer.discriminator), d_loss=objective.discriminator_loss,
                         g_loss=objective.generator_loss, latent_dim=built[0].latent_dim,
                         batch_size=cfg.trainer.batch_size, pack=cfg.tricks.pack)
    return batched, built


def train_seeds(cfg: DictConfig, seeds: list[int], steps: int | None = None) -> tuple[list[Trained], float]:
    """Train every seed for `steps` (default trainer.steps) together; returns them and the seconds taken."""
    batched, built = build_batched(cfg, seeds)
    started = time.perf_counter()
    batched.train(cfg.trainer.steps if steps is None else steps)
    seconds = time.perf_counter() - started
    batched.finish()
    return [Trained(seed, game.generator, game.dataset, game.latent_dim) for seed, game in zip(seeds, built)], seconds


def samples_of(trained: Trained, num_points: int = 2500) -> np.ndarray:
    z = LATENT_PRIORS["gaussian"](num_points, trained.latent_dim, generator=torch.Generator().manual_seed(SAMPLE_SEED))
    return generate(trained.generator, z).numpy()


def score(points: np.ndarray, dataset) -> dict[str, float]:
    return mode_metrics(torch.from_numpy(points), dataset.modes, dataset.std)
