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

    from ganrun.config.checks import validate
    from ganrun.config.compose import upgraded
    from ganrun.run import checkpoint

    saved = checkpoint.load(path)
    cfg = upgraded(OmegaConf.merge(OmegaConf.create(saved["config"]), OmegaConf.from_dotlist(overrides)))
    validate(cfg)
    return saved, cfg


def load_generator(saved: dict[str, Any], cfg: Any, device: Any = "cpu") -> tuple[Any, Any]:
    """The checkpoint's dataset and generator (its EMA copy when the run kept one), in eval mode."""
    from ganrun.experiment import make
    from ganrun.games.gan import make_generator

    dataset = make(cfg.dataset)
    generator = make_generator(cfg, make, dataset)
    weights = saved.get("ema_generator") or saved["generator"]
    try:
        generator.load_state_dict({k.removeprefix("module."): v for k, v in weights.items() if k != "n_averaged"})
    except RuntimeError as error:
        raise ConfigError(f"the checkpoint's generator does not fit its config ({str(error).splitlines()[0]})") from error
    return dataset, generator.to(device).eval()


def write_json(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    temporary.replace(out)
