"""Every argument checked before it is used: the root keys of the config (`seed`, `conditional`) against
their schema, and the plain `key=value` arguments of `eval` and `sample` for their type and range.

A mistake raises ConfigError (train) or UsageError (eval, sample) with one line naming the argument,
what it must be and an example; the CLI prints it and exits 2. No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ganrun.config.choices import DEVICES
from ganrun.errors import ConfigError, UsageError

MAX_SAMPLES = 100_000  # one `ganrun sample` call; more: several files with other seeds


@dataclass
class RootConfig:
    """The schema of the config's root keys (conf/train.yaml); the groups have their own."""

    seed: int = 0
    conditional: bool = False


def check_root_keys(cfg: DictConfig) -> None:
    """ConfigError when `seed` is not an integer or `conditional` not a bool."""
    for key in ("seed", "conditional"):
        if key not in cfg:
            continue
        try:
            OmegaConf.merge(OmegaConf.structured(RootConfig), {key: cfg[key]})
        except OmegaConfBaseException as error:
            example = {"seed": "seed=0", "conditional": "conditional=true"}[key]
            raise ConfigError(f"{key}={cfg[key]}: {str(error).splitlines()[0]} (e.g. {example})") from None


def integer(key: str, text: str, minimum: int, maximum: int | None = None) -> int:
    """`key=text` as an integer in [minimum, maximum]; UsageError otherwise."""
    try:
        value = int(text.strip())
    except ValueError:
        raise UsageError(f"{key}={text} is not an integer (e.g. {key}={max(minimum, 1)})") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise UsageError(f"{key}={text} is out of range: it must be {bound} (e.g. {key}={max(minimum, 1)})")
    return value


def boolean(key: str, text: str) -> bool:
    if text.strip().lower() not in ("true", "false"):
        raise UsageError(f"{key}={text}: use true or false")
    return text.strip().lower() == "true"


def device(text: str) -> str:
    kind, _, index = text.partition(":")
    if kind not in DEVICES or (index and not index.isdigit()):
        raise UsageError(f"device={text} is unknown: use one of {', '.join(DEVICES)} (or cuda:N)")
    return text


def existing(key: str, text: str) -> Path:
    path = Path(text)
    if not text or not path.exists():
        raise UsageError(f"{key}={text} does not exist")
    return path


def checkpoint_overrides(saved: DictConfig, overrides: list[str]) -> DictConfig:
    """`metrics.KEY=VALUE` / `dataset.KEY=VALUE` for a checkpoint's own config: each key must be one of
    that config, and each value of the key's type; whole groups (`dataset=NAME`) belong to `fake=`."""
    from ganrun.config.schemas import MetricsConfig

    for override in overrides:
        key, _, value = override.partition("=")
        if "." not in key:
            raise UsageError(f"{override}: a checkpoint is evaluated with its own {key}; change its keys "
                             f"({key}.KEY=VALUE), or evaluate samples with fake=FOLDER {key}=NAME")
        if OmegaConf.select(saved, key, default="\0missing") == "\0missing":
            raise UsageError(f"{key} is not a key of the checkpoint's config (a typo?)")
    cfg = OmegaConf.merge(saved, OmegaConf.from_dotlist(overrides))
    try:
        OmegaConf.merge(OmegaConf.structured(MetricsConfig), cfg.metrics)  # the metrics schema's types
    except OmegaConfBaseException as error:
        key = f"metrics.{error.full_key}"
        raise UsageError(f"{key}={OmegaConf.select(cfg, key)}: {str(error).splitlines()[0]}") from None
    for override in overrides:  # dataset keys: the type the checkpoint's config has
        key = override.partition("=")[0]
        before, after = OmegaConf.select(saved, key), OmegaConf.select(cfg, key)
        if before is not None and not isinstance(after, type(before)) and not (
                isinstance(before, float) and isinstance(after, int) and not isinstance(after, bool)):
            kind = {bool: "true or false", int: "an integer", float: "a number"}.get(type(before), "a string")
            raise UsageError(f"{override}: must be {kind}, like {key}={before}")
    return cfg
