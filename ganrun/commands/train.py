"""`ganrun train [overrides] [-m]`: a Hydra app, behind a check that needs no torch.

Before Hydra creates a run folder (and before torch is imported, which takes seconds), every job's
config is composed and validated by config/compose.py, so a mistake answers within about a second
with one line and exit code 2 and leaves nothing on disk. Hydra then composes the job for its own
machinery (launchers, sweepers, run folders, logging); the task validates only the jobs that no check
has seen (those a sweeper such as Optuna draws), then imports torch and runs the loop.
"""

from __future__ import annotations

import os
import shutil
import sys
from functools import partial
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from ganrun.config.checks import validate
from ganrun.config.compose import CONFIG_NAME, CONFIG_PATH, checked, compose_config, describe
from ganrun.config.schemas import register_schemas
from ganrun.errors import EXIT_NONFINITE, EXIT_USAGE, EXIT_WRITE, ConfigError, NonFiniteError, WriteError, fail
from ganrun.run.lock import LOCK_NAME, RunFolderBusy, acquire, release
from ganrun.run.resume import checkpoint_files
from ganrun.run.sweeps import STATUS_FILE, record_job

INFORMATIVE = {"--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc"}
CHECKED: set[tuple[str, ...]] = set()  # the override lists validated before Hydra ran (this process)

register_schemas()


def split_args(args: list[str]) -> tuple[list[str], list[str]]:
    return [a for a in args if not a.startswith("-")], [a for a in args if a.startswith("-")]


def job_overrides(overrides: list[str], multirun: bool) -> list[list[str]]:
    """The override list of every job a basic sweep would launch (one list for a single run)."""
    if not multirun:
        return [overrides]
    if any(o.startswith("hydra/sweeper=") for o in overrides):
        return [[o for o in overrides if "," not in o and "(" not in o]]  # other sweepers: the fixed part
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    batches = BasicSweeper.split_arguments(parsed, max_batch_size=None)
    return [list(job) for batch in batches for job in batch]


def check_overrides(args: list[str]) -> tuple[Path | None, list[str]]:
    """Compose and validate every job of `ganrun train args`; exit 2 with one line on the first error.
    Returns a single run's folder, resolved (its default name holds the time; None for a sweep), and
    the keys a run folder's name leaves out (hydra.job.config.override_dirname.exclude_keys)."""
    from omegaconf import OmegaConf

    from ganrun.run.resume import check_output_folder, check_run_folder

    overrides, flags = split_args(args)
    multirun = "-m" in flags or "--multirun" in flags
    excluded: list[str] = []
    try:
        for job in job_overrides(overrides, multirun):
            cfg = compose_config(job, with_hydra=True)
            output = Path(OmegaConf.select(cfg, "hydra.sweep.dir" if multirun else "hydra.run.dir"))
            excluded = list(cfg.hydra.job.config.override_dirname.exclude_keys)
            job_cfg = checked(cfg)
            # Before Hydra writes there: writable, and a run it would continue has this config.
            check_output_folder(output) if multirun else check_run_folder(output, job_cfg)
            CHECKED.add(tuple(job))
    except Exception as error:  # noqa: BLE001 - every composition error becomes one line
        fail(str(error) if isinstance(error, ConfigError) else describe(error))
    return (None if multirun else output), excluded


def name_runs_by_varying_keys(args: list[str], excluded: list[str]) -> list[str]:
    """`args` plus, for a sweep, the override that leaves its fixed keys out of its run folders' names
    (run/sweeps.py fixed_keys)."""
    overrides, flags = split_args(args)
    multirun = "-m" in flags or "--multirun" in flags
    if not multirun or any(o.startswith("hydra.job.config.override_dirname") for o in overrides):
        return args
    from ganrun.run.sweeps import fixed_keys

    keys = ",".join(f"'{key}'" for key in dict.fromkeys([*excluded, *fixed_keys(overrides)]))
    return [*args, f"hydra.job.config.override_dirname.exclude_keys=[{keys}]"]


def main(args: list[str]) -> None:
    informative = bool(INFORMATIVE.intersection(args)) or any(a.startswith("--info") for a in args)
    run_dir = None
    if not informative:
        run_dir, excluded = check_overrides(args)
        args = name_runs_by_varying_keys(args, excluded)
    if run_dir is not None:  # Hydra then writes where the lock is taken, not into a second later's folder
        args = [*(a for a in args if not a.startswith("hydra.run.dir=")), pinned_run_dir(run_dir)]
    torchrun = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not informative
    if torchrun:
        if "-m" in args or "--multirun" in args:
            fail("under torchrun ganrun trains one run on every process: sweep without torchrun (see README, Sweeps)")
        from ganrun.run import distributed  # imports torch

        overrides, flags = split_args(args)
        args = [*distributed.one_run_folder(overrides), *flags]
    if run_dir is not None:  # one writer per run folder (under torchrun, rank 0 holds it for all)
        from ganrun.run.lock import hold

        hold(run_dir, fail, share=distributed.share_from_main if torchrun else None)
    from ganrun.run.preemption import exit_on_sigterm
    from ganrun.run.sweeps import exit_code_of_last_sweep

    exit_on_sigterm()  # SIGTERM in setup: a clean exit 143 (temporary files removed, the lock released)

    sys.argv = ["ganrun train", *args]
    train_app()
    if torchrun:
        distributed.stop()
    if exit_code_of_last_sweep():  # the sweep finished, but some of its jobs failed (summary.md says which)
        sys.exit(exit_code_of_last_sweep())


def pinned_run_dir(run_dir: Path) -> str:
    """`hydra.run.dir='...'`, quoted for Hydra's override parser (spaces, commas, quotes)."""
    return "hydra.run.dir='" + str(run_dir).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _discard_if_empty(run_dir: Path) -> None:
    """Remove a run folder that holds nothing but Hydra's own files, so no half-run looks like a result."""
    if not run_dir.exists():
        return
    leftovers = {p.name for p in run_dir.iterdir()} - {".hydra", "train.log", "config.yaml", STATUS_FILE, LOCK_NAME}
    if not leftovers:
        shutil.rmtree(run_dir, ignore_errors=True)
        # and the folders Hydra made for it (outputs/runs/), when nothing else is in them
        parent, cwd = run_dir.parent.absolute(), Path.cwd()
        while parent != cwd and cwd in parent.parents and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def _train(cfg: DictConfig, run_dir: Path, overrides: tuple[str, ...]) -> None:
    if overrides not in CHECKED:  # a job no check has seen: drawn by a sweeper, or in another process
        validate(cfg)
    if cfg.get("study") is not None and cfg.study.get("seeds") is not None:  # a study's job: all its seeds
        from ganrun.run.mode_study import run_job

        if cfg.study.get("job") is not None:  # a study with its own protocol (Stacked MNIST's)
            from ganrun.experiment import make

            run_job = make(cfg.study.job)
        return run_job(cfg, run_dir)
    from ganrun.loop import run  # imports torch: seconds, so only once the config is known good

    run(cfg, run_dir)


@hydra.main(config_path=CONFIG_PATH, config_name=CONFIG_NAME, version_base="1.3")
def train_app(cfg: DictConfig) -> float | None:
    """Returns the final value of `sweep.metric`: what hydra/sweeper=optuna optimises."""
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    overrides = tuple(hydra_cfg.overrides.task)
    try:
        if int(os.environ.get("RANK", "0")) == 0:
            acquire(run_dir)  # a sweep's job its folder (a single run's the CLI took already: kept)
        # In a sweep a failed job is recorded (its log, status.json) and returns NaN: the others go on.
        return record_job(partial(_train, cfg, run_dir, overrides), run_dir, cfg.sweep.metric, sweep=in_sweep)
    except NonFiniteError as error:  # a NaN or Inf stopped the run (run/guard.py); its checkpoints stay
        print(f"ganrun: error: {error}", file=sys.stderr)
        sys.exit(EXIT_NONFINITE)
    except WriteError as error:  # a full disk: nothing half-written, the last checkpoint intact
        newest = checkpoint_files(run_dir / "checkpoints")
        where = f"the last checkpoint, {newest[-1]}, is intact" if newest else "no checkpoint was written yet"
        print(f"ganrun: error: {error}; {where}: free space and run the same command to continue", file=sys.stderr)
        sys.exit(EXIT_WRITE)
    except RunFolderBusy as error:  # another process's folder: leave it exactly as it is
        print(f"ganrun: error: {error}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except ConfigError as error:
        _discard_if_empty(run_dir)
        print(f"ganrun: error: {error}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    finally:
        if in_sweep:
            release(run_dir)  # the job is over: the sweep's next job takes its own folder's
