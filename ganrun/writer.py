"""What a run shows in TensorBoard: scalars, fixed-noise grids (and the real data's, once), for 2-D data
scatter plots at a fixed extent, histograms of D's outputs, diagnosis text, the custom-scalars layout
and the HParams experiment summary (the drawing is in views.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import Tensor
from torch.utils.tensorboard import SummaryWriter

from ganrun.sweeps import FINAL_FILE  # the last value of every scalar: what sweep tables and optuna read
from ganrun.views import CUSTOM_SCALARS, experiment_summaries, image_grid, scatter_extent, scatter_image

class RunWriter:
    """A TensorBoard event file in the run folder; values arrive as plain Python numbers.

    With `hparams` ({name: number or string}), closing also writes them as this run's HParams session
    into the same event file, so `tensorboard --logdir <sweep folder>` compares runs in the HParams
    tab against their scalars (SummaryWriter.add_hparams would make a sub-run per call instead).
    `real` (real samples: images or 2-D points) gives the grid of real data logged once, and the fixed
    extent of 2-D plots; `modes` (K, 2) the modes of a 2-D mixture, drawn on every scatter plot.
    """

    def __init__(self, run_dir: Path, purge_step: int | None = None, hparams: dict[str, Any] | None = None,
                 real: Tensor | None = None, modes: Tensor | None = None, varying: set[str] | None = None):
        self.run_dir = Path(run_dir)
        self.tensorboard = SummaryWriter(log_dir=str(run_dir), purge_step=purge_step)
        self.hparams, self.varying = hparams, set(varying or ())  # varying: the keys a sweep varies
        self.final: dict[str, float] = {}
        self.final_step: int | None = None
        self.real, self.modes = (None if x is None else x.detach().cpu() for x in (real, modes))
        self.extent = scatter_extent(self.real) if self.real is not None and self.real.dim() == 2 else 3.0

    def start(self, nrow: int | None = None) -> None:
        """What a new run writes once: the custom-scalars layout and the real data's grid or scatter plot."""
        self.tensorboard.add_custom_scalars(CUSTOM_SCALARS)
        if self.real is not None and self.real.dim() == 4:
            self.tensorboard.add_image("samples/real", image_grid(self.real, nrow), 0)
        elif self.real is not None:
            self.tensorboard.add_image("samples/real", scatter_image(self.real[:0], self.real, self.extent,
                                                                     self.modes), 0)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.tensorboard.add_scalar(name, value, step)
        self.final.update(values)
        self.final_step = step

    def samples(self, step: int, samples: Tensor, real: Tensor | None = None, nrow: int | None = None) -> None:
        """A grid for images (`nrow` a row: one class a row for a conditional G); for 2-D points a
        scatter plot over the real data."""
        if samples.dim() == 4:
            self.tensorboard.add_image("samples/fixed", image_grid(samples, nrow), step)
        else:
            real = self.real if real is None else real.cpu()
            self.tensorboard.add_image("samples/scatter", scatter_image(samples, real, self.extent, self.modes), step)

    def histograms(self, step: int, values: dict[str, Tensor]) -> None:
        """Histograms (e.g. of D's outputs on a real and a generated batch): read back from the device here."""
        for tag, value in values.items():
            self.tensorboard.add_histogram(tag, value.detach().float().cpu(), step)

    def text(self, tag: str, text: str, step: int = 0) -> None:
        self.tensorboard.add_text(tag, text, step)

    def flush(self) -> None:
        self.tensorboard.flush()

    def close(self) -> None:
        if self.hparams is not None:
            # The experiment summary declares the losses and metrics/* (views.py); TensorBoard takes the
            # first run's experiment, so a sweep's jobs (one set of keys) line up.
            experiment, session_start, session_end = experiment_summaries(self.hparams, self.final, self.varying)
            self.tensorboard.file_writer.add_summary(experiment)
            self.tensorboard.file_writer.add_summary(session_start)
            self.tensorboard.file_writer.add_summary(session_end)
        # NaN and Infinity are written as Python's json writes them (and reads them back).
        (self.run_dir / FINAL_FILE).write_text(json.dumps({"step": self.final_step, "scalars": self.final}, indent=1))
        self.tensorboard.flush()
        self.tensorboard.close()
