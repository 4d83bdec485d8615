"""What the two video games share: one adversarial term through the objective, sampling in eval mode,
the clips' views, and the pieces of `build` that do not depend on the game."""

from __future__ import annotations

from typing import Any, Callable

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.errors import ConfigError
from ganrun.games.base import Game, Terms, Visual
from ganrun.games.helpers import read_dataset
from ganrun.objectives import Objective
from ganrun.tricks import discriminator_input, instance_noise_std


def adversarial_d_term(objective: Objective, d_real: Tensor, d_fake: Tensor, built: Callable[[Tensor], Tensor],
                       real: Tensor, fake: Tensor, tag: str, prefix: bool = True) -> tuple[Tensor, Terms]:
    """D's loss from its scores on one (real, fake) pair, plus the objective's penalty on the built D
    `built` (eager, differentiable twice) at those inputs. Terms: `<tag>/real`, `<tag>/fake` (D's mean
    scores), the objective's own terms as `<tag>/<name>` with `prefix` (two Ds), and `loss/<tag>`
    with `prefix` (the loop logs the sum as loss/D)."""
    loss, terms = objective.discriminator_loss(d_real, d_fake)
    penalty, penalty_terms = objective.penalty(built, real, fake)
    if penalty is not None:
        loss, terms = loss + penalty, {**terms, **penalty_terms}
    if prefix:
        terms = {f"{tag}/{name}" if "/" not in name else name: value for name, value in terms.items()}
        terms[f"loss/{tag}"] = loss.detach()
    return loss, {**terms, f"{tag}/real": objective.source_scores(d_real).mean(),
                  f"{tag}/fake": objective.source_scores(d_fake).mean()}


def adversarial_g_term(objective: Objective, scores: Tensor, tag: str) -> tuple[Tensor, Terms]:
    """G's loss on D's scores of its samples, through the objective (lsgan, hinge ... all work); its
    terms as `<tag>/<name>`, the term as `loss/G_<tag>`."""
    loss, terms = objective.generator_loss(scores)
    terms = {f"{tag}/{name}" if "/" not in name else name: value for name, value in terms.items()}
    return loss, {**terms, f"loss/G_{tag}": loss.detach()}


class InstanceNoise:
    """Gaussian noise on every input of D (Sønderby et al. 2017; MoCoGAN's authors train with σ = 0.1),
    from `tricks.instance_noise`: std at step 1, annealed linearly to 0 over `anneal_steps` (0: constant)."""

    def __init__(self, std: float = 0.0, anneal_steps: int = 0) -> None:
        self.start, self.anneal_steps, self.std = std, anneal_steps, std

    def start_step(self, step: int) -> None:
        self.std = instance_noise_std(step, self.start, self.anneal_steps)

    def __call__(self, x: Tensor) -> Tensor:
        return discriminator_input(x, self.std, 1)

    def scalars(self) -> dict[str, float]:
        return {"tricks/instance_noise_std": self.std} if self.start > 0 else {}


class VideoGame(Game):
    """What VGAN and MoCoGAN share around their losses: the objective's penalty flag, the batch stream
    and the objective's state in checkpoints, and the instance-noise schedule (`self.noise`).
    A subclass sets `self.objective`, `self.batches` and `self.noise` in its __init__."""

    objective: Objective
    batches: Any
    noise: InstanceNoise

    def has_penalty(self) -> bool:
        return self.objective.has_penalty

    def stateful_parts(self) -> dict[str, Any]:
        parts = {"batches": self.batches}
        if hasattr(self.objective, "state_dict"):
            parts["objective_state"] = self.objective
        return parts

    def start_step(self, step: int) -> None:
        self.noise.start_step(step)

    def scalars(self) -> dict[str, float]:
        return self.noise.scalars()

    def after_discriminator_update(self) -> None:
        self.objective.after_discriminator_update(self.discriminator)


@torch.no_grad()
def in_eval_mode(generator: nn.Module, *inputs: Any) -> Any:
    """The generator's output in eval mode, so drawing never moves BatchNorm's running statistics."""
    was_training = generator.training
    generator.eval()
    out = generator(*inputs)
    generator.train(was_training)
    return out


def clip_views(tag: str, clips: Tensor, nrow: int | None = None) -> dict[str, Visual]:
    """A clip batch (N, C, T, H, W) as an animated GIF (`<tag>`) and a frames-over-time grid
    (`<tag>_over_time`: a row per clip, time left to right)."""
    frames = clips.transpose(1, 2).flatten(0, 1)  # (N*T, C, H, W)
    return {tag: Visual(clips, nrow=nrow), f"{tag}_over_time": Visual(frames, nrow=clips.shape[2])}


def clip_batches(cfg: DictConfig, make: Callable[..., Any], device: torch.device, seed: int) -> tuple[Any, Any]:
    """The dataset and its endless stream of clip batches."""
    dataset = read_dataset(cfg, make)
    if len(dataset.data_shape) != 4:
        raise ConfigError(f"game={cfg.game.name} needs clips: dataset={cfg.dataset.name} has items of shape "
                          f"{tuple(dataset.data_shape)}; use dataset=moving_mnist, weizmann_actions or video_folder")
    trainer = cfg.trainer
    batches = infinite_batches(dataset, trainer.batch_size, seed=seed, device=device,
                               num_workers=trainer.num_workers, on_device=trainer.data_on_device)
    return dataset, batches


def video_evaluator(cfg: DictConfig, make: Callable[..., Any], device: torch.device, evaluate: bool) -> Any:
    if not evaluate:
        return None
    from ganrun.metrics.video import build_video_evaluator
    return build_video_evaluator(cfg.metrics, cfg.dataset, device, make=make)
