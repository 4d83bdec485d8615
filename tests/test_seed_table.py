"""The seeds table of a sweep (ganrun/run/seed_table.py), on a fake sweep folder: grouping by every
override but the seed, mean ± standard error per metric, and when it is (not) written."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ganrun.run import sweeps
from ganrun.run.seed_table import SEEDS_FILE, setting_of


def fake_job(sweep: Path, number: int, overrides: list[str], scalars: dict[str, float], status: str = "ok",
             wall: float = 10.0) -> None:
    job = sweep / f"{number}_job"
    job.mkdir(parents=True)
    (job / "status.json").write_text(json.dumps({"status": status, "error": None, "wall_time_s": wall,
                                                 "overrides": overrides}))
    (job / "final.json").write_text(json.dumps({"step": 10, "scalars": scalars}))


def test_setting_drops_only_the_seed():
    assert setting_of(["objective=ns", "seed=2", "trainer.steps=5"]) == "objective=ns trainer.steps=5"
    assert setting_of(["+seed=1", "dataset.seed=3"]) == "dataset.seed=3"


def test_seeds_table_means_and_standard_errors(tmp_path):
    fids = {"ns": [100.0, 110.0, 120.0], "hinge": [50.0, 54.0]}
    number = 0
    for objective, values in fids.items():
        for seed, fid in enumerate(values):
            fake_job(tmp_path, number, [f"objective={objective}", f"seed={seed}", "trainer.steps=9"],
                     {"metrics/fid": fid, "metrics/modes": 10.0 - seed, "loss/G": 1.0}, wall=10.0 + seed)
            number += 1
    fake_job(tmp_path, number, ["objective=began", "seed=0", "trainer.steps=9"], {}, status="failed")
    sweeps.write_tables(sweeps.summarize_sweep(tmp_path, "metrics/fid", "minimize"))
    lines = (tmp_path / SEEDS_FILE).read_text().splitlines()
    # ns: mean 110, s.e. = std 10 / sqrt 3 = 5.7735; modes 10, 9, 8: mean 9, s.e. 1 / sqrt 3 = 0.577
    # hinge: mean 52, s.e. = std 2.828 / sqrt 2 = 2.0; modes 10, 9: 9.5 ± 0.5; the failed BEGAN job: no row
    assert math.isclose(10 / math.sqrt(3), 5.7735, rel_tol=1e-4)
    assert lines[2] == "Overrides of every setting: `trainer.steps=9`"
    assert lines[4:] == ["| setting | seeds | fid | modes | wall time (s) |",
                         "|---|---|---|---|---|",
                         "| `objective=ns` | 3 | 110.0 ± 5.8 | 9.000 ± 0.577 | 11 |",
                         "| `objective=hinge` | 2 | 52.0 ± 2.0 | 9.500 ± 0.500 | 10 |"]


def test_one_setting_over_seeds(tmp_path):
    for seed, fid in enumerate([3.0, 5.0]):
        fake_job(tmp_path, seed, ["experiment=began_digits", f"seed={seed}"], {"metrics/fid": fid})
    sweeps.write_tables(sweeps.summarize_sweep(tmp_path, "metrics/fid", "minimize"))
    assert (tmp_path / SEEDS_FILE).read_text().splitlines()[-1] == "| (every job) | 2 | 4.000 ± 1.000 | 10 |"


def test_no_seeds_table_without_repeated_seeds(tmp_path):
    fake_job(tmp_path, 0, ["objective=ns", "seed=0"], {"metrics/fid": 1.0})
    fake_job(tmp_path, 1, ["objective=hinge", "seed=0"], {"metrics/fid": 2.0})
    sweeps.write_tables(sweeps.summarize_sweep(tmp_path, "metrics/fid", "minimize"))
    assert (tmp_path / "summary.md").is_file() and not (tmp_path / SEEDS_FILE).exists()
