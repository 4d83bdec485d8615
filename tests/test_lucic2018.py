"""Lucic et al. 2018 (experiment=lucic2018, lucic2018_seeds): the budgets, the trials' cells and ranges,
stage 2's settings, and both tables on fake sweep folders with exact expected text."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from ganrun.config.compose import compose_config
from ganrun.errors import ConfigError
from ganrun.run.lucic import seeds_trial, write_table
from ganrun.run.studies import lucic2018

optuna.logging.set_verbosity(optuna.logging.WARNING)
MODELS = ["minimax", "ns", "lsgan", "wgan", "wgan_gp", "dragan", "began", "vae"]


def study_config(*overrides: str):
    return compose_config(["experiment=lucic2018", *overrides], with_hydra=True)


def trials(cfg, count: int, fixed: dict | None = None) -> list[dict]:
    """The overrides `count` trials of the search get (Optuna's random sampler, as the preset uses it)."""
    study, drawn = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)), []
    for _ in range(count):
        trial = study.ask()
        for key, value in (fixed or {}).items():
            trial.set_user_attr(key, value)  # what the sweeper does with a key given on the command line
        (seeds_trial if cfg.study.get("search") else lucic2018)(cfg, trial)
        drawn.append(dict(trial.params))
    return drawn


def test_the_budgets():
    cpu, paper = study_config(), study_config("study.budget=paper")
    assert (cpu.hydra.sweeper.n_trials, cpu.trainer.steps, cpu.dataset.resolution, cpu.architecture.generator.width,
            cpu.architecture.discriminator.width, cpu.metrics.num_samples, cpu.study.range, list(cpu.study.restarts)) \
        == (16 * 5, 600, 16, 16, 16, 2048, "narrow", [0, 1, 2])
    assert (paper.hydra.sweeper.n_trials, paper.trainer.steps, paper.dataset.resolution,
            paper.architecture.generator.width, paper.metrics.num_samples, paper.study.range,
            list(paper.study.restarts)) == (16 * 100, 18750, 32, 64, 10000, "wide", [0, 1, 2, 3, 4])
    assert (cpu.trainer.batch_size, cpu.architecture.latent_dim, cpu.sweep.metric) == (64, 64, "metrics/FID_classifier")
    subset = study_config("study.datasets=[mnist]", "study.objectives=[ns,vae]")
    assert subset.hydra.sweeper.n_trials == 2 * 5
    seeds = compose_config(["experiment=lucic2018_seeds", "study.search=/x"], with_hydra=True)
    assert (seeds.hydra.sweeper.n_trials, seeds.trainer.steps, seeds.hydra.sweeper.custom_search_space) == \
        (16 * 3, 600, "ganrun.run.lucic.seeds_trial")


def test_every_cell_gets_its_trials_in_turn_within_the_narrow_ranges():
    drawn = trials(study_config(), 17)
    assert [(t["dataset"], t["objective"]) for t in drawn] == \
        [("mnist", m) for m in MODELS] + [("fashion_mnist", m) for m in MODELS] + [("mnist", "minimax")]
    for t in drawn:  # compare_gan's narrow range: beta1 0.5, one D step, lr 10^U[-4, -3]
        assert 1e-4 <= t["optimizer.lr"] <= 1e-3 and (t["optimizer.betas.0"], t["objective.d_steps"]) == (0.5, 1)
        extra = {k: v for k, v in t.items() if k not in ("dataset", "objective", "optimizer.lr", "optimizer.betas.0",
                                                          "objective.d_steps")}
        model = t["objective"]
        if model in ("wgan_gp", "dragan"):
            assert list(extra) == ["objective.penalty.weight"] and 0.1 <= extra["objective.penalty.weight"] <= 10
        elif model == "wgan":
            assert list(extra) == ["objective.clip_weights"] and 0.01 <= extra["objective.clip_weights"] <= 1
        elif model == "began":
            gamma = extra.pop("objective.equilibrium.gamma")
            assert 0.6 <= gamma <= 0.9 and extra == {"architecture": "autoencoder", "architecture.generator.tanh": True,
                                                     "objective.equilibrium.lambda_k": 1e-3}
        elif model == "vae":
            assert extra == {"game": "vae", "architecture": "vae"}
        else:
            assert extra == {}


def test_the_wide_range_and_a_fixed_model():
    drawn = trials(study_config("study.budget=paper"), 40, fixed={"objective": "wgan_gp"})
    assert all("objective" not in t for t in drawn)  # given on the command line: not drawn again
    assert [t["dataset"] for t in drawn[:3]] == ["mnist", "fashion_mnist", "mnist"]
    assert all(1e-5 <= t["optimizer.lr"] <= 1e-2 and 0 <= t["optimizer.betas.0"] <= 1 for t in drawn)
    assert {t["objective.d_steps"] for t in drawn} == {1, 2, 3, 4, 5}
    assert max(t["objective.penalty.weight"] for t in drawn) > 10  # lambda ~ 10^U[-1, 2]


def make_job(sweep: Path, number: int, overrides: list[str], fid: float | None, status: str = "ok") -> None:
    job = sweep / f"{number}_job"
    job.mkdir(parents=True)
    (job / "status.json").write_text(json.dumps({"status": status, "error": None, "wall_time_s": 10.0,
                                                 "overrides": overrides}))
    scalars = {"loss/G": 1.0} if fid is None else {"metrics/FID_classifier": fid, "loss/G": 1.0}
    (job / "final.json").write_text(json.dumps({"step": 600, "scalars": scalars}))


def fake_search(sweep: Path) -> None:
    common = ["experiment=lucic2018", "dataset.root=/data"]
    make_job(sweep, 0, ["objective=ns", "dataset=mnist", "optimizer.lr=0.000123456", "optimizer.betas.0=0.5",
                        "objective.d_steps=1", *common], 120.0)
    make_job(sweep, 1, ["objective=vae", "dataset=mnist", "game=vae", "architecture=vae", "optimizer.lr=0.0005",
                        "optimizer.betas.0=0.5", "objective.d_steps=1", *common], 300.0)
    make_job(sweep, 2, ["objective=ns", "dataset=mnist", "optimizer.lr=0.0009", "optimizer.betas.0=0.5",
                        "objective.d_steps=1", *common], 90.0)
    make_job(sweep, 3, ["objective=vae", "dataset=mnist", "game=vae", "architecture=vae", "optimizer.lr=0.0002",
                        "optimizer.betas.0=0.5", "objective.d_steps=1", *common], None, status="failed")
    make_job(sweep, 4, ["objective=ns", "dataset=mnist", "optimizer.lr=0.0003", "optimizer.betas.0=0.5",
                        "objective.d_steps=1", *common], 150.0)


def test_the_search_table(tmp_path):
    fake_search(tmp_path)
    path = write_table(tmp_path, "metrics/FID_classifier", paper={"mnist": {"vae": 23.0}},
                       datasets=["mnist"], models=["vae", "ns"], title="Lucic")
    assert path == tmp_path / "table.md"
    assert path.read_text() == (
        "# Lucic\n\n"
        "| dataset | model | trials | finished | best FID_classifier | median FID_classifier | best setting "
        "| paper: best FID |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
        "| mnist | vae | 2 | 1 | 300.0 | 300.0 | `optimizer.lr=0.0005 optimizer.betas.0=0.5 objective.d_steps=1` "
        "| 23.0 |\n"
        "| mnist | ns | 3 | 3 | 90.0 | 120.0 | `optimizer.lr=0.0009 optimizer.betas.0=0.5 objective.d_steps=1` | – |\n")


def test_stage_two_reruns_each_cells_best_setting_over_the_seeds(tmp_path):
    fake_search(tmp_path)
    cfg = compose_config(["experiment=lucic2018_seeds", f"study.search={tmp_path}", "study.datasets=[mnist]",
                          "study.objectives=[ns,vae]", "study.budgets.cpu.restarts=[0,1]"], with_hydra=True)
    assert cfg.hydra.sweeper.n_trials == 4
    drawn = trials(cfg, 4, fixed={"dataset.root": "/elsewhere"})
    ns = {"objective": "ns", "dataset": "mnist", "optimizer.lr": 0.0009, "optimizer.betas.0": 0.5,
          "objective.d_steps": 1}
    vae = {"objective": "vae", "dataset": "mnist", "game": "vae", "architecture": "vae", "optimizer.lr": 0.0005,
           "optimizer.betas.0": 0.5, "objective.d_steps": 1}
    assert drawn == [{**ns, "seed": 0}, {**ns, "seed": 1}, {**vae, "seed": 0}, {**vae, "seed": 1}]
    cfg.study.objectives = ["ns", "vae", "lsgan"]  # the search has no lsgan cell
    with pytest.raises(ConfigError, match="has best settings for 2 .* this run asks for 3"):
        trials(cfg, 5)
    cfg.study.search = str(tmp_path / "missing")
    with pytest.raises(ConfigError, match="is not a folder"):
        trials(cfg, 1)


def test_the_seeds_table(tmp_path):
    search, seeds = tmp_path / "search", tmp_path / "seeds"
    fake_search(search)
    ns = ["objective=ns", "dataset=mnist", "optimizer.lr=0.0009", "optimizer.betas.0=0.5", "objective.d_steps=1"]
    vae = ["objective=vae", "dataset=mnist", "game=vae", "architecture=vae", "optimizer.lr=0.0005",
           "optimizer.betas.0=0.5", "objective.d_steps=1"]
    for number, (overrides, seed, fid) in enumerate([(ns, 0, 100.0), (ns, 1, 80.0), (ns, 2, 120.0),
                                                     (vae, 0, 310.0), (vae, 1, 290.0), (vae, 2, None)]):
        make_job(seeds, number, [*overrides, f"seed={seed}"], fid, status="ok" if fid else "failed")
    text = write_table(seeds, "metrics/FID_classifier", search=search, datasets=["mnist"],
                       models=["ns", "vae"]).read_text()
    # ns: mean 100, s.e. sqrt(((0 + 400 + 400) / 2) / 3) = 11.547; vae: mean 300, s.e. sqrt((200 / 1) / 2) = 10
    assert text == (
        f"Each cell's best setting of the search in `{search}`, re-run over seeds.\n\n"
        "| dataset | model | search: best FID_classifier | seeds | FID_classifier mean ± s.e. | min | max | rank "
        "| setting | paper: best FID |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        "| mnist | ns | 90.0 | 3 of 3 | 100.0 ± 11.5 | 80.0 | 120.0 | 1 "
        "| `optimizer.lr=0.0009 optimizer.betas.0=0.5 objective.d_steps=1` | – |\n"
        "| mnist | vae | 300.0 | 2 of 3 | 300.0 ± 10.0 | 290.0 | 310.0 | 2 "
        "| `optimizer.lr=0.0005 optimizer.betas.0=0.5 objective.d_steps=1` | – |\n")


def test_stage_two_without_a_search_is_refused_before_it_starts(tmp_path):
    from ganrun.config.compose import job_config  # the CLI's check of `ganrun train` before anything runs

    with pytest.raises(ConfigError, match=r"^study.search must be set"):
        job_config(["experiment=lucic2018_seeds"])
    with pytest.raises(ConfigError, match=f"study.search={tmp_path / 'none'} is not a folder"):
        job_config(["experiment=lucic2018_seeds", f"study.search={tmp_path / 'none'}"])
    assert job_config(["experiment=lucic2018_seeds", f"study.search={tmp_path}"]).study.search == str(tmp_path)
