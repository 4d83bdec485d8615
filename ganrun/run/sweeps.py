"""Sweeps: what each job leaves behind, and the table of a sweep.

Every run writes `final.json` (the last value of each scalar it logged, writer.py) and `status.json`
(ok or failed, the error, the wall time, the overrides). A job of a sweep that fails (an exception,
out of memory, a NaN) has its traceback written to its own log, is marked failed, and returns NaN,
so the launcher goes on with the other jobs (Hydra would otherwise stop the sweep and skip its
end-of-sweep callbacks). At the end of a multirun, `SweepSummary` writes `summary.csv` and
`summary.md` into the sweep folder, ranked by `sweep.metric`, and `ganrun train` exits with
EXIT_JOBS_FAILED when a job failed. `ganrun summarize <folder>` writes the same table on demand.

No torch here: the CLI imports this module before training starts.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, ListConfig, OmegaConf

from ganrun.run.seed_table import write_seed_table
from ganrun.safe_io import EXIT_WRITE, WriteError, atomic_write

STATUS_FILE = "status.json"
FINAL_FILE = "final.json"
from ganrun.config.choices import SWEEP_DIRECTIONS as DIRECTIONS
from ganrun.errors import EXIT_SWEEP_FAILED as EXIT_JOBS_FAILED  # the sweep ran to its end; a job failed
# Always in a run's HParams, besides the keys its overrides set: the axes of a GAN study.
STUDY_KEYS = ("dataset.name", "architecture.name", "objective.name", "optimizer.name", "optimizer.lr",
              "objective.d_steps", "trainer.batch_size", "trainer.steps", "seed")

log = logging.getLogger(__name__)
last_sweep: "Summary | None" = None  # set by SweepSummary in this process; read by the CLI for its exit code


# ---------------------------------------------------------------- one job


def hparams_of(cfg: DictConfig, overrides: list[str] | None = None) -> dict[str, Any]:
    """The run's hyperparameters for TensorBoard's HParams tab: STUDY_KEYS and every overridden key.

    `overrides` defaults to the job's own (Hydra's task overrides). A config-group override
    (`objective=hinge`) shows as the group's name key (`objective.name`).
    """
    if overrides is None:
        overrides = _task_overrides()
    keys, raw = list(STUDY_KEYS), {}
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if key.startswith("hydra") or not value:
            continue
        if isinstance(OmegaConf.select(cfg, key, default=None), DictConfig):
            key = f"{key}.name"
        raw[key] = value
        keys += [key] if key not in keys else []
    hparams: dict[str, Any] = {}
    for key in keys:
        value = OmegaConf.select(cfg, key, default=None)
        if value is None or isinstance(value, (DictConfig, ListConfig)):
            value = raw.get(key, None if value is None else str(OmegaConf.to_container(value)))
        if value is not None:
            hparams[key] = value
    return hparams


def varying_keys(cfg: DictConfig) -> set[str]:
    """The hyperparameters (as hparams_of names them) this sweep job's siblings differ in: its overrides
    less the keys its folder name leaves out (`fixed_keys`, set by the CLI). Empty outside a sweep."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return set()
    hydra = HydraConfig.get()
    excluded = set(hydra.job.config.override_dirname.exclude_keys)
    keys = set()
    for override in OverridesParser.create().parse_overrides(list(hydra.overrides.task)):
        key = override.key_or_group
        if key in excluded or key.startswith("hydra"):
            continue
        keys.add(f"{key}.name" if isinstance(OmegaConf.select(cfg, key, default=None), DictConfig) else key)
    return keys


def fixed_keys(overrides: list[str]) -> list[str]:
    """The keys (or config groups) of a sweep's overrides that take one value in every job.

    A sweep's run folders are named by the others only (`0_objective=ns,seed=0`, not every override in
    alphabetical order, which cuts the one that varies off TensorBoard's run list); each run's full
    list stays in its .hydra/overrides.yaml, its config and its HParams.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides([o for o in overrides if not o.startswith("hydra")])
    return [o.key_or_group for o in parsed if not o.is_sweep_override()]


def record_job(train: Callable[[], Any], run_dir: Path, metric: str, *, sweep: bool) -> float | None:
    """Run `train()`, write `status.json`, and return the final value of `metric` (NaN when failed).

    In a sweep (`sweep=True`) an exception is logged with its traceback to the job's log and recorded,
    not raised; outside one it is recorded and raised. Ranks > 0 of a torchrun group only train.
    """
    if int(os.environ.get("RANK", "0")) != 0:
        train()
        return None
    overrides, started, error = _task_overrides(), time.time(), None
    try:
        train()
    except Exception as exc:  # noqa: BLE001 - any failure of one job must leave the others running
        error = _one_line(exc)
        _write_status(run_dir, "failed", error, time.time() - started, overrides)
        if not sweep or isinstance(exc, WriteError):  # a full disk: the next jobs would fail the same way
            raise
        log.error("job %s failed (the sweep goes on): %s", run_dir.name.split("_")[0], error, exc_info=True)
    if error is not None:
        _release_memory()  # the traceback held the failed job's tensors: free them for the next job
        return math.nan
    scalars = read_final(run_dir)
    diverged = [name for name, value in scalars.items() if not math.isfinite(value)]
    if diverged:
        error = f"non-finite final {diverged[0]}={scalars[diverged[0]]}"
        log.error("job failed: %s", error)
    _write_status(run_dir, "failed" if diverged else "ok", error, time.time() - started, overrides)
    if metric not in scalars:
        log.warning("sweep.metric=%s is not among this run's scalars: %s", metric, ", ".join(sorted(scalars)))
    return math.nan if diverged else scalars.get(metric, math.nan)


def _one_line(error: BaseException) -> str:
    """`Type: first line`, of the user's error rather than Hydra's wrapper around a failed instantiate."""
    if type(error).__name__ == "InstantiationException" and error.__cause__ is not None:
        error = error.__cause__
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


def read_final(run_dir: Path) -> dict[str, float]:
    path = Path(run_dir) / FINAL_FILE
    return json.loads(path.read_text())["scalars"] if path.is_file() else {}


def _task_overrides() -> list[str]:
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def _write_status(run_dir: Path, status: str, error: str | None, wall_time: float, overrides: list[str]) -> None:
    record = {"status": status, "error": error, "wall_time_s": round(wall_time, 3), "overrides": overrides}
    try:
        atomic_write(run_dir / STATUS_FILE, json.dumps(record, indent=1))
    except WriteError as failure:  # never in place of the job's own error: logged, and the job goes on
        log.error("%s", failure)


def _release_memory() -> None:
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


# ---------------------------------------------------------------- the table of a sweep


@dataclass
class Job:
    folder: str
    overrides: list[str]
    status: str  # ok | failed | unfinished (no status.json: still running, or killed)
    error: str | None
    wall_time_s: float | None
    scalars: dict[str, float]


@dataclass
class Summary:
    folder: Path
    jobs: list[Job]  # best first
    metric: str
    direction: str
    write_error: bool = False  # summary.csv / summary.md could not be written (a full disk)

    @property
    def failed(self) -> int:
        return sum(job.status != "ok" for job in self.jobs)


def read_job(folder: Path, sweep: Path | None = None) -> Job:
    """The job in `folder`, named by its path under `sweep` (its folder name when None)."""
    status_path, overrides_path = folder / STATUS_FILE, folder / ".hydra" / "overrides.yaml"
    status = json.loads(status_path.read_text()) if status_path.is_file() else {}
    overrides = status.get("overrides")
    if overrides is None:
        overrides = list(OmegaConf.load(overrides_path)) if overrides_path.is_file() else []
    return Job(str(folder.relative_to(sweep)) if sweep else folder.name, overrides, status.get("status", "unfinished"), status.get("error"),
               status.get("wall_time_s"), read_final(folder))


def summarize_sweep(folder: Path, metric: str, direction: str) -> Summary:
    """Read every job folder of `folder` (a sweep, or a folder of runs) and rank them by `metric`."""
    jobs = sorted((read_job(p, Path(folder)) for p in job_folders(Path(folder))), key=_job_order)
    sign = 1.0 if direction == "minimize" else -1.0

    def rank(job: Job) -> tuple[bool, float]:
        value = job.scalars.get(metric)
        usable = job.status == "ok" and value is not None and math.isfinite(value)
        return (not usable, sign * value if usable else 0.0)

    return Summary(Path(folder), sorted(jobs, key=rank), metric, direction)  # stable: ties keep job order


def write_tables(summary: Summary) -> tuple[Path, Path]:
    """summary.csv (every override and scalar) and summary.md (varying overrides, main scalars)."""
    jobs, metric = summary.jobs, summary.metric
    tags = sorted({tag for job in jobs for tag in job.scalars} - {metric})
    csv_path, md_path = summary.folder / "summary.csv", summary.folder / "summary.md"
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(["rank", "job", "status", metric, "wall_time_s", "overrides", "error", *tags])
    for rank, job in enumerate(jobs, 1):
        writer.writerow([rank, job.folder, job.status, job.scalars.get(metric, ""), job.wall_time_s or "",
                         " ".join(job.overrides), job.error or "", *(job.scalars.get(t, "") for t in tags)])

    common = [o for o in jobs[0].overrides if all(o in job.overrides for job in jobs)] if jobs else []
    shown = [t for t in tags if t.startswith(("metrics/", "loss/"))]  # quality metrics, then the losses
    header = ["rank", "job", "overrides", "status", metric, *shown, "wall time (s)", "error"]
    lines = [f"# Sweep {summary.folder}", "",
             f"{len(jobs)} jobs: {len(jobs) - summary.failed} ok, {summary.failed} failed; "
             f"ranked by `{metric}` ({summary.direction}); every scalar is in summary.csv.", ""]
    if common:
        lines += [f"Overrides of every job: `{' '.join(common)}`", ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for rank, job in enumerate(jobs, 1):
        varying = " ".join(o for o in job.overrides if o not in common)
        number = job.folder.split("_", 1)[0]
        cells = [str(rank), number if number.isdigit() else job.folder, f"`{varying}`" if varying else "", job.status,
                 *(_number(job.scalars.get(t)) for t in (metric, *shown)), _number(job.wall_time_s),
                 (job.error or "")[:100]]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    atomic_write(csv_path, table.getvalue())  # each file whole or not at all (a sweep killed while writing)
    atomic_write(md_path, "\n".join(lines) + "\n")
    write_seed_table(summary.folder, sorted(jobs, key=_job_order))  # seeds.md: mean ± s.e. over seeds
    return csv_path, md_path


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _job_order(job: Job) -> tuple[int, str]:
    number = job.folder.split("_", 1)[0]
    return (int(number), job.folder) if number.isdigit() else (sys.maxsize, job.folder)


def job_folders(folder: Path) -> list[Path]:
    """Every job folder under a sweep folder: a child holding .hydra/ or status.json, or, in a sweep whose
    override values held a '/' (before job names were made path-safe: job_names.py), one nested deeper."""
    found = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (path / STATUS_FILE).is_file() or (path / ".hydra").is_dir():
            found.append(path)
        else:
            found += job_folders(path)
    return found


class SweepSummary(Callback):
    """Hydra callback (conf/train.yaml): the sweep's table at the end of every multirun."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        global last_sweep
        last_sweep = None

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        global last_sweep
        summary = summarize_sweep(Path(config.hydra.sweep.dir), config.sweep.metric, config.sweep.direction)
        last_sweep = summary
        try:
            _, md_path = write_tables(summary)
        except WriteError as error:  # every job's own folder is complete: the table can be written later
            print(f"ganrun: error: {error}: every job's folder is complete; once there is space, write the "
                  f"table with: ganrun summarize {summary.folder}", file=sys.stderr)
            summary.write_error = True
            return
        print(md_path.read_text())
        if summary.failed:
            print(f"ganrun: {summary.failed} of {len(summary.jobs)} jobs failed: their errors are in "
                  f"{md_path} and in each job's train.log", file=sys.stderr)


def exit_code_of_last_sweep() -> int:
    if last_sweep is not None and last_sweep.write_error:
        return EXIT_WRITE
    return EXIT_JOBS_FAILED if last_sweep is not None and last_sweep.failed else 0


def saved_sweep_config(folder: Path) -> DictConfig:
    """The sweep's config as Hydra saved it (multirun.yaml), else its first job's."""
    for path in [folder / "multirun.yaml", *sorted(folder.glob("*/.hydra/config.yaml"))]:
        if path.is_file():
            return OmegaConf.load(path)
    return OmegaConf.create()
