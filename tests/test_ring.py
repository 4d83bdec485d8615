"""The product's smoke test of learning: the default ring run covers several of the 8 modes."""

from __future__ import annotations

import torch

from ganrun import experiment, loop
from ganrun.games.gan import generate
from ganrun.metrics.modes import mode_metrics
from tests.conftest import compose_config


def test_default_ring_run_puts_samples_on_several_modes(tmp_path, monkeypatch):
    # `ganrun train dataset=ring architecture=mlp objective=ns` at its default steps (2,000), in process.
    cfg = compose_config(["dataset=ring", "architecture=mlp", "objective=ns", "trainer.device=cpu",
                          "trainer.progress=off", "trainer.checkpoint_every=0", "trainer.sample_every=0"])
    built = {}
    real_build = loop.build
    monkeypatch.setattr(loop, "build", lambda cfg, device, **kw: built.setdefault("exp", real_build(cfg, device, **kw)))
    loop.run(cfg, tmp_path)

    exp = built["exp"]
    samples = generate(exp.generator, torch.randn(2500, exp.game.latent_dim, generator=torch.Generator().manual_seed(0)))
    result = mode_metrics(samples, exp.game.dataset.modes, exp.game.dataset.std)
    print(f"default ring run: {result}")
    assert result["modes"] >= 5, result  # several of the 8 modes, not a collapse onto one or two
