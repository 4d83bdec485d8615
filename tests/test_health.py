"""The diagnosis: each detector on recorded healthy and sick series, at and past its threshold, and the
monitor's reporting (one console line, a TensorBoard text entry, health.jsonl; once per symptom).

tests/data/health/*.json are series recorded from real runs of ganrun (scripts/record_health_series.py,
the commands are in each file): the default run (healthy), the D-wins run and a collapsing ring run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from ganrun.health import detectors
from ganrun.health.detectors import Finding, slope
from ganrun.health.diversity import Diversity, mean_pairwise_distance
from ganrun.health.monitor import HealthMonitor
from ganrun.health.replay import replay
from ganrun.health.schema import HealthConfig, validate_health

RECORDED = Path(__file__).parent / "data" / "health"


def config(**changes) -> object:
    cfg = OmegaConf.structured(HealthConfig)
    for key, value in changes.items():
        cfg[key] = value
    return cfg


def recorded(name: str) -> dict:
    data = json.loads((RECORDED / f"{name}.json").read_text())
    return {tag: [tuple(point) for point in points] for tag, points in data["series"].items()}


def steady(tag_values: dict[str, list[float]], every: int = 50, start: int = 250) -> dict:
    """A series per tag at steps start, start+every, ... (after the default warmup of 200)."""
    return {tag: [(start + i * every, v) for i, v in enumerate(values)] for tag, values in tag_values.items()}


# ---------------------------------------------------------------- recorded runs


def test_the_default_run_raises_nothing():
    assert replay(recorded("default"), config()) == []


def test_the_d_wins_run_reports_d_winning_once_then_the_stalled_generators_low_diversity():
    found = replay(recorded("d_wins"), config())
    assert [(f.kind, f.step) for f in found] == [("d_winning", 450), ("mode_collapse", 500)]
    assert "D(x) - D(G(z)) = 25" in found[0].evidence and "label smoothing" in found[0].remedy


def test_the_collapsing_ring_run_reports_mode_collapse():
    found = replay(recorded("ring_collapse"), config())
    assert [(f.kind, f.step) for f in found] == [("mode_collapse", 250)]
    assert found[0].evidence.startswith("health/mode_coverage = 0.25 of the real modes hold 1/(4K) of the samples")


def test_each_detector_is_silent_on_every_healthy_step_of_the_default_run():
    series = recorded("default")
    steps = sorted({s for points in series.values() for s, _ in points})
    for last in steps:
        prefix = {tag: [(s, v) for s, v in points if s <= last] for tag, points in series.items()}
        assert [d.__name__ for d in detectors.DETECTORS if d(prefix, config()) is not None] == []


# ---------------------------------------------------------------- each detector at its threshold


def test_slope_is_the_least_squares_slope():
    torch.testing.assert_close(slope([1.0, 3.0, 2.0, 6.0]), 1.4)  # cov(i, v) / var(i) = 7 / 5
    assert slope([5.0]) == 0.0


def test_d_winning_needs_the_gap_at_every_step_and_a_rising_g_loss():
    real, fake = [3.0] * 5, [-1.0] * 5  # gap 4.0 = the threshold
    rising, falling = [1.0, 1.2, 1.4, 1.6, 1.8], [1.8, 1.6, 1.4, 1.2, 1.0]
    sick = steady({"D/real": real, "D/fake": fake, "loss/G": rising, "loss/D": [0.1] * 5})
    found = detectors.d_winning(sick, config())
    assert found.kind == "d_winning" and found.step == 450
    assert found.evidence == ("D(x) - D(G(z)) = 4 (>= health.gap=4 for 5 logging steps) while loss/G trends up "
                              "(+0.2 per logging step, now 1.8) and loss/D is 0.1")
    assert detectors.d_winning(sick, config(gap=4.01)) is None
    assert detectors.d_winning(steady({"D/real": real, "D/fake": fake, "loss/G": falling}), config()) is None
    narrow = steady({"D/real": [3.0, 3.0, 2.9, 3.0, 3.0], "D/fake": fake, "loss/G": rising})
    assert detectors.d_winning(narrow, config()) is None


def test_vanishing_gradient_compares_with_the_early_median():
    norms = [1.0, 2.0, 3.0, 2.0, 2.0] + [0.019] * 5  # early median 2.0: the bound is 0.02
    found = detectors.vanishing_gradient(steady({"grad_norm/G": norms}), config())
    assert found.kind == "vanishing_gradient" and found.step == 700
    assert detectors.vanishing_gradient(steady({"grad_norm/G": norms[:-1] + [0.02]}), config()) is None
    assert detectors.vanishing_gradient(steady({"grad_norm/G": norms[:-1]}), config()) is None  # too few points


def test_mode_collapse_on_diversity_and_on_mode_coverage():
    assert detectors.mode_collapse(steady({"health/diversity": [0.49]}, start=500), config()).step == 500
    assert detectors.mode_collapse(steady({"health/diversity": [0.5]}, start=500), config()) is None
    assert detectors.mode_collapse(steady({"health/diversity": [0.1]}, start=200), config()) is None  # warmup
    coverage = steady({"health/mode_coverage": [0.375], "health/diversity": [0.9]}, start=1000)
    assert "0.38 of the real modes hold" in detectors.mode_collapse(coverage, config()).evidence


def test_divergence_when_a_value_grows_past_the_bound_and_rises():
    early = [0.5, 0.6, 0.7, 0.6, 0.5]  # median 0.6, below the floor 1: the bound is 20
    sick = steady({"grad_norm/D": early + [21.0, 40.0, 80.0, 160.0, 320.0]})
    found = detectors.divergence(sick, config())
    assert found.kind == "divergence" and found.step == 700 and "|grad_norm/D| = 320" in found.evidence
    assert detectors.divergence(steady({"grad_norm/D": early + [20.0, 40.0, 80.0, 160.0, 320.0]}), config()) is None
    assert detectors.divergence(steady({"grad_norm/D": early + [21.0, 40.0, 30.0, 160.0, 320.0]}), config()) is None
    assert detectors.divergence(steady({"loss/G": [0.7, math.nan]}), config()).evidence == "loss/G = nan"


def test_oscillation_needs_a_stalled_metric_and_swinging_losses():
    swinging = [1.0, 2.0] * 5  # spread 0.5 / 1.5 = 0.33, every step changes direction
    stalled = {"metrics/FID_classifier": [(500, 100.0), (1000, 90.0), (1500, 95.0), (2000, 91.0), (2500, 92.0)]}
    sick = {**steady({"loss/G": swinging}, start=2050), **stalled}
    found = detectors.oscillation(sick, config())
    assert found.kind == "oscillation" and found.step == 2500
    assert "metrics/FID_classifier has not improved on 90 for 3 evaluations" in found.evidence
    better = {"metrics/FID_classifier": stalled["metrics/FID_classifier"][:-1] + [(2500, 88.1)]}
    assert detectors.oscillation({**sick, **better}, config()) is None  # 88.1 < 90 - 2%
    assert detectors.oscillation({**sick, **steady({"loss/G": [1.0, 1.1] * 5}, start=2050)}, config()) is None
    hq = {"metrics/hq": [(500, 50.0), (1000, 40.0), (1500, 50.9), (2000, 45.0)], "metrics/modes": [(2000, 1.0)]}
    assert "metrics/hq has not improved on 50" in detectors.oscillation(
        {**steady({"loss/G": swinging}, start=1550), **hq}, config()).evidence


# ---------------------------------------------------------------- diversity, monitor, config


def test_mean_pairwise_distance_is_exact():
    points = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])  # distances 5, 4, 3
    torch.testing.assert_close(mean_pairwise_distance(points), 4.0)
    assert mean_pairwise_distance(torch.ones(5, 1, 2, 2)) == 0.0


def test_diversity_against_the_real_data_and_mode_coverage():
    modes = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    real = modes.repeat(2, 1)
    values = Diversity(real, modes)(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
    torch.testing.assert_close(values["health/diversity"], 2.0 / mean_pairwise_distance(real))
    assert values["health/mode_coverage"] == 0.5
    # far from every mode still counts (no quality threshold); a mode needs 1/(4K) = 1/16 of the samples
    samples = torch.tensor([[0.6, 0.1]] * 15 + [[-0.5, 0.0]])  # 15 nearest (1, 0), 1 of 16 nearest (-1, 0)
    assert Diversity(real, modes)(samples)["health/mode_coverage"] == 0.5
    assert Diversity(real, modes)(samples[1:])["health/mode_coverage"] == 0.5  # 1/15 >= 1/16
    assert Diversity(real, modes)(torch.cat([samples[:1].repeat(16, 1), samples[-1:]]))["health/mode_coverage"] \
        == 0.25  # 1/17 < 1/16


class Writer:
    def __init__(self):
        self.texts, self.scalars_seen = [], []

    def text(self, tag, text, step):
        self.texts.append((tag, text, step))

    def scalars(self, step, values):
        self.scalars_seen.append((step, values))


def test_the_monitor_reports_a_lasting_symptom_once_and_again_after_it_clears(tmp_path, capsys):
    writer = Writer()
    monitor = HealthMonitor(config(warmup=0, window=1), writer, tmp_path)
    for step, value in ((10, 0.1), (20, 0.1), (30, 0.9), (40, 0.1), (50, 0.9), (60, 0.9), (70, 0.1)):
        monitor.observe(step, {"health/diversity": value})
    assert [f.step for f in monitor.findings] == [10, 70]  # 40 came after one quiet step: not re-armed
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("ganrun: warning: step 10: mode collapse: health/diversity = 0.10")
    assert [(tag, step) for tag, _, step in writer.texts] == [("health", 10), ("health", 70)]
    assert "Try: minibatch discrimination" in writer.texts[0][1]
    saved = [json.loads(line) for line in (tmp_path / "health.jsonl").read_text().splitlines()]
    assert [(s["step"], s["kind"]) for s in saved] == [(10, "mode_collapse"), (70, "mode_collapse")]


def test_health_enabled_false_turns_everything_off(tmp_path):
    writer = Writer()
    monitor = HealthMonitor(config(enabled=False, warmup=0), writer, tmp_path, diversity=lambda s: {"health/x": 0.0})
    assert monitor.observe(10, {"health/diversity": 0.0}) == [] and monitor.sampled(10, None) == {}
    assert writer.texts == writer.scalars_seen == [] and not (tmp_path / "health.jsonl").exists()


def test_a_finding_is_one_line():
    line = Finding("divergence", 7, "loss/G = inf").line()
    assert "\n" not in line and line.startswith("step 7: divergence: loss/G = inf; try lower learning rates")


@pytest.mark.parametrize("key, value", [("window", 0), ("patience", 0), ("gap", -1.0), ("divergence_factor", 1.0)])
def test_bad_thresholds_are_refused(key, value):
    with pytest.raises(ValueError, match=f"health.{key}="):
        validate_health(config(**{key: value}), ValueError)
