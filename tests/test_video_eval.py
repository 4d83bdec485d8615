"""`ganrun eval` on a video checkpoint and on an .npz of clips, `ganrun sample label=K` (one action). The
frame classifier is replaced by a stand-in (no training in the suite): these test the wiring."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import open_dict
from torch.testing import assert_close

from ganrun import loop
from ganrun.commands import evaluate, sample
from ganrun.commands.sample import one_class
from ganrun.errors import UsageError
from ganrun.metrics import video
from ganrun.metrics.video import VideoEvaluator, mean_frame_difference, real_clips
from ganrun.models import mocogan
from tests.conftest import SHARED_DATA, compose_config, needs_shared_data
from tests.test_video_models import _MeanFeatures
from tests.test_video_games import WIDTHS
from tests.test_video_runs import BASE, config
from tests.tiny_runs import one_thread  # noqa: F401

pytestmark = needs_shared_data
WEIZMANN = ["dataset=weizmann_actions", f"dataset.root={SHARED_DATA / 'weizmann_actions'}", "conditional=true"]


@pytest.fixture(scope="module")
def weizmann_run(tmp_path_factory) -> str:
    """A conditional MoCoGAN (the 4 actions) trained one step; its checkpoint."""
    run_dir = tmp_path_factory.mktemp("weizmann")
    cfg = compose_config(["game=mocogan", *BASE, *WEIZMANN, *WIDTHS["mocogan"], "trainer.steps=1",
                          "trainer.checkpoint_every=1"])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    loop.run(cfg, run_dir)
    return str(run_dir / "checkpoints" / "step_00000001.pt")


@pytest.fixture
def stand_in(monkeypatch):
    """build_video_evaluator -> an evaluator on mean/std features over 8 real clips of the dataset."""
    def build(metrics_cfg, dataset_cfg, device, *, make):
        real = real_clips(make(dataset_cfg, train=False), 8, seed=0)
        built["real"] = real
        return VideoEvaluator(_MeanFeatures(), real, num_clips=8, batch_size=4, kid_subsets=2, kid_subset_size=8)
    built = {}
    monkeypatch.setattr(video, "build_video_evaluator", build)
    return built


def test_eval_of_a_conditional_mocogan_checkpoint_scores_its_clips_and_the_actions(tmp_path, stand_in, weizmann_run):
    checkpoint, out = weizmann_run, tmp_path / "m.json"
    evaluate.main([f"checkpoint={checkpoint}", f"out={out}", "device=cpu"])
    results = json.loads(out.read_text())
    assert results["step"] == 1
    assert {"frame_FID_classifier", "frame_KID_classifier", "motion/frame_difference",
            "motion/identity_consistency", "action_accuracy"} <= results.keys()
    assert 0 <= results["action_accuracy"] <= 1 and results["motion/frame_difference"] > 0


def test_eval_of_an_npz_of_clips_against_a_video_dataset(tmp_path, stand_in):
    clips_file, out = tmp_path / "clips.npz", tmp_path / "m.json"
    real = real_clips(instantiate(config("vgan").dataset, train=False), 8, seed=0)
    np.savez(clips_file, samples=real.numpy())
    evaluate.main([f"fake={clips_file}", "dataset=moving_mnist", f"dataset.root={SHARED_DATA}", "dataset.size=16",
                   "dataset.num_digits=1", "dataset.resolution=16", "dataset.frames=4", f"out={out}", "device=cpu"])
    results = json.loads(out.read_text())
    assert results["frame_FID_classifier"] == pytest.approx(0, abs=1e-3)  # the evaluator's own real clips
    assert_close(results["motion/frame_difference"], float(mean_frame_difference(stand_in["real"])))


def test_label_makes_every_sample_of_one_class():
    assert one_class({}, torch.arange(6) % 4, 4).tolist() == [0, 1, 2, 3, 0, 1]
    assert one_class({"label": "2"}, torch.arange(6) % 4, 4).tolist() == [2] * 6
    with pytest.raises(UsageError, match="label=4 is out of range: it must be between 0 and 3"):
        one_class({"label": "4"}, torch.arange(6) % 4, 4)
    with pytest.raises(UsageError, match="label= is for a conditional run's checkpoint"):
        one_class({"label": "0"}, None, None)


def test_sample_label_draws_clips_of_that_action(tmp_path, monkeypatch, weizmann_run):
    checkpoint, asked = weizmann_run, []
    original = mocogan.Generator.sample_clips

    def recording(self, count, **kw):
        asked.append(kw["labels"].tolist())
        return original(self, count, **kw)
    monkeypatch.setattr(mocogan.Generator, "sample_clips", recording)
    out = tmp_path / "bend.npz"
    sample.main([f"checkpoint={checkpoint}", "num=3", "label=3", f"out={out}",
                 "device=cpu"])
    assert asked == [[3, 3, 3]]
    with np.load(out) as data:
        assert data["samples"].shape == (3, 3, 4, 16, 16)
