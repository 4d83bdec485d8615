"""Zero-centred gradient penalties R1 and R2, lazy regularisation, and an L2 penalty on D's weights.

R1 (Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?", eq. 9):
    R1(psi) = (gamma / 2) E_{x ~ p_data} ||grad_x D_psi(x)||^2          on real samples;
R2 (the same paper, eq. 10, after Roth et al. 2017): the same on generated samples x = G(z).
Lazy regularisation (Karras et al. 2020, StyleGAN2, section 3.1): the penalty is computed only every
k-th D step and multiplied by k there, so its average contribution to D's gradient is unchanged.
Each function returns (loss, terms): the weighted penalty, and its unweighted value to plot.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch
from torch import Tensor, nn

Terms = dict[str, Tensor]
Penalty = Callable[..., tuple[Tensor, Terms]]


def squared_gradient_norm(discriminator: Callable[[Tensor], Tensor], points: Tensor) -> Tensor:
    """E ||grad_y D(y)||^2 over the batch `points` (per-sample squared L2 norm, then the mean).

    D's scores are summed before differentiating: sample i's score depends on y_i only (no batch
    norm in a D that is penalised this way), so d(sum_j D(y_j)) / dy_i = grad D(y_i)."""
    points = points.detach().requires_grad_(True)
    scores = discriminator(points)
    (gradients,) = torch.autograd.grad(scores.sum(), points, create_graph=True)
    return gradients.pow(2).flatten(1).sum(1).mean()


def r1_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor | None = None,
               gamma: float = 10.0) -> tuple[Tensor, Terms]:
    """R1 = (gamma / 2) E_x ||grad_x D(x)||^2 on the real batch (Mescheder et al. 2018, eq. 9)."""
    value = squared_gradient_norm(discriminator, real)
    return 0.5 * float(gamma) * value, {"r1": value.detach()}


def r2_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor | None, fake: Tensor,
               gamma: float = 10.0) -> tuple[Tensor, Terms]:
    """R2 = (gamma / 2) E_z ||grad D(G(z))||^2 on the generated batch (Mescheder et al. 2018, eq. 10)."""
    value = squared_gradient_norm(discriminator, fake)
    return 0.5 * float(gamma) * value, {"r2": value.detach()}


def r1_r2_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                  gamma: float = 10.0) -> tuple[Tensor, Terms]:
    """R1 + R2 with one gamma, as R3GAN regularises its RpGAN (Huang et al. 2024, section 3)."""
    r1, r1_terms = r1_penalty(discriminator, real, None, gamma)
    r2, r2_terms = r2_penalty(discriminator, None, fake, gamma)
    return r1 + r2, {**r1_terms, **r2_terms}


def parameters_of(discriminator: Any) -> Iterable[nn.Parameter]:
    """The parameters behind D, given as a module or as `functools.partial(module, labels=...)`."""
    module = getattr(discriminator, "func", discriminator)
    return module.parameters()


def weight_penalty(discriminator: Any, real: Tensor | None = None, fake: Tensor | None = None,
                   weight: float = 1e-4) -> tuple[Tensor, Terms]:
    """lambda sum_w ||w||^2 over D's parameters: "penalise D's weights" (the Portuguese deck); with
    SGD this is weight decay of 2 lambda. Spectral-norm'd layers contribute their raw weights."""
    squares = torch.stack([p.pow(2).sum() for p in parameters_of(discriminator) if p.requires_grad])
    value = squares.sum()
    return float(weight) * value, {"weight_l2": value.detach()}


class Penalties:
    """Several penalties summed, their terms merged: `Penalties([r1, r2, weight_l2])`."""

    def __init__(self, penalties: Iterable[Penalty]):
        self.penalties = [p for p in penalties if p is not None]

    def __call__(self, discriminator: Any, real: Tensor, fake: Tensor) -> tuple[Tensor, Terms]:
        total, terms = real.new_zeros(()), {}
        for penalty in self.penalties:
            loss, more = penalty(discriminator, real, fake)
            total, terms = total + loss, {**terms, **more}
        return total, terms


class Lazy:
    """Lazy regularisation (StyleGAN2, section 3.1): `penalty` is computed on every `every`-th call
    only (the 1st, (k+1)-th, ...), multiplied by k; the other calls cost nothing and return 0 with
    the last computed terms. Its call count is state: `state_dict()` carries it into checkpoints."""

    def __init__(self, penalty: Penalty, every: int = 16):
        if every < 1:
            raise ValueError(f"lazy regularisation needs every >= 1, got {every}")
        self.penalty, self.every, self.calls = penalty, every, 0
        self.terms: Terms = {}

    def __call__(self, discriminator: Any, real: Tensor, fake: Tensor) -> tuple[Tensor, Terms]:
        due = self.calls % self.every == 0
        self.calls += 1
        if not due:
            return real.new_zeros(()), self.terms
        loss, self.terms = self.penalty(discriminator, real, fake)
        return self.every * loss, self.terms

    def state_dict(self) -> dict[str, int]:
        return {"calls": self.calls}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.calls = int(state["calls"])
