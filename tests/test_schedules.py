"""Schedules (ganrun/schedules.py): exact cosine and linear values, and the paths that reach live values."""

import functools

import pytest
import torch
from torch.testing import assert_close

from ganrun.objectives.regularizers import Lazy, r1_penalty
from ganrun.schedules import OptimizerGroups, Schedule, ScheduledValues
from ganrun.tricks import ema_decay_at


def test_cosine_and_linear_values():
    cosine = Schedule("cosine", start=0.05, end=0.005, steps=4)
    assert [round(cosine.value(t), 12) for t in (0, 2, 4, 9)] == [0.05, 0.0275, 0.005, 0.005]
    assert_close(cosine.value(1), 0.005 + 0.045 * (1 + 2 ** -0.5) / 2)  # cos(pi / 4)
    linear = Schedule("linear", start=2.0, end=0.0, steps=8)
    assert [linear.value(t) for t in (0, 2, 8, 10)] == [2.0, 1.5, 0.0, 0.0]


def optimizers():
    make = lambda: torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3, betas=(0.0, 0.9))  # noqa: E731
    return make(), make()


def test_paths_reach_optimizers_partials_and_attributes():
    opt_g, opt_d = optimizers()
    lazy = Lazy(functools.partial(r1_penalty, gamma=1.0), every=4)
    root = {"optimizer": OptimizerGroups(opt_g, opt_d), "regularizer": lazy}
    specs = {"optimizer": {"lr": {"kind": "linear", "start": 1.0, "end": 0.0},
                           "betas": {"1": {"kind": "linear", "start": 0.9, "end": 0.99}},
                           "generator": {"lr": {"kind": "linear", "start": 5.0, "end": 3.0, "steps": 2}}},
             "regularizer": {"penalty": {"gamma": {"kind": "cosine", "start": 0.05, "end": 0.005}}}}
    schedules = ScheduledValues(specs, root, default_steps=10)
    schedules.step(5)
    assert opt_d.param_groups[0]["lr"] == 0.5
    assert opt_g.param_groups[0]["lr"] == 3.0  # the generator's own schedule comes after optimizer.lr's
    assert_close(opt_d.param_groups[0]["betas"], (0.0, 0.945))
    assert isinstance(opt_g.param_groups[0]["betas"], tuple)
    assert_close(lazy.penalty.keywords["gamma"], 0.0275)
    assert schedules.scalars()["schedule/regularizer.penalty.gamma"] == pytest.approx(0.0275)


def test_a_path_to_nothing_fails_at_once():
    opt_g, opt_d = optimizers()
    root = {"optimizer": OptimizerGroups(opt_g, opt_d), "regularizer": Lazy(functools.partial(r1_penalty, gamma=1.0))}
    for specs in ({"regularizer": {"penalty": {"gama": {"kind": "linear", "start": 1, "end": 0}}}},
                  {"optimizer": {"momentum": {"kind": "linear", "start": 1, "end": 0}}}):
        with pytest.raises(ValueError, match="no such value"):
            ScheduledValues(specs, root, default_steps=10)


def test_ema_half_life_ramp():
    assert ema_decay_at(100, halflife=10, rampup=None) == pytest.approx(0.5 ** 0.1)
    assert ema_decay_at(20, halflife=10, rampup=0.05) == pytest.approx(0.5)  # h = min(10, 1) = 1
    assert ema_decay_at(0, halflife=10, rampup=0.05) == 0.0  # the first update copies G
