"""Each of Salimans et al.'s tricks (and the window average) x the dcgan architecture: two training
steps on the CPU, the trick visibly on (its network part, its scalars), and a checkpoint that loads."""

import json

import pytest
import torch

from ganrun import loop
from ganrun.commands.common import checkpoint_config, load_generator
from ganrun.models.salimans import VirtualBatchNormNet
from tests.conftest import tiny_config

TRICKS = {
    "minibatch_discrimination": (["tricks.minibatch_discrimination.kernels=4", "tricks.minibatch_discrimination.kernel_dim=3"],
                                 "tricks/minibatch_discrimination"),
    "virtual_batch_norm": (["tricks.virtual_batch_norm=6"], "tricks/virtual_batch_norm"),
    "feature_matching": (["tricks.feature_matching=true"], "objective/feature_matching"),
    "historical_averaging": (["tricks.historical_averaging=0.1"], "objective/historical_D"),
    "window_average": (["tricks.window_average=2"], "tricks/window_average"),
}


@pytest.mark.parametrize("trick", list(TRICKS))
def test_each_trick_trains_two_dcgan_steps(trick, tmp_path):
    overrides, tag = TRICKS[trick]
    loop.run(tiny_config(*overrides, "trainer.checkpoint_every=0"), tmp_path)
    scalars = json.loads((tmp_path / "final.json").read_text())["scalars"]
    assert tag in scalars and torch.isfinite(torch.tensor(scalars[tag]))
    saved, cfg = checkpoint_config(str(tmp_path / "checkpoints" / "step_00000002.pt"), [])
    _, generator = load_generator(saved, cfg)
    assert isinstance(generator, VirtualBatchNormNet) == (trick == "virtual_batch_norm")
    if trick == "historical_averaging":
        assert saved["historical_averaging"]["D"]["count"] == 2 and saved["historical_averaging"]["G"]["count"] == 2
    if trick == "window_average":
        assert "window_generator" in saved


def test_salimans_tricks_refuse_networks_they_do_not_fit():
    from ganrun.config.checks import validate
    from ganrun.errors import ConfigError

    for overrides, message in ((["tricks.minibatch_discrimination.kernels=4"], "built into the dcgan D"),
                               (["tricks.virtual_batch_norm=4"], "has none")):
        with pytest.raises(ConfigError, match=message):
            validate(tiny_config(*overrides, architecture="mlp"))
    with pytest.raises(ConfigError, match=">= 0"):
        validate(tiny_config("tricks.window_average=-1"))


def test_semi_supervised_game_trains_two_steps_and_reports_d_accuracy(tmp_path):
    from ganrun.games.semi import keep_labels

    kept = keep_labels(torch.tensor([0, 1, 0, 1, 0, 1, 2, 2]), 3, fraction=0.25, seed=0)  # 0.25 * 8 / 3 -> 1 a class
    assert sorted(kept[kept >= 0].tolist()) == [0, 1, 2] and (kept >= 0).sum() == 3
    cfg = tiny_config("game=semi", "game.labels.fraction=0.1", "metrics=default", "metrics.every=0")
    loop.run(cfg, tmp_path)
    scalars = json.loads((tmp_path / "final.json").read_text())["scalars"]
    assert 0 <= scalars["metrics/classifier_accuracy"] <= 1
    assert {"objective/class_nll", "objective/unsupervised", "objective/feature_matching"} <= set(scalars)
