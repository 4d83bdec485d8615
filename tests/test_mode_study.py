"""2-D studies (ganrun/run/mode_study.py): the table from a sweep folder, and the scores of a job equal
to an independent recomputation from the samples it saved."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from omegaconf import open_dict

from ganrun.run.mode_study import STUDY_FILE, mean_and_error, run_job, table, write_table
from tests.conftest import compose_config


def fake_job(folder, method, dataset, rows, seconds=12.0):
    folder.mkdir(parents=True)
    scores = [{"seed": seed, "step": step, "modes": m, "hq": hq, "reverse_kl": kl} for seed, step, m, hq, kl in rows]
    record = {"method": method, "dataset": dataset, "batched": True, "seconds": seconds, "scores": scores}
    (folder / STUDY_FILE).write_text(json.dumps(record))


def test_mean_and_standard_error():
    mean, error = mean_and_error([1.0, 2.0, 6.0])  # mean 3, sample var ((4 + 1 + 9) / 2) = 7, se sqrt(7 / 3)
    assert (mean, error) == (3.0, math.sqrt(7 / 3))
    assert mean_and_error([5.0]) == (5.0, 0.0)


def test_the_table_of_a_fake_sweep_folder(tmp_path):
    fake_job(tmp_path / "0_grid_pack1", "PacGAN1", "grid",
             [(0, 100, 20, 50.0, 0.5), (1, 100, 22, 60.0, 0.3), (0, 10, 5, 1.0, 2.0), (1, 10, 7, 3.0, 1.0)])
    fake_job(tmp_path / "1_grid_pack2", "PacGAN2", "grid", [(0, 100, 25, 90.0, 0.1)], seconds=30.4)
    (tmp_path / "2_failed").mkdir()  # a failed job has no study.json and no samples: left out
    partial = tmp_path / "3_grid_pack3"  # stopped before its end: rescored from its samples
    (partial / ".hydra").mkdir(parents=True)
    (partial / ".hydra" / "config.yaml").write_text("study: {method: PacGAN3}\ndataset: {name: grid}\n")
    modes = np.array([[i, j] for i in (-4, -2, 0, 2, 4) for j in (-4, -2, 0, 2, 4)], dtype=np.float32)
    np.savez(partial / "samples_seed0_step7.npz", points=modes + 0.1, modes=modes, std=np.float64(0.05))
    path = write_table(tmp_path, {"grid": {"PacGAN2": [23.8, 91.3, 0.13]}}, title="T")
    assert path == tmp_path / "table.md"
    assert path.read_text() == (
        "# T\n\n"
        "| dataset | method | steps | seeds | modes | high quality % | reverse KL | paper: modes | "
        "paper: high quality % | paper: reverse KL | wall s |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        "| grid | PacGAN1 | 10 | 2 | 6.0 ± 1.0 | 2.0 ± 1.0 | 1.50 ± 0.50 | – | – | – | 12 |\n"
        "| grid | PacGAN1 | 100 | 2 | 21.0 ± 1.0 | 55.0 ± 5.0 | 0.40 ± 0.10 | – | – | – | 12 |\n"
        "| grid | PacGAN2 | 100 | 1 | 25.0 ± 0.0 | 90.0 ± 0.0 | 0.10 ± 0.00 | 23.8 | 91.3 | 0.13 | 30 |\n"
        # every point 0.1 * sqrt(2) = 0.14 from its mode, within 3 std = 0.15: all 25 modes, 100 %, uniform
        "| grid | PacGAN3 | 7 | 1 | 25.0 ± 0.0 | 100.0 ± 0.0 | 0.00 ± 0.00 | – | – | – | – |\n")
    assert table([], None).count("\n") == 2  # header only


def independent_scores(path) -> dict[str, float]:
    """The VEEGAN / PacGAN protocol in numpy, from the saved file alone."""
    saved = np.load(path)
    points, modes, std = saved["points"].astype(np.float64), saved["modes"].astype(np.float64), float(saved["std"])
    distance = np.sqrt(((points[:, None, :] - modes[None, :, :]) ** 2).sum(axis=2))  # (N, K)
    nearest, closest = distance.argmin(axis=1), distance.min(axis=1)
    good = closest <= 3 * std
    p = np.bincount(nearest, minlength=len(modes)) / len(points)
    p = p[p > 0]
    return {"modes": float(len(set(nearest[good].tolist()))), "hq": 100.0 * good.mean(),
            "reverse_kl": float((p * np.log(p * len(modes))).sum())}


def test_the_scores_equal_a_recomputation_from_the_saved_samples(tmp_path):
    cfg = compose_config(["experiment=pacgan_table1", "dataset=ring_pacgan", "tricks.pack=2",
                          "architecture.generator.width=16", "architecture.discriminator.width=16",
                          "study.budgets.cpu.steps=6", "study.budgets.cpu.seeds=[0,1]",
                          "study.budgets.cpu.score_steps=[3]", "trainer.device=cpu", "trainer.progress=off"])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    run_job(cfg, tmp_path)
    record = json.loads((tmp_path / STUDY_FILE).read_text())
    assert record["batched"] and [(s["seed"], s["step"]) for s in record["scores"]] == [(0, 3), (1, 3), (0, 6), (1, 6)]
    for score in record["scores"]:
        expected = independent_scores(tmp_path / f"samples_seed{score['seed']}_step{score['step']}.npz")
        assert np.load(tmp_path / f"samples_seed{score['seed']}_step{score['step']}.npz")["points"].shape == (2500, 2)
        for key, value in expected.items():
            assert score[key] == pytest.approx(value, rel=1e-12, abs=1e-12), (score, key)
    first, second = (np.load(tmp_path / f"samples_seed{seed}_step6.npz")["points"] for seed in (0, 1))
    assert not np.array_equal(first, second)  # two seeds, two sample sets
