"""game=lapgan (Denton et al. 2015): the real pyramid by hand, a sample's composition u(I_{k+1}) + h_k,
the per-level losses against their formulas, two steps through the loop writing every level's grid, a
bitwise resume, and `ganrun sample` / `ganrun eval` on its checkpoint."""

import json

import torch
from omegaconf import open_dict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.nn.functional import softplus
from torch.testing import assert_close

from ganrun import loop
from ganrun.models.lapgan import Generator
from ganrun.models.laplacian import up
from ganrun.run import checkpoint
from tests.conftest import compose_config
from tests.tiny_runs import one_thread  # noqa: F401  (module-wide: one thread, bitwise comparisons)

# digits at 8x8 with a 2x2 coarsest level: three levels (2 -> 4 -> 8)
TINY = ["game=lapgan", "dataset=digits", "trainer.steps=2", "trainer.batch_size=8",
        "trainer.log_every=1", "trainer.sample_every=1", "trainer.checkpoint_every=1", "trainer.num_grid_samples=4",
        "trainer.device=cpu", "trainer.progress=off", "metrics=none", "architecture.latent_dim=8",
        "architecture.generator.coarse_side=2", "architecture.generator.hidden=16", "architecture.generator.width=4",
        "architecture.discriminator.hidden=16", "architecture.discriminator.width=4"]


def config(*overrides: str):
    cfg = compose_config([*TINY, *overrides])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg


def test_real_levels_by_hand():
    from ganrun.games.lapgan import LaplacianGame, real_levels

    x = torch.tensor([[1.0, 3.0], [5.0, 7.0]]).view(1, 1, 2, 2)
    (none, top), (low, h) = real_levels(x, 2)
    assert none is None
    assert_close(top, torch.tensor([[[[4.0]]]]))
    assert_close(low, torch.full_like(x, 4.0))  # u(I_1)
    assert_close(h, torch.tensor([[-3.0, -1.0], [1.0, 3.0]]).view(1, 1, 2, 2))  # h_0 = I_0 - u(I_1)
    reals = LaplacianGame.reals(real_levels(x, 2))
    assert_close(reals[0], top)
    assert_close(reals[1], x)  # D_0 is shown l_0 + h_0 = the real image


def test_sample_is_the_composed_pyramid():
    torch.manual_seed(0)
    g = Generator(6, (1, 32, 32), coarse_side=8, hidden=16, width=4).eval()
    z = torch.randn(3, 6)
    noise = g.noise(3)
    images = g.levels(z, noise)
    assert [im.shape[-1] for im in images] == [8, 16, 32]
    with torch.no_grad():
        for k in (1, 2):  # I_k = u(I_{k-1}) + G_k(z_k, u(I_{k-1}))
            low = up(images[k - 1])
            assert torch.equal(images[k], low + g.residuals[k - 1](noise[k - 1], low))
        torch.manual_seed(5)
        sampled = g(z)
        torch.manual_seed(5)
        assert torch.equal(sampled, g.levels(z, g.noise(3))[-1])  # forward runs the whole pyramid


def test_coarse_generator_batch_norm():
    """G_K normalises both hidden layers over the batch when batch_norm (without it G_K started with
    z's effect ~0.1 per pixel and collapsed on MNIST, docs/coupled_progressive_vae.md); none without."""
    torch.manual_seed(0)
    g = Generator(6, (1, 16, 16), coarse_side=8, hidden=12, width=4)
    z = torch.randn(32, 6)
    pre = g.coarse[0](z)  # Linear, then BatchNorm1d (gamma 1, beta 0 at init): (a - mean) / sqrt(var + 1e-5)
    expected = (pre - pre.mean(0)) / (pre.var(0, unbiased=False) + 1e-5).sqrt()
    assert_close(g.coarse[:2](z), expected)
    plain = Generator(6, (1, 16, 16), coarse_side=8, hidden=12, width=4, batch_norm=False)
    assert [type(m).__name__ for m in g.coarse if isinstance(m, torch.nn.BatchNorm1d)] == ["BatchNorm1d"] * 2
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in plain.modules())


def test_per_level_losses_are_the_ns_formulas():
    from ganrun.experiment import build

    game = build(config("architecture.discriminator.dropout=0"), torch.device("cpu")).game
    batch = game.next_batch()
    torch.manual_seed(1)
    loss, terms = game.discriminator_loss(batch)
    torch.manual_seed(1)
    g, d = game.generator, game.discriminator
    with torch.no_grad():
        fakes = [g.coarse(torch.randn(8, 8))]
        for k, side in ((0, 4), (1, 8)):
            low = batch[k + 1][0]
            fakes.append(low + g.residuals[k](torch.randn(8, 1, side, side), low))
        reals = [batch[0][1]] + [low + h for low, h in batch[1:]]
        # NS / minimax D loss per level (Goodfellow et al. 2014): -E log D(x) - E log(1 - D(G(z)))
        levels = [softplus(-d(r, k)).mean() + softplus(d(f, k)).mean() for k, (r, f) in enumerate(zip(reals, fakes))]
    assert_close(loss, sum(levels))
    for side, expected in zip((2, 4, 8), levels):
        assert_close(terms[f"level_{side}/D"], expected)
    torch.manual_seed(2)
    g_loss, g_terms = game.generator_loss(batch)
    torch.manual_seed(2)
    with torch.no_grad():
        fakes = [g.coarse(torch.randn(8, 8))]
        for k, side in ((0, 4), (1, 8)):
            low = batch[k + 1][0]
            fakes.append(low + g.residuals[k](torch.randn(8, 1, side, side), low))
        levels = [softplus(-d(f, k)).mean() for k, f in enumerate(fakes)]  # NS G loss: -E log D(G(z))
    assert_close(g_loss, sum(levels))
    assert_close(g_terms["level_8/G"], levels[2])


def test_two_steps_grids_resume_sample_eval(tmp_path):
    from ganrun.commands import evaluate, sample

    whole, parts = tmp_path / "whole", tmp_path / "parts"
    loop.run(config(), whole)
    events = EventAccumulator(str(whole))
    events.Reload()
    tags = set(events.Tags()["images"]) | set(events.Tags()["scalars"])
    wanted = {"samples/level_2", "samples/level_4", "samples/residual_finest", "samples/fixed", "level_2/D",
              "level_8/D", "level_8/G"}
    assert wanted <= tags, wanted - tags
    loop.run(config("trainer.steps=1"), parts)  # stopped after step 1 ...
    loop.run(config(), parts)                   # ... and continued from its checkpoint
    reference = checkpoint.load(checkpoint.latest(whole / "checkpoints"))
    resumed = checkpoint.load(checkpoint.latest(parts / "checkpoints"))
    assert resumed["step"] == reference["step"] == 2
    assert resumed.keys() == reference.keys()
    for part in reference.keys() - {"format", "config", "rng"}:
        assert_close(resumed[part], reference[part], rtol=0, atol=0, msg=lambda m: f"{part}: {m}")
    assert_close(resumed["rng"]["torch"], reference["rng"]["torch"], rtol=0, atol=0)
    latest = checkpoint.latest(whole / "checkpoints")
    sample.main([f"checkpoint={latest}", "num=6", f"out={tmp_path / 's.npz'}", "device=cpu"])
    import numpy as np

    arrays = np.load(tmp_path / "s.npz")
    assert next(iter(arrays.values())).shape[0] == 6
    evaluate.main([f"checkpoint={latest}", f"out={tmp_path / 'm.json'}", "device=cpu", "metrics.num_samples=200",
                   "metrics.kid_subset_size=50", "metrics.kid_subsets=5"])
    results = json.loads((tmp_path / "m.json").read_text())
    assert results["step"] == 2 and results["FID_classifier"] > 0, results
