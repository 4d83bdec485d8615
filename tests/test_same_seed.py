"""The same seed gives the same run: nothing beside training (metrics, caches, the metric classifier,
datasets, feature networks) draws from or moves training's random streams, and `eval` / `sample`
give the same numbers and samples for a seed whatever ran before them in the process."""

from __future__ import annotations

import json
import random
from functools import partial

import numpy as np
import pytest
import torch
from omegaconf import open_dict
from torch.testing import assert_close

from ganrun import loop
from ganrun.commands import evaluate, sample
from ganrun.run import checkpoint
from ganrun.metrics import classifier
from ganrun.rng import isolated_rng, seeded_rng
from tests.conftest import SHARED_DATA, TINY, compose_config, tiny_config

# One of each objective family: a plain loss, a gradient penalty (a random interpolation per D step),
# conditional G and D (random labels), and tricks that draw noise (instance noise, a replay buffer).
FAMILIES = {
    "ns": ["objective=ns"],
    "wgan_gp": ["objective=wgan_gp"],
    "conditional": ["objective=ns", "conditional=true"],
    "noise_tricks": ["objective=lsgan", "tricks.instance_noise.std=0.1", "tricks.history.size=16"],
}
METRICS = ["metrics=default", "metrics.every=1", "metrics.num_samples=20", "metrics.batch_size=10",
           "metrics.kid_subsets=2", "metrics.kid_subset_size=10"]
COMPARED = ("generator", "discriminator", "optimizer_g", "optimizer_d", "rng")


@pytest.fixture
def quick_classifier(monkeypatch):
    """The metric classifier trained for 4 batches instead of 600: the same code path (initialisation,
    DataLoader seeds, random batches, dropout), drawn from the same streams, in a fraction of the time."""
    monkeypatch.setattr(classifier, "train", partial(classifier.train, steps=4))


def final_state(cfg, run_dir):
    torch.manual_seed(12345)  # whatever ran before: the run seeds itself
    loop.run(cfg, run_dir)
    return checkpoint.load(checkpoint.latest(run_dir / "checkpoints"))


@pytest.mark.parametrize("family", FAMILIES)
def test_a_cold_cache_a_warm_cache_and_no_metrics_train_bitwise_the_same(family, tmp_path, quick_classifier):
    base = ["dataset=digits", "trainer.steps=3", "seed=7", *FAMILIES[family]]
    cache = [f"metrics.cache_dir={tmp_path / 'cache'}"]
    none = final_state(tiny_config(*base), tmp_path / "none")
    cold = final_state(tiny_config(*base, *METRICS, *cache), tmp_path / "cold")  # trains the classifier
    assert any((tmp_path / "cache").glob("classifier_*.pt"))
    warm = final_state(tiny_config(*base, *METRICS, *cache), tmp_path / "warm")  # reads it back
    for name, state in (("cold", cold), ("warm", warm)):
        for part in COMPARED:
            assert_close(state[part], none[part], rtol=0, atol=0, msg=lambda m: f"{name} {part}: {m}")
    assert (tmp_path / "warm" / "metrics.jsonl").read_text() == (tmp_path / "cold" / "metrics.jsonl").read_text()


def draws() -> tuple:
    return torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)]


def assert_same_draws(a: tuple, b: tuple) -> None:
    assert_close(a[0], b[0], rtol=0, atol=0)
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]


def test_isolated_rng_puts_every_stream_back_even_after_an_error():
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    expected = draws()
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    with pytest.raises(RuntimeError), isolated_rng():
        draws()
        raise RuntimeError("an evaluation that fails")
    assert_same_draws(draws(), expected)


def test_seeded_rng_draws_the_same_whatever_was_drawn_before():
    with seeded_rng(5):
        first = draws()
    draws()
    with seeded_rng(5):
        second = draws()
    assert_same_draws(first, second)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    loop.run(tiny_config("dataset=digits", "trainer.steps=2", "conditional=true"), folder)
    return folder


def test_sample_gives_the_same_samples_for_a_seed_whatever_ran_before(run_dir, tmp_path):
    step = checkpoint.latest(run_dir / "checkpoints")
    outputs = []
    for i, before in enumerate((lambda: None, lambda: draws() and torch.randn(100))):
        before()
        out = tmp_path / f"s{i}.npz"
        sample.main([f"checkpoint={step}", "num=12", f"out={out}", "seed=3", "device=cpu"])
        outputs.append(np.load(out)["samples"])
    np.testing.assert_array_equal(outputs[0], outputs[1])
    sample.main([f"checkpoint={step}", "num=12", f"out={tmp_path / 'other.npz'}", "seed=4", "device=cpu"])
    assert not np.array_equal(np.load(tmp_path / "other.npz")["samples"], outputs[0])  # the seed matters


def test_eval_gives_the_same_numbers_cold_warm_and_whatever_ran_before(run_dir, tmp_path, quick_classifier):
    step = checkpoint.latest(run_dir / "checkpoints")
    args = [f"checkpoint={step}", "device=cpu", *(a for a in METRICS if a.startswith("metrics.") and "every" not in a),
            f"metrics.cache_dir={tmp_path / 'cache'}"]
    results = []
    for i in range(2):  # cold cache, then warm, with other draws in between
        draws()
        evaluate.main([*args, f"out={tmp_path / f'{i}.json'}"])
        results.append(json.loads((tmp_path / f"{i}.json").read_text()))
    assert results[0] == results[1]
    before = torch.get_rng_state()
    evaluate.main([*args, f"out={tmp_path / 'again.json'}"])
    assert torch.equal(torch.get_rng_state(), before)  # and it leaves the caller's streams as they were


# Games with their own data and metrics: LAPGAN reads digits (sklearn's first import draws from Python's
# stream), UNIT trains its domain and digit classifiers when the cache is cold.
GAMES = {
    "lapgan": ["game=lapgan", "dataset=digits", "architecture.latent_dim=8", "architecture.generator.coarse_side=2",
               "architecture.generator.hidden=16", "architecture.generator.width=4",
               "architecture.discriminator.hidden=16", "architecture.discriminator.width=4"],
    "unit": ["game=unit", "architecture.generator.width=4", "architecture.discriminator.width=4",
             "architecture.latent_dim=3", "dataset.resolution=8", "dataset.fraction=0.05",
             f"dataset.root={SHARED_DATA}", "dataset.download=false"],
}


@pytest.mark.parametrize("game", GAMES)
def test_a_games_own_data_metrics_and_views_train_bitwise_the_same(game, tmp_path, quick_classifier):
    if game == "unit" and not SHARED_DATA.exists():
        pytest.skip(f"real datasets not found at {SHARED_DATA}")
    base = [*GAMES[game], "trainer.steps=2", "trainer.batch_size=4", "seed=7"]
    none = final_state(composed(*base, "metrics=none", "trainer.sample_every=0"), tmp_path / "none")
    cold = final_state(composed(*base, *METRICS, f"metrics.cache_dir={tmp_path / 'cache'}", "trainer.sample_every=1"),
                       tmp_path / "cold")
    for part in COMPARED:
        assert_close(cold[part], none[part], rtol=0, atol=0, msg=lambda m: f"{part}: {m}")


def composed(*overrides: str):
    cfg = compose_config([*TINY, *overrides])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg
