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
from ganrun.errors import EXIT_NONFINITE, EXIT_USAGE, ConfigError, NonFiniteError, fail
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


def check_overrides(args: list[str]) -> None:
    """Compose and validate every job of `ganrun train args`; exit 2 with one line on the first error."""
    from omegaconf import OmegaConf

    from ganrun.run.resume import check_output_folder, check_run_folder

    overrides, flags = split_args(args)
    multirun = "-m" in flags or "--multirun" in flags
    try:
        for job in job_overrides(overrides, multirun):
            cfg = compose_config(job, with_hydra=True)
            output = Path(OmegaConf.select(cfg, "hydra.sweep.dir" if multirun else "hydra.run.dir"))
            job_cfg = checked(cfg)
            # Before Hydra writes there: writable, and a run it would continue has this config.
            check_output_folder(output) if multirun else check_run_folder(output, job_cfg)
            CHECKED.add(tuple(job))
    except Exception as error:  # noqa: BLE001 - every composition error becomes one line
        fail(str(error) if isinstance(error, ConfigError) else describe(error))


def main(args: list[str]) -> None:
    informative = bool(INFORMATIVE.intersection(args)) or any(a.startswith("--info") for a in args)
    if not informative:
        check_overrides(args)
    torchrun = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not informative
    if torchrun:
        if "-m" in args or "--multirun" in args:
            fail("under torchrun ganrun trains one run on every process: sweep without torchrun (see README, Sweeps)")
        from ganrun.run import distributed  # imports torch

        overrides, flags = split_args(args)
        args = [*distributed.one_run_folder(overrides), *flags]
    from ganrun.run.sweeps import exit_code_of_last_sweep

    sys.argv = ["ganrun train", *args]
    train_app()
    if torchrun:
        distributed.stop()
    if exit_code_of_last_sweep():  # the sweep finished, but some of its jobs failed (summary.md says which)
        sys.exit(exit_code_of_last_sweep())


def _discard_if_empty(run_dir: Path) -> None:
    """Remove a run folder that holds nothing but Hydra's own files, so no half-run looks like a result."""
    if not run_dir.exists():
        return
    leftovers = {p.name for p in run_dir.iterdir()} - {".hydra", "train.log", "config.yaml", STATUS_FILE}
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
        # In a sweep a failed job is recorded (its log, status.json) and returns NaN: the others go on.
        return record_job(partial(_train, cfg, run_dir, overrides), run_dir, cfg.sweep.metric, sweep=in_sweep)
    except NonFiniteError as error:  # a NaN or Inf stopped the run (run/guard.py); its checkpoints stay
        print(f"ganrun: error: {error}", file=sys.stderr)
        sys.exit(EXIT_NONFINITE)
    except ConfigError as error:
        _discard_if_empty(run_dir)
        print(f"ganrun: error: {error}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
