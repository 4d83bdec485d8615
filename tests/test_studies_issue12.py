"""The lucic2018 study draws the VAE and BEGAN too, each with the groups it needs."""

from pathlib import Path

import optuna
import pytest
from omegaconf import OmegaConf

from ganrun.run.studies import lucic2018
from tests.conftest import compose_config

# the preset's study node (its cells and ranges) beside the groups a test pins
STUDY = OmegaConf.load(Path(__file__).resolve().parents[1] / "ganrun/conf/experiment/lucic2018.yaml").study
STUDY.budget, STUDY.range = "cpu", "narrow"


def study_config(groups: dict):
    return OmegaConf.create({**groups, "study": STUDY})


@pytest.mark.parametrize("model,groups", [
    ("vae", {"game": "vae", "architecture": "vae"}),
    ("began", {"architecture": "autoencoder"}),
    ("ns", {}),
])
def test_lucic2018_gives_each_model_its_groups(model, groups):
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    trial.set_user_attr("objective", model)  # a fixed cell: objective=MODEL on the command line
    lucic2018(study_config({"objective": {"name": "ns"}}), trial)
    assert {k: v for k, v in trial.params.items() if k in ("game", "architecture")} == groups


def test_a_cell_that_pins_the_vae_gets_no_group_twice():
    # `ganrun train -m experiment=lucic2018 objective=vae game=vae architecture=vae`: Optuna refuses a
    # search-space parameter that is also fixed, so the groups already given are not suggested again
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    trial.set_user_attr("objective", "vae")
    lucic2018(study_config({"objective": {"name": "vae"}, "game": {"name": "vae"}, "architecture": {"name": "vae"}}),
              trial)
    assert not {k for k in trial.params if k in ("game", "architecture")}
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    trial.set_user_attr("objective", "vae")
    lucic2018(study_config({"objective": {"name": "vae"}, "game": {"name": "vae"},
                            "architecture": {"name": "dcgan"}}), trial)
    assert {k: v for k, v in trial.params.items() if k in ("game", "architecture")} == {"architecture": "vae"}


def test_lucic2018_models_compose_as_a_trial_would():
    assert "began" in STUDY.objectives and "vae" in STUDY.objectives
    for model, extra in (("vae", ["game=vae", "architecture=vae"]), ("began", ["architecture=autoencoder"])):
        cfg = compose_config(["experiment=lucic2018", f"objective={model}", *extra])
        assert (cfg.objective.name, cfg.architecture.latent_dim, cfg.trainer.batch_size) == (model, 64, 64)
        assert cfg.architecture.generator.width == cfg.study.budgets.cpu.width


def test_the_vae_objective_and_a_game_with_a_discriminator_are_refused():
    from ganrun.errors import ConfigError

    with pytest.raises(ConfigError, match="objective=vae and game=gan do not go together.*use game=vae"):
        compose_config(["objective=vae"])
    with pytest.raises(ConfigError, match="objective=ns and game=vae do not go together.*use objective=vae"):
        compose_config(["game=vae", "objective=ns"])
