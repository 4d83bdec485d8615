"""The fast path: backend flags, fused optimizers, mixed precision, channels_last and torch.compile.

Everything here is off, or free, unless a `trainer.*` key or the device asks for it. With the defaults
(`precision=fp32`, `channels_last=false`, `compile=false`) the loop calls the built modules
themselves: the CPU pays nothing for this file, and fused Adam (faster on the CPU too) is the only
change. Checkpoints always hold the built modules' own state: wrappers made here own no state.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from ganrun.config.choices import PRECISIONS as PRECISION_NAMES
from ganrun.errors import warn

# trainer.precision -> the autocast dtype of G's and D's forward passes (None: plain fp32)
PRECISIONS = dict(zip(PRECISION_NAMES, (None, torch.bfloat16, torch.float16)))  # fp32, bf16, fp16
# Device types whose fused Adam/AdamW/SGD kernels ganrun uses when the optimizer YAML says `fused: null`.
# Faster on the CPU too: one Adam step over the default DCGAN's G and D takes 0.14 ms fused against 0.38 ms
# for the per-tensor loop (docs/benchmarks.md).
FUSED_DEVICES = ("cpu", "cuda")


def configure_backends(device: torch.device, trainer: DictConfig) -> None:
    """CUDA only: TF32 tensor cores for fp32 matmuls and convolutions (10-bit mantissa products, fp32
    sums), and cuDNN's autotuner, which times the algorithms once per input shape (a GAN's shapes
    never change). Both are process-wide switches; both cost bitwise reproducibility on the GPU."""
    if device.type != "cuda":
        return
    # The two switches that read the same through torch's legacy (allow_tf32) and new (fp32_precision)
    # flags; setting one family and reading the other is an error in torch >= 2.9.
    torch.set_float32_matmul_precision("high" if trainer.tf32 else "highest")
    torch.backends.cudnn.allow_tf32 = trainer.tf32
    torch.backends.cudnn.benchmark = trainer.cudnn_benchmark


def make_optimizer(factory: Callable[..., torch.optim.Optimizer], parameters: Iterable[Tensor],
                   device: torch.device) -> torch.optim.Optimizer:
    """Complete the YAML's partial optimizer (`_partial_: true`) with the parameters.

    An optimizer YAML that writes `fused: null` leaves the choice to the trainer: fused kernels (one
    kernel for the whole update instead of one per tensor) on the devices that have them, the
    optimizer's own default elsewhere. `fused: true` or `false` in the YAML is passed through as written.
    """
    keywords = getattr(factory, "keywords", {})
    if "fused" in keywords and keywords["fused"] is None and device.type in FUSED_DEVICES:
        return factory(parameters, fused=True)
    return factory(parameters)


class Autocast(nn.Module):
    """`module` run under torch.autocast(dtype), its output (a tensor, or a tuple of them such as VGAN's
    foreground, mask and background) handed back in float32.

    Convolutions and matmuls run in the low precision; the losses, computed on the float32 outputs,
    and everything outside the networks (optimizer, penalties' norms) stay in fp32. Holds no state
    of its own: `module` is what checkpoints save.
    """

    def __init__(self, module: nn.Module, dtype: torch.dtype, device_type: str) -> None:
        super().__init__()
        self.module = module
        self.dtype = dtype
        self.device_type = device_type

    def forward(self, *args: Any, **kwargs: Any) -> Tensor | tuple[Tensor, ...]:
        with torch.autocast(self.device_type, dtype=self.dtype):
            out = self.module(*args, **kwargs)
        return tuple(part.float() for part in out) if isinstance(out, tuple) else out.float()


def for_training(module: nn.Module, trainer: DictConfig, device: torch.device) -> nn.Module:
    """What the loop calls for `module`: the module itself, or its fast version.

    channels_last converts the module's 4-D weights in place (convolutions then run NHWC, the layout
    tensor cores want; inputs follow the weights). precision wraps it in `Autocast`; compile wraps
    that in torch.compile. The gradient penalties differentiate D twice, which compiled graphs cannot
    (AOTAutograd: "does not currently support double backward"), so the loop gives them the built D.
    """
    if trainer.channels_last:
        module.to(memory_format=torch.channels_last)
    called = module
    dtype = PRECISIONS[trainer.precision]
    if dtype is not None:
        called = Autocast(module, dtype, device.type)
    if trainer.compile:
        called = torch.compile(called, backend=trainer.compile_backend)
    return called


def warn_eager_penalty(trainer: DictConfig, has_penalty: bool) -> None:
    if trainer.compile and has_penalty:
        warn("trainer.compile=true: the gradient penalty's pass through D runs eagerly in fp32 "
                      "(torch.compile cannot differentiate a compiled graph twice); D's other passes are compiled",
                      )


class LossScaling:
    """fp16's gradient scaling (`trainer.precision=fp16`); a plain backward and step otherwise.

    One GradScaler per optimizer: D takes k steps before G takes one, and a GradScaler's scale may be
    updated only once per step of each optimizer it serves. `backward` unscales right away, so the
    gradient norms logged (and any clipping) see true gradients; with a fused optimizer the skipped
    step on inf/NaN happens on the device, without a host sync. Its state (the scales) goes into
    checkpoints, named like the optimizers.
    """

    def __init__(self, precision: str, device: torch.device, **optimizers: torch.optim.Optimizer) -> None:
        self.enabled = precision == "fp16"
        self.names = {optimizer: name for name, optimizer in optimizers.items()}
        self.scalers = {optimizer: torch.amp.GradScaler(device.type, enabled=self.enabled)
                        for optimizer in optimizers.values()}

    def backward(self, loss: Tensor, optimizer: torch.optim.Optimizer) -> None:
        if not self.enabled:
            loss.backward()
            return
        scaler = self.scalers[optimizer]
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)

    def step(self, optimizer: torch.optim.Optimizer, apply: bool = True) -> None:
        """The optimizer's step (unless `apply` is False: trainer.on_nan=skip dropped it); with fp16,
        skipped when the scaled gradients overflowed, and the scale backs off either way."""
        if not self.enabled:
            if apply:
                optimizer.step()
            return
        scaler = self.scalers[optimizer]
        if apply:
            scaler.step(optimizer)
        scaler.update()

    def state_dict(self) -> dict[str, dict]:
        return {self.names[o]: scaler.state_dict() for o, scaler in self.scalers.items()} if self.enabled else {}

    def load_state_dict(self, state: dict[str, dict]) -> None:
        """Scales saved by an fp16 run; none (fp32/bf16 checkpoint, or this run is not fp16): start afresh."""
        if not self.enabled:
            return
        for optimizer, scaler in self.scalers.items():
            if self.names[optimizer] in state:
                scaler.load_state_dict(state[self.names[optimizer]])
