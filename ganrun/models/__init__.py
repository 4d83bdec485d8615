"""Generator and discriminator families, one module each: `mlp`, `dcgan`, `resnet`.

Every module has `Generator(latent_dim, data_shape, **hyperparams)` mapping z (N, latent_dim) to
samples (N, *data_shape), and `Discriminator(data_shape, **hyperparams)` mapping samples to raw
logits (N,). `data_shape` is (C, H, W) for images, whose values live in [-1, 1], or (D,) for points.
The networks know nothing of Hydra; the helpers below are shared by the families and the trainer.
"""

from __future__ import annotations

import math

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

# The layers whose weights are matrices in disguise: spectral norm and the DCGAN init act on these.
WEIGHTED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d,
                   nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)

__all__ = ["apply_spectral_norm", "init_weights", "image_stages", "WEIGHTED_LAYERS"]


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Wrap every Linear/Conv/ConvTranspose weight in `module` with spectral normalization.

    Layers already wrapped are left alone, so calling this twice does not normalize twice. For
    ConvTranspose, torch's `spectral_norm` already picks dim=1 (the output channels). Returns
    `module` itself, changed in place, so it chains: `D = apply_spectral_norm(Discriminator(...))`.
    """
    # Collect first: registering a parametrization adds submodules while we would be iterating.
    layers = [m for m in module.modules()
              if isinstance(m, WEIGHTED_LAYERS) and not parametrize.is_parametrized(m, "weight")]
    for layer in layers:
        spectral_norm(layer)
    return module


def init_weights(module: nn.Module) -> None:
    """DCGAN initialization (Radford et al. 2016): every weight from N(0, 0.02), biases 0,
    batch-norm scales from N(1, 0.02). Use as `net.apply(init_weights)`."""
    if isinstance(module, WEIGHTED_LAYERS):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def image_stages(family: str, data_shape: tuple[int, ...], smallest: int = 8, largest: int = 128) -> int:
    """Number of x2 resamplings between 4x4 and the image side, i.e. log2(resolution / 4).

    Raises ValueError with one sentence naming what `family` supports when `data_shape` is not a
    (C, H, W) square power-of-two image from `smallest` to `largest` pixels.
    """
    shape = tuple(data_shape)
    if len(shape) != 3:
        raise ValueError(f"{family} makes images of shape (C, H, W), got data of shape {shape}; "
                         f"use architecture=mlp for points")
    channels, height, width = shape
    if channels < 1:
        raise ValueError(f"{family} needs at least one image channel, got data_shape={shape}")
    side = max(height, width)
    is_power_of_two = side > 0 and side & (side - 1) == 0
    if height != width or not is_power_of_two or not smallest <= side <= largest:
        # Suggest the power of two at or above the given side, clipped to what the family makes.
        nearest = 2 ** math.ceil(math.log2(max(side, 1)))
        suggestion = min(max(nearest, smallest), largest)
        raise ValueError(f"{family} makes square power-of-two images from {smallest} to {largest} "
                         f"pixels, got {height}x{width}; set dataset.resolution={suggestion}")
    return int(math.log2(side)) - 2
