"""A run's scalar history read back from its TensorBoard event files, and the diagnosis replayed on it
(for `ganrun report`, for recording test series, and to try other thresholds on a finished run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganrun.health.detectors import Finding, Series
from ganrun.health.monitor import HealthMonitor


def read_series(run_dir: Path, tags: tuple[str, ...] | None = None) -> Series:
    """tag -> [(step, value)] of every scalar in the run folder's event files (all of them, in order)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    wanted = accumulator.Tags()["scalars"] if tags is None else [t for t in tags if t in accumulator.Tags()["scalars"]]
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)] for tag in wanted}


def replay(series: Series, cfg: Any) -> list[Finding]:
    """The findings a run with this history would have reported, step by step, as the loop reports them."""
    found: list[Finding] = []
    monitor = HealthMonitor(cfg, report=found.append)
    by_step: dict[int, dict[str, float]] = {}
    for tag, points in series.items():
        for step, value in points:
            by_step.setdefault(step, {})[tag] = value
    for step in sorted(by_step):
        monitor.observe(step, by_step[step])
    return found
