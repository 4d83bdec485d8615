"""Tiny runs for the reliability tests (test_resume, test_state, test_failures): configs, the CLI in a
subprocess, and the files a user might wrongly hand ganrun."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from ganrun import experiment, loop
from ganrun.run import checkpoint
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
def inputs(tmp_path_factory) -> Path:
    return make_inputs(tmp_path_factory.mktemp("inputs"))


def make_inputs(root: Path) -> Path:
    """The files a user might wrongly hand ganrun (copied into each test's folder; scripts/bad_inputs.py)."""
    from PIL import Image

    run = root / "run"  # a finished run of seed 3, with its checkpoints and config.yaml
    loop.run(config(*RUN, "trainer.steps=2", "trainer.checkpoint_every=1"), run)
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
