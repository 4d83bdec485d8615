"""Scores on features, quantization, and the `metrics` config node."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf
from torch.testing import assert_close
from torch_fidelity.metric_prc import calculate_precision_recall_full

from ganrun.config.compose import CONF_DIR
from ganrun.errors import ConfigError
from ganrun.config.schemas import MetricsConfig
from ganrun.config.checks import validate_metrics
from ganrun.metrics import quantize
from ganrun.metrics.scores import Reference, precision_recall


def test_quantize_gives_back_the_bytes_a_dataset_decoded():
    raw = torch.arange(256, dtype=torch.uint8)
    decoded = raw.float().div(255).sub(0.5).div(0.5)  # ToTensor + Normalize(0.5, 0.5), as ganrun.data does
    assert torch.equal(quantize(decoded), raw)
    assert torch.equal(quantize(torch.tensor([-3.0, -1.0, 0.0, 1.0, 7.0])), torch.tensor([0, 0, 128, 255, 255]).byte())


def test_precision_recall_equal_torch_fidelity():
    generator = torch.Generator().manual_seed(0)
    real = torch.randn(300, 16, generator=generator)
    fake = 0.8 * torch.randn(200, 16, generator=generator) + 0.5
    expected = calculate_precision_recall_full(fake, real, neighborhood=3)  # torch-fidelity: generated first
    assert precision_recall(real, fake, k=3) == pytest.approx(expected, abs=0)
    assert 0.2 < expected[0] < 0.9 and 0.2 < expected[1] < 0.9  # neither trivially 0 nor 1


def test_reference_scores_a_set_against_itself_and_a_shifted_copy():
    generator = torch.Generator().manual_seed(0)
    real = torch.randn(500, 8, generator=generator).abs()
    logits = torch.randn(500, 10, generator=generator)
    reference = Reference(real, kid_subsets=5, kid_subset_size=100, nearest_k=3)
    same = reference.scores(real, logits, "_x", torch.device("cpu"))
    assert set(same) == {"FID_x", "KID_x", "IS_x", "precision_x", "recall_x"}
    assert_close(same["FID_x"], 0.0, atol=1e-9, rtol=0)
    assert (same["precision_x"], same["recall_x"]) == (1.0, 1.0)
    shifted = reference.scores(real + 1.0, logits, "_x", torch.device("cpu"))
    assert_close(shifted["FID_x"], 8.0, rtol=1e-9, atol=0)  # |mean shift|^2 = 8 x 1^2, same covariance


def test_too_few_samples_warn_or_say_why():
    real = torch.rand(50, 4)
    reference = Reference(real, kid_subsets=5, kid_subset_size=1000, nearest_k=3)
    with pytest.warns(UserWarning, match="KID subsets of 20 samples"):
        reference.scores(torch.rand(20, 4), torch.rand(20, 10), "", torch.device("cpu"))
    with pytest.raises(ValueError, match="more than nearest_k=3 samples, got 3"):
        reference.scores(torch.rand(3, 4), torch.rand(3, 10), "", torch.device("cpu"))


def compose_metrics(*overrides: str):
    ConfigStore.instance().store(name="metrics_default_schema", node=MetricsConfig)
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return compose(config_name="metrics/default", overrides=list(overrides)).metrics


def test_metrics_config_composes_with_its_schema(monkeypatch):
    monkeypatch.delenv("GANRUN_CACHE", raising=False)
    cfg = compose_metrics()
    assert (cfg.every, cfg.num_samples, cfg.features, cfg.split, cfg.num_points) == (5000, 10000, "auto", "train", 2500)
    assert cfg.inception_weights is None and cfg.cache_dir == "outputs/.cache" and cfg.enabled
    validate_metrics(cfg)
    monkeypatch.setenv("GANRUN_CACHE", "/tmp/elsewhere")
    assert compose_metrics().cache_dir == "/tmp/elsewhere"
    with pytest.raises(Exception, match="num_samples"):
        compose_metrics("metrics.num_samples=many")


@pytest.mark.parametrize("override, message", [
    ("features=resnet", "metrics.features=resnet: use one of auto, inception, classifier"),
    ("split=val", "metrics.split=val: use train or test"),
    ("every=-1", "metrics.every=-1 must be >= 0"),
    ("num_samples=5", "metrics.num_samples=5 is too few"),
    ("inception_weights=/no/such.pth", "metrics.inception_weights=/no/such.pth is not a file"),
])
def test_bad_values_are_named(override, message):
    cfg = OmegaConf.merge(OmegaConf.structured(MetricsConfig), OmegaConf.from_dotlist([override]))
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        validate_metrics(cfg)


def test_the_schema_imports_without_torch():
    code = "import sys, ganrun.metrics.config; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
