"""Sweeps as a user runs them: joblib with a failing job, the summary, HParams, Optuna, torchrun, presets."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer
from tensorboard.plugins.hparams import api_pb2, metadata
from tensorboard.util import tensor_util
from torch.testing import assert_close

from ganrun.run import distributed, sweeps
from ganrun.run.writer import RunWriter
from tests.conftest import REPO, SHARED_DATA, needs_shared_data, tiny_config

TINY_RING = ["dataset=ring", "architecture=mlp", "architecture.generator.width=16",
             "architecture.discriminator.width=16", "trainer.batch_size=16", "trainer.progress=off"]


def run(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """A command with this checkout first on the path (so tests.faults imports in every job)."""
    env = {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "GANRUN_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def only_sweep_folder(cwd: Path) -> Path:
    (folder,) = (cwd / "outputs" / "sweeps").iterdir()
    return folder


# ---------------------------------------------------------------- a joblib sweep with one failing job


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory):
    """Four jobs, two at a time; dataset.seed=3 raises CUDA's out-of-memory error (tests/faults.py)."""
    cwd = tmp_path_factory.mktemp("joblib")
    result = run("-m", "ganrun", "train", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *TINY_RING,
                 "trainer.steps=2", "dataset._target_=tests.faults.ring_out_of_memory_on_seed_3",
                 "dataset.seed=0,1,2,3", cwd=cwd)
    return result, only_sweep_folder(cwd)


def test_a_failing_job_leaves_the_others_running_and_the_exit_code_says_so(joblib_sweep):
    result, folder = joblib_sweep
    assert result.returncode == sweeps.EXIT_JOBS_FAILED, result.stderr
    assert "1 of 4 jobs failed" in result.stderr
    with open(folder / "summary.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["status"] for row in rows] == ["ok", "ok", "ok", "failed"]  # failed last
    assert sorted(row["job"].split("_")[0] for row in rows) == ["0", "1", "2", "3"]
    failed = rows[-1]
    assert failed["job"].startswith("3_") and "dataset.seed=3" in failed["overrides"]
    assert failed["error"].startswith("OutOfMemoryError: CUDA out of memory")
    losses = [float(row["loss/G"]) for row in rows[:3]]
    assert losses == sorted(losses)  # ranked by sweep.metric (loss/G), minimize
    job_folders = {p.name.split("_")[0]: p for p in folder.iterdir() if p.is_dir()}
    assert "Traceback" in (job_folders["3"] / "train.log").read_text()  # the error is in the job's own log
    for number in "012":
        assert (job_folders[number] / "checkpoints" / "step_00000002.pt").is_file()
        assert json.loads((job_folders[number] / "status.json").read_text())["status"] == "ok"
    table = (folder / "summary.md").read_text()
    assert "4 jobs: 3 ok, 1 failed" in table and "| failed |" in table


def test_each_run_writes_its_hparams_and_final_metric_into_its_own_event_file(joblib_sweep):
    _, folder = joblib_sweep
    mux = EventMultiplexer()
    mux.AddRunsFromDirectory(str(folder))
    mux.Reload()
    content = mux.PluginRunToTagToContent(metadata.PLUGIN_NAME)
    ok_jobs = sorted(p.name for p in folder.iterdir() if p.name[0] in "012")
    assert sorted(content) == ok_jobs  # one session per run, no sub-run folders; the failed job has none
    for run_name, tags in content.items():
        assert metadata.EXPERIMENT_TAG not in tags  # TensorBoard builds the table from every run's session
        start = metadata.parse_session_start_info_plugin_data(tags[metadata.SESSION_START_INFO_TAG])
        hparams = {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()}
        seed = int(run_name.split("dataset.seed=")[1].split(",")[0])
        assert hparams == {
            "dataset.name": "ring", "architecture.name": "mlp", "objective.name": "ns", "optimizer.name": "adam",
            "optimizer.lr": pytest.approx(2e-4), "objective.d_steps": 1, "trainer.batch_size": 16,
            "trainer.steps": 2, "seed": 0, "architecture.generator.width": 16,
            "architecture.discriminator.width": 16, "trainer.progress": "off",
            "dataset._target_": "tests.faults.ring_out_of_memory_on_seed_3", "dataset.seed": seed}
        end = metadata.parse_session_end_info_plugin_data(tags[metadata.SESSION_END_INFO_TAG])
        assert end.status == api_pb2.STATUS_SUCCESS
        final = json.loads((folder / run_name / "final.json").read_text())
        assert final["step"] == 2
        logged = tensor_util.make_ndarray(mux.Tensors(run_name, "loss/G")[-1].tensor_proto)  # as TensorBoard reads it
        assert_close(float(logged), final["scalars"]["loss/G"])


def test_summarize_ranks_the_sweep_by_any_metric_on_demand(joblib_sweep, tmp_path):
    _, folder = joblib_sweep
    result = run("-m", "ganrun", "summarize", str(folder), "metric=loss/D", "direction=maximize", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with open(folder / "summary.csv") as file:
        rows = list(csv.DictReader(file))
    losses = [float(row["loss/D"]) for row in rows[:3]]
    assert losses == sorted(losses, reverse=True) and rows[-1]["status"] == "failed"
    assert "ranked by `loss/D` (maximize)" in result.stdout
    missing = run("-m", "ganrun", "summarize", str(tmp_path / "nope"), cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("ganrun: error: ")


# ---------------------------------------------------------------- the table, in process


def fake_job(folder: Path, name: str, status: str | None, scalars: dict[str, float], overrides: list[str]) -> None:
    job = folder / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if status is not None:
        (job / "status.json").write_text(json.dumps({"status": status, "error": None if status == "ok" else "boom",
                                                     "wall_time_s": 1.5, "overrides": overrides}))
        (job / "final.json").write_text(json.dumps({"step": 9, "scalars": scalars}))


def test_summary_ranks_finished_jobs_first_and_counts_the_rest_as_failed(tmp_path):
    fake_job(tmp_path, "0_lr=1", "ok", {"metrics/modes": 5.0, "loss/G": 0.7}, ["lr=1", "seed=0"])
    fake_job(tmp_path, "1_lr=2", "ok", {"metrics/modes": 8.0, "loss/G": 0.9}, ["lr=2", "seed=0"])
    fake_job(tmp_path, "2_lr=3", "failed", {}, ["lr=3", "seed=0"])
    fake_job(tmp_path, "10_lr=4", None, {}, ["lr=4", "seed=0"])  # killed: no status.json
    fake_job(tmp_path, "3_lr=5", "ok", {"metrics/modes": float("nan"), "loss/G": 0.1}, ["lr=5", "seed=0"])
    summary = sweeps.summarize_sweep(tmp_path, "metrics/modes", "maximize")
    assert [job.folder for job in summary.jobs] == ["1_lr=2", "0_lr=1", "2_lr=3", "3_lr=5", "10_lr=4"]
    assert [job.status for job in summary.jobs] == ["ok", "ok", "failed", "ok", "unfinished"]
    assert summary.failed == 2
    sweeps.write_tables(summary)
    table = (tmp_path / "summary.md").read_text().splitlines()
    assert "Overrides of every job: `seed=0`" in table
    assert table[-5] == "| 1 | 1 | `lr=2` | ok | 8 | 0.9 | 1.5 |  |"
    assert table[-1] == "| 5 | 10 | `lr=4` | unfinished |  |  |  |  |"


def test_a_job_returns_its_final_metric_and_one_ending_in_nan_is_failed(tmp_path):
    def training(loss_g: float):
        def train():
            writer = RunWriter(tmp_path / str(loss_g))
            writer.scalars(1, {"loss/D": 9.0, "loss/G": 2.0})
            writer.scalars(2, {"loss/D": 1.25, "loss/G": loss_g})
            writer.close()
        return train

    assert sweeps.record_job(training(0.5), tmp_path / "0.5", "loss/D", sweep=True) == 1.25
    assert json.loads((tmp_path / "0.5" / "status.json").read_text())["status"] == "ok"
    assert math.isnan(sweeps.record_job(training(math.nan), tmp_path / "nan", "loss/D", sweep=True))
    status = json.loads((tmp_path / "nan" / "status.json").read_text())
    assert (status["status"], status["error"]) == ("failed", "non-finite final loss/G=nan")


def test_an_error_is_recorded_and_raised_only_outside_a_sweep(tmp_path):
    def out_of_memory():
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    assert math.isnan(sweeps.record_job(out_of_memory, tmp_path / "job", "loss/G", sweep=True))
    with pytest.raises(torch.OutOfMemoryError):
        sweeps.record_job(out_of_memory, tmp_path / "run", "loss/G", sweep=False)
    for folder in ("job", "run"):
        status = json.loads((tmp_path / folder / "status.json").read_text())
        assert status["status"] == "failed"
        assert status["error"] == "OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"


def test_hparams_are_the_study_axes_and_the_overridden_keys():
    cfg = tiny_config("objective=hinge", "optimizer.betas=[0.0,0.9]", architecture="mlp")
    hparams = sweeps.hparams_of(cfg, ["objective=hinge", "optimizer.betas=[0.0,0.9]", "hydra.launcher.n_jobs=2"])
    assert hparams == {"dataset.name": "digits", "architecture.name": "mlp", "objective.name": "hinge",
                       "optimizer.name": "adam", "optimizer.lr": 2e-4, "objective.d_steps": 1,
                       "trainer.batch_size": 8, "trainer.steps": 2, "seed": 0, "optimizer.betas": "[0.0,0.9]"}


def test_auto_device_gives_each_parallel_job_its_own_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.setattr(distributed, "_sweep_job_number", lambda: 6)
    assert distributed.auto_device() == torch.device("cuda:2")  # job 6 of a sweep on 4 GPUs
    monkeypatch.setattr(distributed, "_sweep_job_number", lambda: None)
    assert distributed.auto_device() == torch.device("cuda")  # a single run
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert distributed.auto_device() == torch.device("cuda:3")  # torchrun's rank on this node
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert distributed.auto_device() == torch.device("cpu")


# ---------------------------------------------------------------- Optuna, torchrun, presets


def test_an_optuna_search_of_three_trials_reports_the_best(tmp_path):
    # loss/D, maximized: a value every trial has, distinct between trials, and Optuna told to maximize
    result = run("-m", "ganrun", "train", "-m", "experiment=ring_search", "hydra.sweeper.n_trials=3",
                 "trainer.steps=2", "sweep.metric=loss/D", "sweep.direction=maximize", *TINY_RING, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = only_sweep_folder(tmp_path)
    best = OmegaConf.load(folder / "optimization_results.yaml")
    finals = {p.name: json.loads((p / "final.json").read_text())["scalars"]["loss/D"]
              for p in folder.iterdir() if p.is_dir()}
    assert len(finals) == 3
    assert_close(best.best_value, max(finals.values()))
    summary = sweeps.summarize_sweep(folder, "loss/D", "maximize")
    winner = summary.jobs[0]
    assert_close(winner.scalars["loss/D"], best.best_value)
    for key, value in best.best_params.items():  # the best trial's drawn values are the winner's overrides
        assert f"{key}={value}" in winner.overrides


def test_torchrun_two_gloo_processes_make_one_run_folder_and_identical_weights(tmp_path):
    result = run("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                 str(REPO / "tests" / "ddp_worker.py"), str(tmp_path), *TINY_RING, "objective=wgan_gp",
                 "trainer.steps=3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()  # one folder, though two processes ran Hydra
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["step_00000003.pt"]
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1
    rank0, rank1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key  # averaged gradients: the same steps on both ranks
    saved = torch.load(run_dir / "checkpoints" / "step_00000003.pt", weights_only=True)  # rank 0 wrote it
    for name, key in (("G", "generator"), ("D", "discriminator")):
        parameters = [k for k in saved[key] if f"{name}.{k}" in rank0]
        assert parameters
        for k in parameters:
            assert torch.equal(saved[key][k], rank0[f"{name}.{k}"]), k


@pytest.mark.slow
@needs_shared_data
def test_lucic2018_preset_composes_and_its_first_trial_trains_a_step(tmp_path):
    # No FID here (it would train the classifier it is computed with): the trial is ranked by loss/G.
    result = run("-m", "ganrun", "train", "-m", "experiment=lucic2018", f"dataset.root={SHARED_DATA}",
                 "dataset.download=false", "hydra.sweeper.n_trials=1", "trainer.steps=1", "trainer.progress=off",
                 "metrics=none", "sweep.metric=loss/G", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = [p for p in only_sweep_folder(tmp_path).iterdir() if p.is_dir()]
    assert json.loads((job / "status.json").read_text())["status"] == "ok"
    cfg = OmegaConf.load(job / "config.yaml")
    assert cfg.dataset.name in ("mnist", "fashion_mnist")
    assert cfg.objective.name in ("minimax", "ns", "lsgan", "wgan", "wgan_gp", "dragan")
    assert cfg.optimizer.name == "adam" and 1e-5 <= cfg.optimizer.lr <= 1e-2 and 0 <= cfg.optimizer.betas[0] <= 1
    assert 1 <= cfg.objective.d_steps <= 5
    assert (cfg.trainer.steps, cfg.trainer.batch_size, cfg.architecture.latent_dim) == (1, 64, 64)
    assert math.isfinite(json.loads((job / "final.json").read_text())["scalars"]["loss/G"])
