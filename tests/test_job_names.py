"""Job folder names never nest, whatever the override values, and the sweep summary finds every job."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from ganrun.config.job_names import MAX_BYTES, path_safe
from ganrun.run.sweeps import STATUS_FILE, summarize_sweep
from tests.test_write_errors import cli_train
from tests.tiny_runs import cli_args, one_thread  # noqa: F401


@pytest.mark.parametrize("text,expected", [
    ("objective=ns,seed=1", "objective=ns,seed=1"),
    ("sweep.metric=metrics/FID_classifier", "sweep.metric=metrics%2FFID_classifier"),
    ("dataset.root=/data/my mnist", "dataset.root=%2Fdata%2Fmy mnist"),
    ("a=50%\\b\nc", "a=50%25%5Cb%0Ac"),
    ("..", "%2E%2E"),
])
def test_path_safe_encodes_what_a_file_name_cannot_hold_and_decodes_back(text, expected):
    assert path_safe(text) == expected
    assert unquote(path_safe(text)) == text


def test_a_name_too_long_for_a_file_system_is_cut_and_ends_with_a_hash_of_the_whole():
    long = ",".join(f"trainer.key_{i}=/some/long/path/value_{i}" for i in range(20))
    name = path_safe(long)
    assert len(name.encode()) <= MAX_BYTES and "/" not in name
    assert name.startswith(path_safe(long)[:50]) and name != path_safe(long + "x")


def test_a_sweep_over_a_value_with_a_slash_keeps_every_job_in_its_own_folder_and_summarises_them(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    code = cli_train("-m", *cli_args("dataset=ring", "dataset.num_samples=48", "objective=ns,lsgan",
                                     "sweep.metric=loss/D", "trainer.steps=1"), f"hydra.sweep.dir={sweep}")
    assert code is None, capsys.readouterr().err
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert [name[:2] for name in jobs] == ["0_", "1_"] and all(len(name.encode()) <= 2 + MAX_BYTES for name in jobs)
    assert all((sweep / name / STATUS_FILE).is_file() for name in jobs)  # no job nested under a '/'
    summary = (sweep / "summary.md").read_text()
    assert "2 jobs: 2 ok, 0 failed; ranked by `loss/D` (minimize)" in summary


def test_the_summary_finds_the_jobs_of_a_sweep_whose_folders_nested(tmp_path):
    sweep = tmp_path / "sweep"
    for number, objective in enumerate(("ns", "lsgan")):  # as Hydra named them before: nested at the '/'
        job = sweep / f"{number}_objective={objective},sweep.metric=metrics" / "FID_classifier"
        (job / ".hydra").mkdir(parents=True)
        (job / STATUS_FILE).write_text(json.dumps({"status": "ok", "overrides": [f"objective={objective}"]}))
        (job / "final.json").write_text(json.dumps({"step": 1, "scalars": {"metrics/FID_classifier": 9.0 - number}}))
    summary = summarize_sweep(sweep, "metrics/FID_classifier", "minimize")
    assert [job.folder for job in summary.jobs] == ["1_objective=lsgan,sweep.metric=metrics/FID_classifier",
                                                   "0_objective=ns,sweep.metric=metrics/FID_classifier"]
    assert [job.status for job in summary.jobs] == ["ok", "ok"]


def test_a_sweep_killed_while_writing_its_summary_leaves_the_previous_one_whole(tmp_path, monkeypatch):
    from ganrun import safe_io
    from ganrun.run.sweeps import write_tables

    sweep = tmp_path / "sweep"
    job = sweep / "0_objective=ns"
    (job / ".hydra").mkdir(parents=True)
    (job / STATUS_FILE).write_text(json.dumps({"status": "ok", "overrides": ["objective=ns"]}))
    write_tables(summarize_sweep(sweep, "loss/G", "minimize"))
    before = (sweep / "summary.md").read_text()

    class Killed(BaseException):
        """SIGTERM's SystemExit, or Ctrl-C, in the middle of the write."""

    def dying_open(path, mode="r", *args, **kwargs):
        file = open(path, mode, *args, **kwargs)
        if str(path).endswith(".tmp"):
            file.write(b"| half a ta")
            file.close()
            raise Killed()
        return file

    monkeypatch.setattr(safe_io, "open", dying_open, raising=False)
    (job / "final.json").write_text(json.dumps({"step": 1, "scalars": {"loss/G": 0.5}}))
    with pytest.raises(Killed):
        write_tables(summarize_sweep(sweep, "loss/G", "minimize"))
    assert (sweep / "summary.md").read_text() == before
    assert not list(sweep.glob(".*.tmp"))
