"""An objective as an object: its pure loss functions (losses.py, penalties.py, energy.py,
fdivergence.py) and the mechanics some objectives add to Algorithm 1, at the points a game calls.

A game asks the objective, for every adversarial term it has:
    discriminator_loss(real, fake)          D's loss on D's raw outputs (N,), with its state (BEGAN's k_t)
    penalty(D, real_inputs, fake_inputs)    a term of D's loss from D itself (WGAN-GP, DRAGAN)
    generator_scores(D, fake_inputs, ...)   what G is scored by: D, or D after K unrolled updates
    generator_loss(fake, real)              G's loss (`real` only when generator_sees_real)
    generator_penalty(D, fake_inputs)       a term of G's loss from D (EBGAN's pull-away term)
and the loop calls, after the updates:
    after_discriminator_update(D)           WGAN's weight clipping
    after_step(real, fake) -> terms         BEGAN's k_t control
Objectives with state (BEGAN) have state_dict/load_state_dict; the game puts them into checkpoints.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor, nn

from ganrun.objectives.energy import began_equilibrium
from ganrun.objectives.losses import Terms, source_scores
from ganrun.objectives.unrolled import unrolled_discriminator

Loss = Callable[..., tuple[Tensor, Terms]]
Penalty = Callable[..., tuple[Tensor, Terms]]


class Objective:
    """The plain adversarial game of Goodfellow et al. (2014) with any pair of losses."""

    def __init__(self, d_loss: Loss, g_loss: Loss, *, name: str = "objective", d_steps: int = 1,
                 penalty: Penalty | None = None, g_penalty: Penalty | None = None,
                 generator_sees_real: bool = False, scores: str = "score", normalization: str = "batch"):
        self.name, self.d_steps = name, d_steps
        self.d_loss, self.g_loss = d_loss, g_loss
        self.d_penalty, self.g_penalty = penalty, g_penalty
        self.generator_sees_real = generator_sees_real  # relativistic losses compare with D(x) in G's step
        self.scores = scores  # what D's outputs mean (config/choices.D_OUTPUTS): the game reads them so

    @property
    def has_penalty(self) -> bool:
        return self.d_penalty is not None

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> tuple[Tensor, Terms]:
        return self.d_loss(real, fake)

    def penalty(self, discriminator: Callable[[Tensor], Tensor], real_inputs: Tensor,
                fake_inputs: Tensor) -> tuple[Tensor | None, Terms]:
        """The weighted penalty and its terms; (None, {}) without one."""
        if self.d_penalty is None:
            return None, {}
        return self.d_penalty(discriminator, real_inputs, fake_inputs)

    def generator_scores(self, discriminator: Callable[..., Tensor], fake_inputs: Tensor,
                         fake_labels: Tensor | None, **unrolling: Any) -> Tensor:
        """D's outputs on what G made; `unrolling` (the built D, its optimizer, a real batch) is for
        objectives that judge G by another D than the current one."""
        return discriminator(fake_inputs, fake_labels)

    def generator_loss(self, fake: Tensor, real: Tensor | None = None) -> tuple[Tensor, Terms]:
        return self.g_loss(fake, real) if self.generator_sees_real else self.g_loss(fake)

    def generator_penalty(self, discriminator: nn.Module, fake_inputs: Tensor) -> tuple[Tensor | None, Terms]:
        if self.g_penalty is None:
            return None, {}
        return self.g_penalty(discriminator, fake_inputs)

    def after_discriminator_update(self, discriminator: nn.Module) -> None:
        """Called after every D update (WGAN clips D's weights here)."""

    def after_step(self, real: Tensor, fake: Tensor) -> Terms:
        """Called once per step, after both updates, with D's outputs on the step's real batch and on
        the batch G was scored on; returns terms to log."""
        return {}

    def source_scores(self, outputs: Tensor) -> Tensor:
        """D's real/fake score per sample (N,), for D/real and D/fake."""
        return source_scores(outputs)


class WeightClipping(Objective):
    """WGAN (Arjovsky et al. 2017, Algorithm 1): w <- clip(w, -c, c) after every critic update, the
    crude way the paper keeps the critic K-Lipschitz."""

    def __init__(self, d_loss: Loss, g_loss: Loss, *, clip_weights: float = 0.01, **options: Any):
        super().__init__(d_loss, g_loss, **options)
        self.clip_weights = clip_weights

    def after_discriminator_update(self, discriminator: nn.Module) -> None:
        with torch.no_grad():
            for parameter in discriminator.parameters():
                parameter.clamp_(-self.clip_weights, self.clip_weights)


class BEGAN(Objective):
    """BEGAN (Berthelot et al. 2017): D's loss En(x) - k_t En(G(z)) with k_t from the proportional
    control k_{t+1} = clip(k_t + lambda_k (gamma En(x) - En(G(z))), 0, 1), k_0 = 0."""

    def __init__(self, d_loss: Loss, g_loss: Loss, *, equilibrium: Any, **options: Any):
        super().__init__(d_loss, g_loss, **options)
        self.gamma, self.lambda_k = float(equilibrium["gamma"]), float(equilibrium["lambda_k"])
        self.k = torch.zeros(())

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> tuple[Tensor, Terms]:
        self.k = self.k.to(real.device)
        return self.d_loss(real, fake, k=self.k)

    def after_step(self, real: Tensor, fake: Tensor) -> Terms:
        self.k, terms = began_equilibrium(self.k.to(real.device), real, fake, self.gamma, self.lambda_k)
        return terms

    def state_dict(self) -> dict[str, Tensor]:
        return {"k": self.k}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.k = state["k"].clone()


class Unrolled(Objective):
    """Unrolled GAN (Metz et al. 2017): G is scored by D_K, D after K differentiable updates of D's
    own optimizer on this step's real batch and G's batch (unrolled.py); D itself trains as usual."""

    def __init__(self, d_loss: Loss, g_loss: Loss, *, unroll_steps: int = 5, **options: Any):
        super().__init__(d_loss, g_loss, **options)
        self.unroll_steps = unroll_steps

    def generator_scores(self, discriminator: Callable[..., Tensor], fake_inputs: Tensor,
                         fake_labels: Tensor | None, **unrolling: Any) -> Tensor:
        # the built D (twice differentiable, never compiled), its optimizer's state, the real batch
        scorer = unrolled_discriminator(unrolling["built"], self.d_loss, unrolling["optimizer"],
                                        unrolling["seen"](unrolling["real"]), unrolling["real_labels"],
                                        fake_inputs, fake_labels, self.unroll_steps)
        return scorer(fake_inputs, fake_labels)


class FGAN(Objective):
    """f-GAN (Nowozin et al. 2016): the losses of fdivergence.py for the divergence named here."""

    def __init__(self, d_loss: Loss, g_loss: Loss, *, divergence: str = "js", **options: Any):
        super().__init__(d_loss, g_loss, **options)
        self.divergence = divergence
