"""`ganrun eval` and `ganrun sample` through subprocesses, as a user runs them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.test_cli import ganrun

TINY = ["trainer.steps=2", "trainer.batch_size=8", "architecture.generator.width=8",
        "architecture.discriminator.width=8", "metrics=none", "trainer.progress=off"]
EVAL = ["metrics.num_samples=200", "metrics.kid_subset_size=50", "metrics.kid_subsets=5", "device=cpu"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    result = ganrun("train", *TINY, f"hydra.run.dir={root / 'run'}", cwd=root)
    assert result.returncode == 0, result.stderr
    return root, root / "run" / "checkpoints" / "step_00000002.pt"


def test_sample_writes_a_png_grid_and_an_npz(trained):
    root, checkpoint = trained
    result = ganrun("sample", f"checkpoint={checkpoint}", "num=16", f"out={root / 'grid.png'}", "device=cpu", cwd=root)
    assert result.returncode == 0, result.stderr
    width, height = Image.open(root / "grid.png").size
    assert (width, height) == (4 * 8 + 5 * 2, 4 * 8 + 5 * 2)  # 4x4 tiles of 8 px, 2 px padding
    result = ganrun("sample", f"checkpoint={checkpoint}", "num=10", f"out={root / 's.npz'}", "device=cpu", cwd=root)
    assert result.returncode == 0, result.stderr
    samples = np.load(root / "s.npz")["samples"]
    assert samples.shape == (10, 1, 8, 8) and samples.min() >= -1 and samples.max() <= 1


def test_sample_interpolates_along_great_circles(trained):
    root, checkpoint = trained
    result = ganrun("sample", f"checkpoint={checkpoint}", "num=16", "interpolate=true",
                    f"out={root / 'path.npz'}", "device=cpu", cwd=root)
    assert result.returncode == 0, result.stderr
    assert np.load(root / "path.npz")["samples"].shape == (16, 1, 8, 8)


def test_slerp_keeps_the_norm_between_equal_norm_ends():
    import torch
    from torch.testing import assert_close

    from ganrun.sampling import slerp

    a, b = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    middle = slerp(a, b, torch.tensor([[0.5]]))
    assert_close(middle, torch.tensor([[3 / 2 ** 0.5, 3 / 2 ** 0.5]]))
    assert_close(slerp(a, b, torch.tensor([[0.0]])), a)
    assert_close(slerp(a, b, torch.tensor([[1.0]])), b)


def test_eval_of_a_checkpoint_prints_and_writes_its_metrics(trained):
    root, checkpoint = trained
    out = root / "metrics.json"
    result = ganrun("eval", f"checkpoint={checkpoint}", f"out={out}", *EVAL, cwd=root)
    assert result.returncode == 0, result.stderr
    written = json.loads(out.read_text())
    assert written["step"] == 2
    for name in ("FID_classifier", "KID_classifier", "IS_classifier", "precision_classifier", "recall_classifier"):
        assert f"{name}: {written[name]}" in result.stdout


def test_eval_of_fake_samples_against_a_dataset(trained, tmp_path):
    root, _ = trained
    real_like = np.random.default_rng(0).uniform(-1, 1, size=(200, 1, 8, 8)).astype(np.float32)
    np.savez(tmp_path / "fake.npz", samples=real_like)
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, image in enumerate(real_like[:200]):
        Image.fromarray(((image[0] + 1) * 127.5).round().astype(np.uint8)).save(folder / f"{i:03d}.png")
    from_npz = ganrun("eval", f"fake={tmp_path / 'fake.npz'}", "dataset=digits", f"out={tmp_path / 'a.json'}",
                      *EVAL, cwd=root)
    from_pngs = ganrun("eval", f"fake={folder}", "dataset=digits", f"out={tmp_path / 'b.json'}", *EVAL, cwd=root)
    assert from_npz.returncode == 0, from_npz.stderr
    assert from_pngs.returncode == 0, from_pngs.stderr
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    # the PNGs are the same images quantised to uint8, which the metrics quantise to anyway
    assert a["FID_classifier"] == pytest.approx(b["FID_classifier"], rel=1e-4)


@pytest.mark.parametrize("args,message", [
    (["checkpoint=/no/such.pt", "out=x.png"], "checkpoint /no/such.pt does not exist"),
    (["out=x.png"], "missing checkpoint=..."),
    (["checkpoint=c.pt", "out=x.gif"], "out=x.gif: write a .png grid or an .npz array"),
    (["checkpoint=c.pt", "colour=red", "out=x.png"], "unknown argument 'colour'"),
])
def test_sample_mistakes_are_one_line(tmp_path, args, message):
    result = ganrun("sample", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("ganrun: error: ") and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
