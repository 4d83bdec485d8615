"""game=vae, game=cogan, game=progressive through the real loop: two steps on the CPU write their grids
and scalars, and a run stopped after step 1 and resumed is bitwise the uninterrupted run."""


import pytest
import torch
from omegaconf import open_dict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.testing import assert_close

from ganrun import loop
from ganrun.run import checkpoint
from tests.conftest import SHARED_DATA, compose_config
from tests.tiny_runs import one_thread  # noqa: F401  (module-wide: one thread, bitwise comparisons)

TINY = ["trainer.steps=2", "trainer.batch_size=8", "trainer.log_every=1", "trainer.sample_every=1",
        "trainer.checkpoint_every=1", "trainer.num_grid_samples=4", "trainer.device=cpu", "trainer.progress=off",
        "metrics=none", "architecture.generator.width=4", "architecture.discriminator.width=4",
        "architecture.latent_dim=8"]
MNIST = [f"dataset.root={SHARED_DATA}", "dataset.download=false"]
GAMES = {  # game -> its overrides and the TensorBoard tags that show its idea
    "vae": (["dataset=digits"], {"samples/reconstructions", "samples/fixed", "loss/KL", "loss/reconstruction"}),
    "cogan": (["dataset=mnist_negative", "dataset.resolution=8", *MNIST],
              {"samples/pairs", "D/real_A", "D/fake_B", "loss/D"}),
    # 8x8: level 0 (4x4) for 8 images, then 8x8 fades in over 8 images: step 2 is mid fade-in
    "progressive": (["dataset=digits", "game.fade_images=16", "game.stable_images=8", "objective.d_steps=1"],
                    {"samples/fixed", "progressive/resolution", "progressive/alpha", "objective/drift"}),
}


def config(game: str, *overrides: str):
    cfg = compose_config([f"game={game}", *TINY, *GAMES[game][0], *overrides])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg


def _needs_data(game: str) -> None:
    if any("mnist" in o for o in GAMES[game][0]) and not SHARED_DATA.exists():
        pytest.skip(f"real datasets not found at {SHARED_DATA}")


@pytest.mark.parametrize("game", sorted(GAMES))
def test_two_steps_write_grids_and_resume_bitwise(game, tmp_path):
    _needs_data(game)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    loop.run(config(game), whole)
    events = EventAccumulator(str(whole))
    events.Reload()
    tags = set(events.Tags()["images"]) | set(events.Tags()["scalars"])
    assert GAMES[game][1] <= tags, GAMES[game][1] - tags
    loop.run(config(game, "trainer.steps=1"), parts)  # stopped after step 1 ...
    loop.run(config(game), parts)                     # ... and continued from its checkpoint
    reference = checkpoint.load(checkpoint.latest(whole / "checkpoints"))
    resumed = checkpoint.load(checkpoint.latest(parts / "checkpoints"))
    assert resumed["step"] == reference["step"] == 2
    assert resumed.keys() == reference.keys()
    for part in reference.keys() - {"format", "config", "rng"}:  # weights, optimizers, data streams
        assert_close(resumed[part], reference[part], rtol=0, atol=0, msg=lambda m: f"{part}: {m}")
    assert_close(resumed["rng"]["torch"], reference["rng"]["torch"], rtol=0, atol=0)  # the noise to come


def test_progressive_scalars_are_the_schedule():
    from ganrun.experiment import build

    game = build(config("progressive"), torch.device("cpu")).game
    seen = []
    for step in (1, 2, 3, 4):  # batch 8: 0, 8, 16, 24 images before the step
        game.start_step(step)
        seen.append((game.scalars()["progressive/resolution"], game.scalars()["progressive/alpha"]))
    assert seen == [(4.0, 1.0), (8.0, 0.0), (8.0, 0.5), (8.0, 1.0)]
