"""Unrolled GAN (Metz et al. 2017): the generator is judged by D_K, D after K more updates.

theta_D^0 = theta_D and theta_D^{k+1} = theta_D^k + update(grad of D's loss at theta_D^k), computed
with `create_graph=True`, so G's gradient flows back through every unrolled step (the paper's
Equation 10, Figure 1). The update is the one D's optimizer makes: Adam's, continuing from its
moment estimates (as the paper's code unrolls Adam), or a plain gradient step with its learning
rate for other optimizers. D itself is not changed: the unrolled weights are new tensors, used
through `torch.func.functional_call`; buffers (batch-norm statistics) are cloned. The unrolled steps
reuse one real batch and G's batch being judged, as the paper's code does.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call

Params = dict[str, Tensor]


def _adam_update(optimizer: torch.optim.Adam, module: nn.Module) -> Callable[[Params, list[Tensor], int], Params]:
    """A differentiable Adam step from the optimizer's hyper-parameters and state (weight decay and
    amsgrad are not unrolled). sqrt(v) is taken of max(v, 1e-30): the same value, but no infinite
    derivative where a weight's gradient has been exactly zero so far (v = 0)."""
    group = optimizer.param_groups[0]
    lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
    moments = {}
    for name, p in module.named_parameters():
        state = optimizer.state.get(p, {})
        moments[name] = (state.get("exp_avg", torch.zeros_like(p)).detach(),
                         state.get("exp_avg_sq", torch.zeros_like(p)).detach(), int(state.get("step", 0)))

    def update(params: Params, grads: list[Tensor], k: int) -> Params:
        new = {}
        for (name, p), g in zip(params.items(), grads):
            m, v, step = moments[name]
            m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
            moments[name] = (m, v, step)
            t = step + k + 1
            m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
            new[name] = p - lr * m_hat / (v_hat.clamp_min(1e-30).sqrt() + eps)
        return new

    return update


def _gradient_step(optimizer: torch.optim.Optimizer) -> Callable[[Params, list[Tensor], int], Params]:
    lr = optimizer.param_groups[0]["lr"]
    return lambda params, grads, k: {name: p - lr * g for (name, p), g in zip(params.items(), grads)}


def unrolled_discriminator(discriminator: nn.Module, d_loss: Callable[..., tuple[Tensor, dict]],
                           optimizer: torch.optim.Optimizer, real: Tensor, real_labels: Tensor | None,
                           fake: Tensor, fake_labels: Tensor | None, steps: int) -> Callable[..., Tensor]:
    """D_K as a function `(x, labels) -> outputs`, K = `steps` differentiable updates of D on (real, fake).

    `fake` must carry G's graph: the unrolled weights then depend on G, and G's loss on D_K's outputs
    differentiates through the unrolling. steps = 0 gives D itself."""
    if steps == 0:
        return discriminator
    params = {name: p.detach().requires_grad_(True) for name, p in discriminator.named_parameters()}
    buffers = {name: b.clone() for name, b in discriminator.named_buffers()}
    update = (_adam_update(optimizer, discriminator) if isinstance(optimizer, torch.optim.Adam)
              else _gradient_step(optimizer))

    def unrolled(x: Tensor, labels: Tensor | None = None) -> Tensor:
        return functional_call(discriminator, (params, buffers), (x, labels))

    for k in range(steps):
        loss, _ = d_loss(unrolled(real, real_labels), unrolled(fake, fake_labels))
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        params = update(params, list(grads), k)
    return unrolled
