"""Mode coverage on hand-made 2-D samples, with exact expected counts, and the 2-D evaluator."""

from __future__ import annotations

import math

import torch
from omegaconf import OmegaConf
from torch.testing import assert_close

from ganrun.config.schemas import MetricsConfig
from ganrun.metrics import build_evaluator
from ganrun.metrics.modes import class_metrics, mode_metrics, reverse_kl

MODES = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
STD = 0.1  # high quality: within 0.3 of the nearest mode
NEAR = torch.tensor([[0.05, 0.0], [0.0, -0.1], [-0.2, 0.1], [0.0, 0.0]])  # all < 3 std from 0
FAR = torch.tensor([[0.5, 0.0], [0.0, 0.6], [-0.45, 0.0], [0.0, -0.5]])  # all > 3 std, still nearest


def test_every_mode_captured_uniformly():
    points = torch.cat([MODES + NEAR[i] for i in range(4)])  # 4 per mode
    assert mode_metrics(points, MODES, STD) == {"modes": 4.0, "hq": 100.0, "reverse_kl": 0.0}


def test_one_mode():
    points = MODES[2] + NEAR
    result = mode_metrics(points, MODES, STD)
    assert (result["modes"], result["hq"]) == (1.0, 100.0)
    assert_close(result["reverse_kl"], math.log(4))


def test_only_off_mode_samples_capture_nothing():
    points = MODES + FAR  # one sample 0.45-0.6 away from each mode: nearest, but not high quality
    assert mode_metrics(points, MODES, STD) == {"modes": 0.0, "hq": 0.0, "reverse_kl": 0.0}


def test_a_mode_counts_only_through_high_quality_samples():
    points = torch.cat([MODES[0] + NEAR[:3], MODES[1] + FAR[:1]])  # 3 good at mode 0, 1 off-mode by mode 1
    result = mode_metrics(points, MODES, STD)
    assert (result["modes"], result["hq"]) == (1.0, 75.0)
    assert_close(result["reverse_kl"], 0.75 * math.log(0.75 * 4) + 0.25 * math.log(0.25 * 4))


def test_reverse_kl_of_histograms():
    assert reverse_kl(torch.tensor([7, 7, 7, 7, 7])) == 0.0
    assert_close(reverse_kl(torch.tensor([0, 9, 0, 0])), math.log(4))
    assert_close(reverse_kl(torch.tensor([1, 1, 0, 0])), math.log(2))


def test_class_metrics_of_logits():
    logits = torch.nn.functional.one_hot(torch.tensor([3, 3, 5, 5]), 10).float()
    result = class_metrics(logits)
    assert result["modes"] == 2.0
    assert_close(result["reverse_kl"], math.log(5))


def test_point_evaluator_on_the_ring_itself():
    dataset_cfg = OmegaConf.create({"_target_": "ganrun.data.ring", "name": "ring", "num_modes": 8, "radius": 2.0,
                                    "std": 0.02, "num_samples": 10_000, "seed": 0})
    metrics_cfg = OmegaConf.structured(MetricsConfig(num_points=2500, batch_size=1000))
    evaluator = build_evaluator(metrics_cfg, dataset_cfg)
    angles = torch.arange(8) * (2 * math.pi / 8)
    ring = 2.0 * torch.stack([angles.cos(), angles.sin()], dim=1)
    calls = []

    def sample_fn(n: int) -> torch.Tensor:  # the true distribution
        calls.append(n)
        return ring[torch.randint(8, (n,))] + 0.02 * torch.randn(n, 2)

    state = torch.get_rng_state()
    result = evaluator(sample_fn)
    assert torch.equal(torch.get_rng_state(), state)  # training's RNG untouched
    assert calls == [1000, 1000, 500]
    assert result["modes"] == 8.0
    assert 97.0 < result["hq"] < 100.0  # P(chi2_2 <= 9) = 98.9%
    assert 0.0 < result["reverse_kl"] < 0.01
    assert evaluator(sample_fn) == result  # the same draws every evaluation

    collapsed = build_evaluator(metrics_cfg, dataset_cfg)(lambda n: ring[3] + 0.02 * torch.randn(n, 2))
    assert collapsed["modes"] == 1.0
    assert_close(collapsed["reverse_kl"], math.log(8))
