"""What a checkpoint carries and what a resume accepts: every stateful part by name, the data
stream's position, the config keys that may change, and resume_force."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from ganrun import experiment, loop
from ganrun.run import checkpoint
from ganrun.errors import ConfigError
from tests.conftest import tiny_config
from tests.tiny_runs import RUN, config, final_state, inputs, one_thread  # noqa: F401

def test_every_stateful_part_is_saved_and_restored_by_name(tmp_path):
    """A component added to the Experiment (here: an LR scheduler and an EMA copy) is carried with no other edit."""
    from dataclasses import dataclass

    from ganrun.run import state

    @dataclass
    class WithExtras:
        generator: torch.nn.Module
        optimizer_g: torch.optim.Optimizer
        scheduler: torch.optim.lr_scheduler.LRScheduler
        ema: torch.nn.Module
        g_loss: object  # not stateful: left out

    def make(seed):
        torch.manual_seed(seed)
        g, ema = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
        opt = torch.optim.Adam(g.parameters())
        return WithExtras(g, opt, torch.optim.lr_scheduler.StepLR(opt, 1, 0.5), ema, lambda x: x)

    run = make(0)
    run.generator(torch.ones(1, 3)).sum().backward()
    run.optimizer_g.step()
    run.scheduler.step()
    parts = state.stateful_parts(run)
    assert list(parts) == ["generator", "optimizer_g", "scheduler", "ema"]
    cfg = tiny_config()
    checkpoint.save(state.training_state(parts, cfg, 7), tmp_path / "step_00000007.pt")
    saved = checkpoint.load(tmp_path / "step_00000007.pt")
    fresh = make(1)
    assert state.restore(state.stateful_parts(fresh), saved, cfg, tmp_path) == 7
    for name in parts:
        assert_close(state.stateful_parts(fresh)[name].state_dict(), parts[name].state_dict(), rtol=0, atol=0)


@pytest.mark.parametrize("in_memory, workers", [(True, 0), (False, 0), (False, 1)])
def test_the_batch_stream_continues_from_its_position(in_memory, workers):
    from ganrun.data import InMemory, infinite_batches

    class Numbered(torch.utils.data.Dataset):  # no `.tensors`: batched through a DataLoader
        def __len__(self):
            return 23

        def __getitem__(self, i):
            return torch.tensor([float(i)]), torch.tensor(i)

    def stream():
        data = (InMemory(torch.arange(23.0)[:, None], torch.arange(23), name="n", num_classes=None)
                if in_memory else Numbered())
        return infinite_batches(data, 4, seed=5, device="cpu", num_workers=workers)

    first = stream()
    global_rng = torch.get_rng_state()
    for _ in range(13):  # 5 batches an epoch: into the third
        next(first)
    assert torch.equal(torch.get_rng_state(), global_rng)  # the latents' and dropout's RNG is not drawn from
    position = first.state_dict()
    expected = [next(first)[1] for _ in range(9)]
    resumed = stream()
    resumed.load_state_dict(position)
    assert position == {"epoch": 2, "batch": 3}
    assert_close([next(resumed)[1] for _ in range(9)], expected, rtol=0, atol=0)


def test_a_checkpoint_of_another_config_is_refused_before_anything_is_written(inputs, tmp_path):
    path = inputs / "another_config.pt"
    with pytest.raises(ConfigError) as error:
        loop.run(config(*RUN, "seed=4", f"trainer.resume={path}"), tmp_path / "run")
    assert str(error.value) == (
        f"checkpoint {path} was trained with another config (seed: 3 -> 4): continue it with the same config, "
        "train in a new folder (hydra.run.dir=...), or set trainer.resume_force=true")
    assert list(tmp_path.iterdir()) == []


def test_resume_force_continues_despite_differences_but_never_into_networks_that_do_not_fit(inputs, tmp_path, capsys):
    path = inputs / "another_config.pt"
    loop.run(config(*RUN, "seed=4", "trainer.steps=3", f"trainer.resume={path}", "trainer.resume_force=true"),
              tmp_path / "forced")
    assert (f"ganrun: warning: trainer.resume_force=true: continuing {path} although seed: 3 -> 4"
            in capsys.readouterr().err)
    assert final_state(tmp_path / "forced")["step"] == 3  # went on from step 2

    with pytest.raises(ConfigError) as error:
        loop.run(config(*RUN, "architecture.generator.width=32", f"trainer.resume={path}",
                         "trainer.resume_force=true"), tmp_path / "misfit")
    assert str(error.value) == (
        f"the generator of checkpoint {path} does not fit this config (size mismatch for hidden.0.weight: copying "
        "a param with shape torch.Size([16, 100]) from checkpoint, the shape in current model is "
        "torch.Size([32, 100]).): resume with the config it was trained with")
    assert not (tmp_path / "misfit").exists()


def test_only_keys_that_change_the_run_count_as_differences():
    from ganrun.run.resume import config_differences

    saved = config(*RUN)
    moved = config(*RUN, "trainer.steps=9", "trainer.log_every=3", "trainer.checkpoint_every=4",
                   "trainer.progress=lines", "trainer.keep_checkpoints=0", "trainer.on_nan=skip",
                   "trainer.num_workers=2", "metrics.every=7")
    assert config_differences(saved, moved) == []
    assert config_differences(saved, config(*RUN, "trainer.batch_size=4", "optimizer.lr=0.001")) == [
        "optimizer.discriminator.lr: 0.0001 -> 0.001", "optimizer.generator.lr: 0.0001 -> 0.001",
        "optimizer.lr: 0.0001 -> 0.001", "trainer.batch_size: 8 -> 4"]
