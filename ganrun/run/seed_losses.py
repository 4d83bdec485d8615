"""S seeds' losses in one call, each seed's bitwise its separate run's: the objective's own pure loss
function, vmapped over the seeds' scores (S, N), with its transcendental ops kept on each seed's
separate-run kernel path (`RowAligned`).

Why the care: ATen runs an elementwise op on a contiguous tensor as one flat loop, the first
2 x Vec::size() x k elements through the vectorized kernel (SLEEF's exp and log1p) and the rest
through the scalar one (libm's), which round differently in the last bit. A separate run's scores
(N,) put elements N - N mod 32 ... N - 1 (AVX-512) on the scalar path; the same seed's row inside a
flat (S, N) tensor lands elsewhere in that loop. A view of a row-padded (S, N + 1) buffer cannot be
merged into one flat loop, so ATen runs it row by row, each row the loop of one (N,) tensor, forward
and backward. Exact ops (negation, +, x, means over the contiguous last dimension, relu, squares)
give the same bits either way and run batched as they are.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

Loss = Callable[..., tuple[Tensor, dict[str, Tensor]]]

# Elementwise ops whose vectorized and scalar CPU kernels round differently (transcendentals).
ROUNDED = {F.softplus, F.logsigmoid, torch.exp, torch.expm1, torch.log, torch.log1p, torch.sigmoid, torch.tanh,
           Tensor.exp, Tensor.expm1, Tensor.log, Tensor.log1p, Tensor.sigmoid, Tensor.tanh}


class RowAligned(TorchFunctionMode):
    """Inside vmap over seeds: each op of ROUNDED runs on a row-padded view of its (logical (N,))
    input, so ATen loops over each seed's row as it loops over a separate run's (N,) tensor."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in ROUNDED and args and isinstance(args[0], Tensor) and args[0].dim() == 1:
            args = (F.pad(args[0], (0, 1))[:-1], *args[1:])  # (S, N + 1)[:, :N]: rows not mergeable
        return func(*args, **(kwargs or {}))


def seed_losses(loss: Loss, *scores: Tensor) -> Tensor:
    """Sum over seeds of each seed's loss on its scores (S, N): loss(*scores[s])[0] summed over s.
    d sum / d loss_s = 1, so each seed's gradient is its own (tests/test_batched.py checks it bitwise)."""
    with RowAligned():
        per_seed = torch.func.vmap(lambda *one: loss(*one)[0])(*(score.contiguous() for score in scores))
    return per_seed.sum()
