"""Schedules for any scalar of the config: `schedules:` mirrors the config tree, and a node with a
`kind` there makes the value at the same path follow it, step by step, in the objects built from it.

    schedules:                       # e.g. R3GAN's (Huang et al. 2024, section 4): cosine over training
      optimizer: {lr: {kind: cosine, start: 2e-4, end: 5e-5}, betas: {"1": {kind: cosine, start: 0.9, end: 0.99}}}
      regularizer: {penalty: {gamma: {kind: cosine, start: 0.05, end: 0.005}}}

`Schedule.value(t)` at t completed steps: cosine start -> end as end + (start - end)(1 + cos(pi t / T)) / 2,
or linear start + (end - start) t / T, constant at `end` after T = `steps` (default: trainer.steps).
`ScheduledValues` applies them: the loop calls `step(t)` before each training step. A path reaches the
live value through the built objects: mappings by key, `functools.partial` keywords (a loss's or a
penalty's argument), attributes, list items, or a node's own `set_scheduled(keys, value)` (optimizers'
param groups, where `optimizer.lr` sets both networks' and `optimizer.generator.lr` one).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Iterator

from torch.optim import Optimizer


def cosine(start: float, end: float, progress: float) -> float:
    return end + (start - end) * (1 + math.cos(math.pi * progress)) / 2


def linear(start: float, end: float, progress: float) -> float:
    return start + (end - start) * progress


KINDS = {"cosine": cosine, "linear": linear}


@dataclass
class Schedule:
    kind: str
    start: float
    end: float
    steps: int

    def value(self, t: int) -> float:
        """The value after t completed steps (t = 0 at the first step)."""
        return KINDS[self.kind](self.start, self.end, min(max(t, 0) / self.steps, 1.0))


def specs(node: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, spec) for every schedule node (a mapping with `kind`) under the `schedules` config."""
    if isinstance(node, Mapping) and "kind" in node:
        yield prefix, node
    elif isinstance(node, Mapping):
        for key, child in node.items():
            yield from specs(child, prefix + (str(key),))


def _child(node: Any, key: str) -> Any:
    if isinstance(node, Mapping):
        return node[key]
    if isinstance(node, functools.partial):
        return node.keywords[key]
    if isinstance(node, (list, tuple)):
        return node[int(key)]
    return getattr(node, key)


def assign(root: Any, path: tuple[str, ...], value: float) -> None:
    """Set the live value at `path` under `root` (KeyError/AttributeError/IndexError when there is none)."""
    node = root
    for depth, key in enumerate(path[:-1]):
        if hasattr(node, "set_scheduled"):
            return node.set_scheduled(path[depth:], value)
        node = _child(node, key)
    last = path[-1]
    if hasattr(node, "set_scheduled"):
        node.set_scheduled((last,), value)
    elif isinstance(node, MutableMapping):
        node[last] = value
    elif isinstance(node, functools.partial):
        if last not in node.keywords:
            raise KeyError(last)
        node.keywords[last] = value
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        getattr(node, last)  # AttributeError when the object has no such value
        setattr(node, last, value)


class OptimizerGroups:
    """The optimizers' hyperparameters as schedule targets: `lr` / `betas.1` set both networks' param
    groups; `generator.lr` / `discriminator.lr` one network's."""

    def __init__(self, generator: Optimizer, discriminator: Optimizer | None):
        self.optimizers = {"generator": [generator], "discriminator": [discriminator] if discriminator else []}

    def set_scheduled(self, keys: tuple[str, ...], value: float) -> None:
        optimizers = self.optimizers.get(keys[0])
        keys = keys[1:] if optimizers else keys
        for optimizer in optimizers or self.optimizers["generator"] + self.optimizers["discriminator"]:
            for group in optimizer.param_groups:
                _set_group(group, keys, value)


def _set_group(group: dict, keys: tuple[str, ...], value: float) -> None:
    if keys[0] not in group or len(keys) > 2:
        raise KeyError(".".join(keys))
    if len(keys) == 1:
        group[keys[0]] = value
        return
    items = list(group[keys[0]])  # e.g. Adam's betas tuple
    items[int(keys[1])] = value
    group[keys[0]] = type(group[keys[0]])(items)


class ScheduledValues:
    """Every schedule of the config over the built objects `root` (a mapping from the config's
    top-level keys to what was built from them); `step(t)` sets each value for step t + 1."""

    def __init__(self, schedules_cfg: Any, root: Mapping[str, Any], default_steps: int):
        self.root = root
        self.schedules = {path: Schedule(spec["kind"], float(spec["start"]), float(spec["end"]),
                                         int(spec.get("steps") or default_steps))
                          for path, spec in specs(schedules_cfg or {})}
        self.current: dict[str, float] = {}
        self.step(0)  # fails now, before training, for a path that reaches no value

    def step(self, t: int) -> None:
        for path, schedule in self.schedules.items():
            value = schedule.value(t)
            try:
                assign(self.root, path, value)
            except (KeyError, AttributeError, IndexError, TypeError, ValueError) as error:
                raise ValueError(f"schedules.{'.'.join(path)}: the built run has no such value ({error!r})") from None
            self.current[".".join(path)] = value

    def scalars(self) -> dict[str, float]:
        """What TensorBoard shows: schedule/<path> for each scheduled value."""
        return {f"schedule/{path}": value for path, value in self.current.items()}
