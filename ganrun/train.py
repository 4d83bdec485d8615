"""Build the experiment from the config, then train it: one loop, read top to bottom.

Each iteration is Algorithm 1 of Goodfellow et al. (2014) with the objective's losses: k = d_steps
updates of D on fresh real and generated batches, then one update of G on a fresh latent batch.
Nothing in a step waits for the device; values are read back only at logging steps, except with
seed 001's adaptive schedule (tricks.adaptive), whose while-loops read each loss to decide.
The tricks (ganrun/tricks.py) act at marked points: what D sees, G's EMA, the learning rates.
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
from torch.nn.utils import clip_grad_norm_

from ganrun import checkpoint
from ganrun.config import ConfigError, is_conditional
from ganrun.data import infinite_batches
from ganrun.models import apply_spectral_norm
from ganrun.objectives import source_scores
from ganrun.objectives_energy import began_equilibrium, initial_began_state
from ganrun.progress import Progress
from ganrun.tricks import (LATENT_PRIORS, ReplayBuffer, discriminator_input, instance_noise_std, judge,
                           keep_training, linear_decay, make_ema, packed_shape, trick_scalars)
from ganrun.unrolled import unrolled_discriminator
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
    g_penalty: Callable[..., tuple[Tensor, dict[str, Tensor]]] | None = None  # EBGAN's pull-away term
    num_classes: int | None = None  # set when conditional: G and D take labels


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


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
    tricks, objective = cfg.tricks, cfg.objective
    # Keyword arguments only where a switch is on, so every family's defaults stay its paper's.
    labels = {"num_classes": dataset.num_classes} if is_conditional(cfg) else {}
    d_options = dict(labels)
    if objective.auxiliary_classifier:  # AC-GAN: a class head on D instead of the projection
        d_options["auxiliary_classifier"] = True
    if tricks.minibatch_std:
        d_options["minibatch_std"] = True
    smoothing = tricks.label_smoothing  # soft targets of the sigmoid cross-entropy, when set
    targets = ({} if (smoothing.real, smoothing.fake) == (1.0, 0.0)
               else {"real_target": smoothing.real, "fake_target": smoothing.fake})
    generator = make(cfg.architecture.generator, data_shape=tuple(dataset.data_shape), **labels).to(device)
    # PacGAN: D judges `pack` samples at once, so its input has pack times the channels.
    discriminator = make(cfg.architecture.discriminator,
                         data_shape=packed_shape(tuple(dataset.data_shape), tricks.pack), **d_options)
    if cfg.architecture.spectral_norm:
        discriminator = apply_spectral_norm(discriminator)
    discriminator = discriminator.to(device)
    return Experiment(
        dataset=dataset,
        generator=generator,
        discriminator=discriminator,
        optimizer_g=make(cfg.optimizer.generator)(generator.parameters()),
        optimizer_d=make(cfg.optimizer.discriminator)(discriminator.parameters()),
        d_loss=make(objective.d_loss, **targets),
        g_loss=make(objective.g_loss),
        penalty=make(objective.penalty) if objective.penalty is not None else None,
        latent_dim=cfg.architecture.latent_dim,
        g_penalty=make(objective.g_penalty) if objective.g_penalty is not None else None,
        num_classes=dataset.num_classes if is_conditional(cfg) else None,
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


def training_state(exp: Experiment, cfg: DictConfig, step: int, extra: dict[str, Any]) -> dict[str, Any]:
    """Everything to continue a run. `extra` holds the tricks' and objectives' own state when they are
    on: G's EMA, the replay buffer, BEGAN's k_t, the learning-rate schedules."""
    return {
        "step": step,
        "generator": exp.generator.state_dict(),
        "discriminator": exp.discriminator.state_dict(),
        "optimizer_g": exp.optimizer_g.state_dict(),
        "optimizer_d": exp.optimizer_d.state_dict(),
        "rng_torch": torch.get_rng_state(),
        "config": OmegaConf.to_yaml(cfg, resolve=True),
        **extra,
    }


@torch.no_grad()
def generate(generator: nn.Module, latents: Tensor, labels: Tensor | None = None) -> Tensor:
    """Samples in eval mode, so drawing a grid never moves BatchNorm's running statistics."""
    was_training = generator.training
    generator.eval()
    samples = generator(latents, labels)
    generator.train(was_training)
    return samples


def grid_labels(num_classes: int, num_samples: int, device: torch.device) -> Tensor:
    """Labels of a conditional grid: one row per class, num_samples // num_classes (at least 1) per row."""
    per_class = max(1, num_samples // num_classes)
    return torch.arange(num_classes, device=device).repeat_interleave(per_class)


def run(cfg: DictConfig, run_dir: Path) -> float | None:
    """Train for `trainer.steps` steps (one or more G updates each); returns the final generator loss."""
    trainer, objective, tricks = cfg.trainer, cfg.objective, cfg.tricks
    device = resolve_device(trainer.device)
    torch.manual_seed(cfg.seed)
    exp = build(cfg, device)
    G, D = exp.generator, exp.discriminator
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))

    conditional = exp.num_classes is not None
    batches = ((x, y if conditional else None) for x, y in infinite_batches(
        exp.dataset, trainer.batch_size, seed=cfg.seed, device=device, num_workers=trainer.num_workers))
    prior = LATENT_PRIORS[tricks.latent]
    sample_latents = partial(prior, trainer.batch_size, exp.latent_dim, device=device)
    sample_labels = (partial(torch.randint, exp.num_classes, (trainer.batch_size,), device=device)
                     if conditional else lambda: None)
    points = len(exp.dataset.data_shape) == 1  # 2-D mixtures: a scatter plot instead of a grid
    num_fixed = SCATTER_SAMPLES if points else trainer.num_grid_samples
    fixed_labels = grid_labels(exp.num_classes, num_fixed, device) if conditional else None
    fixed_latents = prior(num_fixed if fixed_labels is None else len(fixed_labels), exp.latent_dim,
                          generator=torch.Generator().manual_seed(cfg.seed + 1)).to(device)
    real_points = exp.dataset.tensors[0][:SCATTER_SAMPLES] if points else None

    # State of the tricks and objectives that have any (see training_state)
    history = ReplayBuffer(tricks.history.size, tricks.history.fraction) if tricks.history.size else None
    ema = make_ema(G, tricks.ema_decay) if tricks.ema_decay is not None else None
    schedulers = ([linear_decay(o, trainer.steps) for o in (exp.optimizer_d, exp.optimizer_g)]
                  if tricks.linear_lr_decay else [])
    objective_state = initial_began_state(device) if objective.equilibrium is not None else {}
    adaptive = tricks.adaptive  # seed 001's schedule; thresholds of null give the fixed counts
    max_d_updates = objective.d_steps if adaptive.t_d is None else adaptive.max_updates
    max_g_updates = 1 if adaptive.t_g is None else adaptive.max_updates

    writer = RunWriter(run_dir)
    writer.text("config", "```\n" + OmegaConf.to_yaml(cfg, resolve=True) + "\n```")
    progress = Progress(trainer.steps, mode=trainer.progress)
    checkpoints = run_dir / "checkpoints"
    scalars: dict[str, float] = {}
    started = time.perf_counter()

    for step in range(1, trainer.steps + 1):
        logging_step = step % trainer.log_every == 0 or step == trainer.steps
        noise_std = instance_noise_std(step, tricks.instance_noise.std, tricks.instance_noise.anneal_steps)
        d_grad_norm = g_grad_norm = torch.zeros((), device=device)
        d_updates = g_updates = 0

        # ---- D updates: the seeds' k = d_steps of them, or while loss_D > t_d; G held fixed
        for _ in range(max_d_updates):
            real, real_labels = next(batches)
            with torch.no_grad():
                fake_labels = sample_labels()
                fake = G(sample_latents(), fake_labels)
            if history is not None:  # historical generator batches: part of the fakes from the past
                fake, fake_labels = history.mix(fake, fake_labels)
            # What D sees: instance noise, then PacGAN packing (both no-ops when off)
            real_in, fake_in = (discriminator_input(x, noise_std, tricks.pack) for x in (real, fake))
            # Real and fake go through D in separate batches (BatchNorm sees one kind at a time) unless mixed.
            d_real, d_fake = judge(D, real_in, real_labels, fake_in, fake_labels, tricks.mixed_bn_batches)
            d_loss, d_terms = exp.d_loss(d_real, d_fake, **objective_state)
            if exp.penalty is not None:  # penalties see D with the real batch's labels (if any)
                penalty, penalty_terms = exp.penalty(partial(D, labels=real_labels), real_in, fake_in)
                d_loss, d_terms = d_loss + penalty, {**d_terms, **penalty_terms}
            if not keep_training(d_loss, adaptive.t_d):
                break
            exp.optimizer_d.zero_grad(set_to_none=True)
            d_loss.backward()
            d_grad_norm = gradient_norm(D) if logging_step else d_grad_norm
            if tricks.grad_clip is not None:
                clip_grad_norm_(D.parameters(), tricks.grad_clip)
            exp.optimizer_d.step()
            d_updates += 1
            if objective.clip_weights is not None:
                clip_weights(D, objective.clip_weights)

        # ---- G updates: one on a fresh latent batch, or while loss_G > t_g; D held fixed
        D.requires_grad_(False)  # no gradients into D's weights: they would be discarded anyway
        for _ in range(max_g_updates):
            fake_labels = sample_labels()
            fake_in = discriminator_input(G(sample_latents(), fake_labels), noise_std, tricks.pack)
            scorer = D
            if objective.unroll_steps:  # Unrolled GAN: G is scored by D after K differentiable D updates
                real, real_labels = next(batches)
                scorer = unrolled_discriminator(D, exp.d_loss, exp.optimizer_d,
                                                discriminator_input(real, noise_std, tricks.pack), real_labels,
                                                fake_in, fake_labels, objective.unroll_steps)
            d_fake_g = scorer(fake_in, fake_labels)
            g_loss, g_terms = exp.g_loss(d_fake_g)
            if exp.g_penalty is not None:
                g_penalty, g_penalty_terms = exp.g_penalty(D, fake_in)
                g_loss, g_terms = g_loss + g_penalty, {**g_terms, **g_penalty_terms}
            if not keep_training(g_loss, adaptive.t_g):
                break
            exp.optimizer_g.zero_grad(set_to_none=True)
            g_loss.backward()
            g_grad_norm = gradient_norm(G) if logging_step else g_grad_norm
            if tricks.grad_clip is not None:
                clip_grad_norm_(G.parameters(), tricks.grad_clip)
            exp.optimizer_g.step()
            g_updates += 1
        D.requires_grad_(True)

        # ---- after the updates: G's moving average, BEGAN's k_t, the learning-rate schedules
        if ema is not None:
            ema.update_parameters(G)
        if objective.equilibrium is not None:  # from this step's real energies and G's fake energies
            objective_state["k"], equilibrium_terms = began_equilibrium(
                objective_state["k"], d_real, d_fake_g, **objective.equilibrium)
            g_terms = {**g_terms, **equilibrium_terms}
        for scheduler in schedulers:
            scheduler.step()

        # ---- interval work: the only places that read values back from the device
        if logging_step:
            values = {"loss/D": d_loss, "loss/G": g_loss, "D/real": source_scores(d_real).mean(),
                      "D/fake": source_scores(d_fake).mean(), "grad_norm/D": d_grad_norm, "grad_norm/G": g_grad_norm,
                      **{f"objective/{name}": value for name, value in {**d_terms, **g_terms}.items()}}
            scalars = {name: float(value.detach()) for name, value in values.items()}
            scalars.update(trick_scalars(tricks, noise_std=noise_std, history=history, d_updates=d_updates,
                                         g_updates=g_updates, optimizers=(exp.optimizer_d, exp.optimizer_g)))
            scalars["speed/steps_per_second"] = step / (time.perf_counter() - started)
            writer.scalars(step, scalars)
            progress.update(step, scalars)
        if (trainer.sample_every and step % trainer.sample_every == 0) or step == trainer.steps:
            # grids come from the EMA of G when there is one; one row per class when conditional
            samples = generate(G if ema is None else ema.module, fixed_latents, fixed_labels)
            writer.samples(step, samples, real_points, nrow=None if fixed_labels is None else len(fixed_labels)
                           // exp.num_classes)
        if (trainer.checkpoint_every and step % trainer.checkpoint_every == 0) or step == trainer.steps:
            extra = {"generator_ema": ema.state_dict()} if ema is not None else {}
            extra |= {"history": history.state_dict()} if history is not None else {}
            extra |= {"objective_state": dict(objective_state)} if objective_state else {}
            extra |= {"lr_schedulers": [s.state_dict() for s in schedulers]} if schedulers else {}
            checkpoint.save(training_state(exp, cfg, step, extra), checkpoint.checkpoint_path(checkpoints, step))

    progress.close()
    writer.close()
    print(f"Run folder: {run_dir}\nSee it with: tensorboard --logdir {run_dir.parent}")
    return scalars.get("loss/G")
