"""The product's smoke test of learning: the default ring run covers several of the 8 modes."""

from __future__ import annotations

import torch

from ganrun import train
from ganrun.metrics.modes import mode_metrics
from tests.conftest import compose_config


def test_default_ring_run_puts_samples_on_several_modes(tmp_path, monkeypatch):
    # `ganrun train dataset=ring architecture=mlp objective=ns` at its default steps (2,000), in process.
    cfg = compose_config(["dataset=ring", "architecture=mlp", "objective=ns", "trainer.device=cpu",
                          "trainer.progress=off", "trainer.checkpoint_every=0", "trainer.sample_every=0"])
    built = {}
    real_build = train.build
    monkeypatch.setattr(train, "build", lambda cfg, device: built.setdefault("exp", real_build(cfg, device)))
    train.run(cfg, tmp_path)

    exp = built["exp"]
    samples = train.generate(exp.generator, torch.randn(2500, exp.latent_dim, generator=torch.Generator().manual_seed(0)))
    result = mode_metrics(samples, exp.dataset.modes, exp.dataset.std)
    print(f"default ring run: {result}")
    assert result["modes"] >= 5, result  # several of the 8 modes, not a collapse onto one or two
