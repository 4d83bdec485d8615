"""A full disk loses nothing: a write that fails (OSError(ENOSPC) injected where ganrun writes) ends the run
with one line naming the file and the cause, exit code 5, no temporary file, the previous checkpoint
intact, and the same command continues the run exactly once there is space again."""

from __future__ import annotations

import errno
import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from ganrun import cli, loop, safe_io
from ganrun.commands import sample
from ganrun.safe_io import EXIT_WRITE, WriteError
from tests.tiny_runs import RUN, assert_same_run, cli_args, config, final_state, one_thread  # noqa: F401

FULL = "No space left on device (ENOSPC)"


class FullFile(io.RawIOBase):
    """A file on a disk that fills up: the first `room` bytes are written, the write after fails."""

    def __init__(self, file, room: int) -> None:
        self.file, self.room = file, room

    def write(self, data) -> int:
        if len(data) > self.room:
            self.file.write(bytes(data)[: self.room] if "b" in self.file.mode else data[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()


@pytest.fixture
def full_disk(monkeypatch):
    """`full_disk("final.json")`: every later write through ganrun.safe_io to a file of that name (or to
    its temporary file) runs out of space after 10 bytes."""
    def fill(name: str) -> None:
        def open_(path, mode="r", *args, **kwargs):
            file = open(path, mode, *args, **kwargs)
            wanted = Path(path).name == name or Path(path).name.startswith(f".{name}.")
            return FullFile(file, 10) if wanted and ("w" in mode or "a" in mode) else file
        monkeypatch.setattr(safe_io, "open", open_, raising=False)
    return fill


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*.tmp"))


SAVES = [*RUN, "objective=ns", "trainer.steps=6", "trainer.checkpoint_every=2", "trainer.keep_checkpoints=1"]


def test_a_full_disk_while_saving_a_checkpoint_keeps_the_last_one_and_the_run_continues_exactly(
        tmp_path, full_disk, monkeypatch):
    run_dir = tmp_path / "run"
    full_disk("step_00000004.pt")
    with pytest.raises(WriteError) as error:
        loop.run(config(*SAVES), run_dir)
    assert str(error.value) == f"cannot write {run_dir}/checkpoints/step_00000004.pt: {FULL}"
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["step_00000002.pt"]  # no .tmp
    assert final_state(run_dir)["step"] == 2

    monkeypatch.undo()  # space again: the same command continues from step 2
    loop.run(config(*SAVES), run_dir)
    loop.run(config(*SAVES), tmp_path / "uninterrupted")
    assert_same_run(final_state(run_dir), final_state(tmp_path / "uninterrupted"))
    assert leftovers(run_dir) == []


METRICS = ["metrics=default", "metrics.every=1", "metrics.num_points=50"]


def cli_train(*arguments: str) -> int | None:
    """`ganrun train ...` in this process; its exit code (None: it returned)."""
    argv = sys.argv
    try:
        cli.main(["train", *arguments])
    except SystemExit as exit_:
        return exit_.code
    finally:
        sys.argv = argv
    return None


@pytest.mark.parametrize("name,extra", [("final.json", []), ("metrics.jsonl", METRICS), ("config.yaml", [])])
def test_a_full_disk_on_any_file_of_a_run_names_it_and_leaves_no_temporary_file(tmp_path, full_disk, name, extra,
                                                                                  capsys):
    full_disk(name)
    run_dir = tmp_path / "run"
    assert cli_train(*cli_args(*SAVES, *extra, f"hydra.run.dir={run_dir}")) == EXIT_WRITE
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"ganrun: error: cannot write {run_dir}/{name}: {FULL}; "), err
    assert err[-1].endswith(": free space and run the same command to continue")
    assert len([line for line in err if line.startswith("ganrun: error")]) == 1
    assert leftovers(run_dir) == []
    if name == "metrics.jsonl":
        assert (run_dir / name).read_text() == ""  # the partial line was taken back
    if name == "final.json":
        assert not (run_dir / name).exists() and (run_dir / "checkpoints" / "step_00000006.pt").is_file()


def test_a_status_file_that_cannot_be_written_is_logged_and_the_run_still_succeeds(tmp_path, full_disk, capsys):
    full_disk("status.json")
    run_dir = tmp_path / "run"
    assert cli_train(*cli_args(*SAVES, f"hydra.run.dir={run_dir}")) is None
    assert f"cannot write {run_dir}/status.json: {FULL}" in capsys.readouterr().out + (run_dir / "train.log").read_text()
    assert not (run_dir / "status.json").exists() and leftovers(run_dir) == []


def test_a_full_disk_while_writing_events_is_one_line(tmp_path, monkeypatch, capfd):
    from tensorboard.summary.writer.record_writer import RecordWriter

    calls = [0]
    real = RecordWriter.write

    def write(self, data):
        calls[0] += 1
        if calls[0] > 20:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(RecordWriter, "write", write)
    with pytest.raises(WriteError, match=rf"^cannot write {tmp_path}/events\.out\.tfevents\.\S+: {re.escape(FULL)}$"):
        loop.run(config(*SAVES, "trainer.log_every=1"), tmp_path)
    assert "Traceback" not in capfd.readouterr().err  # TensorBoard's writer thread died quietly


def test_sample_on_a_full_disk_exits_5_and_keeps_the_previous_file(tmp_path, full_disk, capsys):
    run_dir = tmp_path / "run"
    loop.run(config(*RUN, "trainer.steps=1"), run_dir)
    out = tmp_path / "s.npz"
    step = f"checkpoint={run_dir}/checkpoints/step_00000001.pt"
    sample.main([step, "num=4", f"out={out}", "device=cpu"])
    before = out.read_bytes()
    full_disk("s.npz")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sample", step, "num=8", f"out={out}", "device=cpu"])
    assert exit_.value.code == EXIT_WRITE
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"ganrun: error: cannot write {out}: {FULL}"
    assert out.read_bytes() == before and leftovers(tmp_path) == []
    assert np.load(out)["samples"].shape[0] == 4
