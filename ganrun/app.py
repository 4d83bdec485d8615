"""The Hydra task behind `ganrun train`: validate, then (only then) import torch and train."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from ganrun.cli import CONF_DIR, EXIT_NONFINITE, EXIT_USAGE, NonFiniteError
from ganrun.config import ConfigError, register_schemas, validate

register_schemas()


def _discard_if_empty(run_dir: Path) -> None:
    """Remove a run folder that holds nothing but Hydra's own files, so no half-run looks like a result."""
    if not run_dir.exists():
        return
    leftovers = {p.name for p in run_dir.iterdir()} - {".hydra", "train.log", "config.yaml"}
    if not leftovers:
        shutil.rmtree(run_dir, ignore_errors=True)
        # and the folders Hydra made for it (outputs/runs/), when nothing else is in them
        parent, cwd = run_dir.parent.absolute(), Path.cwd()
        while parent != cwd and cwd in parent.parents and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


@hydra.main(config_path=CONF_DIR, config_name="train", version_base="1.3")
def train_app(cfg: DictConfig) -> float | None:
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        validate(cfg)
        from ganrun.train import run  # imports torch: seconds, so only once the config is known good

        return run(cfg, run_dir)
    except NonFiniteError as error:  # a NaN or Inf stopped the run (guard.py); its checkpoints stay
        if hydra_cfg.mode == RunMode.MULTIRUN:
            raise
        print(f"ganrun: error: {error}", file=sys.stderr)
        sys.exit(EXIT_NONFINITE)
    except ConfigError as error:
        _discard_if_empty(run_dir)
        if hydra_cfg.mode == RunMode.MULTIRUN:
            raise  # the sweep marks this job failed and goes on
        print(f"ganrun: error: {error}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
