"""`ganrun eval checkpoint=PATH memorisation=true probe=true conditional=true` on a tiny conditional run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.test_cli import ganrun
from tests.test_commands import TINY


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("conditional")
    result = ganrun("train", *TINY, "conditional=true", f"hydra.run.dir={root / 'run'}", cwd=root)
    assert result.returncode == 0, result.stderr
    np.savez(root / "test.npz", samples=np.random.default_rng(0).uniform(-1, 1, (20, 1, 8, 8)).astype("float32"))
    return root, root / "run" / "checkpoints" / "step_00000002.pt"


def test_eval_memorisation_probe_and_conditional_accuracy(conditional_run):
    root, checkpoint = conditional_run
    out = root / "extras.json"
    result = ganrun("eval", f"checkpoint={checkpoint}", f"out={out}", "memorisation=true", "num=20",
                    f"test={root / 'test.npz'}", "probe=true", "probe_train=200", "probe_test=100",
                    "conditional=true", "per_class=5", "device=cpu", f"metrics.cache_dir={root / 'cache'}", cwd=root)
    assert result.returncode == 0, result.stderr
    written = json.loads(out.read_text())
    assert "FID_classifier" not in written  # only what was asked for (the run trained with metrics=none)
    for name in ("memorisation_pixel_median", "memorisation_feature_p05", "probe_accuracy", "conditional_accuracy",
                 "conditional_accuracy/9", "classifier_test_accuracy"):
        assert 0 <= written[name] <= 1, name
    assert list(root.glob("cache/real_digits_train_*")), "the training images' features are cached"
    grid = Image.open(root / "extras.memorisation_pixel.png")
    assert grid.size == (4 * 8 + 5 * 2, 16 * 8 + 17 * 2)  # 16 rows: sample | 1st | 2nd | 3rd


@pytest.mark.parametrize("args, message", [
    ({"memorisation": "true"}, "has one split: give memorisation test images"),
    ({"probe": "maybe"}, "probe=maybe: use true or false"),
    ({"conditional": "true"}, "needs a conditional generator"),
    ({"memorisation": "true", "test": "nowhere"}, "test=nowhere: no such folder or file"),
    ({"conditional": "true", "classifier": "nope.pt"}, "needs a conditional generator"),
])
def test_eval_extras_are_checked_before_any_work(args, message):
    from ganrun.cli import UsageError
    from ganrun.commands_inspect import check
    from tests.conftest import tiny_config

    with pytest.raises(UsageError, match=message):
        check(args, tiny_config())


def test_an_eval_extras_mistake_is_one_line(conditional_run):
    root, checkpoint = conditional_run
    result = ganrun("eval", f"checkpoint={checkpoint}", f"out={root / 'bad.json'}", "conditional=true",
                    "classifier=nope.pt", cwd=root)
    assert result.returncode == 2 and "classifier=nope.pt: no such file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (root / "bad.json").exists()
