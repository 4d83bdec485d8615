"""The one way ganrun composes a job's config from overrides, for every command: the configs ship
inside the package (ganrun/conf, found as the module `ganrun.conf`), so any install works from any
working directory. A user's own config folders join through `hydra.searchpath` (README: Bring your
own objective).
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from ganrun.config.checks import validate
from ganrun.config.schemas import register_schemas
from ganrun.errors import ConfigError

CONFIG_MODULE = "ganrun.conf"
CONFIG_PATH = f"pkg://{CONFIG_MODULE}"  # for @hydra.main
CONFIG_NAME = "train"


def compose_config(overrides: list[str], *, with_hydra: bool = False) -> DictConfig:
    """The composed config of `ganrun train <overrides>` (Hydra's own node only when `with_hydra`)."""
    from hydra import compose, initialize_config_module

    register_schemas()
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        return compose(config_name=CONFIG_NAME, overrides=list(overrides), return_hydra_config=with_hydra)


def checked(cfg: DictConfig) -> DictConfig:
    """`cfg` without Hydra's node, every value set and resolved, and validated: ConfigError otherwise."""
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.pop("hydra", None)
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(f"{missing[0]} must be set (e.g. {missing[0]}=/path/to/data)")
    OmegaConf.resolve(cfg)
    validate(cfg)
    return cfg


def job_config(overrides: list[str]) -> DictConfig:
    """Compose and check: what `ganrun eval`, `sample` and the tests build a config with."""
    return checked(compose_config(overrides))


def describe(error: BaseException) -> str:
    """One line from Hydra's and OmegaConf's multi-line composition errors."""
    from hydra.errors import MissingConfigException, OverrideParseException

    text = str(error)
    if isinstance(error, MissingConfigException) and "Available options in" in text:
        missing = text.split("Could not find '")[1].split("'")[0]  # e.g. objective/foo
        group, _, option = missing.rpartition("/")
        options = [line.strip() for line in text.split("Available options in")[1].splitlines()[1:]
                   if line.startswith("\t") and "provider=" not in line]
        plugins = (" (Hydra's sweep plugins: pip install 'ganrun[sweeps]')"
                   if group in ("hydra/sweeper", "hydra/launcher") else "")
        return (f"{group} has no option '{option}'{plugins}: choose one of {', '.join(options)} "
                f"(e.g. {group}={options[0]})")
    if isinstance(error, OverrideParseException):
        return (f"{text.splitlines()[0]}: overrides look like key=value, and a value with spaces or special "
                "characters needs quotes, e.g. 'hydra.run.dir=\"my runs/a\"' (see ganrun train --help)")
    cause = error.__cause__ or error.__context__
    if cause is not None and "Error merging override" in text:
        override = text.rpartition("override ")[2]
        return f"{override}: {str(cause).splitlines()[0]}"
    if "Could not override" in text and "To append" in text:
        key = text.split("'")[1]
        return f"{key} is not a config key (a typo?): ganrun train --cfg job lists every key"
    return text.strip().splitlines()[0]

CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")  # the YAML files, to list a group's options


def upgraded(cfg: DictConfig) -> DictConfig:
    """A run's config as ganrun 0.1 saved it (before games and objective objects), in today's keys, so its
    checkpoint can be evaluated and sampled: the one game it had, and what D's outputs mean instead of the
    three capability flags. Today's configs pass unchanged."""
    cfg = cfg.copy()
    with open_dict(cfg):
        if "game" not in cfg:
            cfg.game = {"_target_": "ganrun.games.gan.build", "_partial_": True, "name": "gan"}
        objective, architecture = cfg.objective, cfg.architecture
        if "scores" not in objective:
            flags = [objective.pop(flag, False) for flag in ("auxiliary_classifier", "energy", "sigmoid_cross_entropy")]
            objective.scores = next((kind for kind, on in zip(("logit_and_class", "energy", "logit"), flags) if on),
                                    "score")
        if "outputs" not in architecture:
            architecture.outputs = "energy" if architecture.pop("energy", False) else "score"
        # keys added since: today's defaults under what the run saved
        from ganrun.config import schemas

        for group, schema in (("trainer", schemas.TrainerConfig), ("tricks", schemas.TricksConfig),
                              ("metrics", schemas.MetricsConfig), ("health", schemas.HealthConfig),
                              ("regularizer", schemas.RegularizerConfig)):
            merged = OmegaConf.merge(OmegaConf.structured(schema), cfg.get(group) or {})
            cfg[group] = OmegaConf.to_container(merged)  # plain again: the overrides' checks read the types
        cfg.setdefault("schedules", {})
        cfg.game = with_todays_game_keys(cfg.game)
    return cfg


def with_todays_game_keys(game: DictConfig) -> DictConfig:
    """A saved game node with the keys its YAML gained since the run (e.g. CoGAN's `own_samples`, which
    `ganrun sample` reads), at today's values; what the run saved wins."""
    from importlib.resources import files

    path = files("ganrun.conf").joinpath("game", f"{game.get('name', '')}.yaml")
    if not path.is_file():
        return game
    today = OmegaConf.load(str(path))
    today = today.game if "game" in today else today  # a `_global_` YAML keeps its game under `game:`
    with open_dict(today):
        today.pop("defaults", None)
    return OmegaConf.merge(today, game)


class Plain(dict):
    """A resolved config node as nested dicts read by attribute: a read costs a dict lookup instead of
    OmegaConf's (~30 us), which matters for what the loop and the games read at every step."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def plain(node):
    """`node` (a DictConfig, resolved) as Plain dicts and lists, for reading in hot loops."""
    def wrap(value):
        if isinstance(value, dict):
            return Plain({key: wrap(item) for key, item in value.items()})
        if isinstance(value, list):
            return [wrap(item) for item in value]
        return value
    return wrap(OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node)
