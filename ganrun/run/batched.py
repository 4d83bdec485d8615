"""Many seeds of one small GAN trained together in one process, with batched weights.

A 2-D mode-collapse study (PacGAN Table 1, VEEGAN's) trains the same small MLP GAN for ten or more
seeds. Run separately, each run pays Python's and the dispatcher's per-op cost for every small
matmul. Here the S seeds' weights are stacked along a leading seed dimension
(`torch.func.stack_module_state`) and each layer of all S networks is one batched op: a batched
matmul (S, B, in) x (S, in, out), one batch norm over S x C channels (each seed's channels keep
their own statistics), one ReLU, one maxout. The losses are the objective's own functions per seed,
summed (d sum / d loss_s = 1 exactly, so each seed's gradient is its own), and one fused Adam steps
the stacked tensors: Adam is elementwise, so each seed's slice takes its separate run's step.
(`torch.func.vmap` of `functional_call` does the same with less code, but its batching rules for the
one-logit layer, the small input layer and the mean of the losses round differently: not bitwise.)

Each seed replays its separate run's random stream: its networks are built by the same code right
after `seed_everything(seed)`, its latents come from a `torch.Generator` holding the global RNG's state
at the start of that run's loop, and its real batches from its own `infinite_batches(seed=seed)`.
`tests/test_batched.py` checks every seed's trained weights, bit for bit, against `ganrun train`'s
for that seed (the presets' networks and smaller ones, packs 1 and 3, ring and grid, on the CPU).
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

from ganrun.models.mlp import Discriminator, Maxout

Loss = Callable[..., tuple[Tensor, dict[str, Tensor]]]


@dataclass
class Seed:
    """One seed's separate run, as built: its networks, its real batches and its latent noise."""

    generator: nn.Module
    discriminator: nn.Module
    batches: object  # an iterator of (x, y) batches: infinite_batches(seed=seed)
    noise: torch.Generator  # the global RNG's state where that run's loop starts


GEMM_MIN = 16  # layers with fewer inputs or outputs run seed by seed (see `linear`)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """S linear layers: x (S, N, in), weight (S, out, in), bias (S, out) -> (S, N, out).

    One batched matmul per layer, whose per-seed gemm is the one the separate run's `F.linear` calls
    (checked bitwise, forward and backward, by tests/test_batched.py). A layer with fewer than
    GEMM_MIN inputs or outputs (the 2-D input layer, the one-logit output) is computed seed by seed
    with `F.linear` itself: for such shapes the library picks other kernels (gemv, small-k paths)
    whose rounding a batched matmul does not reproduce.
    """
    if min(weight.shape[1:]) < GEMM_MIN:  # unbind: one backward node per tensor, not one per seed
        biases = [None] * len(x) if bias is None else bias.unbind(0)
        return torch.stack([F.linear(*args) for args in zip(x.unbind(0), weight.unbind(0), biases)])
    if bias is None:
        return torch.bmm(x, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


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
    pieces = linear(x, state[prefix + "linear.weight"], state[prefix + "linear.bias"])
    return pieces.view(*x.shape[:2], module.width, module.pieces).max(dim=3).values  # as Maxout.forward


# The layers of the mlp family, each as its batched function of (x (S, N, ...), module, state, prefix)
LAYERS: dict[type, Callable[..., Tensor]] = {
    nn.Linear: lambda x, m, state, prefix: linear(x, state[prefix + "weight"], state.get(prefix + "bias")),
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

    def state(self) -> dict[str, Tensor]:
        """Stacked tensors by the separate module's names (parameters and buffers)."""
        out = {name: self.params[key] for name, key in self.keys.items() if key in self.params}
        out.update({name: getattr(self, key.replace("/", "__")) for name, key in self.keys.items()
                    if key not in self.params})
        return out

    def forward(self, x: Tensor) -> Tensor:
        state = self.state()
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


def seed_losses(loss: Loss, *scores: Tensor) -> Tensor:
    """Sum over seeds of each seed's loss: the objective's own function on each seed's scores (S, N)
    (vmap of it rounds differently); d sum / d loss_s = 1, so each seed's gradient is its own."""
    return torch.stack([loss(*per_seed)[0] for per_seed in zip(*(score.unbind(0) for score in scores))]).sum()


class BatchedGAN:
    """Algorithm 1 (k = 1) for S seeds at once, step for step the loop of each seed's separate run:
    D on a real batch and a no-grad fake batch, then G on a fresh latent batch scored by frozen D."""

    def __init__(self, seeds: Sequence[Seed], *, optimizer_g: Callable, optimizer_d: Callable,
                 d_loss: Loss, g_loss: Loss, latent_dim: int, batch_size: int, pack: int = 1):
        self.seeds = list(seeds)
        self.G = Stacked([seed.generator for seed in self.seeds]).train()
        self.D = Stacked([seed.discriminator for seed in self.seeds]).train()
        self.optimizer_g = optimizer_g(list(self.G.parameters()))
        self.optimizer_d = optimizer_d(list(self.D.parameters()))
        self.d_loss, self.g_loss = d_loss, g_loss
        self.latent_dim, self.batch_size, self.pack = latent_dim, batch_size, pack

    def latents(self) -> Tensor:
        return torch.stack([torch.randn(self.batch_size, self.latent_dim, generator=seed.noise)
                            for seed in self.seeds])  # (S, B, L)

    def real(self) -> Tensor:
        return torch.stack([next(seed.batches)[0] for seed in self.seeds])  # (S, B, F)

    def step(self) -> tuple[Tensor, Tensor]:
        """One D update and one G update of every seed; returns the summed D and G losses (detached)."""
        real, latents = self.real(), self.latents()
        with torch.no_grad():
            fake = self.G(latents)
        d_real, d_fake = self.D(pack_batched(real, self.pack)), self.D(pack_batched(fake, self.pack))
        d_loss = seed_losses(self.d_loss, d_real, d_fake)
        self.optimizer_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.optimizer_d.step()

        self.D.requires_grad_(False)
        generated = self.G(self.latents())
        g_loss = seed_losses(self.g_loss, self.D(pack_batched(generated, self.pack)))
        self.optimizer_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.optimizer_g.step()
        self.D.requires_grad_(True)
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
