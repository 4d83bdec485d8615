"""Training tricks from their papers (Salimans et al. 2016, ganhacks, PacGAN, ...), as small functions the loop calls at one point.

Data-side tricks act on what D sees (`discriminator_input`: instance noise, then PacGAN packing;
`ReplayBuffer`: historical generator batches; `judge`: real-only/fake-only or mixed batches through
D's batch norm). Model-side: `make_ema` (EMA of G's weights), `linear_decay` (learning rates to zero).
Latent priors and great-circle interpolation (White 2016, "Sampling generative networks"; ganhacks) are in sampling.py.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor, nn
from torch.optim.lr_scheduler import LambdaLR
from torch.optim.swa_utils import AveragedModel

# ---------------------------------------------------------------- what D sees


def instance_noise_std(step: int, std: float, anneal_steps: int) -> float:
    """std at step 1, linearly down to 0 at step anneal_steps + 1 (constant when anneal_steps = 0)."""
    if anneal_steps <= 0:
        return std
    return std * max(0.0, 1.0 - (step - 1) / anneal_steps)


def pack(x: Tensor, size: int) -> Tensor:
    """PacGAN (Lin et al. 2018): (N, C, ...) -> (N / size, size * C, ...), each group of `size`
    consecutive samples concatenated along channels (features, for points)."""
    if size == 1:
        return x
    return x.reshape(x.shape[0] // size, size * x.shape[1], *x.shape[2:])


def packed_shape(data_shape: tuple[int, ...], size: int) -> tuple[int, ...]:
    return (size * data_shape[0], *data_shape[1:])


def discriminator_input(x: Tensor, noise_std: float, pack_size: int) -> Tensor:
    """What D sees of a batch: instance noise x + N(0, std^2) (Sonderby et al. 2017), then packed."""
    if noise_std > 0:
        x = x + noise_std * torch.randn_like(x)
    return pack(x, pack_size)


def judge(discriminator: Callable[..., Tensor], real: Tensor, real_labels: Tensor | None, fake: Tensor,
          fake_labels: Tensor | None, mixed: bool) -> tuple[Tensor, Tensor]:
    """D's outputs on real and fake: two batches, so batch norm sees one kind at a time (ganhacks #4:
    "construct different mini-batches for real and fake"), or with `mixed` one batch of both, split afterwards."""
    if not mixed:
        return discriminator(real, real_labels), discriminator(fake, fake_labels)
    labels = None if real_labels is None else torch.cat([real_labels, fake_labels])
    outputs = discriminator(torch.cat([real, fake]), labels)
    return outputs[:len(real)], outputs[len(real):]


class ReplayBuffer:
    """Historical generator batches (Shrivastava et al. 2017): a `fraction` of D's fake batch (the
    paper: half) comes from a buffer of past generated samples, and the fresh half then replaces
    random entries of the buffer (after filling it), so the buffer holds a sample of G's history.

    The buffer lives on the samples' device; `state_dict` holds it for a checkpoint."""

    def __init__(self, capacity: int, fraction: float = 0.5):
        self.capacity, self.fraction = capacity, fraction
        self.samples: Tensor | None = None
        self.labels: Tensor | None = None
        self.count = 0

    def mix(self, fake: Tensor, labels: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """(fake, labels) for D: the last k = round(fraction * N) replaced by random buffer entries once
        the buffer holds k; then the first k fresh samples go into the buffer."""
        k = min(round(self.fraction * len(fake)), self.capacity)
        mixed, mixed_labels = fake, labels
        if self.samples is not None and self.samples.device != fake.device:  # loaded from a checkpoint
            self.samples = self.samples.to(fake.device)
            self.labels = None if self.labels is None else self.labels.to(fake.device)
        if self.count >= k > 0:
            index = torch.randint(self.count, (k,), device=fake.device)
            mixed = torch.cat([fake[:len(fake) - k], self.samples[index]])
            if labels is not None:
                mixed_labels = torch.cat([labels[:len(fake) - k], self.labels[index]])
        self._store(fake[:k], None if labels is None else labels[:k])
        return mixed, mixed_labels

    def _store(self, fake: Tensor, labels: Tensor | None) -> None:
        if self.samples is None:
            self.samples = fake.new_empty(self.capacity, *fake.shape[1:])
            self.labels = None if labels is None else labels.new_empty(self.capacity)
        free = min(self.capacity - self.count, len(fake))
        slots = torch.arange(self.count, self.count + free, device=fake.device)
        if free < len(fake):  # full: the rest replace random entries
            replaced = torch.randperm(self.capacity, device=fake.device)[:len(fake) - free]
            slots = torch.cat([slots, replaced])
        self.samples[slots] = fake.detach()
        if labels is not None:
            self.labels[slots] = labels
        self.count += free

    def fill(self) -> float:
        return self.count / self.capacity

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"count": self.count}
        if self.samples is not None:
            state["samples"] = self.samples[:self.count].clone()
        if self.labels is not None:
            state["labels"] = self.labels[:self.count].clone()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count, self.samples, self.labels = 0, None, None
        if state["count"]:
            self._store(state["samples"], state.get("labels"))


# ---------------------------------------------------------------- weights and learning rates


def make_ema(generator: nn.Module, decay: float) -> AveragedModel:
    """EMA of G's weights (Yazici et al. 2019; Karras et al. 2018's G_ema): after each update
    w_ema <- decay w_ema + (1 - decay) w (the first update copies w). Batch-norm statistics are
    averaged too (use_buffers), so the averaged G samples without a separate BN pass. The decay is read
    at every update from `ema.decay`, so a schedule or the half-life ramp (`ema_decay_at`) can move it."""
    def lerp(averaged: list[Tensor], current: list[Tensor], num_averaged: Any) -> None:
        if averaged[0].is_floating_point() or averaged[0].is_complex():  # lists come grouped by dtype
            torch._foreach_lerp_(averaged, current, 1 - ema.decay)
        else:  # integer buffers (BN's num_batches_tracked), as torch's get_ema_multi_avg_fn
            for old, new in zip(averaged, current):
                old.copy_(old * ema.decay + new * (1 - ema.decay))

    ema = AveragedModel(generator, multi_avg_fn=lerp, use_buffers=True)
    ema.decay = decay
    return ema


def ema_decay_at(step: int, halflife: float, rampup: float | None) -> float:
    """The EMA decay 0.5^(1 / h) of a half-life of h G updates, ramped as StyleGAN2-ADA's and R3GAN's
    (half-life in images min(H, rampup x images seen)): h = min(halflife, rampup x step)."""
    h = halflife if rampup is None else min(halflife, rampup * step)
    return 0.5 ** (1 / h) if h > 0 else 0.0


def linear_decay(optimizer: torch.optim.Optimizer, steps: int, start: float = 0.0) -> LambdaLR:
    """lr_t = lr (1 - t / steps) (WGAN-GP's ResNet runs), stepped once per training step, 0 after the last;
    with `start` = s, constant for the first s * steps steps, then linearly to 0 (CycleGAN: s = 0.5, the
    reference's n_epochs then n_epochs_decay): lr_t = lr min(1, (steps - t) / (steps - s * steps))."""
    first = start * steps
    return LambdaLR(optimizer, lambda t: max(0.0, min(1.0, (steps - t) / (steps - first))))


def keep_training(loss: Tensor, threshold: float | None) -> bool:
    """Seed 001's adaptive schedule: go on while the loss is above its threshold. Reading the loss is
    a host sync (the loop waits for the device), which is why the schedule is off by default."""
    return threshold is None or float(loss.detach()) > threshold
