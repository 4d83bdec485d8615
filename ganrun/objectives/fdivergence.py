"""f-GAN (Nowozin et al. 2016): variational divergence minimisation with the paper's Table 2.

D's raw output V(x) goes through the divergence's output activation g_f, which maps it into the
domain of the convex conjugate f*. With T = g_f(V):
    F(G, D) = E_x g_f(V(x)) - E_z f*(g_f(V(G(z)))),
D ascends F (so descends -F) and G descends F, i.e. -E f*(g_f(V(G(z)))); the paper's alternative G
update (its Section 3.2) maximises E g_f(V(G(z))) instead, `alternative=true`.
Each `DIVERGENCES` row is one line of Table 2: g_f, f*, and f*(g_f(v)) written in a form that stays
finite for every v (e.g. for JS, -log(2 - exp(log 2 - softplus(-v))) = softplus(v) - log 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor
from torch.nn.functional import softplus

from ganrun.objectives.losses import Terms, check_scores

Fn = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Divergence:
    activation: Fn  # g_f: R -> dom f*
    conjugate: Fn  # f*(t) on dom f*
    conjugate_of_activation: Fn  # f*(g_f(v)), the stable composition


DIVERGENCES = {
    # KL: g_f(v) = v, f*(t) = exp(t - 1)
    "kl": Divergence(lambda v: v, lambda t: torch.exp(t - 1), lambda v: torch.exp(v - 1)),
    # reverse KL: g_f(v) = -exp(-v), f*(t) = -1 - log(-t)
    "reverse_kl": Divergence(lambda v: -torch.exp(-v), lambda t: -1 - torch.log(-t), lambda v: v - 1),
    # Jensen-Shannon: g_f(v) = log 2 - log(1 + exp(-v)), f*(t) = -log(2 - exp(t))
    "js": Divergence(lambda v: math.log(2) - softplus(-v), lambda t: -torch.log(2 - torch.exp(t)),
                     lambda v: softplus(v) - math.log(2)),
    # Pearson chi^2: g_f(v) = v, f*(t) = t^2 / 4 + t
    "pearson": Divergence(lambda v: v, lambda t: t.pow(2) / 4 + t, lambda v: v.pow(2) / 4 + v),
    # squared Hellinger: g_f(v) = 1 - exp(-v), f*(t) = t / (1 - t)
    "squared_hellinger": Divergence(lambda v: 1 - torch.exp(-v), lambda t: t / (1 - t),
                                    lambda v: torch.exp(v) - 1),
}


def _divergence(name: str) -> Divergence:
    if name not in DIVERGENCES:
        raise ValueError(f"objective.divergence={name} is not in f-GAN's Table 2 here: use one of "
                         f"{', '.join(DIVERGENCES)}")
    return DIVERGENCES[name]


def fgan_d_loss(real: Tensor, fake: Tensor, divergence: str) -> tuple[Tensor, Terms]:
    """-(E g_f(V(x)) - E f*(g_f(V(G(z))))); `divergence_estimate` logs F, the variational lower bound."""
    check_scores(real, fake)
    f = _divergence(divergence)
    estimate = f.activation(real).mean() - f.conjugate_of_activation(fake).mean()
    return -estimate, {"divergence_estimate": estimate.detach()}


def fgan_g_loss(fake: Tensor, divergence: str, alternative: bool = False) -> tuple[Tensor, Terms]:
    """G descends F: -E f*(g_f(V(G(z)))); or, with `alternative`, -E g_f(V(G(z)))."""
    check_scores(fake)
    f = _divergence(divergence)
    if alternative:
        return -f.activation(fake).mean(), {}
    return -f.conjugate_of_activation(fake).mean(), {}
