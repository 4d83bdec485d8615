"""Build the experiment from the config, then train it: one loop, read top to bottom.

Each iteration is Algorithm 1 of Goodfellow et al. (2014) with the objective's losses: k = d_steps
updates of D on fresh real and generated batches, then one update of G on a fresh latent batch.
Nothing in a step waits for the device; values are read back only at logging steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn

from ganrun import checkpoint, distributed
from ganrun.config import ConfigError
from ganrun.data import infinite_batches
from ganrun.models import apply_spectral_norm
from ganrun.progress import Progress
from ganrun.sweeps import hparams_of
from ganrun.writer import RunWriter

SCATTER_SAMPLES = 1000  # fixed latents drawn in the 2-D scatter plot


@dataclass
class Experiment:
    """Everything a run trains and evaluates; plain objects, built from the config by `build`."""

    dataset: Any
    generator: nn.Module
    discriminator: nn.Module
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer
    d_loss: Callable[[Tensor, Tensor], tuple[Tensor, dict[str, Tensor]]]
    g_loss: Callable[[Tensor], tuple[Tensor, dict[str, Tensor]]]
    penalty: Callable[..., tuple[Tensor, dict[str, Tensor]]] | None
    latent_dim: int


def resolve_device(name: str) -> torch.device:
    return distributed.auto_device() if name == "auto" else torch.device(name)


def make(node: DictConfig, **kwargs: Any) -> Any:
    """`hydra.utils.instantiate`, letting a user's mistake (ConfigError) through unwrapped.

    Every object of a run is made here, from `build`: the one place to add Hydra 1.4's target allowlist.
    """
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as error:
        if isinstance(error.__cause__, (ConfigError, ValueError)):
            raise ConfigError(str(error.__cause__)) from error.__cause__
        raise


def build(cfg: DictConfig, device: torch.device) -> Experiment:
    dataset = make(cfg.dataset)
    generator = make(cfg.architecture.generator, data_shape=tuple(dataset.data_shape)).to(device)
    discriminator = make(cfg.architecture.discriminator, data_shape=tuple(dataset.data_shape))
    if cfg.architecture.spectral_norm:
        discriminator = apply_spectral_norm(discriminator)
    discriminator = discriminator.to(device)
    return Experiment(
        dataset=dataset,
        generator=generator,
        discriminator=discriminator,
        optimizer_g=make(cfg.optimizer.generator)(generator.parameters()),
        optimizer_d=make(cfg.optimizer.discriminator)(discriminator.parameters()),
        d_loss=make(cfg.objective.d_loss),
        g_loss=make(cfg.objective.g_loss),
        penalty=make(cfg.objective.penalty) if cfg.objective.penalty is not None else None,
        latent_dim=cfg.architecture.latent_dim,
    )


def gradient_norm(module: nn.Module) -> Tensor:
    """The global L2 norm of a module's gradients, as a device tensor (no host sync)."""
    norms = [p.grad.detach().norm(2) for p in module.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(norms)) if norms else torch.zeros(())


def clip_weights(module: nn.Module, bound: float) -> None:
    """WGAN: w <- clip(w, -c, c) after every critic update."""
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.clamp_(-bound, bound)


def training_state(exp: Experiment, cfg: DictConfig, step: int) -> dict[str, Any]:
    return {
        "step": step,
        "generator": exp.generator.state_dict(),
        "discriminator": exp.discriminator.state_dict(),
        "optimizer_g": exp.optimizer_g.state_dict(),
        "optimizer_d": exp.optimizer_d.state_dict(),
        "rng_torch": torch.get_rng_state(),
        "config": OmegaConf.to_yaml(cfg, resolve=True),
    }


@torch.no_grad()
def generate(generator: nn.Module, latents: Tensor) -> Tensor:
    """Samples in eval mode, so drawing a grid never moves BatchNorm's running statistics."""
    was_training = generator.training
    generator.eval()
    samples = generator(latents)
    generator.train(was_training)
    return samples


def run(cfg: DictConfig, run_dir: Path) -> float | None:
    """Train for `trainer.steps` generator updates; returns the final generator loss."""
    trainer, objective = cfg.trainer, cfg.objective
    device = resolve_device(trainer.device)
    torch.manual_seed(cfg.seed)
    exp = build(cfg, device)
    G, D = exp.generator, exp.discriminator
    main, rank = distributed.is_main(), distributed.rank()  # under torchrun, rank 0 alone writes
    if distributed.active():  # same weights on every rank, then different batches and noise on each
        for module in (G, D):
            distributed.broadcast_state(module)
        torch.manual_seed(cfg.seed + rank)
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))

    batches = infinite_batches(exp.dataset, trainer.batch_size, seed=cfg.seed + rank, device=device,
                               num_workers=trainer.num_workers)
    sample_latents = partial(torch.randn, trainer.batch_size, exp.latent_dim, device=device)
    points = len(exp.dataset.data_shape) == 1  # 2-D mixtures: a scatter plot instead of a grid
    fixed_latents = torch.randn(SCATTER_SAMPLES if points else trainer.num_grid_samples, exp.latent_dim,
                                generator=torch.Generator().manual_seed(cfg.seed + 1)).to(device)
    real_points = exp.dataset.tensors[0][:SCATTER_SAMPLES] if points else None

    writer = RunWriter(run_dir, hparams=hparams_of(cfg)) if main else distributed.Silent()
    writer.text("config", "```\n" + OmegaConf.to_yaml(cfg, resolve=True) + "\n```")
    progress = Progress(trainer.steps, mode=trainer.progress) if main else distributed.Silent()
    checkpoints = run_dir / "checkpoints"
    scalars: dict[str, float] = {}
    started = time.perf_counter()

    for step in range(1, trainer.steps + 1):
        logging_step = step % trainer.log_every == 0 or step == trainer.steps

        # ---- k discriminator updates (the seeds' inner loop), G held fixed
        for _ in range(objective.d_steps):
            real, _labels = next(batches)
            with torch.no_grad():
                fake = G(sample_latents())
            # Real and fake go through D in separate batches (BatchNorm sees one kind at a time).
            d_real, d_fake = D(real), D(fake)
            d_loss, d_terms = exp.d_loss(d_real, d_fake)
            if exp.penalty is not None:
                penalty, penalty_terms = exp.penalty(D, real, fake)
                d_loss, d_terms = d_loss + penalty, {**d_terms, **penalty_terms}
            exp.optimizer_d.zero_grad(set_to_none=True)
            d_loss.backward()
            distributed.average_gradients(D)
            d_grad_norm = gradient_norm(D) if logging_step else None
            exp.optimizer_d.step()
            if objective.clip_weights is not None:
                clip_weights(D, objective.clip_weights)

        # ---- one generator update on a fresh latent batch, D held fixed
        D.requires_grad_(False)  # no gradients into D's weights: they would be discarded anyway
        g_loss, g_terms = exp.g_loss(D(G(sample_latents())))
        exp.optimizer_g.zero_grad(set_to_none=True)
        g_loss.backward()
        distributed.average_gradients(G)
        g_grad_norm = gradient_norm(G) if logging_step else None
        exp.optimizer_g.step()
        D.requires_grad_(True)

        # ---- interval work: the only places that read values back from the device
        if logging_step:
            values = {"loss/D": d_loss, "loss/G": g_loss, "D/real": d_real.mean(), "D/fake": d_fake.mean(),
                      "grad_norm/D": d_grad_norm, "grad_norm/G": g_grad_norm,
                      **{f"objective/{name}": value for name, value in {**d_terms, **g_terms}.items()}}
            scalars = {name: float(value.detach()) for name, value in values.items()}
            scalars["speed/steps_per_second"] = step / (time.perf_counter() - started)
            writer.scalars(step, scalars)
            progress.update(step, scalars)
        if (trainer.sample_every and step % trainer.sample_every == 0) or step == trainer.steps:
            writer.samples(step, generate(G, fixed_latents), real_points)
        if main and ((trainer.checkpoint_every and step % trainer.checkpoint_every == 0) or step == trainer.steps):
            checkpoint.save(training_state(exp, cfg, step), checkpoint.checkpoint_path(checkpoints, step))

    progress.close()
    writer.close()
    if main:
        print(f"Run folder: {run_dir}\nSee it with: tensorboard --logdir {run_dir.parent}")
    return scalars.get("loss/G")
