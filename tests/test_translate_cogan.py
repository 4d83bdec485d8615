"""CoGAN's translation by latent search, and `ganrun translate-grid`, which asks the game to translate."""

import pytest
import torch
from omegaconf import open_dict
from PIL import Image
from torch.testing import assert_close

from ganrun import cli, loop
from ganrun.games.cogan import latent_search
from ganrun.models.cogan import CoupledGenerator
from tests.conftest import SHARED_DATA, compose_config, needs_shared_data

TINY = ["trainer.steps=1", "trainer.batch_size=8", "trainer.num_grid_samples=4", "trainer.progress=off",
        "metrics=none", "trainer.device=cpu", "architecture.generator.width=4", "architecture.discriminator.width=4",
        "architecture.latent_dim=8"]


def _trained(run_dir, *overrides):
    cfg = compose_config([*TINY, *overrides])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    loop.run(cfg, run_dir)
    return run_dir / "checkpoints" / "step_00000001.pt"


def _translate(capsys, *args):
    """`ganrun translate-grid ARGS` in this process: (exit code, stderr)."""
    try:
        cli.main(["translate-grid", *args])
        code = 0
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


def test_latent_search_fits_the_source_and_translates_with_the_same_z():
    torch.manual_seed(0)
    g = CoupledGenerator(latent_dim=4, data_shape=(1, 8, 8), width=4)
    with torch.no_grad():  # weights far from DCGAN's N(0, 0.02) start, so G's output depends on z
        for p in g.parameters():
            p.normal_(0, 0.3)
    g.eval()
    target = g.domain(torch.randn(3, 4), 0).detach()  # images G1 can make exactly
    start, _ = latent_search(g, target, source=0, steps=0, lr=0.1)  # z = 0
    fitted, translated = latent_search(g, target, source=0, steps=200, lr=0.1)
    assert (fitted - target).square().sum() < 0.2 * (start - target).square().sum()
    x1, x2 = g(torch.zeros(3, 4))
    assert_close(start, x1)
    assert_close(latent_search(g, target, source=0, steps=0, lr=0.1)[1], x2)  # the other domain, same z
    assert g.training is False and all(p.grad is None for p in g.parameters())  # G untouched


@needs_shared_data
def test_ganrun_translate_grid_writes_a_grid_and_refuses_a_game_that_cannot(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ckpt = _trained(tmp_path / "cogan", "game=cogan", "dataset.resolution=8", f"dataset.root={SHARED_DATA}")
    assert _translate(capsys, f"checkpoint={ckpt}", "out=t.png", "num=3", "steps=5", "source=B")[0] == 0
    assert Image.open(tmp_path / "t.png").size == (2 + 3 * 10, 2 + 3 * 10)  # 3 rows x 3 columns of 8 px, pad 2
    code, err = _translate(capsys, f"checkpoint={ckpt}", "out=u.png", "source=C")
    assert code == 2 and err.strip().count("\n") == 0 and "source=C" in err
    vae = _trained(tmp_path / "vae", "game=vae", "dataset=digits")
    code, err = _translate(capsys, f"checkpoint={vae}", "out=v.png")
    assert code == 2 and "does not translate" in err
    assert not (tmp_path / "u.png").exists() and not (tmp_path / "v.png").exists()


def test_translator_is_the_latent_search_as_a_network():
    from ganrun.games.cogan import LatentSearch

    torch.manual_seed(0)
    g = CoupledGenerator(latent_dim=4, data_shape=(1, 8, 8), width=4).eval()
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():  # a translation command runs networks under no_grad: the search still works
        out = LatentSearch(g, source=1, steps=3, lr=0.1)(x)
    assert_close(out, latent_search(g, x, source=1, steps=3, lr=0.1)[1])
