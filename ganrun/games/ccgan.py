"""CC-GAN (Denton, Gross, Fergus 2016, "Semi-supervised learning with context-conditional generative
adversarial networks"): G in-paints a square hole cut at a random place of a *real* image from its
context, and D, the (K+1)-way classifier of the semi-supervised game (ganrun/games/semi.py), judges
full images: real ones against in-painted ones, while classifying the few labelled ones.

With m the hole's mask (1 inside the hole, 0 on the context),
G sees the context x * (1 - m) (the hole zeroed) and its output is kept only in the hole:
    x_I = x * (1 - m) + G(x * (1 - m)) * m        (the in-painted image; context pixels stay exact)
G's loss is the adversarial one against the (K+1)-class D, -E log D(x_I) (no reconstruction term). CC-GAN2 (`game.low_resolution=true`) also gives G the whole image
downsampled 4x (average pooling) and upsampled back (nearest), as extra input channels.
The hole's side is `game.hole` x the image side (default 0.5: a quarter of the area). G is
pix2pix's U-Net (`game.inpainter`), without a separate noise vector.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from omegaconf import DictConfig
from torch import Tensor, nn
from torch.nn.functional import avg_pool2d, interpolate

from ganrun.errors import ConfigError
from ganrun.games.base import Terms, Visual
from ganrun.games.semi import SemiSupervised, initialise_head, labelled_data, streams, test_split
from ganrun.objectives.salimans import semi_supervised_g_loss


def square_masks(n: int, size: int, side: int, device: torch.device) -> Tensor:
    """n masks (n, 1, size, size): 1 on a side x side square placed uniformly at random inside the image
    (torch's global RNG: checkpointed with the run), 0 elsewhere."""
    top, left = (torch.randint(0, size - side + 1, (2, n)).to(device))
    rows = torch.arange(size, device=device)
    inside_rows = (rows[None] >= top[:, None]) & (rows[None] < top[:, None] + side)      # (n, size)
    inside_cols = (rows[None] >= left[:, None]) & (rows[None] < left[:, None] + side)    # (n, size)
    return (inside_rows[:, :, None] & inside_cols[:, None, :]).unsqueeze(1).float()


def context(x: Tensor, mask: Tensor) -> Tensor:
    """x * (1 - m): the image with its hole zeroed."""
    return x * (1 - mask)


def fill(x: Tensor, mask: Tensor, output: Tensor) -> Tensor:
    """x * (1 - m) + output * m: G's pixels in the hole, the real context everywhere else."""
    return context(x, mask) + output * mask


def low_resolution(x: Tensor, factor: int = 4) -> Tensor:
    """CC-GAN2's extra input: x averaged over factor x factor blocks, shown at full size (nearest)."""
    return interpolate(avg_pool2d(x, factor), scale_factor=factor, mode="nearest")


class ContextConditional(SemiSupervised):
    def __init__(self, *, hole: int, low_res: bool, grid_images: tuple[Tensor, Tensor], **parts: Any):
        super().__init__(**parts)
        self.hole, self.low_res = hole, low_res
        self.grid_images, self.grid_masks = grid_images  # a fixed batch of real images and their holes

    def generator_input(self, x: Tensor, mask: Tensor) -> Tensor:
        seen = context(x, mask)
        return torch.cat([seen, low_resolution(x)], dim=1) if self.low_res else seen

    def inpaint(self, x: Tensor, mask: Tensor, generator: Callable[[Tensor], Tensor]) -> Tensor:
        return fill(x, mask, generator(self.generator_input(x, mask)))

    def fakes(self, real: Tensor) -> Tensor:
        mask = square_masks(len(real), real.shape[-1], self.hole, real.device)
        return self.inpaint(real, mask, self.G)

    def generator_loss(self, batch: Any) -> tuple[Tensor, Terms]:
        return semi_supervised_g_loss(self.logits(self.fakes(batch[0])))  # -log D(x_I)

    @torch.no_grad()
    def visuals(self, generator: nn.Module) -> dict[str, Visual]:
        """Rows of (masked | filled | real), three images a row."""
        x, mask = self.grid_images, self.grid_masks
        was_training = generator.training
        generator.eval()
        filled = self.inpaint(x, mask, generator)
        generator.train(was_training)
        rows = torch.stack([context(x, mask), filled, x], dim=1).flatten(0, 1)  # (3N, C, H, W)
        return {"samples/inpainting": Visual(rows.clamp(-1, 1), nrow=3)}

    def real_visuals(self) -> dict[str, Visual]:
        return {}


def build(cfg: DictConfig, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          inpainter: Any, name: str = "ccgan", labels: Any = None, hole: float = 0.5, low_resolution: bool = False,
          own_metrics: bool = True, grid_rows: int = 8, not_sampled: str = "") -> ContextConditional:
    dataset, labelled = labelled_data(cfg, make, labels)
    channels, size = dataset.data_shape[0], dataset.data_shape[-1]
    side = round(hole * size)
    if not 0 < side < size:
        raise ConfigError(f"game.hole={hole} must leave a hole of 1 to {size - 1} pixels in {size}-pixel images")
    if low_resolution and size % 4:
        raise ConfigError(f"game.low_resolution=true needs an image side divisible by 4, got {size}")
    generator = inpainter(in_channels=channels * (2 if low_resolution else 1), out_channels=channels,
                          size=size).to(device)  # a partial U-Net (made with the game's config)
    body = make(cfg.architecture.discriminator, data_shape=tuple(dataset.data_shape)).to(device)
    batches, known = streams(cfg, dataset, labelled, seed, device)
    grid = dataset.tensors[0][:grid_rows].to(device)
    with torch.random.fork_rng(devices=[]):  # the grid's holes: fixed, not drawn from the run's noise
        torch.manual_seed(cfg.seed + 1)
        grid_masks = square_masks(len(grid), size, side, device)
    game = ContextConditional(generator=generator, body=body, num_classes=dataset.num_classes, batches=batches,
                              labelled=known, batch_size=cfg.trainer.batch_size, fixed=None,
                              test=test_split(cfg, make, device) if evaluate else None,
                              hole=side, low_res=low_resolution, grid_images=(grid, grid_masks))
    initialise_head(game, grid[:2])
    return game
