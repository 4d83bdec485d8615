"""The game/objective seam: what the loop asks of a game, per-sample critics for gradient penalties,
and checkpoints of ganrun 0.1 (before games existed)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import torch
from torch.testing import assert_close

from ganrun import experiment
from ganrun.errors import ConfigError
from ganrun.games.base import Game
from ganrun.games.gan import GeneratorVsDiscriminator
from ganrun.objectives import BEGAN, Objective, Unrolled, WeightClipping
from tests.conftest import REPO, compose_config, tiny_config
from tests.tiny_runs import ENV

OLD_CHECKPOINT = REPO / "tests" / "data" / "ganrun-0.1_ring_mlp_step2.pt"


@pytest.mark.parametrize("objective, kind", [("ns", Objective), ("wgan", WeightClipping), ("began", BEGAN),
                                             ("unrolled", Unrolled)])
def test_each_objective_yaml_builds_its_object(objective, kind):
    architecture = "autoencoder" if objective == "began" else "dcgan"
    exp = experiment.build(tiny_config(f"objective={objective}", architecture=architecture), torch.device("cpu"))
    assert isinstance(exp.game, GeneratorVsDiscriminator) and isinstance(exp.game, Game)
    assert type(exp.game.objective) is kind
    assert exp.game.d_steps == compose_config([f"objective={objective}"]).objective.d_steps


def test_weight_clipping_happens_after_each_discriminator_update():
    objective = WeightClipping(lambda r, f: (r.mean(), {}), lambda f: (f.mean(), {}), clip_weights=0.5)
    layer = torch.nn.Linear(3, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[2.0, -0.2, -3.0]]))
    objective.after_discriminator_update(layer)
    assert_close(layer.weight, torch.tensor([[0.5, -0.2, -0.5]]))


def test_began_keeps_and_checkpoints_k():
    from ganrun.objectives.energy import began_d_loss, energy_g_loss

    objective = BEGAN(began_d_loss, energy_g_loss, equilibrium={"gamma": 0.5, "lambda_k": 0.1})
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([0.5, 0.5])
    terms = objective.after_step(real, fake)  # k = clip(0 + 0.1 (0.5 * 3 - 0.5), 0, 1) = 0.1
    assert_close(terms["k_t"], torch.tensor(0.1))
    loss, _ = objective.discriminator_loss(real, fake)  # En(x) - k En(G(z)) = 3 - 0.1 * 0.5
    assert_close(loss, torch.tensor(2.95))
    restored = BEGAN(began_d_loss, energy_g_loss, equilibrium={"gamma": 0.5, "lambda_k": 0.1})
    restored.load_state_dict(objective.state_dict())
    assert_close(restored.k, torch.tensor(0.1))


@pytest.mark.parametrize("objective", ["wgan_gp", "dragan"])
def test_gradient_penalty_critics_see_each_sample_alone(objective):
    """WGAN-GP (Gulrajani et al. 2017, Section 4) penalises each sample's gradient norm, which batch norm
    would tie to the rest of the batch: the penalised objectives default to layer norm in the DCGAN D."""
    cfg = tiny_config(f"objective={objective}")
    assert cfg.architecture.normalization == "layer"
    assert compose_config(["objective=ns"]).architecture.normalization == "batch"

    def gradient_at_first_sample(overrides, batch):
        torch.manual_seed(1)  # the same initial weights for both batches
        # 16x16: two layers, the second normalised (the first never is, as in the DCGAN paper)
        D = experiment.build(tiny_config(*overrides, "dataset.resolution=16"), torch.device("cpu")).discriminator
        D.train()
        x = batch.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(D(x).sum(), x)
        return grad[0]

    torch.manual_seed(0)
    batch = torch.randn(8, 1, 16, 16)
    other = batch.clone()
    other[1:] = torch.randn(7, 1, 16, 16)  # the same first sample among other samples
    for overrides, independent in (([f"objective={objective}"], True),
                                   ([f"objective={objective}", "architecture.normalization=batch"], False)):
        first, second = (gradient_at_first_sample(overrides, b) for b in (batch, other))
        assert torch.allclose(first, second, atol=1e-6) == independent, overrides


def test_a_checkpoint_of_ganrun_0_1_samples_and_refuses_to_resume_in_one_line(tmp_path):
    old = tmp_path / "old.pt"
    shutil.copy(OLD_CHECKPOINT, old)
    out = tmp_path / "samples.npz"
    result = subprocess.run([sys.executable, "-m", "ganrun", "sample", f"checkpoint={old}", "num=16", f"out={out}",
                             "device=cpu"], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert out.is_file()
    result = subprocess.run([sys.executable, "-m", "ganrun", "train", "dataset=ring", "architecture=mlp",
                             f"trainer.resume={old}", "trainer.steps=3", "metrics=none",
                             f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path, env=ENV, capture_output=True,
                            text=True, timeout=300)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("ganrun: error: checkpoint"), result.stderr


def test_a_config_without_a_game_or_objective_name_is_refused():
    from omegaconf import open_dict

    from ganrun.config.checks import validate

    cfg = compose_config([])
    with open_dict(cfg):
        cfg.game.name = None
    with pytest.raises(ConfigError, match="game.name must be set"):
        validate(cfg)
