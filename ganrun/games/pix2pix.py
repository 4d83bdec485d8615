"""pix2pix (Isola et al. 2017): a conditional GAN on pairs, G: x -> y, D judges (x, y) pairs patch by patch.

G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G) (Eq. 4), lambda = 100, with
L_cGAN = E log D(x, y) + E log(1 - D(x, G(x))) (Eq. 1) and the objective's losses (ns by default, as
the reference's `vanilla`; lsgan, hinge, wgan_gp ... selectable) averaged over D's patch scores.
D's loss is halved (Sec. 3.3). Without D (`adversarial=False`: discriminator None, d_steps 0) it is
the paper's "L1" baseline of Table 1: the same U-Net trained on lambda L_L1 alone. As the reference, G runs once per step: its output is judged by D
(detached) in D's update and scored, with its graph kept, in G's update on the same batch.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.games.base import Visual
from ganrun.data.augment import RandomCropFlip
from ganrun.data.translation import Domains
from ganrun.games.helpers import read_dataset
from ganrun.games.translation import (OneGeneratorGame, evaluating, fixed_batch, metrics_for, splits, translate_fn,
                                     unwrapped, visual)
from ganrun.metrics.translation import TranslationMetrics
from ganrun.models.patchgan import ConditionalPatchGAN
from ganrun.objectives.translation import l1_reconstruction, patch_scores, pix2pix_discriminator_loss

Terms = dict[str, Tensor]


class Pix2Pix(OneGeneratorGame):
    def __init__(self, generator: nn.Module, discriminator: nn.Module, objective: Any, train: Domains,
                 test: Domains, *, batch_size: int, seed: int, device: torch.device, l1_weight: float = 100.0,
                 flip: bool = True, grid_rows: int = 8, metrics: Optional[TranslationMetrics] = None) -> None:
        self._networks(generator, discriminator, objective)
        self.l1_weight = l1_weight
        self.batches = infinite_batches(train, batch_size, seed=seed, device=device)
        self.augment = RandomCropFlip(train.crop_size, flip=flip, seed=seed)
        self.fixed = fixed_batch(test, grid_rows, device)
        self.input_channels, self.size = train.shape_a[0], train.crop_size
        self.metrics = metrics

    def stateful_parts(self) -> dict[str, Any]:
        return {"batches": self.batches, "augment": self.augment, **self._objective_parts()}

    def next_batch(self) -> tuple[Tensor, Tensor]:
        return self.augment(*next(self.batches))  # (x, y) in [-1, 1], cropped and flipped alike

    def discriminator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        x, y = batch
        loss, terms = self._judge(lambda d, out: patch_scores(d(x, out)), y, self._output(batch).detach())
        return pix2pix_discriminator_loss(loss), terms

    def generator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        x, y = batch
        fake = self._output(batch, last=True)
        l1, l1_terms = l1_reconstruction(fake, y, self.l1_weight)
        if self._d is None:  # the L1-only baseline
            return l1, l1_terms
        adversarial, terms = self.objective.generator_loss(patch_scores(self._d(x, fake)))
        return adversarial + l1, {**terms, **l1_terms, "loss/G_adversarial": adversarial.detach()}

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        x, y = self.fixed
        network = unwrapped(generator)
        with torch.no_grad(), evaluating(network):
            out = network(x)
        return {"translation/input_output_target": visual(x, out, y)}

    def translator(self, direction: str) -> tuple[nn.Module, int, int]:
        """G, its input channels and size, for `ganrun translate` (one direction: the dataset's)."""
        if direction != "AtoB":
            raise ValueError("a pix2pix generator translates one way: its input domain to its target (direction=AtoB)")
        return self.generator, self.input_channels, self.size

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.metrics is None:
            return {}
        return self.metrics(translate_fn(unwrapped(generator)))


def build(cfg: Any, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "pix2pix", own_metrics: bool = True, not_sampled: str = "",
          l1_weight: float = 100.0, adversarial: bool = True, flip: bool = True,
          grid_rows: int = 8) -> Pix2Pix:
    """U-Net G (input channels -> target channels) and, unless L1-only, the conditional PatchGAN on both."""
    train, test = splits(lambda **split: read_dataset(cfg, make, **split))
    (ca, size), cb = (train.shape_a[0], train.crop_size), train.shape_b[0]
    generator = make(cfg.architecture.generator, in_channels=ca, out_channels=cb, size=size).to(device)
    discriminator = None
    if adversarial:
        patchgan = make(cfg.architecture.discriminator, in_channels=ca + cb, size=size)
        discriminator = ConditionalPatchGAN(patchgan).to(device)
    return Pix2Pix(generator, discriminator, make(cfg.objective), train, test, batch_size=cfg.trainer.batch_size,
                   seed=seed, device=device, l1_weight=l1_weight, flip=flip, grid_rows=grid_rows,
                   metrics=metrics_for(cfg, train, test, device) if evaluate else None)
