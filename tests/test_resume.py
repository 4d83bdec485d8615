"""Killed at any moment, a run continues exactly: kill -9 at random steps, kills while a checkpoint is
written, SIGTERM, SIGINT and submitit's preemption signal.

Where a process must die, it is a subprocess; the runs compared with it are in-process (same code,
one thread, so the same arithmetic). Exact resume is checked bitwise: weights, optimizer moments,
the data position and the RNG of a killed-and-resumed run against an uninterrupted one.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ganrun import experiment, loop
from ganrun.run import checkpoint
from tests.conftest import REPO
from tests.tiny_runs import (ENV, RUN, STEPS, assert_same_run, cli_args, config, final_state, merged,  # noqa: F401
                             one_thread)

@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """The uninterrupted run, logging and checkpointing on other steps than the interrupted ones."""
    run_dir = tmp_path_factory.mktemp("reference")
    loop.run(config(*RUN, f"trainer.steps={STEPS}", "trainer.log_every=50"), run_dir)
    return final_state(run_dir)


# ---------------------------------------------------------------- kill -9, SIGTERM, resume


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> dict:
    """One run folder: SIGKILL at two random steps, then SIGTERM, each time re-running the same command."""
    run_dir = tmp_path_factory.mktemp("interrupted") / "run"
    targets = sorted(random.Random(os.environ.get("GANRUN_TEST_SEED", "7")).sample(range(5, 90), 3))
    command = [sys.executable, "-m", "ganrun", "train",
               *cli_args(*RUN, f"trainer.steps={STEPS}", "trainer.checkpoint_every=7", "trainer.keep_checkpoints=2",
                         "trainer.progress=lines"), f"hydra.run.dir={run_dir}"]
    attempts = []
    for target, sent in zip(targets, (signal.SIGKILL, signal.SIGKILL, signal.SIGTERM)):
        process = subprocess.Popen(command, cwd=run_dir.parent, env=ENV, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        seen = []
        for line in process.stderr:
            seen.append(line)
            if line.startswith("[ganrun] step ") and int(line.split()[2].split("/")[0]) >= target:
                process.send_signal(sent)  # wherever it is now: mid-step, logging, saving...
                break
        stdout, stderr = process.communicate(timeout=120)
        attempts.append({"signal": sent, "target": target, "returncode": process.returncode,
                         "stdout": stdout, "stderr": "".join(seen) + stderr})
    newest = checkpoint.latest(run_dir / "checkpoints")  # before any test resumes the run
    return {"run_dir": run_dir, "attempts": attempts, "targets": targets,
            "newest": (newest, checkpoint.load(newest)["step"])}


def test_kill9_at_random_steps_then_resume_is_bitwise_the_uninterrupted_run(interrupted, reference):
    attempts = interrupted["attempts"]
    assert [a["returncode"] for a in attempts[:2]] == [-signal.SIGKILL] * 2, attempts
    assert "Continuing from" in attempts[1]["stdout"] and "Continuing from" in attempts[2]["stdout"]
    loop.run(config(*RUN, f"trainer.steps={STEPS}", "trainer.checkpoint_every=7", "trainer.keep_checkpoints=2"),
              interrupted["run_dir"])
    assert_same_run(final_state(interrupted["run_dir"]), reference)

    events = EventAccumulator(str(interrupted["run_dir"]))
    events.Reload()
    assert [e.step for e in events.Scalars("loss/G")] == list(range(1, STEPS + 1))  # none twice, none missing


def test_sigterm_finishes_the_step_writes_a_checkpoint_and_exits_143(interrupted):
    last = interrupted["attempts"][2]
    assert last["returncode"] == 143, last["stderr"]
    stopped = [line for line in last["stderr"].splitlines() if line.startswith("ganrun: stopped by SIGTERM")]
    assert len(stopped) == 1, last["stderr"]
    step = int(stopped[0].split("after step ")[1].split(";")[0])
    path = interrupted["run_dir"] / "checkpoints" / f"step_{step:08d}.pt"
    assert step >= interrupted["targets"][2]
    assert stopped[0] == (f"ganrun: stopped by SIGTERM after step {step}; checkpoint {path}; "
                          "run the same command (same hydra.run.dir) to continue")
    assert interrupted["newest"] == (path, step)  # the newest checkpoint, and it loads


KILL_POINTS = ["while writing the temporary file", "before the rename", "while deleting old checkpoints"]
KILL_SCRIPT = r'''
import io, os, signal, sys
from pathlib import Path
import torch
from ganrun import experiment, loop
from tests.conftest import tiny_config

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def arm(point):
    count = [0]
    if point == "while writing the temporary file":  # the second save writes half its bytes, then dies
        real = torch.save
        def save(obj, file, *args, **kwargs):
            count[0] += 1
            if count[0] < 2:
                return real(obj, file, *args, **kwargs)
            buffer = io.BytesIO()
            real(obj, buffer)
            file.write(buffer.getvalue()[: buffer.tell() // 2]); file.flush(); os.fsync(file.fileno())
            die()
        torch.save = save
    elif point == "before the rename":
        real = os.replace
        def replace(source, target):
            count[0] += Path(target).name.startswith("step_")
            die() if count[0] == 2 else real(source, target)
        os.replace = replace
    elif point == "while deleting old checkpoints":
        real = Path.unlink
        def unlink(self, missing_ok=False):
            die() if self.name.startswith("step_") else real(self, missing_ok=missing_ok)
        Path.unlink = unlink

cfg = tiny_config(*sys.argv[2:], architecture="mlp")  # composed before forking: no torch op has run yet
for point in POINTS:
    pid = os.fork()
    if pid == 0:
        arm(point)
        loop.run(cfg, Path(sys.argv[1]) / point.replace(" ", "_"))
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print(point, "|", os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, flush=True)
'''.replace("POINTS", repr(KILL_POINTS))
SAVES = [*RUN, "trainer.steps=6", "trainer.checkpoint_every=2", "trainer.keep_checkpoints=1"]


@pytest.fixture(scope="module")
def killed_saves(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("killed_saves")
    result = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(root), *merged(*SAVES)], cwd=REPO, env=ENV,
                            capture_output=True, text=True, timeout=300)
    return root, result.stdout + result.stderr


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_kill_while_saving_leaves_a_newest_checkpoint_that_resumes(killed_saves, point, tmp_path):
    root, output = killed_saves
    assert f"{point} | True" in output, output  # the process died at that point
    run_dir = root / point.replace(" ", "_")
    newest = checkpoint.latest(run_dir / "checkpoints")
    expected = "step_00000004.pt" if point == "while deleting old checkpoints" else "step_00000002.pt"
    assert newest.name == expected
    assert checkpoint.load(newest)["step"] == int(expected[5:13])

    loop.run(config(*SAVES), run_dir)
    loop.run(config(*SAVES), tmp_path)  # uninterrupted
    assert_same_run(final_state(run_dir), final_state(tmp_path))
    assert not list((run_dir / "checkpoints").glob(".*.tmp"))  # the next save cleared the dead one's


def test_an_unreadable_newest_checkpoint_is_passed_over_for_the_one_before(tmp_path, capsys):
    cfg = config(*RUN, "trainer.steps=4", "trainer.checkpoint_every=1", "trainer.keep_checkpoints=0")
    loop.run(cfg, tmp_path / "uninterrupted")
    loop.run(cfg, tmp_path / "run")
    newest = tmp_path / "run" / "checkpoints" / "step_00000004.pt"
    newest.write_bytes(newest.read_bytes()[:1000])  # e.g. a copy cut short
    capsys.readouterr()
    loop.run(cfg, tmp_path / "run")
    assert f"ganrun: warning: checkpoint {newest} is not a ganrun checkpoint" in capsys.readouterr().err
    assert_same_run(final_state(tmp_path / "run"), final_state(tmp_path / "uninterrupted"))


# ---------------------------------------------------------------- SIGINT, submitit's preemption signal


def signal_at_step(monkeypatch, number: int, at: int) -> None:
    real = loop.RunWriter.scalars

    def scalars(self, step, values):
        real(self, step, values)
        if step == at:
            os.kill(os.getpid(), number)

    monkeypatch.setattr(loop.RunWriter, "scalars", scalars)


def test_sigint_stops_after_the_step_with_a_checkpoint_and_exit_130(tmp_path, monkeypatch, capsys):
    signal_at_step(monkeypatch, signal.SIGINT, at=3)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(SystemExit) as exit_:
        loop.run(config(*RUN, "trainer.steps=50"), tmp_path)
    assert exit_.value.code == 130
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_00000003.pt"]
    assert (f"ganrun: stopped by SIGINT after step 3; checkpoint {tmp_path}/checkpoints/step_00000003.pt"
            in capsys.readouterr().err)
    assert signal.getsignal(signal.SIGINT) is before  # handlers put back


def test_submitits_preemption_handler_runs_after_the_checkpoint(tmp_path, monkeypatch):
    monkeypatch.delenv("SUBMITIT_PREEMPT_SIGNAL", raising=False)
    calls = []

    def submitit_handler(number, frame):  # submitit's: requeue the job, then sys.exit(-1)
        calls.append((number, sorted(p.name for p in (tmp_path / "checkpoints").iterdir())))
        sys.exit(-1)

    previous = signal.signal(signal.SIGUSR2, submitit_handler)
    try:
        signal_at_step(monkeypatch, signal.SIGUSR2, at=2)
        with pytest.raises(SystemExit) as exit_:
            loop.run(config(*RUN, "trainer.steps=50"), tmp_path)
    finally:
        signal.signal(signal.SIGUSR2, previous)
    assert exit_.value.code == -1
    assert calls == [(signal.SIGUSR2, ["step_00000002.pt"])]


def test_a_signal_during_the_last_step_ends_the_run_as_finished(tmp_path, monkeypatch):
    signal_at_step(monkeypatch, signal.SIGTERM, at=3)
    loop.run(config(*RUN, "trainer.steps=3"), tmp_path)  # returns: no SystemExit
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_00000003.pt"]
