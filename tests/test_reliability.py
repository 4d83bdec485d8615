"""Reliability as a user on a cluster meets it: kills at any moment, preemption, NaNs, hostile files.

Where a process must die, it is a subprocess; the runs compared with them are in-process (same code,
same thread count, so the same arithmetic). Exact resume is checked bitwise: weights, optimizer
moments, the data position and the RNG of a killed-and-resumed run against an uninterrupted one.
"""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.testing import assert_close

from ganrun import checkpoint, train
from ganrun.config import ConfigError
from tests.conftest import REPO, TINY, TINY_WIDTHS, tiny_config

# One thread everywhere: the subprocesses and this process must do the same arithmetic to compare
# bitwise, and on a busy 2-core machine OpenMP's second thread makes these tiny ops ~100x slower.
ENV = {**{k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "GANRUN_DEBUG")},
       "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
# Ring data of 48 points (6 batches an epoch: epochs turn over inside steps), an MLP D with dropout,
# WGAN-GP (a random interpolation per D step), 5 D steps per G step: every source of randomness.
RUN = ["dataset=ring", "dataset.num_samples=48", "objective=wgan_gp", "trainer.batch_size=8",
       "trainer.sample_every=0", "seed=3"]
STEPS = 120


def merged(*overrides: str) -> list[str]:
    """Overrides with later keys replacing earlier ones (Hydra refuses a group chosen twice)."""
    by_key = {}
    for item in overrides:
        by_key[item.split("=", 1)[0]] = item
    return list(by_key.values())


def cli_args(*overrides: str) -> list[str]:
    """The tiny MLP config as command-line overrides."""
    return merged("architecture=mlp", *TINY, *TINY_WIDTHS["mlp"], *overrides)


def config(*overrides: str):
    """The same tiny MLP config, composed in process."""
    return tiny_config(*merged(*overrides), architecture="mlp")


def ganrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganrun", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)


def final_state(run_dir: Path) -> dict:
    return checkpoint.load(checkpoint.latest(run_dir / "checkpoints"))


def assert_same_run(state: dict, reference: dict) -> None:
    assert state["step"] == reference["step"]
    for part in ("generator", "discriminator", "optimizer_g", "optimizer_d", "batches", "nonfinite"):
        assert_close(state[part], reference[part], rtol=0, atol=0, msg=lambda m: f"{part}: {m}")
    assert_close(state["rng"]["torch"], reference["rng"]["torch"], rtol=0, atol=0)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """The uninterrupted run, logging and checkpointing on other steps than the interrupted ones."""
    run_dir = tmp_path_factory.mktemp("reference")
    train.run(config(*RUN, f"trainer.steps={STEPS}", "trainer.log_every=50"), run_dir)
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
    train.run(config(*RUN, f"trainer.steps={STEPS}", "trainer.checkpoint_every=7", "trainer.keep_checkpoints=2"),
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
from ganrun import train
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
        train.run(cfg, Path(sys.argv[1]) / point.replace(" ", "_"))
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

    train.run(config(*SAVES), run_dir)
    train.run(config(*SAVES), tmp_path)  # uninterrupted
    assert_same_run(final_state(run_dir), final_state(tmp_path))
    assert not list((run_dir / "checkpoints").glob(".*.tmp"))  # the next save cleared the dead one's


def test_an_unreadable_newest_checkpoint_is_passed_over_for_the_one_before(tmp_path, capsys):
    cfg = config(*RUN, "trainer.steps=4", "trainer.checkpoint_every=1", "trainer.keep_checkpoints=0")
    train.run(cfg, tmp_path / "uninterrupted")
    train.run(cfg, tmp_path / "run")
    newest = tmp_path / "run" / "checkpoints" / "step_00000004.pt"
    newest.write_bytes(newest.read_bytes()[:1000])  # e.g. a copy cut short
    capsys.readouterr()
    train.run(cfg, tmp_path / "run")
    assert f"ganrun: warning: checkpoint {newest} is not a ganrun checkpoint" in capsys.readouterr().err
    assert_same_run(final_state(tmp_path / "run"), final_state(tmp_path / "uninterrupted"))


# ---------------------------------------------------------------- SIGINT, submitit's preemption signal


def signal_at_step(monkeypatch, number: int, at: int) -> None:
    real = train.RunWriter.scalars

    def scalars(self, step, values):
        real(self, step, values)
        if step == at:
            os.kill(os.getpid(), number)

    monkeypatch.setattr(train.RunWriter, "scalars", scalars)


def test_sigint_stops_after_the_step_with_a_checkpoint_and_exit_130(tmp_path, monkeypatch, capsys):
    signal_at_step(monkeypatch, signal.SIGINT, at=3)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(SystemExit) as exit_:
        train.run(config(*RUN, "trainer.steps=50"), tmp_path)
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
            train.run(config(*RUN, "trainer.steps=50"), tmp_path)
    finally:
        signal.signal(signal.SIGUSR2, previous)
    assert exit_.value.code == -1
    assert calls == [(signal.SIGUSR2, ["step_00000002.pt"])]


# ---------------------------------------------------------------- non-finite values

NAN_LOSS = ["objective=ns", "objective.g_loss._target_=tests.faults.nan_g_loss_from", "objective.g_loss._partial_=false"]


def test_a_nan_loss_stops_the_run_naming_the_step_and_the_last_good_checkpoint(tmp_path):
    run_dir = tmp_path / "run"
    result = ganrun("train", *cli_args(*RUN, *NAN_LOSS, "trainer.steps=8", "trainer.checkpoint_every=2"),
                    f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 3
    good = run_dir / "checkpoints" / "step_00000004.pt"
    assert result.stderr.strip().splitlines() == [
        "ganrun: error: non-finite value at step 5: loss/G = nan, the weights of G (their norm) = nan; "
        f"stopped (trainer.on_nan=stop); the last good checkpoint is {good}: lower optimizer.lr, "
        "or set trainer.on_nan=skip to drop such updates"]
    assert sorted(p.name for p in good.parent.iterdir()) == ["step_00000002.pt", "step_00000004.pt"]
    state = checkpoint.load(good)
    assert state["step"] == 4
    for part in ("generator", "discriminator"):
        assert all(torch.isfinite(value).all() for value in state[part].values() if value.is_floating_point())


def test_on_nan_skip_drops_the_non_finite_updates_and_counts_them(tmp_path):
    train.run(config(*RUN, *NAN_LOSS, "+objective.g_loss.step=3", "trainer.on_nan=skip", "trainer.steps=5",
                     "trainer.checkpoint_every=2", "trainer.keep_checkpoints=0"), tmp_path)
    at_2, at_5 = (checkpoint.load(tmp_path / "checkpoints" / f"step_0000000{s}.pt") for s in (2, 5))
    weights = [k for k in at_2["generator"] if "running" not in k and "num_batches" not in k]
    assert_close({k: at_5["generator"][k] for k in weights}, {k: at_2["generator"][k] for k in weights},
                 rtol=0, atol=0)  # G's updates of steps 3, 4, 5 were dropped
    assert not torch.equal(at_5["discriminator"]["output.weight"], at_2["discriminator"]["output.weight"])
    assert at_5["nonfinite"] == {"skipped": 3}
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("nonfinite/skipped_updates")][-1] == (5, 3.0)


def test_a_non_finite_weight_is_caught_by_the_guard():
    from ganrun.guard import NonFiniteGuard

    guard = NonFiniteGuard("stop", torch.device("cpu"))
    module = torch.nn.Linear(2, 1)
    assert guard.watch(1, {"loss/D": torch.tensor(0.5)}, {"D": module})
    with torch.no_grad():
        module.weight[0, 1] = float("inf")
    assert not guard.watch(2, {"loss/D": torch.tensor(0.5)}, {"D": module})
    assert guard.failure == "non-finite value at step 2: the weights of D (their norm) = inf"


# ---------------------------------------------------------------- what a checkpoint may hold


def test_a_malicious_pickle_is_refused_and_its_payload_never_runs(tmp_path):
    marker = tmp_path / "payload_ran"

    class Payload:
        def __reduce__(self):
            return exec, (f"open({str(marker)!r}, 'w').write('ran')",)

    path = tmp_path / "step_00000001.pt"
    torch.save({"format": checkpoint.FORMAT, "step": 1, "generator": Payload()}, path)
    with pytest.raises(ConfigError) as error:
        checkpoint.load(path)
    assert str(error.value) == (f"checkpoint {path} cannot be loaded (it holds exec, which only an unsafe load "
                                "would run: refused without running it): give a step_*.pt file ganrun wrote")
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the file is live: an unsafe load runs it
    assert marker.read_text() == "ran"


def test_saving_a_state_that_would_not_load_safely_fails_at_once(tmp_path):
    import numpy as np

    with pytest.raises(TypeError, match=r"state\['replay'\]\['buffer'\] is a numpy.ndarray: a checkpoint holds only"):
        checkpoint.save({"replay": {"buffer": np.zeros(3)}}, tmp_path / "step_00000001.pt")
    assert list(tmp_path.iterdir()) == []


def test_every_stateful_part_is_saved_and_restored_by_name(tmp_path):
    """A component added to the Experiment (here: an LR scheduler and an EMA copy) is carried with no other edit."""
    from dataclasses import dataclass

    from ganrun import state

    @dataclass
    class WithExtras:
        generator: torch.nn.Module
        optimizer_g: torch.optim.Optimizer
        scheduler: torch.optim.lr_scheduler.LRScheduler
        ema: torch.nn.Module
        g_loss: object  # not stateful: left out

    def make(seed):
        torch.manual_seed(seed)
        g, ema = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
        opt = torch.optim.Adam(g.parameters())
        return WithExtras(g, opt, torch.optim.lr_scheduler.StepLR(opt, 1, 0.5), ema, lambda x: x)

    run = make(0)
    run.generator(torch.ones(1, 3)).sum().backward()
    run.optimizer_g.step()
    run.scheduler.step()
    parts = state.stateful_parts(run)
    assert list(parts) == ["generator", "optimizer_g", "scheduler", "ema"]
    cfg = tiny_config()
    checkpoint.save(state.training_state(parts, cfg, 7), tmp_path / "step_00000007.pt")
    saved = checkpoint.load(tmp_path / "step_00000007.pt")
    fresh = make(1)
    assert state.restore(state.stateful_parts(fresh), saved, cfg, tmp_path) == 7
    for name in parts:
        assert_close(state.stateful_parts(fresh)[name].state_dict(), parts[name].state_dict(), rtol=0, atol=0)


@pytest.mark.parametrize("in_memory, workers", [(True, 0), (False, 0), (False, 1)])
def test_the_batch_stream_continues_from_its_position(in_memory, workers):
    from ganrun.data import InMemory, infinite_batches

    class Numbered(torch.utils.data.Dataset):  # no `.tensors`: batched through a DataLoader
        def __len__(self):
            return 23

        def __getitem__(self, i):
            return torch.tensor([float(i)]), torch.tensor(i)

    def stream():
        data = (InMemory(torch.arange(23.0)[:, None], torch.arange(23), name="n", num_classes=None)
                if in_memory else Numbered())
        return infinite_batches(data, 4, seed=5, device="cpu", num_workers=workers)

    first = stream()
    for _ in range(13):  # 5 batches an epoch: into the third
        next(first)
    position = first.state_dict()
    expected = [next(first)[1] for _ in range(9)]
    resumed = stream()
    resumed.load_state_dict(position)
    assert position == {"epoch": 2, "batch": 3}
    assert_close([next(resumed)[1] for _ in range(9)], expected, rtol=0, atol=0)


# ---------------------------------------------------------------- every bad input: one line, exit 2, nothing left

@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    return make_inputs(tmp_path_factory.mktemp("inputs"))


def make_inputs(root: Path) -> Path:
    """The files a user might wrongly hand ganrun (copied into each test's folder; scripts/bad_inputs.py)."""
    from PIL import Image

    run = root / "run"  # a finished run of seed 3, with its checkpoints and config.yaml
    train.run(config(*RUN, "trainer.steps=2", "trainer.checkpoint_every=1"), run)
    real = run / "checkpoints" / "step_00000002.pt"
    (root / "another_config.pt").write_bytes(real.read_bytes())
    (root / "truncated.pt").write_bytes(real.read_bytes()[: real.stat().st_size // 2])
    (root / "empty.pt").write_bytes(b"")
    (root / "garbage.pt").write_text("these are not the weights you are looking for\n")
    torch.save({"weights": torch.ones(3)}, root / "foreign.pt")

    (root / "no_checkpoints").mkdir()
    (root / "a_file").write_text("a file, not a folder\n")
    (root / "three_images").mkdir()
    for i in range(3):
        Image.new("RGB", (8, 8), (80 * i, 40, 200)).save(root / "three_images" / f"{i}.png")
    (root / "corrupt").mkdir()
    (root / "corrupt" / "garbage.png").write_bytes(b"not an image")
    png = (root / "three_images" / "0.png").read_bytes()
    (root / "corrupt" / "truncated.png").write_bytes(png[: len(png) // 2])
    (root / "corrupt" / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 and nothing more")
    return root


def extensions() -> str:
    from torchvision.datasets.folder import IMG_EXTENSIONS

    return " ".join(IMG_EXTENSIONS)


# (arguments, the one line it must print); {i} is the folder of inputs. Each needs torch or not: the
# first ones are refused by the CLI in about a second, the last ones once the data or checkpoint is read.
BAD_INPUTS = {
    "unknown trainer.on_nan": (
        ["trainer.on_nan=explode"], "trainer.on_nan=explode: use stop (end the run) or skip (drop the update)"),
    "negative trainer.keep_checkpoints": (
        ["trainer.keep_checkpoints=-1"],
        "trainer.keep_checkpoints=-1 is out of range: it must be >= 0 (e.g. trainer.keep_checkpoints=1)"),
    "trainer.resume_force not a bool": (
        ["trainer.resume_force=maybe"], "trainer.resume_force=maybe: Value 'maybe' is not a valid bool (type str)"),
    "resume file missing": (
        ["trainer.resume={i}/missing.pt"],
        "trainer.resume={i}/missing.pt does not exist: give a checkpoint file (checkpoints/step_*.pt) or a run folder"),
    "resume folder without checkpoints": (
        ["trainer.resume={i}/no_checkpoints"],
        "trainer.resume={i}/no_checkpoints is a folder without checkpoints (checkpoints/step_*.pt): "
        "give a run folder or a checkpoint file"),
    "empty checkpoint file": (
        ["trainer.resume={i}/empty.pt"],
        "trainer.resume={i}/empty.pt is an empty file (0 bytes), not a checkpoint: give a step_*.pt file ganrun wrote"),
    "garbage checkpoint file": (
        ["trainer.resume={i}/garbage.pt"],
        "trainer.resume={i}/garbage.pt is not a ganrun checkpoint (not a torch archive: truncated, or another kind "
        "of file): give a step_*.pt file ganrun wrote"),
    "truncated checkpoint": (
        ["trainer.resume={i}/truncated.pt"],
        "trainer.resume={i}/truncated.pt is not a ganrun checkpoint (not a torch archive: truncated, or another kind "
        "of file): give a step_*.pt file ganrun wrote"),
    "torch file that is not a ganrun checkpoint": (
        ["trainer.resume={i}/foreign.pt"],
        "trainer.resume={i}/foreign.pt has no 'ganrun-checkpoint-1' marker, so ganrun did not write it: "
        "give a step_*.pt file ganrun wrote"),
    "run folder of another config": (
        ["seed=4", "hydra.run.dir={i}/run"],
        "run folder {i}/run was trained with another config (seed: 3 -> 4): continue it with the same config, "
        "train in a new folder (hydra.run.dir=...), or set trainer.resume_force=true"),
    "output folder under a file": (
        ["hydra.run.dir={i}/a_file/run"],
        "output folder {i}/a_file/run cannot be created: {i}/a_file is a file, not a folder "
        "(choose another hydra.run.dir)"),
    "image folder of corrupt and truncated images": (
        ["dataset=image_folder", "dataset.root={i}/corrupt", "dataset.resolution=8"],
        "dataset.root={i}/corrupt holds no readable images (3 unreadable; extensions: EXTENSIONS): "
        "point dataset.root at a folder of images"),
    "dataset smaller than one batch": (
        ["dataset=image_folder", "dataset.root={i}/three_images", "dataset.resolution=8"],
        "dataset=image_folder has 3 items, fewer than trainer.batch_size=8: lower trainer.batch_size"),
}


def snapshot(folder: Path) -> dict[str, tuple[int, int] | None]:
    """Every path under `folder`, with size and modification time for files."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else None
            for p in folder.rglob("*")}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_prints_one_line_exits_2_and_leaves_nothing(name, inputs, tmp_path):
    import shutil

    folder = tmp_path / "inputs"
    shutil.copytree(inputs, folder)
    work = tmp_path / "work"  # where the user runs ganrun: outputs/ would appear here
    work.mkdir()
    arguments, message = BAD_INPUTS[name]
    base = RUN if "dataset=image_folder" not in arguments else []
    before = snapshot(tmp_path)
    result = ganrun("train", *cli_args(*base, *(a.format(i=folder) for a in arguments)), cwd=work)
    assert result.returncode == 2, result.stderr
    expected = message.format(i=folder).replace("EXTENSIONS", extensions())
    assert result.stderr.strip().splitlines() == [f"ganrun: error: {expected}"]
    assert snapshot(tmp_path) == before  # no run folder, no outputs/, the earlier run untouched


def test_a_checkpoint_of_another_config_is_refused_before_anything_is_written(inputs, tmp_path):
    path = inputs / "another_config.pt"
    with pytest.raises(ConfigError) as error:
        train.run(config(*RUN, "seed=4", f"trainer.resume={path}"), tmp_path / "run")
    assert str(error.value) == (
        f"checkpoint {path} was trained with another config (seed: 3 -> 4): continue it with the same config, "
        "train in a new folder (hydra.run.dir=...), or set trainer.resume_force=true")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_output_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = ganrun("train", f"hydra.run.dir={locked}/run", cwd=tmp_path)
    finally:
        locked.chmod(0o755)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"ganrun: error: output folder {locked}/run is not writable (Permission denied "
                                     f"in {locked}): choose another hydra.run.dir")
    assert list(locked.iterdir()) == []


def test_resume_force_continues_despite_differences_but_never_into_networks_that_do_not_fit(inputs, tmp_path, capsys):
    path = inputs / "another_config.pt"
    train.run(config(*RUN, "seed=4", "trainer.steps=3", f"trainer.resume={path}", "trainer.resume_force=true"),
              tmp_path / "forced")
    assert (f"ganrun: warning: trainer.resume_force=true: continuing {path} although seed: 3 -> 4"
            in capsys.readouterr().err)
    assert final_state(tmp_path / "forced")["step"] == 3  # went on from step 2

    with pytest.raises(ConfigError, match=rf"^the generator of checkpoint {path} does not fit this config "
                                          r"\(size mismatch for hidden.0.weight: copying a param with shape torch.Size\(\[16, 100\]\) "
                                          r"from checkpoint, the shape in current model is torch.Size\(\[32, 100\]\).\): resume with"):
        train.run(config(*RUN, "architecture.generator.width=32", f"trainer.resume={path}",
                         "trainer.resume_force=true"), tmp_path / "misfit")
    assert not (tmp_path / "misfit").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the one-step-late check is the GPU path")
def test_on_a_gpu_a_nan_is_read_one_step_late_under_its_own_step_and_always_before_a_save():
    from ganrun.guard import NonFiniteGuard

    module, good = torch.nn.Linear(2, 1).cuda(), torch.tensor(0.5, device="cuda")
    bad = torch.tensor(float("nan"), device="cuda")
    guard = NonFiniteGuard("stop", torch.device("cuda"))
    assert guard.watch(1, {"loss/D": good}, {"D": module})
    assert guard.watch(2, {"loss/D": bad}, {"D": module})  # copied to the host, not read yet
    assert not guard.watch(3, {"loss/D": good}, {"D": module})
    assert guard.failure == "non-finite value at step 2: loss/D = nan"

    guard = NonFiniteGuard("stop", torch.device("cuda"))
    assert guard.watch(1, {"loss/D": bad}, {"D": module})
    assert not guard.confirm()  # what the loop asks before every checkpoint
    assert guard.failure == "non-finite value at step 1: loss/D = nan"


def test_only_keys_that_change_the_run_count_as_differences():
    from ganrun.resume import config_differences

    saved = config(*RUN)
    moved = config(*RUN, "trainer.steps=9", "trainer.log_every=3", "trainer.checkpoint_every=4", "trainer.progress=lines",
                   "trainer.keep_checkpoints=0", "trainer.on_nan=skip", "trainer.num_workers=2", "metrics.every=7")
    assert config_differences(saved, moved) == []
    assert config_differences(saved, config(*RUN, "trainer.batch_size=4", "optimizer.lr=0.001")) == [
        "optimizer.discriminator.lr: 0.0001 -> 0.001", "optimizer.generator.lr: 0.0001 -> 0.001",
        "optimizer.lr: 0.0001 -> 0.001", "trainer.batch_size: 8 -> 4"]
