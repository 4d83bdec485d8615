"""The Hydra task behind `ganrun train`: validate, then (only then) import torch and train."""

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

from ganrun.cli import CONF_DIR, EXIT_NONFINITE, EXIT_USAGE, NonFiniteError
from ganrun.config import ConfigError, register_schemas, validate
from ganrun.resume import checkpoint_files
from ganrun.safe_io import EXIT_WRITE, WriteError
from ganrun.run_lock import LOCK_NAME, RunFolderBusy, acquire, release
from ganrun.sweeps import STATUS_FILE, record_job

register_schemas()


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


def _train(cfg: DictConfig, run_dir: Path) -> None:
    validate(cfg)
    from ganrun.train import run  # imports torch: seconds, so only once the config is known good

    run(cfg, run_dir)


@hydra.main(config_path=CONF_DIR, config_name="train", version_base="1.3")
def train_app(cfg: DictConfig) -> float | None:
    """Returns the final value of `sweep.metric`: what hydra/sweeper=optuna optimises."""
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        if int(os.environ.get("RANK", "0")) == 0:
            acquire(run_dir)  # a sweep's job its folder (a single run's the CLI took already: kept)
        # In a sweep a failed job is recorded (its log, status.json) and returns NaN: the others go on.
        return record_job(partial(_train, cfg, run_dir), run_dir, cfg.sweep.metric, sweep=in_sweep)
    except NonFiniteError as error:  # a NaN or Inf stopped the run (guard.py); its checkpoints stay
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
