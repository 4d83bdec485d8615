"""Download-free metrics on classifier features: MNIST, Stacked MNIST and scikit-learn's digits.

The module trains the MNIST classifier once (about 30-60 s on 2 CPU cores) into a temporary cache
that every test here shares.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from torch.testing import assert_close

import ganrun.metrics.evaluator as evaluator_module
from ganrun.data import InMemory, mnist
from ganrun.config.schemas import MetricsConfig
from ganrun.metrics import build_evaluator, quantize
from ganrun.data.stacked_mnist import stacked_mnist

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_mnist = pytest.mark.skipif(not (DATA / "MNIST" / "raw").is_dir(), reason=f"MNIST not found under {DATA}")
IMAGE_KEYS = {f"{name}_classifier" for name in ("FID", "KID", "IS", "precision", "recall")} | {"modes", "reverse_kl"}


def metrics_cfg(cache: Path, **values) -> OmegaConf:
    return OmegaConf.structured(MetricsConfig(cache_dir=str(cache), **values))


def mnist_cfg(**values) -> OmegaConf:
    return OmegaConf.create({"_target_": "ganrun.data.mnist", "name": "mnist", "root": str(DATA), "resolution": 32,
                             "channels": 1, "num_classes": 10, "download": False, "train": True, **values})


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("metrics-cache")


@pytest.fixture(scope="module")
def evaluator(cache):
    """MNIST metrics against 2,000 train images; trains and caches the classifier."""
    with pytest.warns(UserWarning, match="below 2048"):
        return build_evaluator(metrics_cfg(cache, num_samples=2000, kid_subsets=20), mnist_cfg())


@pytest.fixture(scope="module")
def mnist_test() -> torch.Tensor:
    return mnist(root=str(DATA), train=False).tensors[0]  # (10000, 1, 32, 32) in [-1, 1]


@needs_mnist
def test_mnist_classifier_reaches_98_percent_and_is_cached_with_it(evaluator, cache):
    assert evaluator.net.test_accuracy >= 0.98
    record = torch.load(cache / "classifier_mnist_32px_1ch.pt", weights_only=True)
    assert record["test_accuracy"] == evaluator.net.test_accuracy


@needs_mnist
def test_real_test_images_score_far_better_than_noise(evaluator, mnist_test):
    real = evaluator.evaluate_samples(mnist_test[:2000])
    noise = evaluator.evaluate_samples(torch.rand(2000, 1, 32, 32) * 2 - 1)
    assert set(real) == set(noise) == IMAGE_KEYS
    assert real["FID_classifier"] < 0.01 * noise["FID_classifier"]
    assert real["KID_classifier"] < 0.01 * noise["KID_classifier"]
    assert real["IS_classifier"] > 9.0 > 2.0 > noise["IS_classifier"]
    assert real["precision_classifier"] > 0.8 > 0.05 > noise["precision_classifier"]
    assert real["recall_classifier"] > 0.8 > 0.05 > noise["recall_classifier"]
    assert real["modes"] == 10.0 and real["reverse_kl"] < 0.01


@needs_mnist
def test_fid_of_a_set_against_itself_is_zero_and_grows_with_noise(evaluator, cache, mnist_test, tmp_path):
    images = mnist_test[:1000]
    own = InMemory(images, torch.zeros(1000, dtype=torch.int64), name="mnist", num_classes=10)
    (tmp_path / "cache").mkdir()  # real features of `own` apart; the classifier copied over
    shutil.copy(cache / "classifier_mnist_32px_1ch.pt", tmp_path / "cache")
    cfg = metrics_cfg(tmp_path / "cache", num_samples=1000, kid_subset_size=500, kid_subsets=10)
    with pytest.warns(UserWarning, match="below 2048"):
        same = build_evaluator(cfg, mnist_cfg(), make=lambda node, **kwargs: own)
    itself = same.evaluate_samples(images)
    assert_close(itself["FID_classifier"], 0.0, atol=1e-6, rtol=0)
    assert (itself["precision_classifier"], itself["recall_classifier"]) == (1.0, 1.0)

    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(images.shape, generator=generator)
    fids = [same.evaluate_samples((images + level * noise).clamp(-1, 1))["FID_classifier"]
            for level in (0.05, 0.1, 0.2, 0.4, 0.8)]
    assert 1e-3 < fids[0]
    assert all(a < b for a, b in zip(fids, fids[1:])), fids


@needs_mnist
def test_real_statistics_are_cached_on_disk(evaluator, cache, mnist_test, monkeypatch):
    extracted = []
    extract = evaluator_module.extract

    def counting(net, batches, total, device, desc, shape=None):
        extracted.append((desc.split()[0], total))
        return extract(net, batches, total, device, desc, shape)

    monkeypatch.setattr(evaluator_module, "extract", counting)
    cfg = metrics_cfg(cache, num_samples=300, split="test", kid_subset_size=100, kid_subsets=10)

    def sample_fn(n: int) -> torch.Tensor:
        return mnist_test[torch.randint(len(mnist_test), (n,))]

    with pytest.warns(UserWarning, match="below 2048"):
        first = build_evaluator(cfg, mnist_cfg())(sample_fn)
    assert extracted == [("real", 300), ("generated", 300)]
    assert len(list(cache.glob("real_mnist_test_32px_300_*.pt"))) == 1

    extracted.clear()
    with pytest.warns(UserWarning, match="below 2048"):
        again = build_evaluator(cfg, mnist_cfg())  # a new run: reads the file
    assert again(sample_fn) == first  # same seed, same draws, same real features
    assert extracted == [("generated", 300)]


@needs_mnist
def test_stacked_mnist_modes_through_the_mnist_classifier(evaluator, cache):
    data = stacked_mnist(root=str(DATA), resolution=32, num_samples=2000, seed=1, train=False)
    x, y = data[7]
    r, g, b = data.index[7]
    assert x.shape == (3, 32, 32) and len(data) == 2000 and data.num_classes == 1000
    assert torch.equal(x[1], data.channel_source.tensors[0][g, 0])
    assert y == 100 * data.channel_source.tensors[1][r] + 10 * data.channel_source.tensors[1][g] \
        + data.channel_source.tensors[1][b]

    stacked_cfg = mnist_cfg(_target_="ganrun.data.stacked_mnist.stacked_mnist", name="stacked_mnist",
                            channels=3, num_classes=1000)
    with pytest.warns(UserWarning, match="below 2048"):
        stacked = build_evaluator(metrics_cfg(cache, num_samples=2000, split="test", kid_subsets=10), stacked_cfg)
    assert len(list(cache.glob("classifier_*.pt"))) == 1  # MNIST's classifier, channel by channel

    images = torch.stack([data[i][0] for i in range(len(data))])
    labels = torch.stack([data[i][1] for i in range(len(data))])
    joint = stacked.net(quantize(images))[1]
    assert joint.shape == (2000, 1000)
    assert (joint.argmax(1) == labels).float().mean() > 0.95  # ~0.986 ** 3

    real = stacked.evaluate_samples(images)
    assert set(real) == IMAGE_KEYS
    distinct = float(labels.unique().numel())  # ~865 of 1000 in 2,000 draws
    assert distinct - 30 < real["modes"] <= distinct + 30
    collapsed = stacked.evaluate_samples(images[:1].expand(2000, -1, -1, -1))
    assert collapsed["modes"] == 1.0
    assert_close(collapsed["reverse_kl"], math.log(1000))


def test_digits_hold_out_a_fifth_to_measure_their_classifier(tmp_path):
    digits_cfg = OmegaConf.create({"_target_": "ganrun.data.digits", "name": "digits", "resolution": 8,
                                   "channels": 1, "num_classes": 10})
    with pytest.warns(UserWarning, match="below 2048"):
        digits = build_evaluator(metrics_cfg(tmp_path, num_samples=1000, kid_subset_size=100, kid_subsets=10), digits_cfg)
    assert digits.net.test_accuracy > 0.9
    assert (tmp_path / "classifier_digits_8px_1ch.pt").is_file()
    real = digits.evaluate_samples(torch.rand(200, 1, 8, 8) * 2 - 1)
    assert set(real) == IMAGE_KEYS
    with pytest.raises(ValueError, match=r"shape \(1, 32, 32\)"):
        digits.evaluate_samples(torch.zeros(10, 1, 32, 32))
