"""The batched seeds path (ganrun.run.batched): every seed's trained networks bitwise those of its own
`ganrun train` run at one torch thread (within a tolerance at two), and the runs it cannot replay
refused in one line."""

from __future__ import annotations

import contextlib

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
    """Bitwise at one torch thread (OMP_NUM_THREADS=1, how the study presets run: one job per core)."""
    with torch_threads(1):
        compare_with_separate_runs(tmp_path, [*SMALL, *extra], rtol=0.0, atol=0.0)


def test_at_two_threads_every_seed_is_its_separate_run_within_a_tolerance(tmp_path):
    """At two threads ATen splits the reductions of the stacked step (G's batch norm and linear
    backward over 10 x the separate run's channels) otherwise than the separate run's: last-bit
    differences (measured: 1e-11 to 4e-9 after one step of the preset's networks), not bitwise."""
    with torch_threads(2):
        compare_with_separate_runs(tmp_path, [*SMALL, "experiment=pacgan_grid", "trainer.steps=3"], rtol=1e-4, atol=1e-6)


@contextlib.contextmanager
def torch_threads(count: int):
    threads = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def compare_with_separate_runs(tmp_path, overrides: list[str], rtol: float, atol: float) -> None:
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
            torch.testing.assert_close(got[name], value, rtol=rtol, atol=atol, msg=lambda m: f"seed {seed}, {name}: {m}")
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


# ---------------------------------------------------------------- the pieces, on their own


def _forward_backward(f, upstream, *tensors):
    leaves = [t.detach().clone().requires_grad_() for t in tensors]
    y = f(*leaves)
    y.backward(upstream)
    return [y.detach(), *(leaf.grad for leaf in leaves)]


@pytest.mark.parametrize("n, fan_in, fan_out", [(100, 2, 32), (50, 4, 80), (8, 6, 40), (33, 2, 7), (50, 16, 1),
                                                (100, 32, 2), (12, 8, 1), (100, 200, 1)])
def test_small_linear_rounds_the_same_stacked_or_not(n, fan_in, fan_out):
    from ganrun.models.layers import small_linear

    generator = torch.Generator().manual_seed(n * fan_in + fan_out)
    x, weight, bias, upstream = (torch.randn(3, *shape, generator=generator)
                                 for shape in [(n, fan_in), (fan_out, fan_in), (fan_out,), (n, fan_out)])
    stacked = _forward_backward(small_linear, upstream, x, weight, bias)
    for s in range(3):
        alone = _forward_backward(small_linear, upstream[s], x[s], weight[s], bias[s])
        for got, expected in zip(stacked, alone):
            assert torch.equal(got[s], expected)
        torch.testing.assert_close(alone[0], x[s] @ weight[s].T + bias[s])  # and it is a linear layer


def test_small_linear_exact_values_and_the_layers_that_use_it():
    from ganrun.models.layers import GEMM_MIN, SmallLinear, dense

    layer = SmallLinear(2, 3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
        layer.bias.copy_(torch.tensor([0.5, -1.0, 2.0]))
    assert torch.equal(layer(torch.tensor([[1.0, -1.0], [2.0, 0.5]])),
                       torch.tensor([[-0.5, -2.0, 1.0], [3.5, 7.0, 15.0]]))
    assert set(layer.state_dict()) == {"weight", "bias"}  # checkpoints as nn.Linear's
    assert type(dense(2, 400)) is SmallLinear and type(dense(200, 1)) is SmallLinear
    assert type(dense(GEMM_MIN, GEMM_MIN)) is torch.nn.Linear


@pytest.mark.parametrize("objective", ["ns", "minimax", "hinge", "lsgan"])
def test_seed_losses_are_each_seeds_own_loss_bitwise(objective):
    from ganrun import experiment
    from ganrun.run.seed_losses import seed_losses

    node = compose_config([f"objective={objective}"]).objective
    for n in (12, 33, 50):  # under, over and across AVX-512's 32-element vector loop
        generator = torch.Generator().manual_seed(n)
        real, fake = (3 * torch.randn(4, n, generator=generator) for _ in range(2))
        for loss, scores in [(experiment.make(node.d_loss), (real, fake)), (experiment.make(node.g_loss), (fake,))]:
            leaves = [score.clone().requires_grad_() for score in scores]
            batched = seed_losses(loss, *leaves)
            singles = [score.clone().requires_grad_() for score in scores]
            separate = sum(loss(*(single[s] for single in singles))[0] for s in range(4))
            for got, expected in zip(torch.autograd.grad(batched, leaves), torch.autograd.grad(separate, singles)):
                assert torch.equal(got, expected), (objective, n)
            torch.testing.assert_close(batched, separate)


def test_lean_adam_steps_as_fused_adam():
    from ganrun.run.lean_adam import LeanAdam

    start = [torch.randn(3, 4, generator=torch.Generator().manual_seed(i)) for i in range(2)]
    ours, theirs = ([torch.nn.Parameter(t.clone()) for t in start] for _ in range(2))
    lean = LeanAdam(torch.optim.Adam(ours, lr=1e-2, betas=(0.8, 0.999), fused=True))
    plain = torch.optim.Adam(theirs, lr=1e-2, betas=(0.8, 0.999), fused=True)
    assert lean.lean
    for step in range(4):
        for params in (ours, theirs):
            for i, p in enumerate(params):
                p.grad = torch.full_like(p, float(step - i)) + p.detach() ** 2
        lean.step()
        plain.step()
        for a, b in zip(ours, theirs):
            assert torch.equal(a, b)
    assert float(lean.optimizer.state[ours[1]]["step"]) == 4.0
    assert not LeanAdam(torch.optim.Adam(ours, amsgrad=True, fused=True)).lean  # its own step()


def test_next_indices_hand_out_the_batches_of_the_stream_across_epochs():
    from torch.utils.data import TensorDataset

    from ganrun.data.batches import Batches

    dataset = TensorDataset(torch.arange(10.0).unsqueeze(1), torch.zeros(10))
    ours, theirs = (Batches(dataset, 3, seed=4, device="cpu") for _ in range(2))
    for _ in range(8):  # 3 batches an epoch (drop_last): crosses two epoch boundaries
        assert torch.equal(dataset.tensors[0][ours.next_indices()], next(theirs)[0])
    assert ours.state_dict() == theirs.state_dict() == {"epoch": 2, "batch": 2}
