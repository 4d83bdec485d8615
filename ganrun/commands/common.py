"""What `ganrun eval` and `ganrun sample` share: `key=value` arguments, and a checkpoint's config and G."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganrun.errors import ConfigError, UsageError


def parse(args: list[str], allowed: set[str], required: set[str] = frozenset()) -> tuple[dict[str, str], list[str]]:
    """Split `key=value` arguments into this command's own keys and config overrides (dotted keys)."""
    own, overrides = {}, []
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep:
            raise UsageError(f"'{arg}' is not key=value (a value with spaces needs quotes: key='a b')")
        if key in allowed:
            own[key] = value
        elif key.startswith(("metrics.", "dataset.")) or key in ("dataset", "metrics"):
            overrides.append(arg)
        else:
            raise UsageError(f"unknown argument '{key}': use {', '.join(sorted(allowed))} or metrics.*/dataset.*")
    missing = required - own.keys()
    if missing:
        raise UsageError(f"missing {', '.join(sorted(missing))}=...")
    return own, overrides


def checkpoint_config(path: str, overrides: list[str]) -> tuple[dict[str, Any], Any]:
    """A checkpoint and its run's config with `overrides` (metrics.*, dataset.*) merged in, validated."""
    from omegaconf import OmegaConf

    from ganrun.config.arguments import checkpoint_overrides
    from ganrun.config.checks import validate
    from ganrun.config.compose import upgraded
    from ganrun.run import checkpoint

    saved = checkpoint.load(path)
    cfg = checkpoint_overrides(upgraded(OmegaConf.create(saved["config"])), overrides)  # keys, types checked
    validate(cfg)
    return saved, cfg


def load_generator(saved: dict[str, Any], cfg: Any, device: Any = "cpu") -> tuple[Any, Any]:
    """The checkpoint's dataset and generator (its EMA or window-averaged copy when the run kept one), in eval mode."""
    from ganrun.experiment import make
    from ganrun.games.gan import make_generator
    from ganrun.rng import isolated_rng

    with isolated_rng():  # building G draws initial weights: the caller's random streams stay as they were
        dataset = make(cfg.dataset)
        generator = make_generator(cfg, make, dataset)
    weights = saved.get("ema_generator") or saved.get("window_generator") or saved["generator"]
    weights = {k: v for k, v in weights.items() if not k.startswith("snapshot.")}  # a window average's history
    try:
        generator.load_state_dict({k.removeprefix("module."): v for k, v in weights.items() if k != "n_averaged"})
    except RuntimeError as error:
        raise ConfigError(f"the checkpoint's generator does not fit its config ({str(error).splitlines()[0]})") from error
    return dataset, generator.to(device).eval()


def write_json(results: dict, out: Path) -> None:
    from ganrun.safe_io import atomic_write

    atomic_write(out, json.dumps(results, indent=2) + "\n")  # WriteError: exit 5, nothing half-written


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def load_fake(path: Path, channels: int | None):
    """Samples from an .npz (array `samples`, N x C x H x W in [-1, 1] or N x 2) or a folder of images."""
    import numpy as np
    import torch
    from torchvision.io import ImageReadMode, decode_image

    if not path.exists():
        raise UsageError(f"fake={path} does not exist: give a folder of images or an .npz of samples")
    if path.suffix == ".npz":
        with np.load(path) as archive:
            if "samples" not in archive:
                raise UsageError(f"{path} has no array named 'samples' (N x C x H x W in [-1, 1], or N x 2)")
            return torch.from_numpy(archive["samples"]).float()
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UsageError(f"{path} holds no images (.png/.jpg) and is not an .npz of samples")
    mode = ImageReadMode.GRAY if channels == 1 else ImageReadMode.RGB
    return torch.stack([decode_image(str(f), mode=mode).float() / 127.5 - 1 for f in files])
