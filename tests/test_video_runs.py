"""Everything else holds for video runs (issue 13, Must have 7), on tiny clips (16x16, 4 frames, widths
4): a run stopped and resumed is bitwise the uninterrupted one, a NaN stops it in one line naming the
last good checkpoint, a 2-job sweep, bf16 autocast, and torchrun with two gloo processes."""

from __future__ import annotations

import csv

import pytest
import torch
from omegaconf import open_dict
from torch.testing import assert_close

from ganrun import experiment, loop
from ganrun.errors import EXIT_NONFINITE
from ganrun.run import checkpoint
from ganrun.run.fast_path import Autocast
from tests.conftest import REPO, compose_config, needs_shared_data
from tests.test_sweeps import only_sweep_folder, run
from tests.test_video_games import CLIPS, MOVING, WIDTHS
from tests.test_write_errors import cli_train
from tests.tiny_runs import one_thread  # noqa: F401  (one thread: bitwise comparisons, no OpenMP stalls)

pytestmark = needs_shared_data  # Moving MNIST is built from the real MNIST
BASE = ["trainer.steps=2", "trainer.batch_size=4", "trainer.log_every=1", "trainer.sample_every=0",
        "trainer.num_grid_samples=4", "trainer.device=cpu", "trainer.progress=off", "metrics=none", *CLIPS[:2]]
# the noise on D's inputs annealed over the run: the schedule and its random draws resume too
NOISE = ["tricks.instance_noise.std=0.1", "tricks.instance_noise.anneal_steps=4"]


def config(game: str, *overrides: str):
    cfg = compose_config([f"game={game}", *BASE, *MOVING, *WIDTHS[game], *NOISE, *overrides])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg


@pytest.mark.parametrize("game", ["vgan", "mocogan"])
def test_a_video_run_stopped_and_resumed_is_bitwise_the_uninterrupted_run(game, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    loop.run(config(game, "trainer.checkpoint_every=1"), whole)
    loop.run(config(game, "trainer.checkpoint_every=1", "trainer.steps=1"), parts)  # stopped after step 1 ...
    loop.run(config(game, "trainer.checkpoint_every=1"), parts)                     # ... and continued
    reference = checkpoint.load(checkpoint.latest(whole / "checkpoints"))
    resumed = checkpoint.load(checkpoint.latest(parts / "checkpoints"))
    assert resumed["step"] == reference["step"] == 2
    assert resumed.keys() == reference.keys()
    assert "batches" in reference  # the clip stream's position is part of the state
    for part in reference.keys() - {"format", "config", "rng"}:  # weights, optimizers, the clip stream
        assert_close(resumed[part], reference[part], rtol=0, atol=0, msg=lambda m: f"{part}: {m}")
    assert_close(resumed["rng"]["torch"], reference["rng"]["torch"], rtol=0, atol=0)  # the noise to come


def test_a_nan_stops_a_video_run_in_one_line_naming_the_last_good_checkpoint(tmp_path, capsys):
    # MoCoGAN's G loss calls g_loss twice (D_I's and D_V's terms): calls 3 and on are G's 2nd update
    nan = ["objective.g_loss._target_=tests.faults.nan_g_loss_from", "objective.g_loss._partial_=false",
           "+objective.g_loss.step=3"]
    run_dir = tmp_path / "run"
    code = cli_train("game=mocogan", *BASE, *MOVING, *WIDTHS["mocogan"], *nan, "trainer.steps=3",
                     "trainer.checkpoint_every=1", f"hydra.run.dir={run_dir}")
    good = run_dir / "checkpoints" / "step_00000001.pt"
    assert (code, capsys.readouterr().err.strip().splitlines()) == (EXIT_NONFINITE, [
        "ganrun: error: non-finite value at step 2: loss/G = nan, the weights of G (their norm) = nan; stopped "
        f"(trainer.on_nan=stop); the last good checkpoint is {good}: lower optimizer.lr, or set "
        "trainer.on_nan=skip to drop such updates"])
    assert sorted(p.name for p in good.parent.iterdir()) == ["step_00000001.pt"]


def test_autocast_hands_back_every_tensor_of_a_tuple_in_float32():
    class Streams(torch.nn.Module):  # VGAN's G(z, streams=True): foreground, mask, background
        def forward(self, x: torch.Tensor, streams: bool = False):
            y = torch.nn.functional.linear(x, torch.eye(2))
            return (y, y * 2, y * 3) if streams else y

    x = torch.tensor([[1.0, 2.0]])
    out = Autocast(Streams(), torch.bfloat16, "cpu")(x, streams=True)
    assert [t.dtype for t in out] == [torch.float32] * 3
    assert_close(out[2], torch.tensor([[3.0, 6.0]]), rtol=0, atol=0)
    assert Autocast(Streams(), torch.bfloat16, "cpu")(x).dtype == torch.float32


@pytest.mark.parametrize("game", ["vgan", "mocogan"])
def test_bf16_autocast_trains_a_video_game_to_nearly_the_fp32_weights(game, tmp_path):
    weights = {}
    for precision in ("fp32", "bf16"):
        cfg = config(game, f"trainer.precision={precision}", "trainer.checkpoint_every=0")
        built = {}

        def recording_build(cfg, device, **kw):
            built["exp"] = experiment.build(cfg, device, **kw)
            return built["exp"]

        original, loop.build = loop.build, recording_build
        try:
            loop.run(cfg, tmp_path / precision)
        finally:
            loop.build = original
        weights[precision] = torch.cat([p.detach().flatten() for p in built["exp"].generator.parameters()])
    # 2 Adam steps of lr 2e-4 move a weight by at most ~4e-4 either way; bf16's forward moves some differently
    assert not torch.equal(weights["bf16"], weights["fp32"])
    assert_close(weights["bf16"], weights["fp32"], rtol=0, atol=1e-3)


def test_a_two_job_sweep_of_mocogan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_train("-m", "game=mocogan", *BASE, *MOVING, *WIDTHS["mocogan"], "objective=ns,lsgan") is None
    folder = only_sweep_folder(tmp_path)
    with open(folder / "summary.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["status"] for row in rows] == ["ok", "ok"]
    assert sorted(row["overrides"].split()[-1] for row in rows) == ["objective=lsgan", "objective=ns"]
    for job in (p for p in folder.iterdir() if p.is_dir()):
        assert (job / "checkpoints" / "step_00000002.pt").is_file()


@pytest.mark.slow  # three Python processes (torchrun and two ranks), each importing torch: ~15-35 s
def test_torchrun_two_gloo_processes_train_mocogan_to_identical_weights(tmp_path):
    result = run("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                 str(REPO / "tests" / "ddp_worker.py"), str(tmp_path), "game=mocogan", *BASE, *MOVING,
                 *WIDTHS["mocogan"], "trainer.checkpoint_every=0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()  # one folder, though two processes ran Hydra
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["step_00000002.pt"]
    rank0, rank1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    assert rank0.keys() == rank1.keys() and any(k.startswith("D.video.") for k in rank0)
    for key in rank0:  # averaged gradients of G, D_I and D_V: the same steps on both ranks
        assert torch.equal(rank0[key], rank1[key]), key
