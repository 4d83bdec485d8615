"""The seeds table of a sweep: its jobs grouped by every override but `seed`, each `metrics/*` scalar as
mean ± standard error over the group's seeds (`seeds.md` beside summary.md; e.g. the objective table
of docs/results.md from `ganrun train -m objective=ns,hinge seed=0,1,2`).

Written by `write_tables` (sweeps.py) when some setting of the sweep ran with two or more seeds. No
torch here (the CLI imports the sweep code before training starts).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ganrun.safe_io import atomic_write

SEEDS_FILE = "seeds.md"


def mean_and_error(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (sample std / sqrt(n); 0 for one value)."""
    n = len(values)
    mean = sum(values) / n
    if n == 1:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


def setting_of(overrides: list[str]) -> str:
    """A job's overrides without its seed: the setting its seed repeats."""
    return " ".join(o for o in overrides if not o.lstrip("+~").startswith("seed="))


def groups(jobs: list[Any]) -> dict[str, list[Any]]:
    """The finished jobs (status ok) by setting, in the order of their first job."""
    grouped: dict[str, list[Any]] = {}
    for job in jobs:
        if job.status == "ok":
            grouped.setdefault(setting_of(job.overrides), []).append(job)
    return grouped


def seed_table(jobs: list[Any]) -> str | None:
    """Markdown, one row per setting: its seeds, each metric's mean ± s.e. over them, the mean wall time;
    None when no setting has two seeds (nothing to average)."""
    grouped = groups(jobs)
    if not any(len(members) > 1 for members in grouped.values()):
        return None
    tags = sorted({t for members in grouped.values() for job in members for t in job.scalars
                   if t.startswith("metrics/")})
    common = [o for o in next(iter(grouped)).split(" ") if all(o in setting.split(" ") for setting in grouped)]
    header = ["setting", "seeds", *(t.removeprefix("metrics/") for t in tags), "wall time (s)"]
    lines = [f"Overrides of every setting: `{' '.join(common)}`" if common else "", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for setting, members in grouped.items():
        varying = " ".join(o for o in setting.split(" ") if o not in common)
        cells = [f"`{varying}`" if varying else "(every job)", str(len(members))]
        for tag in tags:
            values = [job.scalars[tag] for job in members if tag in job.scalars]
            cells.append(_mean_error(values) if values else "")
        walls = [job.wall_time_s for job in members if job.wall_time_s is not None]
        cells.append(f"{sum(walls) / len(walls):.0f}" if walls else "")
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _mean_error(values: list[float]) -> str:
    mean, error = mean_and_error([float(v) for v in values])
    digits = 3 if abs(mean) < 10 else 1
    return f"{mean:.{digits}f} ± {error:.{digits}f}"


def write_seed_table(folder: Path, jobs: list[Any]) -> Path | None:
    """seeds.md in the sweep folder (atomically), or None when the sweep repeats no setting over seeds."""
    text = seed_table(jobs)
    if text is None:
        return None
    path = Path(folder) / SEEDS_FILE
    atomic_write(path, f"# Sweep {folder}: mean ± standard error over seeds\n\n" + text)
    return path
