"""Continuing a run: which config changes a resume accepts, and the checks that need no torch.

A checkpoint continues only under the config it was trained with, apart from the keys in RESUMABLE:
how long to train, how often to log, sample and checkpoint, where and how visibly to run, what to
measure (metrics), and the resume keys themselves. Those change what is recorded about a run, not
the run (a different device changes the arithmetic, which is what moving a run means). Any other
difference (architecture, objective, optimizer, data, batch size, seed, ...) stops the resume with
one line listing what differs, unless trainer.resume_force=true.

The CLI calls `check_run_folder` before Hydra writes anything into the run folder, so a rejected
resume leaves the earlier run exactly as it was; the trainer checks the checkpoint's own copy of
the config again once it has loaded it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ganrun.config.schemas import CHECKPOINT_PATTERN
from ganrun.errors import ConfigError

RESUMABLE = (
    "trainer.steps", "trainer.log_every", "trainer.sample_every", "trainer.checkpoint_every",
    "trainer.keep_checkpoints", "trainer.num_grid_samples", "trainer.device", "trainer.progress",
    "trainer.num_workers",  # the order comes from (seed, epoch), not from the workers
    "trainer.resume", "trainer.resume_force", "trainer.on_nan",
    # How the same arithmetic runs (fast_path.py); reuse_fake is not here: it changes the algorithm.
    "trainer.precision", "trainer.channels_last", "trainer.compile", "trainer.compile_backend", "trainer.tf32",
    "trainer.cudnn_benchmark", "trainer.data_on_device",  # both batch paths give the same batches
    "metrics",  # they measure with their own seeded generators (ganrun/metrics): the run's noise is untouched
)
SHOWN_DIFFERENCES = 4


def checkpoint_files(directory: Path) -> list[Path]:
    """A folder's complete checkpoints, oldest first (temporary files never match the pattern)."""
    return sorted(directory.glob(CHECKPOINT_PATTERN)) if directory.is_dir() else []


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        flat: dict[str, Any] = {}
        for key, value in node.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: node}


def config_differences(saved: DictConfig, current: DictConfig) -> list[str]:
    """`key: saved -> current` for every key that differs and matters to a resume."""
    old = _flatten(OmegaConf.to_container(saved, resolve=True))
    new = _flatten(OmegaConf.to_container(current, resolve=True))
    differences = []
    for key in sorted(old.keys() | new.keys()):
        if any(key == k or key.startswith(k + ".") for k in RESUMABLE + ("hydra",)):
            continue
        before, after = old.get(key, "(absent)"), new.get(key, "(absent)")
        if before != after:
            differences.append(f"{key}: {before} -> {after}")
    return differences


def check_same_config(saved_yaml: str, cfg: DictConfig, source: str) -> list[str]:
    """Raise a one-line ConfigError when `cfg` differs from a checkpoint's config in a key that matters;
    with trainer.resume_force=true, return the differences instead (the caller reports them)."""
    differences = config_differences(OmegaConf.create(saved_yaml), cfg)
    if differences and not cfg.trainer.resume_force:
        shown = "; ".join(differences[:SHOWN_DIFFERENCES])
        more = f"; and {len(differences) - SHOWN_DIFFERENCES} more" if len(differences) > SHOWN_DIFFERENCES else ""
        raise ConfigError(f"{source} was trained with another config ({shown}{more}): continue it with the "
                          "same config, train in a new folder (hydra.run.dir=...), or set trainer.resume_force=true")
    return differences


def check_output_folder(folder: Path) -> None:
    """The run folder can be created and written. Asked of the kernel (access(2), which knows ACLs) and of
    the mount (read-only?), not by writing: a probe would touch a run folder that must stay as it is."""
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"output folder {folder} cannot be created: {existing} is a file, not a folder "
                          "(choose another hydra.run.dir)")
    if os.statvfs(existing).f_flag & os.ST_RDONLY:
        reason = "read-only file system"
    elif not os.access(existing, os.W_OK | os.X_OK):
        reason = "Permission denied"
    else:
        return
    raise ConfigError(f"output folder {folder} is not writable ({reason} in {existing}): choose another hydra.run.dir")


def check_run_folder(run_dir: Path, cfg: DictConfig) -> None:
    """Before Hydra creates or writes into `run_dir`: it is writable, and when it holds checkpoints of a
    run to continue, this config is one that run may continue with."""
    check_output_folder(run_dir)
    saved_config = run_dir / "config.yaml"
    if checkpoint_files(run_dir / "checkpoints") and saved_config.is_file():
        check_same_config(saved_config.read_text(), cfg, f"run folder {run_dir}")
