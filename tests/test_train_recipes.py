"""Every new objective x {mlp, dcgan, resnet, r3gan}, SNGAN, the regularizers, DiffAugment and the
schedules, two training steps each on CPU, in process."""

from __future__ import annotations

import copy

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.testing import assert_close

from ganrun import loop
from tests.conftest import tiny_config

PAIRS = [(a, o) for a in ("mlp", "dcgan", "resnet", "r3gan") for o in ("rpgan", "ragan", "r3gan")]


def two_steps(tmp_path, monkeypatch, architecture: str, *overrides: str):
    """Train two steps; return the built experiment, the weights before, and TensorBoard's scalars."""
    cfg = tiny_config(*overrides, architecture=architecture)
    built = {}
    real_build = loop.build

    def spy_build(cfg, device, **options):
        exp = built["exp"] = real_build(cfg, device, **options)
        built["before"] = {name: copy.deepcopy(m.state_dict()) for name, m in
                           (("G", exp.generator), ("D", exp.discriminator))}
        return exp

    monkeypatch.setattr(loop, "build", spy_build)
    loop.run(cfg, tmp_path)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    return built["exp"], built["before"], events


def assert_trained(exp, before):
    for name, module in (("G", exp.generator), ("D", exp.discriminator)):
        changed = [key for key, value in module.state_dict().items()
                   if value.is_floating_point() and not torch.equal(value, before[name][key])]
        assert changed, f"{name} did not change"


@pytest.mark.parametrize("architecture, objective", PAIRS)
def test_new_objectives_train_two_steps(tmp_path, monkeypatch, architecture, objective):
    exp, before, events = two_steps(tmp_path, monkeypatch, architecture, f"objective={objective}")
    assert_trained(exp, before)
    scalars = set(events.Tags()["scalars"])
    assert {"loss/D", "loss/G", "objective/relativistic_gap"} <= scalars
    if objective == "r3gan":  # R1 and R2 logged, gamma on its cosine schedule: 0.05 at step 1, 0.0275 at 2 of 2
        assert {"objective/r1", "objective/r2"} <= scalars
        gammas = [e.value for e in events.Scalars("schedule/regularizer.penalty.gamma")]
        assert_close(gammas, [0.05, 0.0275])
        assert_close([e.value for e in events.Scalars("schedule/optimizer.lr")], [2e-4, 1.25e-4])


def test_sngan_hinge_with_spectral_norm(tmp_path, monkeypatch):
    exp, before, _ = two_steps(tmp_path, monkeypatch, "sngan", "objective=hinge", "objective.d_steps=2")
    assert_trained(exp, before)
    assert any(hasattr(m, "parametrizations") for m in exp.discriminator.modules())


def test_a_lazy_regularizer_and_weight_penalty_beside_any_objective(tmp_path, monkeypatch):
    exp, before, events = two_steps(tmp_path, monkeypatch, "dcgan", "objective=wgan_gp", "regularizer=r1",
                                    "regularizer.every=2", "regularizer.weight_l2=1e-4")
    assert_trained(exp, before)
    scalars = set(events.Tags()["scalars"])
    assert {"objective/gradient_penalty", "objective/r1", "objective/weight_l2"} <= scalars
    assert exp.game.regularizer.calls == 2 * 5  # wgan_gp's 5 D steps per G step


def test_diffaugment_and_the_ema_ramp_train(tmp_path, monkeypatch):
    exp, before, events = two_steps(tmp_path, monkeypatch, "dcgan", "tricks.diffaugment=[color,translation,cutout]",
                                    "tricks.ema_halflife=10", "tricks.ema_rampup=0.5")
    assert_trained(exp, before)
    decays = [e.value for e in events.Scalars("tricks/ema_decay")]
    assert_close(decays, [0.5 ** (1 / 0.5), 0.5 ** (1 / 1.0)])  # h = min(10, 0.5 x step)
