"""The command line as a user meets it: subprocesses, exit codes, one-line errors, nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.conftest import REPO


def ganrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "GANRUN_DEBUG")}
    return subprocess.run([sys.executable, "-m", "ganrun", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_default_train_runs_two_steps_and_writes_a_readable_event_file(tmp_path):
    run_dir = tmp_path / "run"
    result = ganrun("train", "trainer.steps=2", "trainer.log_every=1", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"tensorboard --logdir {run_dir.parent}" in result.stdout
    events = EventAccumulator(str(run_dir))
    events.Reload()
    scalars = events.Tags()["scalars"]
    for name in ("loss/D", "loss/G", "D/real", "D/fake", "grad_norm/D", "grad_norm/G", "objective/value"):
        assert name in scalars
    assert [event.step for event in events.Scalars("loss/G")] == [1, 2]
    assert "samples/fixed" in events.Tags()["images"]
    assert (run_dir / "config.yaml").read_text().startswith("trainer:")
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["step_00000002.pt"]


def test_runs_from_any_working_directory(tmp_path):
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    result = ganrun("train", "--cfg", "job", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "objective:" in result.stdout and "name: ns" in result.stdout


def test_help_lists_every_group_and_option(tmp_path):
    result = ganrun("train", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for group in sorted(p.name for p in (REPO / "ganrun" / "conf").iterdir() if p.is_dir()):
        options = sorted(p.stem for p in (REPO / "ganrun" / "conf" / group).glob("*.yaml"))
        if options:  # an empty group (no presets yet) is not listed
            assert f"{group}: {', '.join(options)}" in result.stdout


BAD_OVERRIDES = [
    (["objective=foo"], "objective has no option 'foo': choose one of"),
    (["architecture=vgg"], "architecture has no option 'vgg'"),
    (["optimizer.lr=0"], "optimizer.lr=0.0 is out of range: it must be > 0"),
    (["optimizer.lr=-1e-3"], "optimizer.lr=-0.001 is out of range"),
    (["optimizer.discriminator.lr=-1"], "optimizer.discriminator.lr=-1 is out of range"),
    (["trainer.batch_size=0"], "trainer.batch_size=0 is out of range"),
    (["trainer.steps=-5"], "trainer.steps=-5 is out of range"),
    (["trainer.steps=many"], "trainer.steps=many: Value 'many' of type 'str' could not be converted to Integer"),
    (["trainer.stepz=3"], "trainer.stepz is not a config key"),
    (["objective.d_steps=0"], "objective.d_steps=0 is out of range"),
    (["trainer.device=tpu"], "trainer.device=tpu is not an option: use one of auto, cpu, cuda, mps"),
    (["objective=nope"], "objective has no option 'nope': choose one of"),
    (["trainer.precision=fp8"], "trainer.precision=fp8 is not an option: use one of fp32, bf16, fp16"),
    (["dataset.resolution=28"], "architecture=dcgan cannot make 28x28 images: set dataset.resolution to one of"),
    (["dataset=ring"], "architecture=dcgan makes images but dataset=ring is 2-D points: use architecture=mlp"),
    (["dataset=mnist", "dataset.root=/no/such/folder", "dataset.download=false"],
     "dataset.root=/no/such/folder does not exist"),
    (["dataset=image_folder"], "dataset=image_folder needs dataset.root"),
    (["objective"], "overrides look like key=value"),
    (["-m", "objective=ns,nope"], "objective has no option 'nope'"),
    (["-m", "hydra/launcher=nope"], "hydra/launcher has no option 'nope' (Hydra's sweep plugins: pip install 'ganrun[sweeps]')"),
]


@pytest.mark.parametrize("overrides,message", BAD_OVERRIDES, ids=[" ".join(o) for o, _ in BAD_OVERRIDES])
def test_bad_overrides_fail_with_one_line_and_leave_nothing(tmp_path, overrides, message):
    result = ganrun("train", *overrides, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ganrun: error: ") and message in lines[0], lines[0]
    assert list(tmp_path.iterdir()) == []  # no run folder, no outputs/


def test_missing_dataset_files_found_after_composition_leave_no_run_folder(tmp_path):
    empty_root = tmp_path / "empty"
    empty_root.mkdir()
    run_dir = tmp_path / "run"
    result = ganrun("train", "dataset=mnist", f"dataset.root={empty_root}", "dataset.download=false",
                    f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganrun: error: ") and "download" in lines[0], result.stderr
    assert not run_dir.exists()


@pytest.mark.parametrize("args", [["fly"], ["parse", "x=1"], ["json"], ["cli"], ["__main__"]])
def test_only_the_commands_of_the_table_run(tmp_path, args):
    result = ganrun(*args, cwd=tmp_path)
    assert result.returncode == 2
    from ganrun.cli import COMMANDS

    assert result.stderr.strip() == (f"ganrun: error: unknown command '{args[0]}': "
                                     f"usage: ganrun {{{','.join(COMMANDS)}}} [key=value ...] (ganrun --help)")
    assert list(tmp_path.iterdir()) == []
