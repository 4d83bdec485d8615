"""`experiment=veegan_table1` (VEEGAN Table 1: GAN and Unrolled GAN on the ring): the preset's protocol,
the method label and paper lookup of both methods, and the separate path's scores at its score steps."""

from __future__ import annotations

import json

import numpy as np
import pytest
from omegaconf import OmegaConf, open_dict

from ganrun.config.compose import compose_config as compose_with_hydra
from ganrun.run import mode_study
from ganrun.run.mode_study import STUDY_FILE, run_job, table
from tests.conftest import compose_config


def study_config(*overrides: str):
    cfg = compose_config(["experiment=veegan_table1", "trainer.device=cpu", "trainer.progress=off", *overrides])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg


@pytest.mark.parametrize("objective, method", [("ns", "GAN"), ("unrolled", "Unrolled GAN")])
def test_the_preset_composes_with_the_protocol(objective, method):
    cfg = study_config(f"objective={objective}")
    assert cfg.study.method == method and cfg.objective.name == objective
    # the ring of Unrolled GAN / VEEGAN: 8 modes at radius 2, std 0.02
    assert (cfg.dataset.name, cfg.dataset.num_modes, cfg.dataset.radius, cfg.dataset.std) == ("ring", 8, 2.0, 0.02)
    # the Unrolled GAN reference notebook (poolio/unrolled_gan): 2 x 128, z 256, batch 512, beta1 0.5, lr G 1e-3 / D 1e-4
    arch = cfg.architecture
    assert (arch.name, arch.latent_dim, arch.generator.width, arch.generator.depth) == ("mlp", 256, 128, 2)
    assert arch.generator.batch_norm is False  # the notebook's G has none
    assert (arch.discriminator.width, arch.discriminator.depth, arch.discriminator.dropout) == (128, 2, 0.0)
    optimizer = OmegaConf.to_container(cfg.optimizer, resolve=True)
    assert (optimizer["generator"]["lr"], optimizer["discriminator"]["lr"]) == (1e-3, 1e-4)
    assert optimizer["generator"]["betas"] == optimizer["discriminator"]["betas"] == [0.5, 0.999]
    assert (cfg.trainer.batch_size, cfg.trainer.steps, list(cfg.study.seeds)) == (512, 1000, [0, 1, 2])
    assert list(cfg.study.score_steps) == [250, 500] and cfg.metrics.enabled is False
    paper = study_config(f"objective={objective}", "study.budget=paper")
    assert (paper.trainer.steps, list(paper.study.seeds)) == (25000, [0, 1, 2, 3, 4])  # 25k iterations, 5 runs
    if objective == "unrolled":
        assert (cfg.objective.unroll_steps, cfg.objective._target_) == (5, "ganrun.objectives.Unrolled")


def test_another_objective_is_labelled_by_its_name():
    assert study_config("objective=hinge").study.method == "hinge"


def test_the_sweep_is_over_objectives_and_writes_the_table():
    cfg = compose_with_hydra(["experiment=veegan_table1"], with_hydra=True)
    assert OmegaConf.to_container(cfg.hydra.sweeper.params) == {"dataset": "ring", "objective": "ns,unrolled"}
    assert cfg.hydra.mode.name == "MULTIRUN"
    assert cfg.hydra.callbacks.study_table._target_ == "ganrun.run.mode_study.StudyTable"


def test_the_paper_lookup_of_both_methods():
    paper = OmegaConf.to_container(study_config().study.paper)
    # not found in the stored sources this session read: both methods are there, empty (shown as "–")
    assert paper == {"ring": {"GAN": None, "Unrolled GAN": None}, "grid": {"GAN": None, "Unrolled GAN": None}}
    scores = [{"seed": 0, "step": 10, "modes": 8.0, "hq": 50.0, "reverse_kl": 0.25}]
    records = [{"method": "GAN", "dataset": "ring", "seconds": 3.0, "scores": scores},
               {"method": "Unrolled GAN", "dataset": "ring", "seconds": 7.0, "scores": scores}]
    rows = table(records, paper).splitlines()[2:]
    assert rows == ["| ring | GAN | 10 | 1 | 8.0 ± 0.0 | 50.0 ± 0.0 | 0.25 ± 0.00 | – | – | – | 3 |",
                    "| ring | Unrolled GAN | 10 | 1 | 8.0 ± 0.0 | 50.0 ± 0.0 | 0.25 ± 0.00 | – | – | – | 7 |"]
    filled = {"ring": {"GAN": [1.0, 99.0, None], "Unrolled GAN": [7.0, 40.0, None]}}  # as the paper's would read
    assert table(records, filled).splitlines()[3].endswith("| 7.0 | 40.0 | None | 7 |")


TINY = ["architecture.latent_dim=4", "architecture.generator.width=16", "architecture.discriminator.width=16",
        "trainer.batch_size=32"]


def points(folder, seed, step):
    return np.load(folder / f"samples_seed{seed}_step{step}.npz")["points"]


def test_unrolled_scores_at_each_score_step_are_those_of_a_run_stopped_there(tmp_path):
    cfg = study_config("objective=unrolled", *TINY, "study.budgets.cpu.steps=4", "study.budgets.cpu.score_steps=[2]",
                       "study.budgets.cpu.seeds=[0,1]")
    run_job(cfg, tmp_path / "long")
    record = json.loads((tmp_path / "long" / STUDY_FILE).read_text())
    assert not record["batched"] and record["method"] == "Unrolled GAN"
    assert [(s["seed"], s["step"]) for s in record["scores"]] == [(0, 2), (0, 4), (1, 2), (1, 4)]
    short = study_config("objective=unrolled", *TINY, "study.budgets.cpu.steps=2", "study.budgets.cpu.score_steps=[]",
                         "study.budgets.cpu.seeds=[1]")
    run_job(short, tmp_path / "short")
    # scoring mid-run changed nothing: bitwise the samples of seed 1's run stopped at step 2
    assert np.array_equal(points(tmp_path / "long", 1, 2), points(tmp_path / "short", 1, 2))
    for seed in (0, 1):
        assert not np.array_equal(points(tmp_path / "long", seed, 2), points(tmp_path / "long", seed, 4))
    assert not np.array_equal(points(tmp_path / "long", 0, 4), points(tmp_path / "long", 1, 4))


def test_the_gan_row_on_the_batched_path_is_each_seeds_separate_run(tmp_path):
    """ns takes the batched path; with the preset's own networks each seed's samples are bitwise those
    its separate `ganrun train` loop gives (here after 2 steps, scored at 1 and 2)."""
    cfg = study_config("objective=ns", "study.budgets.cpu.steps=2", "study.budgets.cpu.seeds=[0,1]",
                       "study.budgets.cpu.score_steps=[1]")
    (tmp_path / "batched").mkdir()
    (tmp_path / "separate").mkdir()
    batched = mode_study._batched(cfg, tmp_path / "batched")
    separate = mode_study._separate(cfg, tmp_path / "separate")
    key = lambda s: (s["seed"], s["step"])  # noqa: E731
    assert sorted(batched, key=key) == sorted(separate, key=key) and len(batched) == 4
    for seed in (0, 1):
        for step in (1, 2):
            assert np.array_equal(points(tmp_path / "batched", seed, step), points(tmp_path / "separate", seed, step))
