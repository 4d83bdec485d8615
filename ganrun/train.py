"""Build the experiment from the config, then train it: one loop, read top to bottom.

Each iteration is Algorithm 1 of Goodfellow et al. (2014) with the objective's losses: k = d_steps
updates of D on fresh real and generated batches, then one update of G on a fresh latent batch
(`trainer.reuse_fake=true`: on the D step's fakes instead, as pytorch/examples' DCGAN does).
Nothing in a step waits for the device; values are read back only at logging steps, except with
seed 001's adaptive schedule (tricks.adaptive), whose while-loops read each loss to decide.
The tricks (ganrun/tricks.py) act at marked points: what D sees, G's EMA, the learning rates. The fast
path (precision, channels_last, compile, fused optimizers) is set up in fast_path.py: G and D below are
what the loop calls, `exp.generator` / `exp.discriminator` what checkpoints save.
"""

from __future__ import annotations

import json
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
from torch.optim.lr_scheduler import LambdaLR
from torch.optim.swa_utils import AveragedModel

from ganrun import checkpoint, distributed, fast_path, state
from ganrun.config import ConfigError
from ganrun.config_family import is_conditional, model_options, smoothing_targets
from ganrun.data import infinite_batches
from ganrun.guard import NonFiniteGuard
from ganrun.metrics import build_evaluator
from ganrun.models import apply_spectral_norm
from ganrun.objectives import source_scores
from ganrun.objectives_energy import ObjectiveState, began_equilibrium, initial_began_state
from ganrun.preemption import StopSignals
from ganrun.progress import Progress
from ganrun.recipes import build_augment, build_penalty, build_schedules
from ganrun.sampling import GeneratorInputs, real_batch
from ganrun.sweeps import hparams_of
from ganrun.tricks import (ReplayBuffer, discriminator_input, ema_decay_at, instance_noise_std, judge, keep_training,
                           packed_shape, stateful_tricks, trick_scalars)
from ganrun.unrolled import unrolled_discriminator
from ganrun.writer import RunWriter

SCATTER_SAMPLES = 1000  # fixed latents drawn in the 2-D scatter plot


@dataclass
class Experiment:
    """Everything a run trains and evaluates; plain objects, built from the config by `build`.

    Every field with `state_dict()` and `load_state_dict()` goes into checkpoints under its field name
    and is restored on resume (state.py): a stateful component added here is carried automatically.
    """

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
    # State of the tricks and objectives that have any (None when off): checkpoints carry them by name
    ema_generator: AveragedModel | None = None
    history: ReplayBuffer | None = None
    objective_state: ObjectiveState | None = None  # BEGAN's k_t
    scheduler_d: LambdaLR | None = None
    scheduler_g: LambdaLR | None = None
    regularizer: Any = None  # the lazy R1/R2 regularizer (its call count is state)
    augment: Callable[[Tensor], Tensor] | None = None  # DiffAugment on every input of D
    generator_sees_real: bool = False  # relativistic losses: g_loss(fake_scores, real_scores)


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
    tricks, objective = cfg.tricks, cfg.objective
    num_classes = dataset.num_classes if is_conditional(cfg) else None
    g_options, d_options = model_options(cfg, num_classes)  # labels, AC-GAN's head, minibatch stddev
    generator = make(cfg.architecture.generator, data_shape=tuple(dataset.data_shape), **g_options).to(device)
    # PacGAN: D judges `pack` samples at once, so its input has pack times the channels.
    discriminator = make(cfg.architecture.discriminator,
                         data_shape=packed_shape(tuple(dataset.data_shape), tricks.pack), **d_options)
    if cfg.architecture.spectral_norm:
        discriminator = apply_spectral_norm(discriminator)
    discriminator = discriminator.to(device)
    optimizer_g = fast_path.make_optimizer(make(cfg.optimizer.generator), generator.parameters(), device)
    optimizer_d = fast_path.make_optimizer(make(cfg.optimizer.discriminator), discriminator.parameters(), device)
    penalty, regularizer = build_penalty(cfg, make)  # the objective's own penalty + R1/R2 + L2 on D's weights
    return Experiment(
        dataset=dataset,
        generator=generator,
        discriminator=discriminator,
        optimizer_g=optimizer_g,
        optimizer_d=optimizer_d,
        d_loss=make(objective.d_loss, **smoothing_targets(cfg)),  # label smoothing's targets, when on
        g_loss=make(objective.g_loss),
        penalty=penalty,
        regularizer=regularizer,
        augment=build_augment(tricks.diffaugment),
        generator_sees_real=objective.generator_sees_real,
        latent_dim=cfg.architecture.latent_dim,
        g_penalty=make(objective.g_penalty) if objective.g_penalty is not None else None,
        num_classes=num_classes,
        objective_state=initial_began_state(device) if objective.equilibrium is not None else None,
        **stateful_tricks(tricks, cfg.trainer.steps, generator, optimizer_d, optimizer_g),
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


@torch.no_grad()
def generate(generator: nn.Module, latents: Tensor, labels: Tensor | None = None) -> Tensor:
    """Samples in eval mode, so drawing a grid never moves BatchNorm's running statistics."""
    was_training = generator.training
    generator.eval()
    samples = generator(latents, labels)
    generator.train(was_training)
    return samples


def run(cfg: DictConfig, run_dir: Path) -> float | None:
    """Train for `trainer.steps` generator updates, continuing from the run folder's newest checkpoint
    (or `trainer.resume`'s) when there is one; returns the final generator loss."""
    trainer, objective, tricks = cfg.trainer, cfg.objective, cfg.tricks
    device = resolve_device(trainer.device)
    state.seed_everything(cfg.seed)
    fast_path.configure_backends(device, trainer)
    exp = build(cfg, device)
    main, rank = distributed.is_main(), distributed.rank()  # under torchrun, rank 0 alone writes
    for module in (exp.generator, exp.discriminator):
        distributed.broadcast_state(module)  # the same weights on every rank (a no-op in one process)
    G, D = (fast_path.for_training(module, trainer, device) for module in (exp.generator, exp.discriminator))
    fast_path.warn_eager_penalty(trainer, exp.penalty)
    schedules = build_schedules(cfg, exp)  # any number of the config on a schedule
    augment = exp.augment or (lambda x: x)
    scaling = fast_path.LossScaling(trainer.precision, device,  # fp16's gradient scaling; else plain
                                    optimizer_d=exp.optimizer_d, optimizer_g=exp.optimizer_g)
    reuse_fake = trainer.reuse_fake
    batches = infinite_batches(exp.dataset, trainer.batch_size, seed=cfg.seed + rank, device=device,
                               num_workers=trainer.num_workers, on_device=trainer.data_on_device)
    guard = NonFiniteGuard(trainer.on_nan, device)
    # what a checkpoint carries
    parts = state.stateful_parts(exp, batches=batches, nonfinite=guard, loss_scaling=scaling)
    checkpoints = run_dir / "checkpoints"
    last_saved, saved = state.find_checkpoint(checkpoints, trainer.resume) or (None, None)
    start = state.restore(parts, saved, cfg, last_saved) if saved else 0  # ConfigError: another config
    if start >= trainer.steps:
        print(f"{run_dir} already holds step {start} of trainer.steps={trainer.steps}: nothing to train")
        return None
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))

    conditional = exp.num_classes is not None
    inputs = GeneratorInputs(tricks.latent, exp.latent_dim, exp.num_classes, device)  # z (and labels) for G
    points = len(exp.dataset.data_shape) == 1  # 2-D mixtures: a scatter plot instead of a grid
    num_fixed = SCATTER_SAMPLES if points else trainer.num_grid_samples
    fixed_latents, fixed_labels = inputs.fixed(num_fixed, seed=cfg.seed + 1)
    real_points = exp.dataset.tensors[0][:SCATTER_SAMPLES] if points else None
    # Grids and metrics come from the EMA of G when there is one (tricks.ema_decay)
    sampler = G if exp.ema_generator is None else exp.ema_generator.module
    adaptive = tricks.adaptive  # seed 001's schedule; thresholds of null give the fixed counts
    max_d_updates = objective.d_steps if adaptive.t_d is None else adaptive.max_updates
    max_g_updates = 1 if adaptive.t_g is None else adaptive.max_updates

    # A resumed writer drops what a killed run logged past its checkpoint: no step twice, none missing.
    writer = RunWriter(run_dir, purge_step=start + 1 if start else None, hparams=hparams_of(cfg)) \
        if main else distributed.Silent()
    if start and main:
        print(f"Continuing from {last_saved} (step {start})")
    elif not start:
        writer.text("config", "```\n" + OmegaConf.to_yaml(cfg, resolve=True) + "\n```")
    # Metrics (metrics.py) see only a sampling function: they never touch the training state. Rank 0 alone.
    evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=make) if cfg.metrics.enabled and main else None
    progress = Progress(trainer.steps, start=start, mode=trainer.progress) if main else distributed.Silent()
    scalars: dict[str, float] = {}
    stop = StopSignals()  # SIGTERM/SIGINT: finish the step, checkpoint, exit (preemption.py)
    state.restore_rng(saved)  # last, so setup's random draws cannot shift a resumed run's noise
    distributed.seed_per_rank(cfg.seed, start)  # under torchrun: each rank its own noise
    started = time.perf_counter()

    for step in range(start + 1, trainer.steps + 1):
        logging_step = step % trainer.log_every == 0 or step == trainer.steps
        schedules.step(step - 1)
        noise_std = instance_noise_std(step, tricks.instance_noise.std, tricks.instance_noise.anneal_steps)
        d_grad_norm = g_grad_norm = torch.zeros((), device=device)
        d_updates = g_updates = 0

        # ---- D updates: the seeds' k = d_steps of them, or while loss_D > t_d; G held fixed
        for _ in range(max_d_updates):
            real, real_labels = real_batch(batches, conditional)
            latents, fake_labels = inputs(trainer.batch_size)
            with torch.set_grad_enabled(reuse_fake):  # reuse_fake keeps G's graph for G's update below
                generated = G(latents, fake_labels)
            fake, generated_labels = generated.detach(), fake_labels
            if exp.history is not None:  # historical generator batches: part of the fakes from the past
                fake, fake_labels = exp.history.mix(fake, fake_labels)
            # What D sees: instance noise, then PacGAN packing (both no-ops when off)
            real_in, fake_in = (discriminator_input(augment(x), noise_std, tricks.pack) for x in (real, fake))
            # Real and fake go through D in separate batches (BatchNorm sees one kind at a time) unless mixed.
            d_real, d_fake = judge(D, real_in, real_labels, fake_in, fake_labels, tricks.mixed_bn_batches)
            d_loss, d_terms = exp.d_loss(d_real, d_fake, **(exp.objective_state or {}))  # BEGAN: k_t
            if exp.penalty is not None:  # on the built D (eager, fp32: a compiled graph has no double backward)
                penalty, penalty_terms = exp.penalty(partial(exp.discriminator, labels=real_labels), real_in, fake_in)
                d_loss, d_terms = d_loss + penalty, {**d_terms, **penalty_terms}
            if not keep_training(d_loss, adaptive.t_d):
                break
            exp.optimizer_d.zero_grad(set_to_none=True)
            scaling.backward(d_loss, exp.optimizer_d)
            distributed.average_gradients(D)  # torchrun: every rank steps with the mean gradient
            d_grad_norm = gradient_norm(D) if logging_step else d_grad_norm
            if tricks.grad_clip is not None:
                clip_grad_norm_(D.parameters(), tricks.grad_clip)
            scaling.step(exp.optimizer_d, apply=guard.allows(d_loss, D))  # on_nan=skip drops a non-finite update
            d_updates += 1
            if objective.clip_weights is not None:
                clip_weights(D, objective.clip_weights)

        # ---- G updates: one on a fresh latent batch (or the D step's, reuse_fake), or while loss_G > t_g
        D.requires_grad_(False)  # no gradients into D's weights: they would be discarded anyway
        for _ in range(max_g_updates):
            if reuse_fake and g_updates == 0:  # the D step's batch, graph kept: one G forward saved
                fake_labels = generated_labels
            else:
                latents, fake_labels = inputs(trainer.batch_size)
                generated = G(latents, fake_labels)
            fake_in = discriminator_input(augment(generated), noise_std, tricks.pack)  # G's gradient goes through T
            scorer = D
            if objective.unroll_steps:  # Unrolled GAN: G is scored by D after K differentiable D updates
                real, real_labels = real_batch(batches, conditional)  # (the built D: twice differentiable)
                scorer = unrolled_discriminator(exp.discriminator, exp.d_loss, exp.optimizer_d,
                                                discriminator_input(real, noise_std, tricks.pack), real_labels,
                                                fake_in, fake_labels, objective.unroll_steps)
            d_fake_g = scorer(fake_in, fake_labels)
            if exp.generator_sees_real:  # relativistic: G's loss compares with D's scores of the last real batch
                d_real_g = scorer(discriminator_input(augment(real), noise_std, tricks.pack), real_labels)
                g_loss, g_terms = exp.g_loss(d_fake_g, d_real_g)
            else:
                g_loss, g_terms = exp.g_loss(d_fake_g)
            if exp.g_penalty is not None:
                g_penalty, g_penalty_terms = exp.g_penalty(exp.discriminator, fake_in)  # reads D's encoder
                g_loss, g_terms = g_loss + g_penalty, {**g_terms, **g_penalty_terms}
            if not keep_training(g_loss, adaptive.t_g):
                break
            exp.optimizer_g.zero_grad(set_to_none=True)
            scaling.backward(g_loss, exp.optimizer_g)
            distributed.average_gradients(G)
            g_grad_norm = gradient_norm(G) if logging_step else g_grad_norm
            if tricks.grad_clip is not None:
                clip_grad_norm_(G.parameters(), tricks.grad_clip)
            scaling.step(exp.optimizer_g, apply=guard.allows(g_loss, G))
            g_updates += 1
        D.requires_grad_(True)
        if not guard.watch(step, {"loss/D": d_loss, "loss/G": g_loss}, {"G": G, "D": D}):
            break  # a NaN or Inf: stop before logging or saving it (reported below)

        # ---- after the updates: G's moving average, BEGAN's k_t, the learning-rate schedules
        if exp.ema_generator is not None:
            if tricks.ema_halflife is not None:  # the half-life ramp (StyleGAN2-ADA, R3GAN)
                exp.ema_generator.decay = ema_decay_at(step, tricks.ema_halflife, tricks.ema_rampup)
            exp.ema_generator.update_parameters(exp.generator)
        if exp.objective_state is not None:  # BEGAN: from this step's real energies and G's fake energies
            exp.objective_state["k"], equilibrium_terms = began_equilibrium(
                exp.objective_state["k"], d_real, d_fake_g, **objective.equilibrium)
            g_terms = {**g_terms, **equilibrium_terms}
        for scheduler in filter(None, (exp.scheduler_d, exp.scheduler_g)):
            scheduler.step()

        # ---- interval work: the only places that read values back from the device
        if logging_step:
            values = {"loss/D": d_loss, "loss/G": g_loss, "D/real": source_scores(d_real).mean(),
                      "D/fake": source_scores(d_fake).mean(), "grad_norm/D": d_grad_norm, "grad_norm/G": g_grad_norm,
                      **{f"objective/{name}": value for name, value in {**d_terms, **g_terms}.items()}}
            scalars = {name: float(value.detach()) for name, value in values.items()}
            ema_decay = exp.ema_generator.decay if exp.ema_generator is not None else 0.0
            scalars.update(trick_scalars(tricks, noise_std=noise_std, history=exp.history, d_updates=d_updates,
                                         ema_decay=ema_decay,
                                         g_updates=g_updates, optimizers=(exp.optimizer_d, exp.optimizer_g)))
            scalars["speed/steps_per_second"] = (step - start) / (time.perf_counter() - started)
            scalars.update(guard.scalars())
            scalars.update(schedules.scalars())
            writer.scalars(step, scalars)
            progress.update(step, scalars)
        if (trainer.sample_every and step % trainer.sample_every == 0) or step == trainer.steps:
            writer.samples(step, generate(sampler, fixed_latents, fixed_labels), real_points,
                           nrow=inputs.grid_row(num_fixed))
        if evaluator is not None and ((cfg.metrics.every and step % cfg.metrics.every == 0) or step == trainer.steps):
            results = evaluator(lambda n: generate(sampler, *inputs(n)))
            writer.scalars(step, {f"metrics/{name}": value for name, value in results.items()})
            with open(run_dir / "metrics.jsonl", "a") as lines:
                lines.write(json.dumps({"step": step, **results}) + "\n")
            print(f"[ganrun] step {step} metrics: " + " ".join(f"{k} {v:.4g}" for k, v in results.items()))
        if ((trainer.checkpoint_every and step % trainer.checkpoint_every == 0) or step == trainer.steps
                or stop.requested):
            if not guard.confirm():  # on a GPU the last step's values arrive now: never save a NaN
                break
            writer.flush()  # every step up to the checkpoint's is on disk before the checkpoint is
            if main:
                last_saved = checkpoint.save(state.training_state(parts, cfg, step),
                                             checkpoint.checkpoint_path(checkpoints, step), keep=trainer.keep_checkpoints)
        if stop.requested:
            break

    progress.close()
    writer.close()
    stop.restore()
    guard.raise_if_failed(last_saved)  # NonFiniteError: one line, exit code 3 (app.py)
    stop.finish(step, last_saved, finished=step == trainer.steps)  # SIGTERM/SIGINT: exit 143/130 (preemption.py)
    if main:
        print(f"Run folder: {run_dir}\nSee it with: tensorboard --logdir {run_dir.parent}")
    return scalars.get("loss/G")
