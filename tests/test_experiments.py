"""Every experiment preset composes with its paper's settings and trains one step (tiny widths; data
that is not on this machine is replaced by the real images in ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import open_dict

from hydra import compose, initialize_config_dir

from ganrun import experiment, loop
from ganrun.config.compose import CONF_DIR
from ganrun.config.schemas import register_schemas
from tests.conftest import SHARED_DATA, TINY, TINY_WIDTHS, compose_config

PRESETS = sorted(p.stem for p in (Path(CONF_DIR) / "experiment").glob("*.yaml"))
CIFAR_PNGS = SHARED_DATA / "cifar10_test1000"
# Stand-ins: the shared MNIST's test split; CIFAR-10 PNGs (at 16x16, to stay quick) for the datasets
# not on this machine. One D update per step keeps the WGAN presets quick too.
LOCAL_DATA = {
    **{name: [f"dataset.root={SHARED_DATA}", "dataset.download=false", "dataset.train=false"]
       for name in ("mnist", "mnist_negative", "mnist_edge", "stacked_mnist")},
    # the video presets: their clips at 16x16, 4 frames
    "moving_mnist": [f"dataset.root={SHARED_DATA}", "dataset.size=16", "dataset.resolution=16", "dataset.frames=4"],
    "weizmann_actions": [f"dataset.root={SHARED_DATA / 'weizmann_actions'}", "dataset.resolution=16",
                         "dataset.frames=4"],
    **{name: ["dataset=image_folder", f"dataset.root={CIFAR_PNGS}", "dataset.resolution=16"]
       for name in ("cifar10", "celeba", "lsun_bedroom")},
    # translation: the shared pairs and unpaired sets stand in for facades and horse2zebra, BSD68 for DIV2K
    **{name: [f"dataset.root={SHARED_DATA}/edges2shoes_handbags/shoes", "dataset.resolution=16",
              "dataset.load_size=18", "dataset.max_items=8", "trainer.batch_size=4"]
       for name in ("facades", "edges2shoes")},
    **{name: [f"dataset.root={SHARED_DATA}/shoes2handbags", "dataset.resolution=16", "dataset.load_size=18",
              "dataset.max_items=8", "trainer.batch_size=4"] for name in ("horse2zebra", "shoes2handbags")},
    **{name: [f"dataset.root={SHARED_DATA}/sr_benchmarks/BSD68", f"dataset.test_roots=[{SHARED_DATA}/sr_benchmarks/Set5]",
              "dataset.resolution=16", "trainer.batch_size=4", "metrics=none"] for name in ("div2k", "bsd68")},
    # made at load time from the shared CIFAR-10 subset and MNIST: their first items
    **{name: [f"dataset.root={SHARED_DATA}", "dataset.max_items=8", "trainer.batch_size=4", "dataset.train=false"]
       for name in ("cifar10_grey2colour", "mnist_edges2digit")},
    "cifar10_sr": [f"dataset.root={SHARED_DATA}", "dataset.max_items=8", "trainer.batch_size=4", "metrics=none"],
}
# per game: SRGAN's content network without weights to download or a classifier to train, a few SimGAN digits
GAME_OVERRIDES = {"srgan": ["game.content._target_=ganrun.models.content.pixels"],
                  "simgan": ["game.synthetic.count=20"]}


def preset(name):
    """The preset as composed, before the checks (which want its dataset on disk)."""
    register_schemas()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return compose(config_name="train", overrides=[f"experiment={name}"])


def test_presets_carry_their_papers_settings():
    wgan = preset("wgan_lsun")
    assert (wgan.objective.clip_weights, wgan.optimizer.name, wgan.optimizer.lr, wgan.objective.d_steps) == \
        (0.01, "rmsprop", 5e-5, 5)
    gp = preset("wgan_gp_cifar10")
    assert (gp.architecture.name, gp.objective.penalty.weight, list(gp.optimizer.betas), gp.objective.d_steps,
            gp.tricks.linear_lr_decay) == ("resnet", 10.0, [0.0, 0.9], 5, True)
    assert preset("pacgan_grid").tricks.pack == 2 and preset("unrolled_ring").objective.unroll_steps == 5
    sgd = preset("sgd_d_adam_g").optimizer
    assert (sgd.discriminator._target_, sgd.generator._target_) == ("torch.optim.SGD", "torch.optim.Adam")
    assert preset("began_celeba").architecture.name == "autoencoder"


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_trains_one_step(tmp_path, name):
    composed = preset(name)
    data = LOCAL_DATA.get(composed.dataset.name, [])
    if data and not SHARED_DATA.exists():
        pytest.skip(f"{composed.dataset.name} is not on this machine and {SHARED_DATA} is missing")
    cfg = compose_config([f"experiment={name}", *data, *TINY, "trainer.steps=1", "objective.d_steps=1",
                          *TINY_WIDTHS[composed.architecture.name], *GAME_OVERRIDES.get(composed.game.name, [])])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    assert loop.run(cfg, tmp_path) is not None
    assert (tmp_path / "checkpoints").exists()
