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


def lucic2018(cfg: DictConfig, trial: Any) -> None:
    """Lucic et al. 2018's per-objective ranges (compare_gan's wide ranges): the gradient-penalty
    weight lambda ~ 10^U[-1, 2] for WGAN-GP and DRAGAN, the clipping bound c ~ 10^U[-3, 0] for WGAN;
    BEGAN and the VAE with their own architecture (and the VAE's game)."""
    objective = trial.params.get("objective", trial.user_attrs.get("objective", cfg.objective.name))
    for group, option in LUCIC2018_MODEL_GROUPS.get(objective, {}).items():
        # a cell that pins the model names its groups on the command line (`objective=vae game=vae
        # architecture=vae`, which the checks ask for); Optuna refuses to suggest a fixed parameter again
        if (cfg.get(group) or {}).get("name") != option:
            trial.suggest_categorical(group, [option])  # a one-option choice: a group override of this trial
    if objective in ("wgan_gp", "dragan"):
        trial.suggest_float("objective.penalty.weight", 1e-1, 1e2, log=True)
    elif objective == "wgan":
        trial.suggest_float("objective.clip_weights", 1e-3, 1.0, log=True)
