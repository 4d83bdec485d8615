"""What a run shows in TensorBoard: scalars, a game's views (fixed-noise grids, the real data's once,
2-D scatter plots at a fixed extent, histograms of D's outputs), diagnosis text, the custom-scalars
layout and the HParams experiment summary (the drawing is in views.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch.utils.tensorboard import SummaryWriter

from ganrun.safe_io import atomic_write, quiet_writer_threads, writing
from ganrun.run.sweeps import FINAL_FILE  # the last value of every scalar: what sweep tables and optuna read
from ganrun.run.views import CUSTOM_SCALARS, experiment_summaries, image_grid, scatter_extent, scatter_image
from ganrun.videos import video_summary


class RunWriter:
    """A TensorBoard event file in the run folder; values arrive as plain Python numbers.

    With `hparams` ({name: number or string}), closing also writes them as this run's HParams session
    into the same event file, so `tensorboard --logdir <sweep folder>` compares runs in the HParams
    tab against their scalars (SummaryWriter.add_hparams would make a sub-run per call instead), with an
    experiment summary declaring the losses and metrics; `varying` are the keys a sweep varies.
    """

    def __init__(self, run_dir: Path, purge_step: int | None = None, hparams: dict[str, Any] | None = None,
                 varying: set[str] | None = None):
        self.run_dir = Path(run_dir)
        quiet_writer_threads()  # a failed event write is reported once, as a WriteError, not by its thread
        with writing(self.run_dir):
            self.tensorboard = SummaryWriter(log_dir=str(run_dir), purge_step=purge_step)
        self.events = Path(getattr(self.tensorboard.file_writer.event_writer, "_file_name", self.run_dir))
        self.hparams, self.varying = hparams, set(varying or ())
        self.final: dict[str, float] = {}
        self.final_step: int | None = None

    def start(self, real_visuals: dict[str, Any]) -> None:
        """What a new run writes once: the custom-scalars layout and the game's views of the real data."""
        self.tensorboard.add_custom_scalars(CUSTOM_SCALARS)
        self.visuals(0, real_visuals)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        with writing(self.events):
            for name, value in values.items():
                self.tensorboard.add_scalar(name, value, step)
        self.final.update(values)
        self.final_step = step

    def visuals(self, step: int, visuals: dict[str, Any]) -> None:
        """A game's views (ganrun/games/base.py): histograms; image grids (`nrow` a row: one class a row for
        a conditional G), upscaled to at least 256 px; clips (N, C, T, H, W) as one animated GIF
        (ganrun/videos.py); for 2-D points a scatter plot over the reference points and the modes, at an
        extent fixed by the reference (the same at every step and run)."""
        for tag, visual in visuals.items():
            samples = getattr(visual, "tensor", None)
            with writing(self.events):
                if samples is None:  # a Histogram
                    self.tensorboard.add_histogram(tag, visual.values.detach().float().cpu(), step)
                elif samples.dim() == 5:
                    self.tensorboard.file_writer.add_summary(video_summary(tag, samples, nrow=visual.nrow), step)
                elif samples.dim() == 4:
                    self.tensorboard.add_image(tag, image_grid(samples, visual.nrow), step)
                else:
                    real = visual.reference.cpu() if visual.reference is not None else samples[:0].cpu()
                    extent = scatter_extent(real if len(real) else samples.cpu())
                    self.tensorboard.add_image(tag, scatter_image(samples, real, extent, visual.modes), step)

    def text(self, tag: str, text: str, step: int = 0) -> None:
        with writing(self.events):
            self.tensorboard.add_text(tag, text, step)

    def flush(self) -> None:
        with writing(self.events):
            self.tensorboard.flush()

    def close(self) -> None:
        with writing(self.events):
            if self.hparams is not None:
                # The experiment summary declares the losses and metrics/* (views.py); TensorBoard takes the
                # first run's experiment, so a sweep's jobs (one set of keys) line up.
                experiment, session_start, session_end = experiment_summaries(self.hparams, self.final,
                                                                              self.varying)
                for summary in (experiment, session_start, session_end):
                    self.tensorboard.file_writer.add_summary(summary)
            self.tensorboard.flush()
        # NaN and Infinity are written as Python's json writes them (and reads them back).
        atomic_write(self.run_dir / FINAL_FILE, json.dumps({"step": self.final_step, "scalars": self.final}, indent=1))
        with writing(self.events):
            self.tensorboard.close()
