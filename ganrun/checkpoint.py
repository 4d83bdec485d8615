"""Checkpoints: written atomically, read without unpickling arbitrary objects.

A checkpoint is a dict of tensors, numbers and strings (`torch.load(weights_only=True)` refuses
anything else), so a crafted file cannot run code. It is written to a temporary file, fsynced and
renamed, so a kill mid-write never leaves a newest checkpoint that is half a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ganrun.config import ConfigError

FORMAT = "ganrun-checkpoint-1"
PATTERN = "step_*.pt"


def checkpoint_path(directory: Path, step: int) -> Path:
    return directory / f"step_{step:08d}.pt"


def save(state: dict[str, Any], path: Path, keep: int = 0) -> Path:
    """Write `state` to `path` atomically; with keep > 0, delete all but the newest `keep` checkpoints."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as file:
        torch.save({"format": FORMAT, **state}, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)  # atomic on POSIX: readers see the old file or the whole new one
    directory_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory_fd)  # make the rename itself durable
    finally:
        os.close(directory_fd)
    if keep > 0:
        for old in sorted(path.parent.glob(PATTERN))[:-keep]:
            old.unlink(missing_ok=True)
    return path


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a ganrun checkpoint; anything else (foreign, truncated, malicious) is one clear ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"checkpoint {path} does not exist: give the path of a step_*.pt file of a run")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for a bad file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"checkpoint {path} cannot be read safely ({reason[:160]}): "
                          "it is truncated, not a ganrun checkpoint, or holds code") from error
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ConfigError(f"{path} is not a ganrun checkpoint (no '{FORMAT}' marker)")
    return state


def latest(directory: Path) -> Path | None:
    """The newest complete checkpoint in a folder (temporary files never match the pattern)."""
    found = sorted(directory.glob(PATTERN))
    return found[-1] if found else None
