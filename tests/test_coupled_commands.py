"""`ganrun eval`, `ganrun sample` and `ganrun translate` on the coupled games' checkpoints (CoGAN, UNIT):
pair sheets written, the games' own metrics reported, UNIT's encoder translating a folder both ways."""

import functools
import json

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf, open_dict
from PIL import Image

from ganrun import cli, loop
from ganrun.metrics import classifier
from ganrun.run import checkpoint
from tests.conftest import SHARED_DATA, compose_config

pytestmark = pytest.mark.skipif(not SHARED_DATA.exists(), reason=f"real datasets not found at {SHARED_DATA}")

TINY = ["trainer.steps=1", "trainer.batch_size=4", "trainer.num_grid_samples=4", "trainer.progress=off",
        "metrics=none", "trainer.device=cpu", "architecture.generator.width=4", "architecture.discriminator.width=4",
        "architecture.latent_dim=3", "dataset.resolution=8", "dataset.fraction=0.05", f"dataset.root={SHARED_DATA}",
        "dataset.download=false"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root, out = tmp_path_factory.mktemp("coupled"), {}
    for game in ("cogan", "unit"):
        cfg = compose_config([f"game={game}", *TINY])
        with open_dict(cfg):
            cfg.pop("hydra", None)
        loop.run(cfg, root / game)
        out[game] = root / game / "checkpoints" / "step_00000001.pt"
    yield out
    torch.set_num_threads(threads)


def _ganrun(capsys, *args):
    """`ganrun ARGS` in this process: (exit code, stdout, stderr)."""
    try:
        cli.main(list(args))
        code = 0
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("game", ["cogan", "unit"])
def test_sample_writes_pairs_from_one_latent(game, checkpoints, tmp_path, capsys):
    code, _, err = _ganrun(capsys, "sample", f"checkpoint={checkpoints[game]}", "num=4", f"out={tmp_path / 's.png'}",
                           "device=cpu")
    assert code == 0, err
    assert Image.open(tmp_path / "s.png").size == (2 + 4 * 10, 2 + 2 * 10)  # rows of 2 latents x 2 domains, 8 px
    assert _ganrun(capsys, "sample", f"checkpoint={checkpoints[game]}", "num=3", f"out={tmp_path / 's.npz'}",
                   "device=cpu")[0] == 0
    with np.load(tmp_path / "s.npz") as sheet:
        assert sheet["samples"].shape == (6, 1, 8, 8) and len(sheet["latents"]) == 3
        assert np.abs(sheet["samples"]).max() <= 1
    code, _, err = _ganrun(capsys, "sample", f"checkpoint={checkpoints[game]}", "interpolate=true",
                           f"out={tmp_path / 'i.png'}", "device=cpu")
    assert code == 2 and err.strip().count("\n") == 0 and not (tmp_path / "i.png").exists()


def test_eval_reports_the_games_own_metrics(checkpoints, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(classifier, "train", functools.partial(classifier.train, steps=20))  # tiny classifiers
    cache = [f"metrics.cache_dir={tmp_path / 'cache'}", "metrics.num_samples=16", "metrics.kid_subsets=2",
             "metrics.kid_subset_size=8", "device=cpu"]
    code, out, err = _ganrun(capsys, "eval", f"checkpoint={checkpoints['cogan']}", f"out={tmp_path / 'c.json'}", *cache)
    assert code == 0, err
    cogan = json.loads((tmp_path / "c.json").read_text())
    assert 0 <= cogan["pair_agreement"] <= 1 and "pair_agreement" in out
    code, out, err = _ganrun(capsys, "eval", f"checkpoint={checkpoints['unit']}", f"out={tmp_path / 'u.json'}", *cache)
    assert code == 0, err
    unit = json.loads((tmp_path / "u.json").read_text())
    for direction in ("A2B", "B2A"):
        assert 0 <= unit[f"{direction}/label_accuracy"] <= 1 and unit[f"{direction}/FID_classifier"] > 0
    assert unit["step"] == 1 and unit["A2B2A/L1"] > 0


def test_translate_runs_units_encoder_and_decoder_both_ways(checkpoints, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(np.full((28, 28), 60 * i, dtype=np.uint8)).save(folder / f"d{i}.png")
    for direction in ("AtoB", "BtoA"):
        code, _, err = _ganrun(capsys, "translate", f"checkpoint={checkpoints['unit']}", f"input={folder}",
                               f"out={tmp_path / direction}", f"direction={direction}")
        assert code == 0, err
        assert sorted(p.name for p in (tmp_path / direction).iterdir()) == ["d0.png", "d1.png"]
        assert Image.open(tmp_path / direction / "d0.png").size == (8, 8)


def test_a_checkpoint_saved_before_the_games_new_keys_still_samples(checkpoints, tmp_path, capsys):
    """A CoGAN run saved before `own_samples`/`own_metrics` existed: its config gets today's game keys."""
    saved = checkpoint.load(checkpoints["cogan"])
    config = OmegaConf.create(saved["config"])
    with open_dict(config):
        for key in ("own_samples", "own_metrics"):
            config.game.pop(key)
    saved["config"] = OmegaConf.to_yaml(config) if isinstance(saved["config"], str) else OmegaConf.to_container(config)
    old = tmp_path / "old.pt"
    torch.save(saved, old)
    code, _, err = _ganrun(capsys, "sample", f"checkpoint={old}", "num=4", f"out={tmp_path / 's.png'}", "device=cpu")
    assert code == 0, err
    assert Image.open(tmp_path / "s.png").size == (2 + 4 * 10, 2 + 2 * 10)  # the pair sheet, not a plain grid
