"""What a run shows in TensorBoard: scalars, fixed-noise grids and, for 2-D data, scatter plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams as hparams_summaries
from torchvision.utils import make_grid

from ganrun.run.sweeps import FINAL_FILE  # the last value of every scalar: what sweep tables and optuna read

SCATTER_PIXELS = 256
REAL_COLOUR = torch.tensor([0.55, 0.55, 0.55])
FAKE_COLOUR = torch.tensor([0.85, 0.15, 0.10])


def image_grid(images: Tensor, nrow: int | None = None) -> Tensor:
    """(N, C, H, W) in [-1, 1] -> one (C, H', W') grid in [0, 1]: `nrow` images a row, or about square."""
    nrow = nrow or max(1, int(round(images.shape[0] ** 0.5)))
    return make_grid(images.detach().float().cpu(), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1)


def scatter_image(fake: Tensor, real: Tensor, extent: float) -> Tensor:
    """Rasterise 2-D samples (red) over real points (grey) on [-extent, extent]^2 -> (3, H, W) in [0, 1].

    Drawn directly into a tensor so the plot needs no plotting library.
    """
    canvas = torch.ones(3, SCATTER_PIXELS, SCATTER_PIXELS)
    for points, colour in ((real, REAL_COLOUR), (fake, FAKE_COLOUR)):
        pixels = ((points.detach().float().cpu() + extent) / (2 * extent) * (SCATTER_PIXELS - 1)).round().long()
        inside = ((pixels >= 0) & (pixels < SCATTER_PIXELS)).all(dim=1)
        column, row = pixels[inside, 0], SCATTER_PIXELS - 1 - pixels[inside, 1]  # y axis points up
        for dr in (0, 1):  # 2x2 dots stay visible after TensorBoard rescales the image
            for dc in (0, 1):
                r, c = (row + dr).clamp(max=SCATTER_PIXELS - 1), (column + dc).clamp(max=SCATTER_PIXELS - 1)
                canvas[:, r, c] = colour[:, None]
    return canvas


class RunWriter:
    """A TensorBoard event file in the run folder; values arrive as plain Python numbers.

    With `hparams` ({name: number or string}), closing also writes them as this run's HParams session
    into the same event file, so `tensorboard --logdir <sweep folder>` compares runs in the HParams
    tab against their scalars (SummaryWriter.add_hparams would make a sub-run per call instead).
    """

    def __init__(self, run_dir: Path, purge_step: int | None = None, hparams: dict[str, Any] | None = None):
        self.run_dir = Path(run_dir)
        self.tensorboard = SummaryWriter(log_dir=str(run_dir), purge_step=purge_step)
        self.hparams = hparams
        self.final: dict[str, float] = {}
        self.final_step: int | None = None

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.tensorboard.add_scalar(name, value, step)
        self.final.update(values)
        self.final_step = step

    def visuals(self, step: int, visuals: dict[str, Any]) -> None:
        """A game's views (ganrun/games/base.py Visual): image grids (`nrow` a row: one class a row for
        a conditional G), or for 2-D points a scatter plot over the reference points."""
        for tag, visual in visuals.items():
            samples, real = visual.tensor, visual.reference
            if samples.dim() == 4:
                self.tensorboard.add_image(tag, image_grid(samples, visual.nrow), step)
            else:
                points = samples.cpu() if real is None else torch.cat([real, samples.cpu()])
                extent = 1.2 * float(points.abs().quantile(0.99))
                self.tensorboard.add_image(tag, scatter_image(samples, real if real is not None else samples[:0],
                                                              max(extent, 1.0)), step)

    def text(self, tag: str, text: str) -> None:
        self.tensorboard.add_text(tag, text, 0)

    def flush(self) -> None:
        self.tensorboard.flush()

    def close(self) -> None:
        if self.hparams is not None:
            # No experiment summary: TensorBoard then builds the table from every run's session and
            # scalar tags, so runs with other hyperparameters or metrics still line up.
            _, session_start, session_end = hparams_summaries(self.hparams, self.final)
            self.tensorboard.file_writer.add_summary(session_start)
            self.tensorboard.file_writer.add_summary(session_end)
        # NaN and Infinity are written as Python's json writes them (and reads them back).
        (self.run_dir / FINAL_FILE).write_text(json.dumps({"step": self.final_step, "scalars": self.final}, indent=1))
        self.tensorboard.flush()
        self.tensorboard.close()
