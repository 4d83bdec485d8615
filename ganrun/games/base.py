"""The contract between the loop (ganrun/loop.py) and a game.

A game owns the networks of one kind of GAN training and decides what each is shown: a G(z) vs
D(x) game draws latents and real images; a translation game pairs inputs with targets; a game with
two generators and two discriminators keeps them in `nn.ModuleDict`s. The loop owns everything that is
the same for every game: the optimizers (one over `generator`'s parameters, one over
`discriminator`'s), the update itself (backward, gradient averaging, clipping, the NaN guard, the
step), EMA, learning-rate schedules, logging and checkpoints. Per training step it calls

    start_step(step)
    d_steps times:  batch = next_batch(); loss = discriminator_loss(batch) -> D's update;
                    after_discriminator_update()
    once:           loss = generator_loss(batch) -> G's update (D's weights frozen)
    end_step(step)

and at its interval points `scalars()`, `visuals(G)` and `evaluate(G)`, with the EMA generator when
there is one. Losses come with `terms`, name -> 0-dim tensor, read back only at logging steps; names
holding a "/" are logged as they are ("D/real", "loss/L1"), others as "objective/<name>".
"""

from __future__ import annotations

from typing import Any, Callable

from torch import Tensor, nn

Terms = dict[str, Tensor]


class Visual:
    """What TensorBoard shows under one tag: an image grid (N, C, H, W) in [-1, 1] with `nrow` images a
    row, or 2-D points (N, 2) drawn over `reference` points."""

    def __init__(self, tensor: Tensor, nrow: int | None = None, reference: Tensor | None = None):
        self.tensor, self.nrow, self.reference = tensor, nrow, reference


class Game:
    """Defaults for the optional parts of the contract; a game overrides what it has."""

    generator: nn.Module
    discriminator: nn.Module | None = None
    d_steps: int = 1

    def bind(self, optimizer_d: Any, optimizer_g: Any) -> None:
        """The loop's optimizers, for losses that replay an update (the Unrolled GAN)."""
        self.optimizer_d, self.optimizer_g = optimizer_d, optimizer_g

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        """`wrap` is the fast path (autocast, channels_last, compile): wrap the networks the training
        forwards call; keep the built ones for what needs them (gradient penalties, checkpoints)."""

    def has_penalty(self) -> bool:
        """Whether D's loss differentiates D twice (a gradient penalty): compiled graphs cannot."""
        return False

    def stateful_parts(self) -> dict[str, Any]:
        """Checkpointed state besides the networks, by name (batch streams, buffers, an objective's state)."""
        return {}

    def start_step(self, step: int) -> None:
        """Schedules that move with the step."""

    def next_batch(self) -> Any:
        raise NotImplementedError

    def discriminator_loss(self, batch: Any) -> tuple[Tensor, Terms]:
        raise NotImplementedError

    def after_discriminator_update(self) -> None:
        """After every D update."""

    def generator_loss(self, batch: Any) -> tuple[Tensor, Terms]:
        raise NotImplementedError

    def end_step(self, step: int) -> Terms:
        """After both updates of a step; terms to log."""
        return {}

    def scalars(self) -> dict[str, float]:
        """The game's own values at a logging step, as plain numbers (no device sync)."""
        return {}

    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        return {}

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        """Metrics of the generator's samples ({} when the run computes none)."""
        return {}
