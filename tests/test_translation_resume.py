"""The runner's guarantees hold for the translation games: the same seed twice gives bitwise the same
checkpoint, and a run stopped after step 1 and resumed is bitwise the uninterrupted one — weights,
optimizers, data streams, CycleGAN's replay pools and SimGAN's history buffer included."""

import signal

import pytest
from torch.testing import assert_close

from ganrun import loop
from ganrun.run import checkpoint
from tests.conftest import needs_shared_data
from tests.test_resume import signal_at_step
from tests.test_translation_games import tiny
from tests.tiny_runs import one_thread  # noqa: F401  (module-wide: one thread, bitwise comparisons)


@needs_shared_data
@pytest.mark.parametrize("game", ["pix2pix", "cyclegan", "srgan", "simgan"])
def test_same_seed_twice_and_resume_are_bitwise(game, tmp_path, monkeypatch):
    def config(*overrides):
        return tiny(game, "trainer.checkpoint_every=1", "trainer.sample_every=0", *overrides)

    whole, again, parts = tmp_path / "whole", tmp_path / "again", tmp_path / "parts"
    loop.run(config(), whole)
    loop.run(config(), again)                        # the same seed again
    with monkeypatch.context() as patch:             # stopped by Ctrl-C after step 1 (trainer.steps stays 2:
        signal_at_step(patch, signal.SIGINT, at=1)   # CycleGAN's LR decay is scheduled from it) ...
        with pytest.raises(SystemExit):
            loop.run(config(), parts)
    loop.run(config(), parts)                        # ... and continued from its checkpoint
    reference = checkpoint.load(checkpoint.latest(whole / "checkpoints"))
    for other in (again, parts):
        saved = checkpoint.load(checkpoint.latest(other / "checkpoints"))
        assert saved["step"] == reference["step"] == 2 and saved.keys() == reference.keys()
        for part in reference.keys() - {"format", "config", "rng"}:
            assert_close(saved[part], reference[part], rtol=0, atol=0, msg=lambda m: f"{part}: {m}")
        assert_close(saved["rng"]["torch"], reference["rng"]["torch"], rtol=0, atol=0)
