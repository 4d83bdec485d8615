"""Every translation game x its objectives: two training steps on CPU through the one loop, writing the
grids and the loss terms; ganrun translate on the checkpoint; the games' exact loss values."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from omegaconf import open_dict
from torch.testing import assert_close

from ganrun import loop
from ganrun.commands import sample
from ganrun.errors import UsageError
from ganrun.run import checkpoint
from tests.conftest import SHARED_DATA, TINY, compose_config, needs_shared_data

EDGES = SHARED_DATA / "edges2shoes_handbags" / "shoes"
UNPAIRED = SHARED_DATA / "shoes2handbags"
SMALL = ["dataset.resolution=16", "dataset.load_size=18", "dataset.max_items=8", "trainer.batch_size=4"]
GAMES = {
    "pix2pix": ["game=pix2pix", f"dataset.root={EDGES}", "dataset.direction=BtoA", *SMALL,
                "architecture.generator.width=4", "architecture.discriminator.width=4",
                "architecture.discriminator.n_layers=2", "game.grid_rows=2"],
    "cyclegan": ["game=cyclegan", f"dataset.root={UNPAIRED}", *SMALL, "architecture.generator.width=4",
                 "architecture.generator.n_blocks=1", "architecture.discriminator.width=4",
                 "architecture.discriminator.n_layers=2", "game.grid_rows=2"],
    "srgan": ["game=srgan", f"dataset.root={SHARED_DATA}/sr_benchmarks/Set5",
              f"dataset.test_roots=[{SHARED_DATA}/sr_benchmarks/Set5]", "dataset.resolution=16", "trainer.batch_size=4",
              "game.content._target_=ganrun.models.content.pixels", "architecture.generator.width=4",
              "architecture.generator.n_blocks=1", "architecture.discriminator.width=4",
              "architecture.discriminator.n_blocks=2", "architecture.discriminator.hidden=8", "game.grid_rows=2"],
    "simgan": ["game=simgan", f"dataset.root={SHARED_DATA}", "dataset.download=false", "dataset.train=false",
               "game.synthetic.count=20", "trainer.batch_size=4", "architecture.generator.width=4",
               "architecture.generator.n_blocks=1", "architecture.discriminator.width=4", "game.grid_rows=2",
               "game.pretrain_steps=1"],
}
GRIDS = {"pix2pix": {"translation/input_output_target"},
         "cyclegan": {"translation/A_G(A)_F(G(A))", "translation/B_F(B)_G(F(B))"},
         "srgan": {"translation/bicubic_SR_HR"}, "simgan": {"translation/synthetic_refined"}}
TERMS = {"pix2pix": {"loss/L1", "loss/G_adversarial", "D/real", "D/fake"},
         "cyclegan": {"loss/cycle_A", "loss/cycle_B", "loss/identity_A", "loss/identity_B", "D_A/real", "D_B/fake"},
         "srgan": {"loss/content", "loss/G_adversarial", "D/real", "D/fake"},
         "simgan": {"loss/self_regularization", "loss/G_adversarial", "D/real", "D/fake", "tricks/history_fill"}}
PENALTY_TERMS = {"cyclegan": {"D_A/gradient_penalty", "D_B/gradient_penalty"}}
CASES = [("pix2pix", "ns"), ("pix2pix", "lsgan"), ("pix2pix", "wgan_gp"), ("cyclegan", "lsgan"), ("cyclegan", "hinge"),
         ("cyclegan", "wgan_gp"), ("srgan", "ns"), ("srgan", "lsgan"), ("srgan", "wgan_gp"),
         ("simgan", "ns"), ("simgan", "lsgan"), ("simgan", "hinge")]


def tiny(game, *overrides):
    cfg = compose_config([*GAMES[game], *TINY, *overrides])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg


@needs_shared_data
@pytest.mark.parametrize("game, objective", CASES)
def test_two_steps_train_both_networks_and_write_grids(tmp_path, monkeypatch, game, objective):
    cfg = tiny(game, f"objective={objective}", "objective.d_steps=1")
    built, real_build = {}, loop.build

    def spy(cfg, device, **kw):
        exp = real_build(cfg, device, **kw)
        built["exp"], built["before"] = exp, copy.deepcopy((exp.generator.state_dict(), exp.discriminator.state_dict()))
        return exp

    monkeypatch.setattr(loop, "build", spy)
    loop.run(cfg, tmp_path)
    exp = built["exp"]
    for module, before in zip((exp.generator, exp.discriminator), built["before"]):
        assert any(not torch.equal(v, before[k]) for k, v in module.state_dict().items() if v.is_floating_point())
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert GRIDS[game] <= set(events.Tags()["images"])
    assert TERMS[game] <= set(events.Tags()["scalars"])
    if objective == "wgan_gp":  # CycleGAN's two critics log their own penalties
        assert PENALTY_TERMS.get(game, {"objective/gradient_penalty"}) <= set(events.Tags()["scalars"])
    assert (tmp_path / "checkpoints").is_dir()
    with pytest.raises(UsageError, match=f"game={game} draws nothing from noise: its G maps real images; ganrun translate"):
        sample.main([f"checkpoint={checkpoint.latest(tmp_path / 'checkpoints')}", f"out={tmp_path / 's.png'}"])
    assert not (tmp_path / "s.png").exists()


class ZeroPatches(torch.nn.Module):
    """A 'discriminator' scoring every 2x2 patch 0 (one parameter, so the game has something to train)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, *images):
        return self.w * images[-1][:, :1, ::2, ::2]


def _objective(name):
    from ganrun.objectives import Objective
    from ganrun.objectives import losses

    pairs = {"ns": (losses.gan_d_loss, losses.ns_g_loss), "lsgan": (losses.lsgan_d_loss, losses.lsgan_g_loss)}
    return Objective(*pairs[name], name=name)


def _domains(paired):
    from ganrun.data.translation import Domains

    a = torch.arange(2 * 3 * 4 * 4, dtype=torch.uint8).view(2, 3, 4, 4) * 3
    b = 255 - a
    files = [f"{i}.png" for i in range(2)]
    return Domains(a, b, name="t", paired=paired, crop_size=4, train=False, files_a=files, files_b=files)


def test_pix2pix_losses_exact():
    from ganrun.games.pix2pix import Pix2Pix

    data = _domains(paired=True)
    game = Pix2Pix(torch.nn.Identity(), ZeroPatches(), _objective("ns"), data, data, batch_size=2, seed=0,
                   device=torch.device("cpu"), flip=False, grid_rows=2)
    batch = game.next_batch()  # load size = crop size, no flip: the images themselves
    x, y = batch
    d_loss, d_terms = game.discriminator_loss(batch)
    log2 = torch.log(torch.tensor(2.0))
    assert_close(d_loss, log2)  # 0.5 * (softplus(0) + softplus(0)): D's loss halved
    g_loss, g_terms = game.generator_loss(batch)
    l1 = (y - x).abs().mean()
    assert_close(g_terms["loss/L1"], l1)
    assert_close(g_loss, log2 + 100 * l1)  # -log sigma(0) + lambda L1


def test_cyclegan_losses_exact_and_zero_cycle_for_identities():
    from torch import nn

    from ganrun.games.cyclegan import CycleGAN

    data = _domains(paired=False)
    generators = nn.ModuleDict({"A2B": nn.Identity(), "B2A": nn.Identity()})
    discriminators = nn.ModuleDict({"A": ZeroPatches(), "B": ZeroPatches()})
    game = CycleGAN(generators, discriminators, _objective("lsgan"), data, data, batch_size=2, seed=0,
                    device=torch.device("cpu"), flip=False, pool_size=0, grid_rows=2)
    batch = game.next_batch()
    d_loss, _ = game.discriminator_loss(batch)
    assert_close(d_loss, torch.tensor(1.0))  # two Ds, each 0.5 * ((0 - 1)^2 + 0^2)
    g_loss, terms = game.generator_loss(batch)
    assert_close(terms["loss/cycle_A"], torch.tensor(0.0))  # G = F^-1 = identity: no cycle error
    assert_close(terms["loss/cycle_B"], torch.tensor(0.0))
    assert_close(terms["loss/identity_A"], torch.tensor(0.0))
    assert_close(g_loss, torch.tensor(2.0))  # (0 - 1)^2 for each direction


@needs_shared_data
def test_translate_applies_the_checkpoint_and_bad_input_writes_nothing(tmp_path):
    import numpy as np
    from PIL import Image

    from ganrun.commands import translate
    from ganrun.errors import ConfigError, UsageError

    loop.run(tiny("cyclegan", "trainer.steps=1"), tmp_path / "run")
    checkpoint = next((tmp_path / "run" / "checkpoints").glob("step_*.pt"))
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(np.full((20, 24, 3), 200, np.uint8)).save(folder / "shoe.png")
    Image.fromarray(np.full((20, 20), 30, np.uint8)).save(folder / "grey.jpg")  # converted to the input's RGB
    for direction in ("AtoB", "BtoA"):
        out = tmp_path / direction
        translate.main([f"checkpoint={checkpoint}", f"input={folder}", f"out={out}", f"direction={direction}"])
        written = sorted(out.iterdir())
        assert [p.name for p in written] == ["grey.png", "shoe.png"]
        assert Image.open(written[0]).size == (16, 16)  # the size G was trained at
    with pytest.raises(UsageError, match="is not a folder of images"):
        translate.main([f"checkpoint={checkpoint}", f"input={tmp_path / 'missing'}", f"out={tmp_path / 'o1'}"])
    Image.fromarray(np.zeros((8, 8), np.uint16)).save(folder / "deep.png")
    with pytest.raises(ConfigError, match="image mode I;16"):
        translate.main([f"checkpoint={checkpoint}", f"input={folder}", f"out={tmp_path / 'o2'}"])
    with pytest.raises(UsageError, match="direction=CtoD"):
        translate.main([f"checkpoint={checkpoint}", f"input={folder}", f"out={tmp_path / 'o3'}", "direction=CtoD"])
    assert not any((tmp_path / name).exists() for name in ("o1", "o2", "o3"))
    from ganrun.commands import evaluate  # ganrun eval: the game's own metrics on the test split

    evaluate.main([f"checkpoint={checkpoint}", f"out={tmp_path / 'm.json'}", f"metrics.cache_dir={tmp_path / 'cache'}"])
    scores = json.loads((tmp_path / "m.json").read_text())
    assert {"A2B/FID_classifier", "B2A/KID_classifier", "A2B2A/L1", "B2A2B/L1"} <= set(scores)
    assert scores["step"] == 1 and 0 <= scores["A2B2A/L1"] <= 1


def test_simgan_pretrains_the_refiner_on_self_regularisation_alone():
    from ganrun.data.base import InMemory
    from ganrun.games.simgan import SimGAN
    from ganrun.objectives.translation import self_regularization

    torch.manual_seed(0)
    digits = InMemory(torch.rand(4, 1, 4, 4) * 2 - 1, torch.zeros(4, dtype=torch.int64), name="d", num_classes=10)
    refiner = torch.nn.Conv2d(1, 1, 1)
    game = SimGAN(refiner, ZeroPatches(), _objective("ns"), digits, digits, digits, batch_size=2, seed=0,
                  device=torch.device("cpu"), weight=0.5, history=0, pretrain_steps=1)
    batch = game.next_batch()
    game.start_step(1)
    loss, terms = game.generator_loss(batch)
    assert_close(loss, self_regularization(refiner(batch[0]), batch[0], 0.5)[0])
    assert "loss/G_adversarial" not in terms
    game.start_step(2)
    loss, terms = game.generator_loss(batch)
    # D scores every patch 0: -log sigmoid(0) = log 2 is the adversarial term added after pretraining
    assert_close(loss, self_regularization(refiner(batch[0]), batch[0], 0.5)[0] + torch.log(torch.tensor(2.0)))
    assert_close(terms["loss/G_adversarial"], torch.log(torch.tensor(2.0)))
