"""The one training loop, read top to bottom: build, continue from a checkpoint, then per step the
game's D updates and G update (Goodfellow et al. 2014, Algorithm 1: k = d_steps updates of D, then
one of G), the updates' aftermath, and the interval work (scalars, grids, metrics, checkpoints).

The loop knows nothing of any one GAN: it asks the game (ganrun/games/) for batches and losses and
the game asks its objective (ganrun/objectives/). It owns what every game shares: the optimizers'
updates (fast-path loss scaling, gradient averaging under torchrun, clipping, the NaN guard), G's
EMA, the learning-rate schedules, and the run's bookkeeping (ganrun/run/). Nothing in a step waits
for the device; values are read back at logging steps only, except under the adaptive schedule
(tricks.adaptive), whose while-loops read each loss to decide.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn
from torch.nn.utils import clip_grad_norm_

from ganrun.config.compose import plain
from ganrun.experiment import Experiment, build, resolve_device
from ganrun.health.diversity import Diversity
from ganrun.health.monitor import HealthMonitor
from ganrun.run import checkpoint, distributed, fast_path, state
from ganrun.run.guard import NonFiniteGuard
from ganrun.run.preemption import StopSignals
from ganrun.run.progress import Progress
from ganrun.run.sweeps import hparams_of, varying_keys
from ganrun.run.writer import RunWriter
from ganrun.rng import isolated_rng
from ganrun.safe_io import append_line, atomic_write
from ganrun.tricks import ema_decay_at, keep_training


@dataclass
class Session:
    """What one run holds besides the experiment: where it writes and how it stops."""
    cfg: DictConfig
    run_dir: Path
    exp: Experiment
    guard: NonFiniteGuard
    scaling: fast_path.LossScaling
    parts: dict[str, Any]
    start: int
    last_saved: Path | None
    writer: Any
    progress: Any
    stop: StopSignals
    main: bool
    health: Any  # the diagnosis (ganrun/health/): findings from the scalars read back at logging steps
    settings: Any = None  # `cfg` as plain dicts (config/compose.py Plain): what the steps read, cheaply


def gradient_norm(module: nn.Module) -> Tensor:
    """The global L2 norm of a module's gradients, as a device tensor (no host sync)."""
    norms = [p.grad.detach().norm(2) for p in module.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(norms)) if norms else torch.zeros(())


def update(session: Session, optimizer: torch.optim.Optimizer, module: nn.Module, loss: Tensor,
           logging: bool) -> Tensor | None:
    """One optimizer step on `loss`; returns the gradient norm before clipping at logging steps."""
    optimizer.zero_grad(set_to_none=True)
    session.scaling.backward(loss, optimizer)
    distributed.average_gradients(module)  # torchrun: every rank steps with the mean gradient
    norm = gradient_norm(module) if logging else None
    if session.settings.tricks.grad_clip is not None:
        clip_grad_norm_(module.parameters(), session.settings.tricks.grad_clip)
    session.scaling.step(optimizer, apply=session.guard.allows(loss, module))  # on_nan=skip drops a bad update
    return norm


def train_step(session: Session, step: int, logging: bool) -> dict[str, Tensor] | None:
    """One step of the game; D's and G's losses and terms (device tensors), or None after a NaN."""
    exp, game, adaptive = session.exp, session.exp.game, session.settings.tricks.adaptive
    zero = torch.zeros(())
    values: dict[str, Tensor] = {"loss/G": zero, "grad_norm/G": zero}
    if exp.discriminator is not None:
        values.update({"loss/D": zero, "grad_norm/D": zero})
    counts = {"D": 0, "G": 0}
    if exp.schedules is not None:  # the config's schedules: every scheduled value for this step
        exp.schedules.step(step - 1)
    game.start_step(step)

    # ---- D updates: k = d_steps of them, or while loss_D > t_d (tricks.adaptive); G held fixed
    batch = None
    max_d = 0 if exp.discriminator is None else game.d_steps if adaptive.t_d is None else adaptive.max_updates
    for _ in range(max_d):
        batch = game.next_batch()
        d_loss, d_terms = game.discriminator_loss(batch)  # what D is shown, its loss and penalties
        values.update({"loss/D": d_loss, **d_terms})
        if not keep_training(d_loss, adaptive.t_d):
            break
        norm = update(session, exp.optimizer_d, exp.discriminator, d_loss, logging)
        values["grad_norm/D"] = values["grad_norm/D"] if norm is None else norm
        game.after_discriminator_update()  # WGAN's clipping
        counts["D"] += 1

    # ---- G updates: one (or while loss_G > t_g) on the last batch D saw; D's weights frozen
    batch = game.next_batch() if batch is None else batch
    frozen = exp.discriminator.requires_grad_(False) if exp.discriminator is not None else None
    for _ in range(1 if adaptive.t_g is None else adaptive.max_updates):
        g_loss, g_terms = game.generator_loss(batch)  # what G is scored on
        values.update({"loss/G": g_loss, **g_terms})
        if not keep_training(g_loss, adaptive.t_g):
            break
        norm = update(session, exp.optimizer_g, exp.generator, g_loss, logging)
        values["grad_norm/G"] = values["grad_norm/G"] if norm is None else norm
        counts["G"] += 1
    if frozen is not None:
        frozen.requires_grad_(True)
    networks = {"G": exp.generator, **({"D": exp.discriminator} if exp.discriminator is not None else {})}
    losses = {name: values[name] for name in ("loss/D", "loss/G") if name in values}
    if not session.guard.watch(step, losses, networks):
        return None  # a NaN or Inf: stop before logging or saving it (reported at the end)

    # ---- after the updates: G's moving average, the game's and objective's state, the LR schedules
    if exp.ema_generator is not None:
        halflife = session.settings.tricks.ema_halflife
        if halflife is not None:  # the half-life ramp of StyleGAN2-ADA and R3GAN
            exp.ema_generator.decay = ema_decay_at(step, halflife, session.settings.tricks.ema_rampup)
        exp.ema_generator.update_parameters(exp.generator)
    if exp.window_generator is not None:
        exp.window_generator.update_parameters(exp.generator)
    values.update(game.end_step(step))  # e.g. BEGAN's k_t
    for scheduler in filter(None, (exp.scheduler_d, exp.scheduler_g)):
        scheduler.step()
    values.update({f"counts/{name}": torch.tensor(float(n)) for name, n in counts.items()})
    return values


def loop_scalars(session: Session, values: dict[str, Tensor], step: int, started: float) -> dict[str, float]:
    """The logging step's scalars: every loss and term read back once, the tricks the loop runs."""
    scalars = {(name if "/" in name else f"objective/{name}"): float(value.detach())
               for name, value in values.items() if not name.startswith("counts/")}
    exp, tricks = session.exp, session.settings.tricks
    if exp.ema_generator is not None:
        scalars["tricks/ema_decay"] = exp.ema_generator.decay
    if exp.schedules is not None:
        scalars.update(exp.schedules.scalars())
    if tricks.window_average:
        scalars["tricks/window_average"] = float(tricks.window_average)
    if tricks.adaptive.t_d is not None:
        scalars["tricks/d_updates"] = float(values["counts/D"])
    if tricks.adaptive.t_g is not None:
        scalars["tricks/g_updates"] = float(values["counts/G"])
    scalars["lr/G"] = exp.optimizer_g.param_groups[0]["lr"]  # always: a flat line says the rate is constant
    if exp.optimizer_d is not None:
        scalars["lr/D"] = exp.optimizer_d.param_groups[0]["lr"]
    if tricks.grad_clip is not None:
        scalars["tricks/grad_clip"] = tricks.grad_clip
    scalars.update(exp.game.scalars())
    scalars["speed/steps_per_second"] = (step - session.start) / (time.perf_counter() - started)
    scalars.update(session.guard.scalars())
    return scalars


def start(cfg: DictConfig, run_dir: Path) -> Session | None:
    """Build the experiment and continue from the run folder's newest checkpoint (or trainer.resume's)."""
    trainer = cfg.trainer
    device = resolve_device(trainer.device)
    state.seed_everything(cfg.seed)
    fast_path.configure_backends(device, trainer)
    main = distributed.is_main()  # under torchrun, rank 0 alone writes and evaluates
    exp = build(cfg, device, evaluate=cfg.metrics.enabled and main)
    for module in filter(None, (exp.generator, exp.discriminator)):
        distributed.broadcast_state(module)  # the same weights on every rank (a no-op in one process)
    exp.game.prepare(partial(fast_path.for_training, trainer=trainer, device=device))
    fast_path.warn_eager_penalty(trainer, exp.game.has_penalty())
    optimizers = {"optimizer_d": exp.optimizer_d, "optimizer_g": exp.optimizer_g}
    scaling = fast_path.LossScaling(trainer.precision, device, **{k: v for k, v in optimizers.items() if v})
    guard = NonFiniteGuard(trainer.on_nan, device)
    parts = state.stateful_parts(exp, **exp.game.stateful_parts(), nonfinite=guard, loss_scaling=scaling)
    last_saved, saved = state.find_checkpoint(run_dir / "checkpoints", trainer.resume) or (None, None)
    first = state.restore(parts, saved, cfg, last_saved) if saved else 0  # ConfigError: another config
    if first >= trainer.steps:
        print(f"{run_dir} already holds step {first} of trainer.steps={trainer.steps}: nothing to train")
        return None
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    # A resumed writer drops what a killed run logged past its checkpoint: no step twice, none missing.
    writer = (RunWriter(run_dir, purge_step=first + 1 if first else None, hparams=hparams_of(cfg),
                        varying=varying_keys(cfg)) if main else distributed.Silent())
    real = exp.game.real_visuals() if main else {}
    if first and main:
        print(f"Continuing from {last_saved} (step {first})")
    elif not first:
        writer.start(real)
        writer.text("config", "```\n" + OmegaConf.to_yaml(cfg, resolve=True) + "\n```")
    health = HealthMonitor(cfg.health, writer, run_dir, diversity=Diversity.of(real)) if main else distributed.Silent()
    progress = Progress(trainer.steps, start=first, mode=trainer.progress) if main else distributed.Silent()
    session = Session(cfg, run_dir, exp, guard, scaling, parts, first, last_saved, writer, progress,
                      StopSignals(), main, health, plain(cfg))  # SIGTERM/SIGINT: finish the step, checkpoint, exit
    state.restore_rng(saved)  # last, so setup's random draws cannot shift a resumed run's noise
    distributed.seed_per_rank(cfg.seed, first)  # under torchrun: each rank its own noise
    return session


def due(every: int, step: int, last: int) -> bool:
    return bool(every and step % every == 0) or step == last


def interval_work(session: Session, step: int, values: dict[str, Tensor] | None, started: float) -> bool:
    """Logging, grids, metrics and checkpoints at their intervals; False when the run must stop."""
    cfg, exp, writer = session.settings, session.exp, session.writer
    last = cfg.trainer.steps
    average = exp.ema_generator if exp.ema_generator is not None else exp.window_generator  # EMA, else the window
    sampler = exp.generator if average is None else average.module
    if values is not None:
        scalars = loop_scalars(session, values, step, started)
        writer.scalars(step, scalars)
        session.progress.update(step, scalars)
        session.health.observe(step, scalars)  # the same floats: the diagnosis costs no device sync
    if due(cfg.trainer.sample_every, step, last):
        with isolated_rng():  # a game's views may draw noise (LAPGAN's pyramid, UNIT's codes): not training's
            visuals = exp.game.visuals(sampler)
        writer.visuals(step, visuals)
        session.health.sampled(step, visuals)  # diversity of the fixed-noise samples against the real data's
    if session.main and cfg.metrics.enabled and due(cfg.metrics.every, step, last):
        with isolated_rng():  # as the views: the same trajectory with metrics on or off, for every game
            results = exp.game.evaluate(sampler)
        writer.scalars(step, {f"metrics/{name}": value for name, value in results.items()})
        session.health.observe(step, {f"metrics/{name}": value for name, value in results.items()})
        append_line(session.run_dir / "metrics.jsonl", json.dumps({"step": step, **results}))
        print(f"[ganrun] step {step} metrics: " + " ".join(f"{k} {v:.4g}" for k, v in results.items()))
    if due(cfg.trainer.checkpoint_every, step, last) or session.stop.requested:
        if not session.guard.confirm():  # on a GPU the last step's values arrive now: never save a NaN
            return False
        writer.flush()  # every step up to the checkpoint's is on disk before the checkpoint is
        if session.main:
            session.last_saved = checkpoint.save(state.training_state(session.parts, session.cfg, step),
                                                 checkpoint.checkpoint_path(session.run_dir / "checkpoints", step),
                                                 keep=cfg.trainer.keep_checkpoints)
    return not session.stop.requested


def run(cfg: DictConfig, run_dir: Path) -> float | None:
    """Train for `trainer.steps` generator updates, continuing from the run folder's newest checkpoint
    (or `trainer.resume`'s) when there is one; returns the final generator loss."""
    session = start(cfg, run_dir)
    if session is None:
        return None
    steps, log_every = cfg.trainer.steps, cfg.trainer.log_every
    started, step, final = time.perf_counter(), session.start, {}
    for step in range(session.start + 1, steps + 1):
        logging = step % log_every == 0 or step == steps
        values = train_step(session, step, logging)
        if values is None:
            break
        if not interval_work(session, step, values if logging else None, started):
            break
    session.progress.close()
    final = session.writer.final if session.main else final
    session.writer.close()
    session.stop.restore()
    session.guard.raise_if_failed(session.last_saved)  # NonFiniteError: one line, exit code 3
    session.stop.finish(step, session.last_saved, finished=step == steps)  # SIGTERM/SIGINT: exit 143/130
    if session.main:
        print(f"Run folder: {run_dir}\nSee it with: tensorboard --logdir {run_dir.parent}")
    return final.get("loss/G")
