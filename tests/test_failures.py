"""What goes wrong gives one clear answer: a NaN stops the run naming the last good checkpoint, a
hostile file is refused unread, and every bad input prints one line, exits 2 and leaves nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.testing import assert_close

from ganrun import experiment, loop
from ganrun.run import checkpoint
from ganrun.errors import ConfigError
from tests.tiny_runs import RUN, cli_args, config, ganrun, inputs, one_thread  # noqa: F401

# ---------------------------------------------------------------- non-finite values

NAN_LOSS = ["objective=ns", "objective.g_loss._target_=tests.faults.nan_g_loss_from",
            "objective.g_loss._partial_=false"]


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
    loop.run(config(*RUN, *NAN_LOSS, "+objective.g_loss.step=3", "trainer.on_nan=skip", "trainer.steps=5",
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
    from ganrun.run.guard import NonFiniteGuard

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


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the one-step-late check is the GPU path")
def test_on_a_gpu_a_nan_is_read_one_step_late_under_its_own_step_and_always_before_a_save():
    from ganrun.run.guard import NonFiniteGuard

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


# ---------------------------------------------------------------- every bad input: one line, exit 2, nothing left

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
