"""The state of a run in one place: what a checkpoint holds, and how a resume puts it back.

`stateful_parts` names every object that has `state_dict()` and `load_state_dict()`: each field of
the Experiment that has them (the networks and optimizers, and whatever a later component adds
there: an EMA generator, LR schedulers, a grad scaler, an objective's state such as BEGAN's k_t, a
replay buffer), plus the loop's own stateful objects given by keyword (the batch stream's position,
the non-finite counter, a metric history). A checkpoint is their state dicts under those names, plus
the step, every RNG and the config; `restore` loads them back by the same names. Adding a stateful
field to the Experiment is all it takes for checkpoints to carry it.

Everything stored is a tensor, number, string, list or dict, so checkpoints load with
`torch.load(weights_only=True)`; the RNGs of numpy and Python are stored as integers for that reason.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from ganrun.run import checkpoint
from ganrun.errors import ConfigError, warn
from ganrun.run.resume import check_same_config, checkpoint_files

RESERVED = ("format", "step", "config", "rng")


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)  # CPU and every CUDA device
    random.seed(seed)
    np.random.seed(seed % 2**32)


def rng_state() -> dict[str, Any]:
    """Every generator a step may draw from: torch's (latents, dropout, penalties), CUDA's, numpy's, Python's."""
    _, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    version, python_state, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else [],
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)},
        "python": {"version": version, "state": list(python_state), "gauss_next": gauss_next},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        if len(state["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(state["cuda"])
        else:
            warn(f"the checkpoint has the RNG states of {len(state['cuda'])} CUDA devices, this machine "
                 f"{torch.cuda.device_count()}: CUDA random numbers will not continue the same sequence")
    numpy_state = state["numpy"]
    np.random.set_state(("MT19937", numpy_state["keys"].numpy().astype(np.uint32), numpy_state["position"],
                         numpy_state["has_gauss"], numpy_state["cached_gaussian"]))
    python_state = state["python"]
    random.setstate((python_state["version"], tuple(python_state["state"]), python_state["gauss_next"]))


def _stateful(value: Any) -> bool:
    return callable(getattr(value, "state_dict", None)) and callable(getattr(value, "load_state_dict", None))


def stateful_parts(experiment: Any, **loop_parts: Any) -> dict[str, Any]:
    """Name -> object for everything a checkpoint must carry (see the module's docstring)."""
    parts = {field.name: getattr(experiment, field.name) for field in dataclasses.fields(experiment)
             if _stateful(getattr(experiment, field.name))}
    parts.update(loop_parts)
    clashes = set(parts) & set(RESERVED)
    if clashes:
        raise ValueError(f"{sorted(clashes)} are names checkpoints use for themselves: rename the part")
    return parts


def training_state(parts: dict[str, Any], cfg: DictConfig, step: int) -> dict[str, Any]:
    """What a checkpoint holds after `step` generator updates."""
    return {"step": step, "config": OmegaConf.to_yaml(cfg, resolve=True), "rng": rng_state(),
            **{name: part.state_dict() for name, part in parts.items()}}


def find_checkpoint(checkpoints: Path, resume: str | None) -> tuple[Path, dict[str, Any]] | None:
    """The checkpoint to continue from, loaded: this run folder's newest good one (so a requeued job
    continues its own progress), else `trainer.resume`'s, else None (a fresh run)."""
    own = checkpoint_files(checkpoints)
    for path in reversed(own):
        try:
            return path, checkpoint.load(path)
        except ConfigError as error:
            warn(f"{error}; trying the one before it")
    if own:
        raise ConfigError(f"none of the {len(own)} checkpoints in {checkpoints} can be loaded: "
                          "move that folder aside to start this run afresh")
    if resume is None:
        return None
    path = Path(resume)
    if path.is_dir():  # a run folder: validate() made sure it holds checkpoints
        path = (checkpoint_files(path / "checkpoints") or checkpoint_files(path))[-1]
    return path, checkpoint.load(path)


def restore(parts: dict[str, Any], saved: dict[str, Any], cfg: DictConfig, path: Path) -> int:
    """Check that `saved` (read from `path`) can continue under `cfg`, then load every part back from it;
    returns its step. ConfigError when a key that matters differs, or a part is missing or does not fit
    (both only pass with trainer.resume_force=true, and a misfit never does)."""
    for difference in check_same_config(saved["config"], cfg, f"checkpoint {path}"):
        warn(f"trainer.resume_force=true: continuing {path} although {difference}")
    missing = [name for name in [*parts, "rng"] if name not in saved]
    if missing and not cfg.trainer.resume_force:
        raise ConfigError(f"checkpoint {path} has no {', '.join(missing)} (an older ganrun wrote it), so it "
                          "cannot continue exactly: set trainer.resume_force=true to continue anyway")
    for name, part in parts.items():
        if name not in saved:
            warn(f"checkpoint {path} has no {name}: it starts afresh")
            continue
        try:
            part.load_state_dict(saved[name])
        except (RuntimeError, KeyError, ValueError, TypeError) as error:
            lines = [line.strip() for line in str(error).splitlines() if line.strip()] or [type(error).__name__]
            reason = lines[1] if len(lines) > 1 and lines[0].endswith(":") else lines[0]  # torch: a header, then why
            reason = reason[:200]
            raise ConfigError(f"the {name} of checkpoint {path} does not fit this config ({reason}): "
                              "resume with the config it was trained with") from error
    return int(saved["step"])


def restore_rng(saved: dict[str, Any] | None) -> None:
    """Put the RNGs back as they were after the checkpoint's step (right before the loop)."""
    if saved is not None and "rng" in saved:
        set_rng_state(saved["rng"])
