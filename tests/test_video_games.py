"""Both video games train two steps through ganrun's loop and write their clips to TensorBoard (read back
with TensorBoard's own reader); `ganrun sample` writes clips; bad combinations are refused in one line."""

from __future__ import annotations

import io

import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ganrun import loop
from ganrun.commands import sample
from ganrun.errors import ConfigError
from tests.conftest import SHARED_DATA, TINY, compose_config, needs_shared_data

pytestmark = needs_shared_data  # Moving MNIST is built from the real MNIST, Weizmann read from its strips

CLIPS = ["dataset.resolution=16", "dataset.frames=4", "trainer.batch_size=4", "trainer.checkpoint_every=2"]
MOVING = [f"dataset.root={SHARED_DATA}", "dataset.size=16", "dataset.num_digits=1"]
WIDTHS = {"vgan": ["architecture.generator.width=4", "architecture.discriminator.width=4", "architecture.latent_dim=8"],
          "mocogan": ["architecture.generator.width=4", "architecture.discriminator.image.width=4",
                      "architecture.discriminator.video.width=4", "architecture.generator.content_dim=4",
                      "architecture.generator.motion_dim=2"]}


def train(tmp_path, game: str, *overrides: str):
    cfg = compose_config([f"game={game}", *TINY, *CLIPS, *WIDTHS[game], *overrides])
    loop.run(cfg, tmp_path)
    events = EventAccumulator(str(tmp_path), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    return events


def newest(run_dir) -> str:
    return str(sorted((run_dir / "checkpoints").glob("step_*.pt"))[-1])


def frames_of(events, tag: str) -> int:
    with Image.open(io.BytesIO(events.Images(tag)[-1].encoded_image_string)) as gif:
        assert gif.format == "GIF"
        return gif.n_frames


def test_vgan_trains_and_shows_clip_foreground_mask_background(tmp_path):
    events = train(tmp_path, "vgan", *MOVING)
    images, scalars = set(events.Tags()["images"]), set(events.Tags()["scalars"])
    assert {"samples/clips", "samples/clips_over_time", "samples/foreground", "samples/mask",
            "samples/background"} <= images
    assert frames_of(events, "samples/clips") == 4
    assert {"loss/D", "loss/G", "D/real", "D/fake", "loss/mask_L1", "VGAN/mask_mean"} <= scalars
    assert [e.step for e in events.Scalars("loss/G")] == [1, 2]
    out = tmp_path / "clips.gif"
    sample.main([f"checkpoint={newest(tmp_path)}", "num=4", f"out={out}", "device=cpu"])
    with Image.open(out) as gif:
        assert gif.n_frames == 4


def test_mocogan_trains_with_both_discriminators_and_lsgan(tmp_path):
    events = train(tmp_path, "mocogan", *MOVING, "objective=lsgan", "tricks.instance_noise.std=0.1")
    images, scalars = set(events.Tags()["images"]), set(events.Tags()["scalars"])
    assert {"samples/clips", "samples/same_content_different_motion", "samples/same_motion_different_content",
            "samples/same_content_different_motion_over_time"} <= images
    assert {"D_I/real", "D_I/fake", "D_V/real", "D_V/fake", "loss/D_I", "loss/D_V", "loss/G_image",
            "loss/G_video", "tricks/instance_noise_std"} <= scalars
    out = tmp_path / "long.npz"  # MoCoGAN's clip length is free at sampling time
    sample.main([f"checkpoint={newest(tmp_path)}", "num=3", "frames=7", f"out={out}", "device=cpu"])
    import numpy as np
    with np.load(out) as data:
        assert data["samples"].shape == (3, 1, 7, 16, 16)


def test_mocogan_actions_on_weizmann_with_hinge(tmp_path):
    events = train(tmp_path, "mocogan", "dataset=weizmann_actions", f"dataset.root={SHARED_DATA / 'weizmann_actions'}",
                   "conditional=true", "objective=hinge")
    scalars = set(events.Tags()["scalars"])
    assert {"loss/D_V_category", "loss/G_category"} <= scalars
    assert frames_of(events, "samples/clips") == 4


def test_video_games_refuse_what_they_cannot_play(tmp_path):
    with pytest.raises(ConfigError, match="needs clips"):
        loop.run(compose_config(["game=vgan", "dataset=digits", *TINY]), tmp_path / "a")
    with pytest.raises(ConfigError, match="no conditional form"):
        loop.run(compose_config(["game=vgan", "conditional=true", "dataset=weizmann_actions",
                                 f"dataset.root={SHARED_DATA / 'weizmann_actions'}", *TINY]), tmp_path / "b")
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == []  # nothing written
