"""`ganrun summarize <sweep folder> [metric=TAG] [direction=minimize|maximize]`: a sweep's table again."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from ganrun.errors import UsageError
from ganrun.run.sweeps import DIRECTIONS, STATUS_FILE, saved_sweep_config, summarize_sweep, write_tables

USAGE = "usage: ganrun summarize <sweep folder> [metric=TAG] [direction=minimize|maximize]"


def main(args: list[str]) -> None:
    """Write and print the table; the metric and direction default to the sweep's own `sweep.*`."""
    positional = [a for a in args if "=" not in a]
    options = dict(a.split("=", 1) for a in args if "=" in a)
    if len(positional) != 1 or set(options) - {"metric", "direction"}:
        raise UsageError(USAGE)
    folder = Path(positional[0])
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: give a sweep folder such as outputs/sweeps/<time>")
    saved = saved_sweep_config(folder)
    metric = options.get("metric") or OmegaConf.select(saved, "sweep.metric", default="loss/G")
    direction = options.get("direction") or OmegaConf.select(saved, "sweep.direction", default="minimize")
    if direction not in DIRECTIONS:
        raise UsageError(f"direction={direction}: use minimize or maximize")
    summary = summarize_sweep(folder, metric, direction)
    if not summary.jobs:
        raise UsageError(f"{folder} holds no job folders (none has .hydra/ or {STATUS_FILE})")
    write_tables(summary)
    print((folder / "summary.md").read_text(), end="")
