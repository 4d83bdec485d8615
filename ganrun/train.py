"""Build the experiment from the config, then train it: one loop, read top to bottom.

Each iteration is Algorithm 1 of Goodfellow et al. (2014) with the objective's losses: k = d_steps
updates of D on fresh real and generated batches, then one update of G on a fresh latent batch
(`trainer.reuse_fake=true`: on the D step's fakes instead, as pytorch/examples' DCGAN does).
Nothing in a step waits for the device; values are read back only at logging steps. The fast path
(precision, channels_last, compile, fused optimizers) is set up in fast_path.py: G and D below are
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

from ganrun import checkpoint, fast_path, state
from ganrun.config import ConfigError
from ganrun.data import infinite_batches
from ganrun.guard import NonFiniteGuard
from ganrun.metrics import build_evaluator
from ganrun.models import apply_spectral_norm
from ganrun.preemption import StopSignals
from ganrun.progress import Progress
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
    generator = make(cfg.architecture.generator, data_shape=tuple(dataset.data_shape)).to(device)
    discriminator = make(cfg.architecture.discriminator, data_shape=tuple(dataset.data_shape))
    if cfg.architecture.spectral_norm:
        discriminator = apply_spectral_norm(discriminator)
    discriminator = discriminator.to(device)
    return Experiment(
        dataset=dataset,
        generator=generator,
        discriminator=discriminator,
        optimizer_g=fast_path.make_optimizer(make(cfg.optimizer.generator), generator.parameters(), device),
        optimizer_d=fast_path.make_optimizer(make(cfg.optimizer.discriminator), discriminator.parameters(), device),
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


@torch.no_grad()
def generate(generator: nn.Module, latents: Tensor) -> Tensor:
    """Samples in eval mode, so drawing a grid never moves BatchNorm's running statistics."""
    was_training = generator.training
    generator.eval()
    samples = generator(latents)
    generator.train(was_training)
    return samples


def run(cfg: DictConfig, run_dir: Path) -> float | None:
    """Train for `trainer.steps` generator updates, continuing from the run folder's newest checkpoint
    (or `trainer.resume`'s) when there is one; returns the final generator loss."""
    trainer, objective = cfg.trainer, cfg.objective
    device = resolve_device(trainer.device)
    state.seed_everything(cfg.seed)
    fast_path.configure_backends(device, trainer)
    exp = build(cfg, device)
    G, D = (fast_path.for_training(module, trainer, device) for module in (exp.generator, exp.discriminator))
    fast_path.warn_eager_penalty(trainer, exp.penalty)
    scaling = fast_path.LossScaling(trainer.precision, device,  # fp16's gradient scaling; else plain
                                    optimizer_d=exp.optimizer_d, optimizer_g=exp.optimizer_g)
    reuse_fake = trainer.reuse_fake
    batches = infinite_batches(exp.dataset, trainer.batch_size, seed=cfg.seed, device=device,
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
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))

    sample_latents = partial(torch.randn, trainer.batch_size, exp.latent_dim, device=device)
    points = len(exp.dataset.data_shape) == 1  # 2-D mixtures: a scatter plot instead of a grid
    fixed_latents = torch.randn(SCATTER_SAMPLES if points else trainer.num_grid_samples, exp.latent_dim,
                                generator=torch.Generator().manual_seed(cfg.seed + 1)).to(device)
    real_points = exp.dataset.tensors[0][:SCATTER_SAMPLES] if points else None

    # A resumed writer drops what a killed run logged past its checkpoint: no step twice, none missing.
    writer = RunWriter(run_dir, purge_step=start + 1 if start else None)
    if start:
        print(f"Continuing from {last_saved} (step {start})")
    else:
        writer.text("config", "```\n" + OmegaConf.to_yaml(cfg, resolve=True) + "\n```")
    # Metrics (metrics.py) see only a sampling function: they never touch the training state.
    evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=make) if cfg.metrics.enabled else None
    progress = Progress(trainer.steps, start=start, mode=trainer.progress)
    scalars: dict[str, float] = {}
    stop = StopSignals()  # SIGTERM/SIGINT: finish the step, checkpoint, exit (preemption.py)
    state.restore_rng(saved)  # last, so setup's random draws cannot shift a resumed run's noise
    started = time.perf_counter()

    for step in range(start + 1, trainer.steps + 1):
        logging_step = step % trainer.log_every == 0 or step == trainer.steps

        # ---- k discriminator updates (the seeds' inner loop), G held fixed
        for _ in range(objective.d_steps):
            real, _labels = next(batches)
            with torch.set_grad_enabled(reuse_fake):  # reuse_fake keeps G's graph for G's update below
                generated = G(sample_latents())
            fake = generated.detach()
            # Real and fake go through D in separate batches (BatchNorm sees one kind at a time).
            d_real, d_fake = D(real), D(fake)
            d_loss, d_terms = exp.d_loss(d_real, d_fake)
            if exp.penalty is not None:
                # The built D: eager and fp32, as a compiled graph cannot be differentiated twice
                penalty, penalty_terms = exp.penalty(exp.discriminator, real, fake)
                d_loss, d_terms = d_loss + penalty, {**d_terms, **penalty_terms}
            exp.optimizer_d.zero_grad(set_to_none=True)
            scaling.backward(d_loss, exp.optimizer_d)
            d_grad_norm = gradient_norm(D) if logging_step else None
            scaling.step(exp.optimizer_d, apply=guard.allows(d_loss, D))  # on_nan=skip drops a non-finite update
            if objective.clip_weights is not None:
                clip_weights(D, objective.clip_weights)

        # ---- one generator update on a fresh latent batch (or the D step's, reuse_fake), D held fixed
        D.requires_grad_(False)  # no gradients into D's weights: they would be discarded anyway
        g_loss, g_terms = exp.g_loss(D(generated if reuse_fake else G(sample_latents())))
        exp.optimizer_g.zero_grad(set_to_none=True)
        scaling.backward(g_loss, exp.optimizer_g)
        g_grad_norm = gradient_norm(G) if logging_step else None
        scaling.step(exp.optimizer_g, apply=guard.allows(g_loss, G))
        D.requires_grad_(True)
        if not guard.watch(step, {"loss/D": d_loss, "loss/G": g_loss}, {"G": G, "D": D}):
            break  # a NaN or Inf: stop before logging or saving it (reported below)

        # ---- interval work: the only places that read values back from the device
        if logging_step:
            values = {"loss/D": d_loss, "loss/G": g_loss, "D/real": d_real.mean(), "D/fake": d_fake.mean(),
                      "grad_norm/D": d_grad_norm, "grad_norm/G": g_grad_norm,
                      **{f"objective/{name}": value for name, value in {**d_terms, **g_terms}.items()}}
            scalars = {name: float(value.detach()) for name, value in values.items()}
            scalars["speed/steps_per_second"] = (step - start) / (time.perf_counter() - started)
            scalars.update(guard.scalars())
            writer.scalars(step, scalars)
            progress.update(step, scalars)
        if (trainer.sample_every and step % trainer.sample_every == 0) or step == trainer.steps:
            writer.samples(step, generate(G, fixed_latents), real_points)
        if evaluator is not None and ((cfg.metrics.every and step % cfg.metrics.every == 0) or step == trainer.steps):
            results = evaluator(lambda n: generate(G, torch.randn(n, exp.latent_dim, device=device)))
            writer.scalars(step, {f"metrics/{name}": value for name, value in results.items()})
            with open(run_dir / "metrics.jsonl", "a") as lines:
                lines.write(json.dumps({"step": step, **results}) + "\n")
            print(f"[ganrun] step {step} metrics: " + " ".join(f"{k} {v:.4g}" for k, v in results.items()))
        if ((trainer.checkpoint_every and step % trainer.checkpoint_every == 0) or step == trainer.steps
                or stop.requested):
            if not guard.confirm():  # on a GPU the last step's values arrive now: never save a NaN
                break
            writer.flush()  # every step up to the checkpoint's is on disk before the checkpoint is
            last_saved = checkpoint.save(state.training_state(parts, cfg, step),
                                         checkpoint.checkpoint_path(checkpoints, step), keep=trainer.keep_checkpoints)
        if stop.requested:
            break

    progress.close()
    writer.close()
    stop.restore()
    guard.raise_if_failed(last_saved)  # NonFiniteError: one line, exit code 3 (app.py)
    stop.finish(step, last_saved, finished=step == trainer.steps)  # SIGTERM/SIGINT: exit 143/130 (preemption.py)
    print(f"Run folder: {run_dir}\nSee it with: tensorboard --logdir {run_dir.parent}")
    return scalars.get("loss/G")
