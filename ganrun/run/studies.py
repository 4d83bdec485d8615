"""Search spaces of published studies that Hydra's flat `params` cannot say (used by conf/experiment/).

Hydra's Optuna sweeper calls `hydra.sweeper.custom_search_space(cfg, trial)` after drawing a trial's
`params`; what it suggests becomes the trial's further overrides, so a range can depend on the drawn
objective.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

# The study's models that are more than an objective: BEGAN's D is an auto-encoder, and the VAE has no
# D at all (game=vae); their trials get these groups as further overrides.
LUCIC2018_MODEL_GROUPS = {
    "began": {"architecture": "autoencoder"},
    "vae": {"game": "vae", "architecture": "vae"},
}
# Further values of one model's trials: the study's G is bounded like its data for every model (compare_gan's
# ends in a sigmoid; DCGAN's in a tanh), BEGAN's own G too (left unbounded, it leaves [-1, 1]: docs/results.md).
LUCIC2018_MODEL_VALUES = {"began": {"architecture.generator.tanh": True}}
# The searched hyperparameters: (name in study.ranges, config key, log scale, the models it applies to or
# None for all). The VAE draws D steps too and does not use them (it has no D).
LUCIC2018_RANGES = (
    ("lr", "optimizer.lr", True, None),
    ("beta1", "optimizer.betas.0", False, None),
    ("d_steps", "objective.d_steps", False, None),
    ("penalty", "objective.penalty.weight", True, ("wgan_gp", "dragan")),
    ("clip", "objective.clip_weights", True, ("wgan",)),
    ("lambda_k", "objective.equilibrium.lambda_k", True, ("began",)),
    ("gamma", "objective.equilibrium.gamma", False, ("began",)),
)


def lucic2018(cfg: DictConfig, trial: Any) -> None:
    """Lucic et al. 2018's search, one trial: its (dataset, model) cell, trial k in cell k mod cells
    (study.datasets x study.objectives, the model fastest), so every cell gets the same number of trials;
    each hyperparameter of study.ranges[study.range] (compare_gan's wide or narrow ranges: learning rate,
    Adam's beta1, D steps; lambda for WGAN-GP and DRAGAN, the clipping bound c for WGAN, BEGAN's lambda_k
    and gamma); BEGAN and the VAE with their own architecture (and the VAE's game). A key given on the
    command line is fixed and not drawn."""
    index = trial.number
    for key, options in (("objective", list(cfg.study.objectives)), ("dataset", list(cfg.study.datasets))):
        if key not in trial.user_attrs:
            fixed(trial, key, options[index % len(options)], options)
            index //= len(options)
    objective = trial.params.get("objective", trial.user_attrs.get("objective", cfg.objective.name))
    for group, option in LUCIC2018_MODEL_GROUPS.get(objective, {}).items():
        # a cell that pins the model names its groups on the command line (`objective=vae game=vae
        # architecture=vae`, which the checks ask for); Optuna refuses to suggest a fixed parameter again
        if (cfg.get(group) or {}).get("name") != option:
            fixed(trial, group, option, sorted({o for g in LUCIC2018_MODEL_GROUPS.values() for k, o in g.items()
                                                 if k == group}))
    for key, value in LUCIC2018_MODEL_VALUES.get(objective, {}).items():
        fixed(trial, key, value)
    ranges = cfg.study.ranges[cfg.study.range]
    for name, key, log, models in LUCIC2018_RANGES:
        if key in trial.user_attrs or (models is not None and objective not in models):
            continue
        low, high = ranges[name]
        if name == "d_steps":
            trial.suggest_int(key, int(low), int(high))
        else:
            trial.suggest_float(key, float(low), float(high), log=log)


def fixed(trial: Any, key: str, value: Any, choices: list | None = None) -> None:
    """The trial's override `key=value`, set here rather than drawn: a number as a one-point range, any other
    value as Optuna's fixed parameter (what `study.enqueue_trial` sets) of a choice among `choices`, every
    value the key takes in the study (Optuna refuses a name whose list of choices changes between trials)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        (trial.suggest_int if isinstance(value, int) else trial.suggest_float)(key, value, value)
        return
    trial.set_system_attr("fixed_params", {**trial.system_attrs.get("fixed_params", {}), key: value})
    trial.suggest_categorical(key, list(choices or [value]))


def split_override(override: str) -> tuple[str, str]:
    key, _, value = override.lstrip("+").partition("=")
    return key, value


def override_value(text: str) -> Any:
    """An override's value as Optuna stores it: an int or a float where it reads as one, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
