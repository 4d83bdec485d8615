"""CycleGAN (Zhu et al. 2017): two translators G: A -> B and F: B -> A, two PatchGANs D_B and D_A.

G's full objective (Eq. 3): L_GAN(G, D_B) + L_GAN(F, D_A) + lambda (L_cyc(A) + L_cyc(B)), lambda = 10,
plus the identity loss 0.5 lambda (||G(b) - b||_1 + ||F(a) - a||_1) (Sec. 5.2). The adversarial losses
are the objective's (lsgan by default, as the paper; ns, wgan_gp ... selectable) averaged over patch
scores; each D's loss is halved and judges a history of 50 translated images (ImagePool). DiscoGAN
(Kim et al. 2017) is the same game with the cycle's p = 2, no identity and no pool (its preset).
As the reference, each step translates once; the D update sees the translations detached, G's update
reuses them with their graphs. Networks: `generator["A2B"]` = G, `["B2A"]` = F; `discriminator["B"]`
judges domain B (real b vs G(a)), `["A"]` domain A.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import Tensor, nn

from ganrun.data import infinite_batches
from ganrun.games.base import Game, Visual
from ganrun.data.augment import RandomCropFlip
from ganrun.data.translation import Domains, check_same_channels
from ganrun.games.helpers import read_dataset
from ganrun.games.pool import ImagePool
from ganrun.games.translation import evaluating, fixed_batch, metrics_for, objective_state, splits, visual, translate_fn, unwrapped
from ganrun.metrics.translation import TranslationMetrics
from ganrun.objectives.translation import cycle_loss, identity_loss, patch_scores

Terms = dict[str, Tensor]


class CycleGAN(Game):
    def __init__(self, generator: nn.ModuleDict, discriminator: nn.ModuleDict, objective: Any, train: Domains,
                 test: Domains, *, batch_size: int, seed: int, device: torch.device, cycle_weight: float = 10.0,
                 identity_weight: float = 0.5, cycle_p: int = 1, pool_size: int = 50, flip: bool = True,
                 grid_rows: int = 4, metrics: Optional[TranslationMetrics] = None) -> None:
        if identity_weight > 0:
            check_same_channels(train, f"the identity loss (game.identity_weight={identity_weight})")
        self.generator, self.discriminator, self.objective = generator, discriminator, objective
        self.d_steps = objective.d_steps
        self.cycle_weight, self.identity_weight, self.cycle_p = cycle_weight, identity_weight, cycle_p
        self.batches = {d: infinite_batches(train.domain(d), batch_size, seed=seed + i, device=device)
                        for i, d in enumerate("ab")}
        self.augment = RandomCropFlip(train.crop_size, flip=flip, seed=seed)
        self.pools = {d: ImagePool(pool_size, seed=seed + i) for i, d in enumerate("AB")}
        self.fixed = fixed_batch(test, grid_rows, device)
        self.channels, self.size = {"AtoB": train.shape_a[0], "BtoA": train.shape_b[0]}, train.crop_size
        self.metrics = metrics
        self._g: dict[str, Callable[[Tensor], Tensor]] = dict(generator.items())
        self._d: dict[str, Callable[[Tensor], Tensor]] = dict(discriminator.items())
        self._cache: Optional[tuple[Any, dict[str, Tensor]]] = None

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self._g = {k: wrap(m) for k, m in self.generator.items()}
        self._d = {k: wrap(m) for k, m in self.discriminator.items()}

    def has_penalty(self) -> bool:
        return self.objective.has_penalty

    def stateful_parts(self) -> dict[str, Any]:
        return {"batches_a": self.batches["a"], "batches_b": self.batches["b"], "augment": self.augment,
                "pool_a": self.pools["A"], "pool_b": self.pools["B"], **objective_state(self.objective)}

    def start_step(self, step: int) -> None:
        pass

    def next_batch(self) -> tuple[Tensor, Tensor]:
        (a, _), (b, _) = next(self.batches["a"]), next(self.batches["b"])
        return self.augment(a)[0], self.augment(b)[0]  # unpaired: each domain its own crops

    def _translations(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        if self._cache is None or self._cache[0] is not batch:
            a, b = batch
            self._cache = (batch, {"fake_b": self._g["A2B"](a), "fake_a": self._g["B2A"](b)})
        return self._cache[1]

    def _d_loss(self, domain: str, real: Tensor, fake: Tensor) -> tuple[Tensor, Terms]:
        fake = self.pools[domain].query(fake)
        real_scores, fake_scores = patch_scores(self._d[domain](real)), patch_scores(self._d[domain](fake))
        loss, terms = self.objective.discriminator_loss(real_scores, fake_scores)
        penalty, penalty_terms = self.objective.penalty(lambda x: patch_scores(self.discriminator[domain](x)),
                                                        real, fake)
        named = {f"D_{domain}/{k}": v for k, v in {**terms, **penalty_terms}.items()}
        named |= {f"D_{domain}/real": real_scores.detach().mean(), f"D_{domain}/fake": fake_scores.detach().mean()}
        loss = loss if penalty is None else loss + penalty
        return 0.5 * loss, named  # the reference halves each D's loss

    def discriminator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        a, b = batch
        fakes = self._translations(batch)
        loss_b, terms_b = self._d_loss("B", b, fakes["fake_b"].detach())
        loss_a, terms_a = self._d_loss("A", a, fakes["fake_a"].detach())
        return loss_a + loss_b, {**terms_a, **terms_b}

    def after_discriminator_update(self) -> None:
        for module in self.discriminator.values():
            self.objective.after_discriminator_update(module)

    def generator_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Terms]:
        a, b = batch
        fakes = self._translations(batch)
        self._cache = None
        fake_a, fake_b = fakes["fake_a"], fakes["fake_b"]
        adv_g, _ = self.objective.generator_loss(patch_scores(self._d["B"](fake_b)))
        adv_f, _ = self.objective.generator_loss(patch_scores(self._d["A"](fake_a)))
        cyc_a, terms_a = cycle_loss(a, self._g["B2A"](fake_b), self.cycle_weight, self.cycle_p, "loss/cycle_A")
        cyc_b, terms_b = cycle_loss(b, self._g["A2B"](fake_a), self.cycle_weight, self.cycle_p, "loss/cycle_B")
        loss = adv_g + adv_f + cyc_a + cyc_b
        terms = {**terms_a, **terms_b, "loss/G_A2B": adv_g.detach(), "loss/G_B2A": adv_f.detach()}
        if self.identity_weight > 0:  # G(b) ~ b and F(a) ~ a
            idt_b, t_b = identity_loss(b, self._g["A2B"](b), self.cycle_weight, self.identity_weight, "loss/identity_B")
            idt_a, t_a = identity_loss(a, self._g["B2A"](a), self.cycle_weight, self.identity_weight, "loss/identity_A")
            loss, terms = loss + idt_a + idt_b, {**terms, **t_a, **t_b}
        return loss, terms

    def end_step(self, step: int) -> Terms:
        return {}

    def scalars(self) -> dict[str, float]:
        return {"tricks/pool_fill_A": len(self.pools["A"].images) / max(self.pools["A"].size, 1)}

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        nets = unwrapped(generator)
        g, f = nets["A2B"], nets["B2A"]
        a, b = self.fixed
        with torch.no_grad(), evaluating(g, f):
            fake_b, fake_a = g(a), f(b)
            return {"translation/A_G(A)_F(G(A))": visual(a, fake_b, f(fake_b)),
                    "translation/B_F(B)_G(F(B))": visual(b, fake_a, g(fake_a))}

    def translator(self, direction: str) -> tuple[nn.Module, int, int]:
        """G (AtoB) or F (BtoA), its input channels and size, for `ganrun translate`."""
        return self.generator["A2B" if direction == "AtoB" else "B2A"], self.channels[direction], self.size

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.metrics is None:
            return {}
        nets = unwrapped(generator)
        return self.metrics(translate_fn(nets["A2B"]), translate_fn(nets["B2A"]))


def build(cfg: Any, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "cyclegan", own_metrics: bool = True, not_sampled: str = "",
          cycle_weight: float = 10.0, identity_weight: float = 0.5, cycle_p: int = 1,
          pool_size: int = 50, flip: bool = True, grid_rows: int = 4) -> CycleGAN:
    """G: A -> B and F: B -> A from the architecture's generator, D_A and D_B from its discriminator."""
    train, test = splits(lambda **split: read_dataset(cfg, make, **split))
    (ca, size), cb = (train.shape_a[0], train.crop_size), train.shape_b[0]
    g = cfg.architecture.generator
    generator = nn.ModuleDict({"A2B": make(g, in_channels=ca, out_channels=cb, size=size),
                               "B2A": make(g, in_channels=cb, out_channels=ca, size=size)}).to(device)
    d = cfg.architecture.discriminator
    discriminator = nn.ModuleDict({"A": make(d, in_channels=ca, size=size),
                                   "B": make(d, in_channels=cb, size=size)}).to(device)
    return CycleGAN(generator, discriminator, make(cfg.objective), train, test, batch_size=cfg.trainer.batch_size,
                    seed=seed, device=device, cycle_weight=cycle_weight, identity_weight=identity_weight,
                    cycle_p=cycle_p, pool_size=pool_size, flip=flip, grid_rows=grid_rows,
                    metrics=metrics_for(cfg, train, test, device) if evaluate else None)
