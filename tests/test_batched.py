"""The batched seeds path (ganrun.run.batched): every seed's trained networks bitwise those of its own
`ganrun train` run, and the runs it cannot replay refused in one line."""

from __future__ import annotations

import pytest
import torch

from ganrun import loop
from ganrun.errors import ConfigError
from ganrun.run.batched_study import build_batched
from tests.conftest import compose_config

STEPS = 12
SMALL = ["experiment=pacgan_grid", "architecture.generator.width=16", "architecture.generator.depth=2",
         "architecture.discriminator.width=8", "architecture.discriminator.depth=2", "trainer.batch_size=20",
         f"trainer.steps={STEPS}", "trainer.device=cpu", "trainer.progress=off", "trainer.checkpoint_every=0",
         "trainer.sample_every=0", "trainer.log_every=5", "metrics=none"]


def batched_steps(overrides: list[str]) -> int:
    return compose_config(overrides).trainer.steps


def separate_run(overrides: list[str], seed: int, tmp_path) -> dict[str, torch.Tensor]:
    run_dir = tmp_path / f"seed{seed}"
    loop.run(compose_config([*overrides, f"seed={seed}"]), run_dir)
    saved = torch.load(next((run_dir / "checkpoints").glob("*.pt")), weights_only=True)
    return {**{f"G.{k}": v for k, v in saved["generator"].items()},
            **{f"D.{k}": v for k, v in saved["discriminator"].items()}}


@pytest.mark.parametrize("extra", [["tricks.pack=1", "trainer.batch_size=24"],
                                   ["tricks.pack=3", "trainer.batch_size=24", "dataset=ring"],
                                   # the preset's own networks (G 4 x 400, D 3 x 200 x 5 pieces), batch 100
                                   ["experiment=pacgan_grid", "trainer.steps=3"]])
def test_every_seed_is_bitwise_its_separate_run(tmp_path, extra):
    overrides = [*SMALL, *extra]
    seeds = [0, 1, 2]
    batched, built = build_batched(compose_config(overrides), seeds)
    batched.train(batched_steps(overrides))
    batched.finish()
    for seed, game in zip(seeds, built):
        expected = separate_run(overrides, seed, tmp_path)
        got = {**{f"G.{k}": v for k, v in game.generator.state_dict().items()},
               **{f"D.{k}": v for k, v in game.discriminator.state_dict().items()}}
        assert got.keys() == expected.keys()
        for name, value in expected.items():
            assert torch.equal(got[name], value), (seed, name, (got[name].double() - value.double()).abs().max())
    # the seeds differ from each other, so equality above says something
    assert not torch.equal(built[0].generator.output.weight, built[1].generator.output.weight)


@pytest.mark.parametrize("override, named", [
    ("tricks.ema_decay=0.99", "tricks other than pack"),
    ("objective=wgan_gp", "objective.d_steps != 1, a penalty"),
    ("architecture.discriminator.dropout=0.2", "dropout"),
])
def test_runs_it_cannot_replay_are_refused(override, named):
    with pytest.raises((ConfigError, ValueError), match=named):
        build_batched(compose_config([*SMALL, override]), [0, 1])
