"""torch.optim.Adam(fused=True).step() without its per-step Python: the same `torch._fused_adam_`
call on the same lists, so the same bits, for the few stacked tensors of ganrun.run.batched.

Adam.step() regroups its parameters, checks them, and adds 1 to each parameter's own step counter
(on the CPU one small op per tensor) before its one fused kernel. Here the lists are built once and
every parameter's state["step"] is one shared tensor, incremented once: all of them count the same
steps, so the kernel reads the same step for each. Anything else (another optimizer, amsgrad, a
tensor lr, parameters without gradients) takes the optimizer's own step().
"""

from __future__ import annotations

import torch
from torch import Tensor


class LeanAdam:
    def __init__(self, optimizer: torch.optim.Optimizer):
        self.optimizer = optimizer
        group = optimizer.param_groups[0]
        self.lean = (type(optimizer) is torch.optim.Adam and len(optimizer.param_groups) == 1
                     and bool(group.get("fused")) and not group["amsgrad"] and not group["capturable"]
                     and not group["differentiable"] and not group.get("decoupled_weight_decay")
                     and not isinstance(group["lr"], Tensor))
        self.lists: tuple[list[Tensor], ...] | None = None

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def step(self) -> None:
        if not self.lean:
            self.optimizer.step()
            return
        group = self.optimizer.param_groups[0]
        params = group["params"]
        if self.lists is None or any(p.grad is None for p in params):
            self.optimizer.step()  # the first step creates the state; then one step counter for all
            states = [self.optimizer.state[p] for p in params]
            shared = states[0]["step"]
            for state in states:
                state["step"] = shared
            self.lists = ([state["exp_avg"] for state in states], [state["exp_avg_sq"] for state in states],
                          [shared] * len(params))
            return
        exp_avgs, exp_avg_sqs, steps = self.lists
        steps[0].add_(1)
        beta1, beta2 = group["betas"]
        torch._fused_adam_(params, [p.grad for p in params], exp_avgs, exp_avg_sqs, [], steps, amsgrad=False,
                           lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                           eps=group["eps"], maximize=group["maximize"], grad_scale=None, found_inf=None)
