"""MoCoGAN (Tulyakov et al. 2018): an image generator driven by fixed content and recurrent motion,
against an image discriminator D_I on single frames S_1(v) and a video discriminator D_V on clips
S_T(v). The deck's objectives are two adversarial terms, each the objective's (the paper: the
minimax GAN, `objective=ns`; `lsgan`, `hinge` ... give their variants of both):
    D_I, D_V:  minimise  d_loss(D_I(S_1 v), D_I(S_1 ṽ)) + d_loss(D_V(S_T v), D_V(S_T ṽ))
    G_I, R_M:  minimise  g_loss(D_I(S_1 ṽ)) + g_loss(D_V(S_T ṽ))
With `conditional=true` (labelled clips: the action), G gets a one-hot z_A and D_V's extra outputs
classify the action: cross-entropy on real clips in D's loss and on G's clips (their requested
action) in G's loss, as the authors' code does. S_T here is the whole clip the batch holds (T frames).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor, nn

from ganrun.config.checks import is_conditional
from ganrun.games.base import Terms, Visual
from ganrun.games.video import (InstanceNoise, VideoGame, adversarial_d_term, adversarial_g_term, clip_batches,
                                clip_views, in_eval_mode, video_evaluator)
from ganrun.models.video import random_frames
from ganrun.objectives import Objective


def split_outputs(outputs: Tensor, categorical: bool) -> tuple[Tensor, Tensor | None]:
    """D_V's outputs -> (scores (N,), action logits (N, K) or None)."""
    return (outputs[:, 0], outputs[:, 1:]) if categorical else (outputs, None)


class MoCoGAN(VideoGame):
    def __init__(self, *, generator: nn.Module, image_d: nn.Module, video_d: nn.Module, objective: Objective,
                 batches: Any, batch_size: int, num_classes: int | None, fixed: tuple[Tensor, Tensor, Tensor | None],
                 noise: InstanceNoise | None = None, evaluator: Any = None) -> None:
        self.generator = self.G = generator
        self.discriminator = nn.ModuleDict({"image": image_d, "video": video_d})
        self.D_I, self.D_V = image_d, video_d
        self.objective, self.d_steps = objective, objective.d_steps
        self.batches, self.batch_size, self.num_classes = batches, batch_size, num_classes
        self.fixed, self.evaluator = fixed, evaluator
        self.device = fixed[0].device
        self.noise = noise or InstanceNoise()
        self.last_real: Tensor | None = None
        self.last_fake: Tensor | None = None

    def inputs(self, count: int, frames: int | None = None) -> tuple[Tensor, Tensor, Tensor | None]:
        content, motion = self.generator.latents(count, frames, device=self.device)
        labels = torch.randint(self.num_classes, (count,), device=self.device) if self.num_classes else None
        return content, motion, labels

    def video_outputs(self, outputs: Tensor) -> tuple[Tensor, Tensor | None]:
        return split_outputs(outputs, bool(self.num_classes))

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.G, self.D_I, self.D_V = wrap(self.generator), wrap(self.discriminator["image"]), wrap(self.discriminator["video"])

    def next_batch(self) -> tuple[Tensor, Tensor]:
        return next(self.batches)  # clips (N, C, T, H, W), actions (N,)

    def discriminator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        real, real_labels = batch
        with torch.no_grad():
            fake = self.G(*self.inputs(len(real)))
        real, fake = self.noise(real), self.noise(fake)
        real_frames, fake_frames = random_frames(real), random_frames(fake)
        loss_i, terms_i = adversarial_d_term(self.objective, self.D_I(real_frames), self.D_I(fake_frames),
                                             self.discriminator["image"], real_frames, fake_frames, "D_I")
        self.last_real, real_logits = self.video_outputs(self.D_V(real))
        fake_scores = self.video_outputs(self.D_V(fake))[0]
        built = self.discriminator["video"]
        loss_v, terms_v = adversarial_d_term(self.objective, self.last_real, fake_scores,
                                             lambda clips: self.video_outputs(built(clips))[0], real, fake, "D_V")
        loss, terms = loss_i + loss_v, {**terms_i, **terms_v}
        if self.num_classes:  # D_V learns the actions of real clips
            category = F.cross_entropy(real_logits, real_labels)
            loss, terms = loss + category, {**terms, "loss/D_V_category": category.detach()}
        return loss, terms

    def generator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        content, motion, labels = self.inputs(self.batch_size)
        fake = self.noise(self.G(content, motion, labels))
        loss_i, terms_i = adversarial_g_term(self.objective, self.D_I(random_frames(fake)), "image")
        scores, logits = self.video_outputs(self.D_V(fake))
        loss_v, terms_v = adversarial_g_term(self.objective, scores, "video")
        self.last_fake = scores
        loss, terms = loss_i + loss_v, {**terms_i, **terms_v}
        if self.num_classes:  # G's clips should show the action it was asked for
            category = F.cross_entropy(logits, labels)
            loss, terms = loss + category, {**terms, "loss/G_category": category.detach()}
        return loss, terms

    def end_step(self, step: int) -> Terms:
        return self.objective.after_step(self.last_real, self.last_fake)

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        content, motion, labels = self.fixed  # k contents x k motions, one content (and action) a row
        k = int(round(len(content) ** 0.5))
        views = clip_views("samples/clips", in_eval_mode(generator, content[::k], motion[:k], labels[::k]
                                                         if labels is not None else None))
        views.update(clip_views("samples/same_content_different_motion", in_eval_mode(generator, content, motion, labels),
                                nrow=k))
        swapped = in_eval_mode(generator, content.view(k, k, -1).transpose(0, 1).flatten(0, 1), motion,
                               None if labels is None else labels.view(k, k).transpose(0, 1).flatten())
        views.update(clip_views("samples/same_motion_different_content", swapped, nrow=k))
        return views

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.evaluator is None:
            return {}

        def sample(n: int) -> tuple[Tensor, Tensor | None]:
            content, motion, labels = self.inputs(n)
            return in_eval_mode(generator, content, motion, labels), labels
        return self.evaluator(sample)


def fixed_inputs(generator: nn.Module, count: int, num_classes: int | None, seed: int,
                 device: torch.device) -> tuple[Tensor, Tensor, Tensor | None]:
    """k*k clips: clip (i, j) has content i (and action i mod K) and motion j."""
    k = max(2, int(round(count ** 0.5)))
    noise = torch.Generator().manual_seed(seed)
    content, motion = generator.latents(k, generator=noise)
    labels = (torch.arange(k) % num_classes).repeat_interleave(k).to(device) if num_classes else None
    return content.repeat_interleave(k, 0).to(device), motion.repeat(k, 1, 1).to(device), labels


def build(cfg: DictConfig, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "mocogan") -> MoCoGAN:
    dataset, batches = clip_batches(cfg, make, device, seed)
    shape = tuple(dataset.data_shape)
    num_classes = dataset.num_classes if is_conditional(cfg) else None  # the action z_A
    arch = cfg.architecture
    generator = make(arch.generator, data_shape=shape, num_classes=num_classes).to(device)
    image_d = make(arch.discriminator.image, data_shape=shape).to(device)
    video_d = make(arch.discriminator.video, data_shape=shape, num_classes=num_classes).to(device)
    return MoCoGAN(generator=generator, image_d=image_d, video_d=video_d, objective=make(cfg.objective),
                   batches=batches, batch_size=cfg.trainer.batch_size, num_classes=num_classes,
                   fixed=fixed_inputs(generator, cfg.trainer.num_grid_samples, num_classes, cfg.seed + 1, device),
                   noise=InstanceNoise(cfg.tricks.instance_noise.std, cfg.tricks.instance_noise.anneal_steps),
                evaluator=video_evaluator(cfg, make, device, evaluate))
