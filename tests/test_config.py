"""Every option of every config group composes, validates and instantiates."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganrun import experiment, loop
from ganrun.config.compose import CONF_DIR
from ganrun.errors import ConfigError
from tests.conftest import SHARED_DATA, compose_config, needs_shared_data, tiny_config

CONF = Path(CONF_DIR)


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group", sorted(p.name for p in CONF.iterdir() if p.is_dir()))
def test_every_option_composes_and_validates(group):
    for option in options(group):
        folders = ("image_folder", "lsun_bedroom", "weizmann_actions", "video_folder")
        extra = {**{name: ["dataset.root=/tmp"] for name in folders}, "ring": ["architecture=mlp"],
                 "grid": ["architecture=mlp"], "ring_pacgan": ["architecture=mlp"],
                 "aligned": ["game=pix2pix", "dataset.root=/tmp"], "unaligned": ["game=cyclegan", "dataset.root=/tmp"],
                 "sr_folder": ["game=srgan", "dataset.root=/tmp"]}.get(option, []) if group == "dataset" else []
        extra += ["objective=began"] if (group, option) == ("architecture", "autoencoder") else []
        extra += ["game=vae"] if (group, option) == ("objective", "vae") else []  # the ELBO has no D to train
        extra += ["dataset.root=/tmp"] if (group, option) in (("experiment", "lsgan"), ("experiment", "wgan_lsun")) else []
        try:
            cfg = compose_config([f"{group}={option}", *extra])
        except ConfigError as error:  # a preset or game of data the user brings: its folder is theirs to name
            if "dataset.root" not in str(error):
                raise
            cfg = compose_config([f"{group}={option}", *extra, "dataset.root=/tmp"])
        assert cfg[group] is not None if group != "experiment" else cfg.sweep.metric  # presets are global overlays


# The architectures of the other games, each trained through its game in its own tests: vae, cogan, unit,
# progressive (a VAE has no D, CoGAN's G makes pairs, the progressive nets take a level), the video
# ones (clips), the translation ones (G maps images to images).
GAME_ARCHITECTURES = {"vae", "cogan", "unit", "progressive", "vgan", "mocogan",
                      "unet_patchgan", "resnet_patchgan", "srresnet", "refiner"}


@pytest.mark.parametrize("architecture", sorted(set(options("architecture")) - GAME_ARCHITECTURES))
def test_every_architecture_instantiates_for_its_data(architecture):
    for data in (["dataset=digits"], ["dataset=ring"] if architecture == "mlp" else ["dataset=digits",
                                                                                       "dataset.resolution=16"]):
        energy = ["objective=began"] if architecture == "autoencoder" else []  # D outputs energies
        exp = loop.build(tiny_config(*data, *energy, architecture=architecture), torch.device("cpu"))
        samples = exp.generator(torch.randn(3, exp.game.latent_dim))
        assert samples.shape == (3, *exp.game.dataset.data_shape)
        assert exp.discriminator(samples).shape == (3,)


@pytest.mark.parametrize("objective", [o for o in options("objective") if o != "vae"])  # vae: only game=vae
@pytest.mark.parametrize("optimizer", options("optimizer"))
def test_every_objective_and_optimizer_instantiates(objective, optimizer):
    architecture = "autoencoder" if objective in ("began", "ebgan") else "dcgan"  # energies need the autoencoder
    exp = loop.build(tiny_config(f"objective={objective}", f"optimizer={optimizer}", architecture=architecture),
                      torch.device("cpu"))
    assert callable(exp.game.objective.d_loss) and callable(exp.game.objective.g_loss)
    expected = {"adam": ("adam", "adam"), "rmsprop": ("rmsprop", "rmsprop"), "sgd": ("sgd", "sgd"),
                "sgd_d_adam_g": ("adam", "sgd")}[optimizer]
    assert (type(exp.optimizer_g).__name__.lower(), type(exp.optimizer_d).__name__.lower()) == expected


def test_objectives_carry_their_papers_defaults():
    wgan = compose_config(["objective=wgan"])
    assert (wgan.objective.d_steps, wgan.objective.clip_weights, wgan.optimizer.name, wgan.optimizer.lr) == \
        (5, 0.01, "rmsprop", 5e-5)
    gp = compose_config(["objective=wgan_gp"])
    assert (gp.objective.d_steps, gp.objective.penalty.weight, gp.optimizer.name, gp.optimizer.lr,
            list(gp.optimizer.betas)) == (5, 10.0, "adam", 1e-4, [0.0, 0.9])
    dcgan = compose_config([])
    assert (dcgan.optimizer.lr, list(dcgan.optimizer.betas)) == (2e-4, [0.5, 0.999])
    # the user's choice wins over the objective's
    assert compose_config(["objective=wgan", "optimizer.lr=1e-3"]).optimizer.lr == 1e-3
    assert compose_config(["objective=wgan", "objective.d_steps=2"]).objective.d_steps == 2


@needs_shared_data
@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_torchvision_datasets_instantiate_from_shared_data(dataset):
    cfg = compose_config([f"dataset={dataset}", f"dataset.root={SHARED_DATA}", "dataset.download=false"])
    data = experiment.make(cfg.dataset)
    x, y = data[0]
    assert x.shape == (1, 32, 32) and -1 <= float(x.min()) and float(x.max()) <= 1


@needs_shared_data
def test_image_folder_instantiates_from_the_cifar10_pngs():
    cfg = compose_config(["dataset=image_folder", f"dataset.root={SHARED_DATA / 'cifar10_test1000'}",
                          "dataset.resolution=32"])
    data = experiment.make(cfg.dataset)
    assert len(data) == 1000 and data[0][0].shape == (3, 32, 32)


@pytest.mark.parametrize("dataset", ["cifar10", "celeba", "lsun_bedroom"])
def test_datasets_that_cannot_be_found_say_what_to_do(tmp_path, dataset):
    cfg = compose_config([f"dataset={dataset}", f"dataset.root={tmp_path}", "dataset.download=false"])
    with pytest.raises(ConfigError, match="dataset.root"):
        experiment.make(cfg.dataset)
