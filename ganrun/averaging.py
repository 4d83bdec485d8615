"""Averages of a network's weights over training, besides the EMA of tricks.make_ema.

`HistoricalAverage` (Salimans et al. 2016, Section 3.3): the running mean (1/t) sum_{i=1}^t theta[i]
of a player's parameters after each of its t updates so far, for the penalty
||theta - (1/t) sum theta[i]||^2 (objectives.salimans.historical_averaging_penalty).

`WindowAverage` (the Russian deck's "average of the weights over the last n iterations"): a copy of
G whose weights are the plain mean of G's last n weights (after each update), used like the EMA copy
for sample grids and metrics. It keeps the n snapshots (n times G's memory) so the mean is exact,
with no drift of a running sum.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn


class HistoricalAverage:
    """The mean of a module's parameters over the updates seen so far (`update` after each one)."""

    def __init__(self, module: nn.Module):
        self.averages = [torch.zeros_like(p, requires_grad=False) for p in module.parameters()]
        self.count = 0

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        """avg_t = avg_{t-1} + (theta_t - avg_{t-1}) / t: the exact running mean, one pass."""
        self.count += 1
        for average, parameter in zip(self.averages, module.parameters(), strict=True):
            average.add_((parameter.detach() - average) / self.count)

    def penalty(self, module: nn.Module) -> Tensor:
        """||theta - avg||^2 over every parameter; 0 before the first update (no history yet)."""
        from ganrun.objectives.salimans import historical_averaging_penalty

        if self.count == 0:
            return next(module.parameters()).new_zeros(())
        return historical_averaging_penalty(module.parameters(), self.averages)

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, "averages": [a.clone() for a in self.averages]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count = int(state["count"])
        for average, saved in zip(self.averages, state["averages"], strict=True):
            average.copy_(saved)


class WindowAverage(nn.Module):
    """`module` (a copy of G) holds the mean of G's last `size` weights (and buffers, like the EMA
    copy with use_buffers, so batch-norm statistics are averaged too), after `update_parameters(G)`."""

    def __init__(self, model: nn.Module, size: int):
        super().__init__()
        if size < 1:
            raise ValueError(f"a window average needs size >= 1, got {size}")
        self.module = copy.deepcopy(model)
        self.size = size
        self.snapshots: list[list[Tensor]] = []  # oldest first, at most `size`

    @staticmethod
    def _tensors(model: nn.Module) -> list[Tensor]:
        return [t for t in (*model.parameters(), *model.buffers()) if t.is_floating_point()]

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        self.snapshots = (self.snapshots + [[t.detach().clone() for t in self._tensors(model)]])[-self.size:]
        for target, *values in zip(self._tensors(self.module), *self.snapshots, strict=True):
            target.copy_(torch.stack(values).mean(0))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        state = super().state_dict(*args, **kwargs)
        prefix = kwargs.get("prefix", "")
        for i, snapshot in enumerate(self.snapshots):
            for j, tensor in enumerate(snapshot):
                state[f"{prefix}snapshot.{i}.{j}"] = tensor.clone()
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> Any:  # type: ignore[override]
        state = dict(state)
        count = 1 + max((int(k.split(".")[1]) for k in state if k.startswith("snapshot.")), default=-1)
        width = len(self._tensors(self.module))
        self.snapshots = [[state.pop(f"snapshot.{i}.{j}") for j in range(width)] for i in range(count)]
        return super().load_state_dict(state, strict=strict)


class HistoricalAveraging:
    """Salimans et al.'s historical averaging for both players: each one's cost gets
    weight * ||theta - (1/t) sum_i theta[i]||^2 over its own parameters, the average taken over the
    parameters after each of its past updates (update_discriminator / update_generator)."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, weight: float):
        self.weight = weight
        self.averages = {"G": HistoricalAverage(generator), "D": HistoricalAverage(discriminator)}

    def penalty(self, player: str, module: nn.Module) -> tuple[Tensor, dict[str, Tensor]]:
        """(weight * penalty, {"historical_<player>": the penalty before its weight})."""
        value = self.averages[player].penalty(module)
        return self.weight * value, {f"historical_{player}": value.detach()}

    def update(self, player: str, module: nn.Module) -> None:
        self.averages[player].update(module)

    def state_dict(self) -> dict[str, Any]:
        return {player: average.state_dict() for player, average in self.averages.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for player, average in self.averages.items():
            average.load_state_dict(state[player])
