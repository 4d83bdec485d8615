"""Non-finite values: a NaN or Inf in a loss, a gradient or a weight, found within a step.

trainer.on_nan=stop: after every step the losses and the norms of both networks' weights are stacked
into one small tensor on the device. On the CPU it is read at once. On a GPU it is copied to the host
without waiting and read at the next step, so no step waits for the device: the run stops one step
after the bad one at most, and `confirm()` reads the latest copy before anything is saved, so a
checkpoint never holds a non-finite value and the last one written is the last good one.

trainer.on_nan=skip: an update whose loss or gradients are not finite is not applied (knowing that
before the optimizer step costs one host sync per update) and is counted; a weight that turns
non-finite anyway still stops the run, since skipping updates cannot undo it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn.utils import get_total_norm

from ganrun.errors import NonFiniteError


def _norm(module: nn.Module) -> Tensor:
    """The L2 norm of all the weights: not finite iff some weight is not (or one exceeds ~1e19)."""
    return get_total_norm([p.detach() for p in module.parameters()], foreach=True).float()


class NonFiniteGuard:
    def __init__(self, mode: str, device: torch.device) -> None:
        self.mode, self.device = mode, device
        self.skipped = 0  # updates dropped by on_nan=skip, carried across resumes
        self.failure: str | None = None
        self._pending: tuple[int, Tensor, list[str], torch.cuda.Event] | None = None

    def allows(self, loss: Tensor, module: nn.Module) -> bool:
        """Whether to apply the update just computed for `module` (always, unless on_nan=skip)."""
        if self.mode != "skip":
            return True
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        finite = bool(torch.isfinite(loss).all()) and (not grads or bool(torch.isfinite(get_total_norm(grads))))
        self.skipped += not finite
        return finite

    def watch(self, step: int, losses: dict[str, Tensor], modules: dict[str, nn.Module]) -> bool:
        """Check step `step`'s values (on a GPU: the previous step's); False once a failure is known."""
        checked = losses if self.mode == "stop" else {}  # skip mode has dropped the bad updates already
        names = [*checked, *(f"the weights of {name} (their norm)" for name in modules)]
        values = torch.stack([*(v.detach().float().reshape(()) for v in checked.values()),
                              *(_norm(module) for module in modules.values())])
        if self.device.type != "cuda":
            self._check(step, values, names)
            return self.failure is None
        previous = self._pending
        event = torch.cuda.Event()
        self._pending = (step, values.to("cpu", non_blocking=True), names, event)
        event.record()
        if previous is not None:
            self._read(previous)
        return self.failure is None

    def confirm(self) -> bool:
        """Wait for the latest values (before a checkpoint); True when everything so far is finite."""
        if self._pending is not None:
            self._read(self._pending)
            self._pending = None
        return self.failure is None

    def _read(self, pending: tuple[int, Tensor, list[str], torch.cuda.Event]) -> None:
        step, values, names, event = pending
        event.synchronize()
        self._check(step, values, names)

    def _check(self, step: int, values: Tensor, names: list[str]) -> None:
        if self.failure is None and not bool(torch.isfinite(values).all()):
            bad = [f"{name} = {float(value)}" for name, value in zip(names, values) if not torch.isfinite(value)]
            self.failure = f"non-finite value at step {step}: {', '.join(bad)}"

    def raise_if_failed(self, last_checkpoint: Path | None) -> None:
        if self.failure is None:
            return
        where = (f"the last good checkpoint is {last_checkpoint}" if last_checkpoint is not None
                 else "no checkpoint was written before it")
        remedy = ("lower optimizer.lr, or set trainer.on_nan=skip to drop such updates" if self.mode == "stop"
                  else "skipping updates cannot undo a non-finite weight: lower optimizer.lr")
        raise NonFiniteError(f"{self.failure}; stopped (trainer.on_nan={self.mode}); {where}: {remedy}")

    def scalars(self) -> dict[str, float]:
        return {"nonfinite/skipped_updates": float(self.skipped)} if self.mode == "skip" else {}

    def state_dict(self) -> dict[str, int]:
        return {"skipped": self.skipped}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.skipped = int(state["skipped"])
