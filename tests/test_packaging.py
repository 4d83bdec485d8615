"""What a user installs: a wheel that works from any folder, the configs inside it, the dependencies of
every dataset's loader declared, and a user's own objective from their own folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib.util import find_spec
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from tests.conftest import REPO

ENV = {**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYDRA_FULL_ERROR", "GANRUN_DEBUG")},
       "OMP_NUM_THREADS": "1"}
TINY = ["trainer.steps=2", "metrics=none", "trainer.device=cpu", "trainer.progress=off",
        "architecture.generator.width=8", "architecture.discriminator.width=8"]


def test_the_wheel_works_from_an_empty_folder(tmp_path):
    """pip install of a wheel (not editable) into a fresh place, then `ganrun train` from an empty folder."""
    wheels, site, empty = tmp_path / "wheels", tmp_path / "site", tmp_path / "empty"
    empty.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                    str(REPO)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("ganrun-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    assert (site / "ganrun" / "conf" / "train.yaml").is_file() and not (site / "conf").exists()
    result = subprocess.run([str(site / "bin" / "ganrun"), "train", *TINY, "hydra.run.dir=run"], cwd=empty,
                            env={**ENV, "PYTHONPATH": str(site)}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert list((empty / "run" / "checkpoints").glob("step_*.pt"))
    where = subprocess.run([sys.executable, "-c", "import ganrun; print(ganrun.__file__)"], cwd=empty,
                           env={**ENV, "PYTHONPATH": str(site)}, capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).parent == site / "ganrun"  # the installed copy ran, not the checkout


def test_every_datasets_reader_is_declared_and_found():
    from ganrun.data.images import REQUIRES

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in declared}
    for dataset, modules in REQUIRES.items():
        for module in modules:
            assert module in names, f"{module} (for dataset={dataset}) is not in pyproject's dependencies"
            assert find_spec(module) is not None, f"{module} (for dataset={dataset}) is not installed"
    assert set(REQUIRES) == {"celeba", "lsun_bedroom"}


EXAMPLE = REPO / "examples" / "own_objective"


def test_bring_your_own_objective_as_the_readme_shows(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ganrun", "train", "hydra.searchpath=[file://conf]",
                             "objective=ralsgan", *TINY, f"hydra.run.dir={tmp_path / 'run'}"],
                            cwd=EXAMPLE, env={**ENV, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "my_objectives.ralsgan_g_loss" in config and "generator_sees_real: true" in config


def test_the_examples_losses_are_the_papers():
    sys.path.insert(0, str(EXAMPLE))
    try:
        from my_objectives import ralsgan_d_loss, ralsgan_g_loss
    finally:
        sys.path.remove(str(EXAMPLE))
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])  # E C(x) = 2, E C(G(z)) = -1
    # D: mean((1 + 1 - 1)^2, (3 + 1 - 1)^2) + mean((0 - 2 + 1)^2, (-2 - 2 + 1)^2) = 5 + 5
    assert_close(ralsgan_d_loss(real, fake)[0], torch.tensor(10.0))
    # G: mean((0 - 2 - 1)^2, (-2 - 2 - 1)^2) + mean((1 + 1 + 1)^2, (3 + 1 + 1)^2) = 17 + 17
    assert_close(ralsgan_g_loss(fake, real)[0], torch.tensor(34.0))
