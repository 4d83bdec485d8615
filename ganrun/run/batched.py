"""Many seeds of one small GAN trained together in one process, with batched weights.

A 2-D mode-collapse study (PacGAN Table 1, VEEGAN's) trains the same small MLP GAN for ten or more
seeds. Run separately, each run pays Python's and the dispatcher's per-op cost for every small
matmul. Here the S seeds' weights are stacked along a leading seed dimension
(`torch.func.stack_module_state`) and each layer of all S networks is one batched op: a batched
matmul (S, B, in) x (S, in, out), one batch norm over S x C channels (each seed's channels keep
their own statistics), one ReLU, one maxout; the layers with fewer than 16 inputs or outputs are
`SmallLinear`s, whose arithmetic is the same stacked or not (ganrun/models/layers.py). The losses
are the objective's own functions, vmapped over the seeds with their transcendental ops kept on each
seed's own kernel path (ganrun/run/seed_losses.py), summed (d sum / d loss_s = 1 exactly, so each
seed's gradient is its own), and one fused Adam kernel per network steps the stacked tensors
(ganrun/run/lean_adam.py): Adam is elementwise, so each seed's slice takes its separate run's step.

Each seed replays its separate run's random stream: its networks are built by the same code right
after `seed_everything(seed)`, its latents come from a `torch.Generator` holding the global RNG's state
at the start of that run's loop, and its real batches from its own `infinite_batches(seed=seed)`.
`tests/test_batched.py` checks every seed's trained weights, bit for bit, against `ganrun train`'s
for that seed at one torch thread (the presets' networks and smaller ones, packs 1 and 3, ring and
grid, on the CPU); at two threads ATen splits the stacked reductions (batch norm and linear backward
over S x the channels) otherwise than a separate run's, and the weights agree within a tolerance.
Per seed it plays the part of the `gan` game (ganrun/games/gan.py) and the loop (ganrun/loop.py) for
the base `Objective`: only its pure loss functions are called, on each seed's scores.

What is supported is what the 2-D studies use (`check_supported`): the `mlp` family without dropout,
k = 1 D update per G update, an objective without penalties or unrolling, Adam, PacGAN packing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn
from torch.func import stack_module_state
from torch.nn import functional as F

from ganrun.models.layers import GEMM_MIN, SmallLinear, gemm, small_linear
from ganrun.models.mlp import Discriminator, Maxout
from ganrun.run.lean_adam import LeanAdam
from ganrun.run.seed_losses import Loss, seed_losses


@dataclass
class Seed:
    """One seed's separate run, as built: its networks, its real batches and its latent noise."""

    generator: nn.Module
    discriminator: nn.Module
    batches: object  # an iterator of (x, y) batches: infinite_batches(seed=seed)
    noise: torch.Generator  # the global RNG's state where that run's loop starts


def dense_layer(x: Tensor, module: nn.Linear, state: dict[str, Tensor], prefix: str) -> Tensor:
    """S linear layers, x (S, N, in) -> (S, N, out): one batched matmul (`gemm`) whose per-seed gemm is
    the separate run's F.linear (checked bitwise, forward and backward, by tests/test_batched.py);
    layers with fewer than GEMM_MIN inputs or outputs are `SmallLinear`s in both runs (`small_linear`)."""
    rule = small_linear if isinstance(module, SmallLinear) else gemm
    return rule(x, state[prefix + "weight"], state.get(prefix + "bias"))


def batch_norm(x: Tensor, module: nn.BatchNorm1d, state: dict[str, Tensor], prefix: str) -> Tensor:
    """S batch norms over x (S, N, C): one `F.batch_norm` over N x (S * C) channels, so each seed's
    channel keeps its own batch statistics and running averages (updated in place, as the separate run's)."""
    S, N, C = x.shape
    if module.momentum is None:
        raise ValueError("the batched path needs batch norm with a momentum (not a cumulative average)")
    if module.training:
        state[prefix + "num_batches_tracked"].add_(1)  # as nn.BatchNorm1d.forward counts
    flat = {name: state[prefix + name].reshape(-1) for name in ("weight", "bias", "running_mean", "running_var")}
    y = F.batch_norm(x.transpose(0, 1).reshape(N, S * C), flat["running_mean"], flat["running_var"],
                     flat["weight"], flat["bias"], module.training, module.momentum, module.eps)
    return y.view(N, S, C).transpose(0, 1)


def maxout(x: Tensor, module: Maxout, state: dict[str, Tensor], prefix: str) -> Tensor:
    pieces = dense_layer(x, module.linear, state, prefix + "linear.")
    return pieces.view(*x.shape[:2], module.width, module.pieces).max(dim=3).values  # as Maxout.forward


# The layers of the mlp family, each as its batched function of (x (S, N, ...), module, state, prefix)
LAYERS: dict[type, Callable[..., Tensor]] = {
    nn.Linear: dense_layer,
    SmallLinear: dense_layer,
    nn.BatchNorm1d: batch_norm,
    nn.ReLU: lambda x, m, state, prefix: torch.relu(x),
    nn.Flatten: lambda x, m, state, prefix: x.flatten(2),
    nn.Dropout: lambda x, m, state, prefix: x,  # p = 0 only (checked in Stacked)
    Maxout: maxout,
}


class Stacked(nn.Module):
    """S copies of one mlp-family network (`Generator` or unconditional `Discriminator`), their
    parameters and buffers stacked along a new leading dimension (`torch.func.stack_module_state`).

    Called on inputs (S, B, ...), copy s runs on slice s: the layers of `hidden`, then `output`, as
    each module's forward does. Parameters are leaves an optimizer steps in place; batch norm's
    running statistics are updated in place by the forward.
    """

    def __init__(self, modules: Sequence[nn.Module]):
        super().__init__()
        first = modules[0]
        if getattr(first, "label_head", None) is not None or getattr(first, "num_classes", None) is not None:
            raise ValueError("the batched path trains unconditional networks only")
        for layer in [*first.hidden, first.output]:
            if type(layer) not in LAYERS:
                raise ValueError(f"the batched path has no batched {type(layer).__name__} layer")
        if any(type(layer) is nn.Linear and min(layer.in_features, layer.out_features) < GEMM_MIN
               for layer in first.modules()):
            raise ValueError("the batched path needs a SmallLinear for layers under GEMM_MIN inputs or outputs")
        if any(isinstance(layer, nn.Dropout) and layer.p > 0 for layer in first.modules()):
            raise ValueError("the batched path replays each seed's noise for latents only: use dropout 0")
        params, buffers = stack_module_state(list(modules))
        self.keys = {name: name.replace(".", "/") for name in [*params, *buffers]}
        self.params = nn.ParameterDict({self.keys[n]: nn.Parameter(v.detach().clone()) for n, v in params.items()})
        for name, value in buffers.items():
            self.register_buffer(self.keys[name].replace("/", "__"), value.clone())
        self.layers = [(f"hidden.{i}.", layer) for i, layer in enumerate(first.hidden)] + [("output.", first.output)]
        self.image = getattr(first, "is_image", False)
        self.logits = isinstance(first, Discriminator)
        self.module = copy.deepcopy(first)  # its layers' settings (momentum, eps, p) and train/eval mode
        self._state: dict[str, Tensor] | None = None
        self.batch_norm = any(isinstance(layer, nn.BatchNorm1d) for _, layer in self.layers)

    def state(self) -> dict[str, Tensor]:
        """Stacked tensors by the separate module's names (parameters and buffers), built once: the
        optimizer and batch norm update these tensors in place."""
        if self._state is None:
            self._state = {name: self.params[key] for name, key in self.keys.items() if key in self.params}
            self._state.update({name: getattr(self, key.replace("/", "__")) for name, key in self.keys.items()
                                if key not in self.params})
        return self._state

    def forward(self, x: Tensor, copies: int = 1) -> Tensor:
        state = self.state()
        if copies > 1 and self.batch_norm:
            raise ValueError("a network with batch norm sees one batch per call (its running statistics)")
        if copies > 1:  # x (copies * S, B, ...): each seed's network on `copies` batches in one pass; the
            # gradient of a repeated weight is the sum of its copies' (a + b, as the separate run accumulates it)
            state = {name: value.repeat(copies, *[1] * (value.dim() - 1)) for name, value in state.items()}
        for prefix, layer in self.layers:
            x = LAYERS[type(layer)](x, layer, state, prefix)
        if self.image:  # the mlp generator's images: tanh, then (C, H, W)
            x = torch.tanh(x).view(*x.shape[:2], *self.module.data_shape)
        return x.squeeze(2) if self.logits else x  # D: one logit per sample (S, N)

    def train(self, mode: bool = True) -> "Stacked":
        super().train(mode)
        self.module.train(mode)
        return self

    @torch.no_grad()
    def unstack_into(self, modules: Sequence[nn.Module]) -> None:
        """Copy slice s of every parameter and buffer into modules[s] (for saving or scoring one seed)."""
        state = self.state()
        for s, module in enumerate(modules):
            for name, value in [*module.named_parameters(), *module.named_buffers()]:
                value.copy_(state[name][s])


def pack_batched(x: Tensor, size: int) -> Tensor:
    """PacGAN packing of every seed's batch: (S, N, F) -> (S, N / size, size * F), as `tricks.pack`."""
    return x if size == 1 else x.reshape(x.shape[0], x.shape[1] // size, size * x.shape[2])


class BatchedGAN:
    """Algorithm 1 (k = 1) for S seeds at once, step for step the loop of each seed's separate run:
    D on a real batch and a no-grad fake batch, then G on a fresh latent batch scored by frozen D."""

    def __init__(self, seeds: Sequence[Seed], *, optimizer_g: Callable, optimizer_d: Callable,
                 d_loss: Loss, g_loss: Loss, latent_dim: int, batch_size: int, pack: int = 1):
        self.seeds = list(seeds)
        self.G = Stacked([seed.generator for seed in self.seeds]).train()
        self.D = Stacked([seed.discriminator for seed in self.seeds]).train()
        self.optimizer_g = LeanAdam(optimizer_g(list(self.G.params.values())))
        self.optimizer_d = LeanAdam(optimizer_d(list(self.D.params.values())))
        self.d_loss, self.g_loss = d_loss, g_loss
        self.latent_dim, self.batch_size, self.pack = latent_dim, batch_size, pack
        self._gather_real()

    def latents(self) -> Tensor:
        return torch.stack([torch.randn(self.batch_size, self.latent_dim, generator=seed.noise)
                            for seed in self.seeds])  # (S, B, L)

    def real(self) -> Tensor:
        if self.data is None:
            return torch.stack([next(seed.batches)[0] for seed in self.seeds])  # (S, B, F)
        return self.data[self.rows, torch.stack([seed.batches.next_indices() for seed in self.seeds])]  # one gather

    def _gather_real(self) -> None:
        """In-memory datasets: every seed's points stacked (S, size, F), so that a step's real batches are
        one gather at each seed's `Batches.next_indices()`: the same points its `next()` hands out."""
        self.data = None
        batches = [seed.batches for seed in self.seeds]
        if all(getattr(b, "loader", True) is None and b.device.type == "cpu" for b in batches):
            self.data = torch.stack([b.tensors[0] for b in batches])
            self.rows = torch.arange(len(batches)).unsqueeze(1)

    def step(self) -> tuple[Tensor, Tensor]:
        """One D update and one G update of every seed; returns the summed D and G losses (detached)."""
        real, latents = self.real(), self.latents()
        with torch.no_grad():
            fake = self.G(latents)
        # D on the real and the fake batch in one pass (the separate run's two calls: D has no batch norm)
        d_real, d_fake = self.D(pack_batched(torch.cat([real, fake]), self.pack), copies=2).chunk(2)
        d_loss = seed_losses(self.d_loss, d_real, d_fake)
        self.optimizer_d.zero_grad()
        d_loss.backward()
        self.optimizer_d.step()

        self.D.params.requires_grad_(False)
        generated = self.G(self.latents())
        g_loss = seed_losses(self.g_loss, self.D(pack_batched(generated, self.pack)))
        self.optimizer_g.zero_grad()
        g_loss.backward()
        self.optimizer_g.step()
        self.D.params.requires_grad_(True)
        return d_loss.detach(), g_loss.detach()

    def train(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    def finish(self) -> None:
        """Every seed's trained weights (and batch-norm statistics) back into its own modules."""
        self.G.unstack_into([seed.generator for seed in self.seeds])
        self.D.unstack_into([seed.discriminator for seed in self.seeds])


def check_supported(cfg: DictConfig) -> None:
    """ConfigError (one line) unless the run is one the batched path replays exactly."""
    from ganrun.errors import ConfigError

    objective, tricks, trainer = cfg.objective, cfg.tricks, cfg.trainer
    problems = [name for name, bad in [
        ("objective.d_steps != 1", objective.d_steps != 1),
        ("a penalty", objective.penalty is not None or objective.get("g_penalty") is not None),
        # the base Objective only: unrolling, BEGAN's k_t, weight clipping are its subclasses' mechanics
        (f"objective {objective.name}'s mechanics", objective._target_ != "ganrun.objectives.Objective"),
        ("a generator that sees real scores", objective.generator_sees_real),
        ("game other than gan", cfg.game.name != "gan"),
        ("conditional=true", bool(cfg.get("conditional"))),
        ("trainer.reuse_fake", trainer.reuse_fake),
        ("trainer.precision != fp32", trainer.precision != "fp32"),
        ("trainer.compile", trainer.compile),
        ("tricks other than pack", any(OmegaConf.select(tricks, key) != value for key, value in TRICKS_OFF.items())),
    ] if bad]
    if problems:
        raise ConfigError("the batched seeds path does not replay " + ", ".join(problems))


TRICKS_OFF = {"label_smoothing.real": 1.0, "label_smoothing.fake": 0.0, "instance_noise.std": 0.0,
              "history.size": 0, "adaptive.t_d": None, "adaptive.t_g": None, "ema_decay": None, "minibatch_std": False, "mixed_bn_batches": False, "latent": "gaussian",
              "linear_lr_decay": False, "grad_clip": None}
