"""Lucic et al. 2018's tables ("Are GANs Created Equal?"), from the sweep folders of `experiment=lucic2018`
(the search) and `experiment=lucic2018_seeds` (each cell's best setting over seeds): table.md in the
sweep folder, written by `LucicTable` when the multirun ends (or by `write_table` on demand).

- the search: per (dataset, model) cell, its trials, how many finished, the best and the median of the
  metric, and the best trial's setting (its drawn overrides);
- the seeds: per cell, the search's best, the metric over the seeds as mean ± standard error, min and
  max, the rank of the model within its dataset by that mean, and the setting.
The paper's numbers (`study.paper`: {dataset: {model: FID}}) stand beside ours, "–" where none is given.
No torch here (the CLI imports the sweep code before training starts).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from ganrun.run.seed_table import mean_and_error
from ganrun.run.studies import LUCIC2018_MODEL_VALUES, LUCIC2018_RANGES, fixed, override_value, split_override
from ganrun.run.sweeps import Job, summarize_sweep
from ganrun.errors import ConfigError
from ganrun.safe_io import atomic_write

TABLE_FILE = "table.md"
# what a trial draws (its setting), as studies.lucic2018 names it
SEARCHED = (*(key for _, key, _, _ in LUCIC2018_RANGES),
            *(key for values in LUCIC2018_MODEL_VALUES.values() for key in values))


@dataclass
class Cell:
    dataset: str
    model: str
    jobs: list[Job]  # best first, failed last (summarize_sweep's order)
    metric: str

    def values(self) -> list[float]:
        return [job.scalars[self.metric] for job in self.jobs if _usable(job, self.metric)]

    @property
    def best(self) -> Job:
        return self.jobs[0]  # the best finished trial, else the first failed one (re-run, it fails again)

    @property
    def overrides(self) -> list[str]:
        return self.best.overrides


def choice_of(job: Job, group: str) -> str:
    """The option of config group `group` a job ran with (its `group=option` override), "–" when none."""
    for key, value in map(split_override, job.overrides):
        if key == group:
            return value
    return "–"


def cells_of(folder: Path, metric: str, datasets: list[str] | None = None,
             models: list[str] | None = None) -> list[Cell]:
    """The jobs of a sweep folder grouped by (dataset, model), in the order of `datasets` x `models` (cells
    not listed after them, in the order met)."""
    grouped: dict[tuple[str, str], list[Job]] = {}
    for job in summarize_sweep(Path(folder), metric, "minimize").jobs:
        grouped.setdefault((choice_of(job, "dataset"), choice_of(job, "objective")), []).append(job)
    order = [(d, m) for d in datasets or [] for m in models or []]
    keys = [k for k in order if k in grouped] + [k for k in grouped if k not in order]
    return [Cell(d, m, grouped[(d, m)], metric) for d, m in keys]


def best_settings(search: Path, metric: str, datasets: list[str], models: list[str]) -> list[Cell]:
    """Each cell of a finished search with its best trial first (its overrides: what stage 2 re-runs)."""
    if not Path(search).is_dir():
        raise ConfigError(f"study.search={search} is not a folder: give the sweep folder of an experiment=lucic2018 run")
    cells = cells_of(Path(search), metric, datasets, models)
    if not cells:
        raise ConfigError(f"study.search={search} holds no job of an experiment=lucic2018 search")
    return cells


def seeds_trial(cfg: DictConfig, trial: Any) -> None:
    """Stage 2 of Lucic et al. 2018: trial k re-runs cell k // len(seeds)'s best setting of the search in
    study.search with seed study.restarts[k mod len(restarts)]; the custom_search_space of lucic2018_seeds."""
    seeds = list(cfg.study.restarts)
    cells = best_settings(Path(str(cfg.study.search)), cfg.sweep.metric, list(cfg.study.datasets),
                          list(cfg.study.objectives))
    if trial.number // len(seeds) >= len(cells):
        raise ConfigError(f"the search in {cfg.study.search} has best settings for {len(cells)} (dataset, model) "
                          f"cells, this run asks for {cfg.study.cells}: give it the search's study.datasets "
                          "and study.objectives")
    settings = [dict(split_override(o) for o in cell.overrides) for cell in cells]
    for key, value in settings[trial.number // len(seeds)].items():
        if key not in trial.user_attrs and not key.startswith(("hydra", "study", "experiment", "seed")):
            fixed(trial, key, override_value(value), sorted({s[key] for s in settings if key in s}))
    if "seed" not in trial.user_attrs:
        fixed(trial, "seed", int(seeds[trial.number % len(seeds)]))


def setting(job: Job) -> str:
    """A trial's drawn values (its overrides of the searched keys), numbers to 3 significant digits."""
    drawn = []
    for key, value in map(split_override, job.overrides):
        if key in SEARCHED:
            try:
                value = f"{float(value):.3g}"
            except ValueError:
                pass
            drawn.append(f"{key}={value}")
    return " ".join(drawn)


def search_table(cells: list[Cell], paper: dict | None) -> str:
    header = ["dataset", "model", "trials", "finished", f"best {_name(cells)}", f"median {_name(cells)}",
              "best setting", "paper: best FID"]
    lines = [_row(header), "|" + " --- |" * len(header)]
    for cell in cells:
        values = cell.values()
        best = _number(values[0]) if values else "–"
        median = _number(statistics.median(values)) if values else "–"
        lines.append(_row([cell.dataset, cell.model, str(len(cell.jobs)), str(len(values)), best, median,
                           f"`{setting(cell.best)}`", _paper(paper, cell)]))
    return "\n".join(lines) + "\n"


def seeds_table(cells: list[Cell], search: list[Cell], paper: dict | None) -> str:
    """One row per cell: the search's best, the seeds' mean ± s.e., min, max, the model's rank in its dataset."""
    found = {(c.dataset, c.model): c for c in search}
    means = {(c.dataset, c.model): mean_and_error(c.values())[0] for c in cells if c.values()}
    name = _name(cells)
    header = ["dataset", "model", f"search: best {name}", "seeds", f"{name} mean ± s.e.", "min", "max",
              "rank", "setting", "paper: best FID"]
    lines = [_row(header), "|" + " --- |" * len(header)]
    for cell in cells:
        values, key = cell.values(), (cell.dataset, cell.model)
        earlier = found.get(key)
        searched = earlier.values() if earlier else []
        if values:
            mean, error = mean_and_error(values)
            digits = 1 if abs(mean) >= 10 else 3
            spread = [f"{mean:.{digits}f} ± {error:.{digits}f}", _number(min(values)), _number(max(values))]
            rank = str(1 + sum(m < mean for (d, _), m in means.items() if d == cell.dataset))
        else:
            spread, rank = ["–", "–", "–"], "–"
        lines.append(_row([cell.dataset, cell.model, _number(searched[0]) if searched else "–",
                           f"{len(values)} of {len(cell.jobs)}", *spread, rank, f"`{setting(cell.best)}`",
                           _paper(paper, cell)]))
    return "\n".join(lines) + "\n"


def write_table(folder: Path, metric: str, *, search: Path | None = None, paper: dict | None = None,
                datasets: list[str] | None = None, models: list[str] | None = None, title: str = "") -> Path:
    """table.md of a search (search=None) or of a seeds sweep (search = the search's folder)."""
    cells = cells_of(Path(folder), metric, datasets, models)
    if search is None:
        text = search_table(cells, paper)
    else:
        text = f"Each cell's best setting of the search in `{search}`, re-run over seeds.\n\n" + \
            seeds_table(cells, cells_of(Path(search), metric, datasets, models), paper)
    path = Path(folder) / TABLE_FILE
    atomic_write(path, (f"# {title}\n\n" if title else "") + text)
    return path


class LucicTable(Callback):
    """Hydra callback of experiment=lucic2018 and lucic2018_seeds: table.md when the multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        study = config.study
        search = study.get("search")
        path = write_table(Path(config.hydra.sweep.dir), config.sweep.metric,
                           search=Path(str(search)) if search else None,
                           paper=OmegaConf.to_container(study.paper, resolve=True) if study.get("paper") else None,
                           datasets=list(study.datasets), models=list(study.objectives), title=study.get("name", ""))
        print(path.read_text())


def _usable(job: Job, metric: str) -> bool:
    value = job.scalars.get(metric)
    return job.status == "ok" and value is not None and math.isfinite(value)


def _name(cells: list[Cell]) -> str:
    return (cells[0].metric if cells else "metric").removeprefix("metrics/")


def _number(value: float) -> str:
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"


def _paper(paper: dict | None, cell: Cell) -> str:
    value = (paper or {}).get(cell.dataset, {}).get(cell.model)
    return "–" if value is None else str(value)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
