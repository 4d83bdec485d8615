"""Checkpoints: written atomically, read without unpickling arbitrary objects.

A checkpoint is a dict of tensors, numbers and strings (`torch.load(weights_only=True)` refuses
anything else), so a crafted file cannot run code; `save` checks that before writing, so a component
whose state holds, say, a numpy array fails at its first checkpoint rather than at the resume that
needs it. A file is written to a temporary name, fsynced and renamed (then the folder fsynced), so a
kill at any moment leaves either the previous newest checkpoint or the complete new one, never a
newest `step_*.pt` that is half a file; older ones beyond the newest `keep` are deleted only after.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from ganrun.config.schemas import CHECKPOINT_FORMAT as FORMAT
from ganrun.config.checks import check_checkpoint_file
from ganrun.errors import ConfigError
from ganrun.run.resume import checkpoint_files

LEAVES = (torch.Tensor, int, float, bool, str, bytes, type(None), torch.Size, torch.dtype, torch.device)


def checkpoint_path(directory: Path, step: int) -> Path:
    return directory / f"step_{step:08d}.pt"


def check_loadable(value: Any, where: str = "state") -> None:
    """Raise TypeError naming the first entry that `torch.load(weights_only=True)` would refuse."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_loadable(key, f"{where} key")
            check_loadable(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
        for index, item in enumerate(value):
            check_loadable(item, f"{where}[{index}]")
    elif not isinstance(value, LEAVES):
        raise TypeError(f"{where} is a {type(value).__module__}.{type(value).__qualname__}: a checkpoint holds "
                        "only tensors, numbers, strings, lists and dicts (torch.load(weights_only=True))")


def save(state: dict[str, Any], path: Path, keep: int = 0) -> Path:
    """Write `state` to `path` atomically; with keep > 0, delete all but the newest `keep` checkpoints."""
    check_loadable(state)
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
    for stale in path.parent.glob(".step_*.pt.tmp"):  # left by a save that was killed
        stale.unlink(missing_ok=True)
    if keep > 0:
        for old in checkpoint_files(path.parent)[:-keep]:
            old.unlink(missing_ok=True)
    return path


def _reason(error: Exception) -> str:
    text = str(error)
    refused = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if isinstance(error, pickle.UnpicklingError) and "Weights only load failed" in text:
        what = refused.group(1) if refused else "objects other than tensors, numbers and strings"
        return f"it holds {what}, which only an unsafe load would run: refused without running it"
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"{type(error).__name__}: {first[:120]}"


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a ganrun checkpoint; anything else (empty, truncated, foreign, malicious) is one ConfigError."""
    path = Path(path)
    check_checkpoint_file(path, f"checkpoint {path}")  # missing, empty, not an archive, no marker
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for a bad file
        raise ConfigError(f"checkpoint {path} cannot be loaded ({_reason(error)}): "
                          "give a step_*.pt file ganrun wrote") from error
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ConfigError(f"checkpoint {path} has no '{FORMAT}' marker, so ganrun did not write it: "
                          "give a step_*.pt file ganrun wrote")
    return state


def latest(directory: Path) -> Path | None:
    """The newest complete checkpoint in a folder."""
    found = checkpoint_files(directory)
    return found[-1] if found else None
