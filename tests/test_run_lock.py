"""One writer per run folder: a second `ganrun train` into a folder in use is refused in one line naming
the holder and changes nothing; a lock left by a killed process is taken over with a warning."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from ganrun.run import lock as run_lock
from tests.test_failures import snapshot
from tests.tiny_runs import ENV, RUN, cli_args, ganrun

HOLDER = "import sys; from ganrun.run.lock import acquire; acquire(sys.argv[1]); print('held', flush=True); sys.stdin.read()"


def dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def test_a_second_writer_is_refused_naming_the_holder_and_changes_nothing(tmp_path):
    run_dir = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run_dir)], cwd=tmp_path, env=ENV,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        before = snapshot(tmp_path)
        result = ganrun("train", *cli_args(*RUN), f"hydra.run.dir={run_dir}", cwd=tmp_path)
        assert snapshot(tmp_path) == before  # no .hydra/, no log, no checkpoint, the lock file as it was
    finally:
        holder.communicate("")  # the holder ends cleanly: it empties the lock file
    assert result.returncode == 2, result.stderr
    line = f"ganrun: error: run folder {run_dir} is in use by pid {holder.pid} on {socket.gethostname()} since "
    assert result.stderr.startswith(line) and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.strip().endswith(": wait for that run to end, or train in another folder (hydra.run.dir=...)")
    assert (run_dir / run_lock.LOCK_NAME).read_text() == ""


def test_a_stale_lock_of_a_killed_process_is_taken_over_with_a_warning(tmp_path, capsys):
    lock = tmp_path / run_lock.LOCK_NAME
    stale = f"pid {dead_pid()} on {socket.gethostname()} since 2026-01-01T00:00:00+0000"
    lock.write_text(stale + "\n")
    try:
        assert run_lock.acquire(tmp_path) == lock
        assert capsys.readouterr().err == (f"ganrun: warning: taking over the stale lock of run folder {tmp_path}: "
                                           f"{stale} is no longer running (killed before it could release it)\n")
        assert lock.read_text().startswith(f"pid {os.getpid()} on {socket.gethostname()} since ")
        assert run_lock.acquire(tmp_path) == lock  # this process again: it holds it already
    finally:
        run_lock.release_all()
    assert lock.read_text() == ""  # released cleanly: the next taker sees no stale lock
    run_lock.acquire(tmp_path)
    run_lock.release(tmp_path)
    assert capsys.readouterr().err == ""


def test_a_lock_held_through_another_open_file_is_refused(tmp_path):
    import fcntl

    other = os.open(tmp_path / run_lock.LOCK_NAME, os.O_RDWR | os.O_CREAT)  # as another process holds it
    os.write(other, b"pid 1 on elsewhere since then")
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        with pytest.raises(run_lock.RunFolderBusy, match=f"^run folder {tmp_path} is in use by pid 1 on elsewhere "
                                                         "since then: wait"):
            run_lock.acquire(tmp_path)
    finally:
        os.close(other)
    assert tmp_path.absolute() not in run_lock._held


def test_under_torchrun_rank_0_holds_the_lock_and_every_rank_stops_when_it_is_busy(tmp_path, monkeypatch):
    failures = []
    monkeypatch.setenv("RANK", "1")
    run_lock.hold(tmp_path, failures.append, share=lambda value: "rank 0 was refused")
    assert failures == ["rank 0 was refused"] and not (tmp_path / run_lock.LOCK_NAME).exists()
    monkeypatch.setenv("RANK", "0")
    try:
        run_lock.hold(tmp_path, failures.append, share=lambda value: value)
        assert failures == ["rank 0 was refused"] and tmp_path.absolute() in run_lock._held
    finally:
        run_lock.release_all()


def test_sigterm_during_setup_exits_143_in_one_line_and_releases_the_lock(tmp_path):
    import signal

    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "ganrun", "train", *cli_args(*RUN, "dataset._target_=tests.faults.slow_ring"),
               f"hydra.run.dir={run_dir}"]
    process = subprocess.Popen(command, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("ganrun-test: building the dataset"):
            process.send_signal(signal.SIGTERM)
            break
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert stderr.strip().splitlines() == [
        "ganrun: SIGTERM received outside the training steps: stopped (the run folder keeps its last checkpoint; "
        "run the same command to continue)"]
    assert (run_dir / run_lock.LOCK_NAME).read_text() == ""  # released: the next run takes it without a warning
    assert not list(run_dir.rglob("*.tmp"))
