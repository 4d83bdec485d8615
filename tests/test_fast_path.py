"""The fast path (ganrun/fast_path.py): each switch trains the same objective as plain fp32, on-device
batches follow the DataLoader's distribution, fp16's loss scaling is exact, and the pieces switch on
only where they should. The benchmark's smoke run is in test_bench.py."""

from __future__ import annotations

import contextlib
import copy
import io
import warnings
from functools import partial

import pytest
import torch
from scipy.stats import chi2
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn
from torch.testing import assert_close

from ganrun import experiment, loop
from ganrun.run import checkpoint, fast_path
from ganrun.errors import ConfigError
from ganrun.data import InMemory, infinite_batches
from ganrun.run.resume import config_differences
from ganrun.models.dcgan import Generator
from tests.conftest import tiny_config

# ---------------------------------------------------------------- the pieces


def test_autocast_runs_the_network_in_bf16_and_hands_back_float32():
    torch.manual_seed(0)
    generator = Generator(16, (1, 8, 8), width=8)
    seen = []
    generator.upsample[0].register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    z = torch.randn(4, 16)
    fast = fast_path.Autocast(generator, torch.bfloat16, "cpu")(z)
    plain = generator(z)
    assert seen == [torch.bfloat16, torch.float32]
    assert fast.dtype == torch.float32
    assert_close(fast, plain, atol=3e-2, rtol=0)  # bf16 keeps 8 significant bits
    assert not torch.equal(fast, plain)


def test_loss_scaling_gives_the_plain_gradients_and_skips_an_overflowing_step():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    twin = copy.deepcopy(model)
    x = torch.randn(5, 3)
    optimizer, twin_optimizer = (torch.optim.SGD(m.parameters(), lr=0.1) for m in (model, twin))
    scaling = fast_path.LossScaling("fp16", torch.device("cpu"), optimizer=optimizer)

    scaling.backward(model(x).pow(2).mean(), optimizer)
    twin(x).pow(2).mean().backward()
    for scaled, plain in zip(model.parameters(), twin.parameters()):  # unscaled by 2^-16: exact
        assert_close(scaled.grad, plain.grad, rtol=0, atol=0)
    scaling.step(optimizer)
    twin_optimizer.step()
    for stepped, plain in zip(model.parameters(), twin.parameters()):
        assert_close(stepped, plain, rtol=0, atol=0)

    before = [p.detach().clone() for p in model.parameters()]
    optimizer.zero_grad()
    scaling.backward(model(x).sum() * float("inf"), optimizer)
    scaling.step(optimizer)
    for p, old in zip(model.parameters(), before):
        assert_close(p.detach(), old, rtol=0, atol=0)
    assert scaling.scalers[optimizer].get_scale() == 2.0**16 * 0.5  # backed off once

    saved = scaling.state_dict()  # checkpoints carry the scale, under the optimizer's name
    assert saved["optimizer"]["scale"] == 2.0**15
    resumed = fast_path.LossScaling("fp16", torch.device("cpu"), optimizer=optimizer)
    resumed.load_state_dict(saved)
    assert resumed.scalers[optimizer].get_scale() == 2.0**15
    plain = fast_path.LossScaling("fp32", torch.device("cpu"), optimizer=optimizer)
    plain.load_state_dict(saved)  # an fp16 checkpoint resumed in fp32: nothing to scale
    assert plain.state_dict() == {}


def test_fused_kernels_only_where_the_yaml_leaves_the_choice_to_the_trainer():
    params = [nn.Parameter(torch.zeros(3))]
    adam = partial(torch.optim.Adam, lr=1e-3, fused=None)
    assert fast_path.make_optimizer(adam, params, torch.device("cpu")).defaults["fused"] is True
    assert fast_path.make_optimizer(adam, params, torch.device("cuda")).defaults["fused"] is True
    assert fast_path.make_optimizer(adam, params, torch.device("mps")).defaults["fused"] is None
    forced = partial(torch.optim.Adam, lr=1e-3, fused=False)
    assert fast_path.make_optimizer(forced, params, torch.device("cuda")).defaults["fused"] is False
    rmsprop = partial(torch.optim.RMSprop, lr=1e-3)  # no `fused` key: built as written
    assert isinstance(fast_path.make_optimizer(rmsprop, params, torch.device("cuda")), torch.optim.RMSprop)

    exp = loop.build(tiny_config(), torch.device("cpu"))  # the adam YAML says fused: null
    assert exp.optimizer_g.defaults["fused"] is True and exp.optimizer_d.defaults["fused"] is True
    exp = loop.build(tiny_config("optimizer.fused=false"), torch.device("cpu"))
    assert exp.optimizer_g.defaults["fused"] is False


def test_tf32_and_cudnn_benchmark_are_set_for_cuda_only():
    saved = torch.get_float32_matmul_precision(), torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark
    try:
        torch.set_float32_matmul_precision("highest")
        torch.backends.cudnn.benchmark = False
        fast_path.configure_backends(torch.device("cpu"), tiny_config().trainer)
        assert (torch.get_float32_matmul_precision(), torch.backends.cudnn.benchmark) == ("highest", False)
        fast_path.configure_backends(torch.device("cuda"), tiny_config().trainer)  # flags only: no GPU needed
        assert (torch.get_float32_matmul_precision(), torch.backends.cudnn.allow_tf32,
                torch.backends.cudnn.benchmark) == ("high", True, True)
        fast_path.configure_backends(torch.device("cuda"), tiny_config("trainer.tf32=false").trainer)
        assert (torch.get_float32_matmul_precision(), torch.backends.cudnn.allow_tf32) == ("highest", False)
    finally:
        torch.set_float32_matmul_precision(saved[0])
        torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark = saved[1], saved[2]


@pytest.mark.parametrize("overrides, message", [
    (["trainer.precision=fp8"], "trainer.precision=fp8 is not an option"),
    (["objective=wgan", "trainer.reuse_fake=true"], "trainer.reuse_fake=true needs objective.d_steps=1"),
])
def test_fast_path_mistakes_are_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        tiny_config(*overrides)


@pytest.mark.parametrize("reuse, g_passes", [(False, 2 * 3), (True, 3)])
def test_reuse_fake_saves_one_generator_pass_per_step(tmp_path, monkeypatch, reuse, g_passes):
    """Algorithm 1 runs G on a fresh latent batch for its update; reuse_fake uses the D step's fakes."""
    calls = []
    real_build = loop.build

    def counting_build(cfg, device, **kw):
        exp = real_build(cfg, device, **kw)
        exp.generator.register_forward_hook(lambda m, i, o: calls.append(m.training))
        return exp

    monkeypatch.setattr(loop, "build", counting_build)
    loop.run(tiny_config("trainer.steps=3", f"trainer.reuse_fake={str(reuse).lower()}"), tmp_path)
    assert calls.count(True) == g_passes  # training-mode passes; the sample grid's are in eval mode


def test_fp16_checkpoints_carry_the_loss_scales(tmp_path):
    loop.run(tiny_config("trainer.precision=fp16"), tmp_path)
    saved = checkpoint.load(checkpoint.checkpoint_path(tmp_path / "checkpoints", 2))
    assert set(saved["loss_scaling"]) == {"optimizer_d", "optimizer_g"}
    assert saved["loss_scaling"]["optimizer_g"]["scale"] in (2.0**16, 2.0**15)  # at most one overflow in 2 steps


def test_the_fast_path_keys_may_change_on_resume_but_reuse_fake_may_not():
    plain = tiny_config()
    fast = tiny_config("trainer=fast", "trainer.precision=fp16", "trainer.data_on_device=false")
    assert config_differences(plain, fast) == []
    assert config_differences(plain, tiny_config("trainer.reuse_fake=true")) == ["trainer.reuse_fake: False -> True"]


def test_compile_warns_that_the_gradient_penalty_runs_eagerly(capsys):
    trainer = tiny_config("trainer.compile=true").trainer
    fast_path.warn_eager_penalty(trainer, True)
    assert capsys.readouterr().err.startswith("ganrun: warning: trainer.compile=true: the gradient penalty's pass")
    fast_path.warn_eager_penalty(trainer, False)
    fast_path.warn_eager_penalty(tiny_config().trainer, True)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- on-device batches


def positions(batches, size: int, per_epoch: int, epochs: int) -> torch.Tensor:
    """counts[item, slot]: how often each item came at each position of an epoch."""
    counts = torch.zeros(size, per_epoch)
    for _ in range(epochs):
        slot = 0
        for _ in range(per_epoch // 4):
            x, y = next(batches)
            assert torch.equal(x[:, 0].long(), y)  # items keep their labels
            for item in y.tolist():
                counts[item, slot] += 1
                slot += 1
    return counts


def test_on_device_batches_sample_the_dataloader_distribution():
    """10 items, batches of 4 (2 per epoch, 2 left out): each path must give each epoch 8 distinct items,
    every item equally often and in every position equally often (chi-square at p = 0.001)."""
    size, epochs = 10, 600
    dataset = InMemory(torch.arange(size, dtype=torch.float32)[:, None], torch.arange(size), name="ten",
                       num_classes=None)
    for on_device in (True, False):
        batches = infinite_batches(dataset, 4, seed=0, device="cpu", on_device=on_device)
        counts = positions(batches, size, 8, epochs)
        assert counts.sum() == 8 * epochs
        expected = epochs / size  # per (item, slot)
        statistic = float(((counts - expected) ** 2 / expected).sum())
        assert statistic < chi2.ppf(0.999, counts.numel() - 1), (on_device, statistic)
        per_item = counts.sum(1)
        assert float(((per_item - 8 * epochs / size) ** 2 / (8 * epochs / size)).sum()) < chi2.ppf(0.999, size - 1)


def test_a_dataset_with_one_fixed_order_fails_the_distribution_check():
    """The check above can fail: a stream that never reshuffles is far outside it."""
    fixed = iter([(torch.arange(4.0)[:, None] + 4 * (i % 2), torch.arange(4) + 4 * (i % 2)) for i in range(2 * 600)])
    counts = positions(fixed, 10, 8, 600)
    expected = 600 / 10
    assert float(((counts - expected) ** 2 / expected).sum()) > chi2.ppf(0.999, counts.numel() - 1)


# ---------------------------------------------------------------- same objective, same losses

RUN = ["trainer.steps=300", "trainer.batch_size=32", "trainer.log_every=10", "trainer.sample_every=0"]
COMPILED = ["trainer.compile=true", "trainer.compile_backend=aot_eager"]  # dynamo + AOTAutograd, no codegen


def late_losses(tmp_path, *overrides: str) -> torch.Tensor:
    """Mean loss/D and loss/G over the last 100 of 300 steps of a tiny DCGAN on digits."""
    folder = tmp_path / "_".join(overrides).replace("/", "_")
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loop.run(tiny_config(*RUN, *overrides), folder)
    events = EventAccumulator(str(folder))
    events.Reload()
    return torch.tensor([sum(e.value for e in events.Scalars(tag)[-10:]) / 10 for tag in ("loss/D", "loss/G")])


@pytest.fixture(scope="module")
def one_thread():
    """These nets are tiny: one thread is as fast, and on a shared CPU two threads spinning for cores
    held by others made these runs 30x slower (135 s instead of 4 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def plain_fp32(tmp_path_factory, one_thread) -> torch.Tensor:
    return late_losses(tmp_path_factory.mktemp("plain"), "trainer.data_on_device=false")


# Seeds move these means by up to ~0.015; lr x2 moves them by 0.04 and 0.10 (at seed 0): 0.02 tells them apart.
TOLERANCE = 0.02


@pytest.mark.parametrize("overrides", [
    ["trainer.data_on_device=true"],
    ["trainer.precision=bf16"],
    ["trainer.channels_last=true"],
    ["trainer.reuse_fake=true"],
    ["trainer.precision=bf16", "trainer.channels_last=true", *COMPILED],
], ids=["on_device", "bf16", "channels_last", "reuse_fake", "bf16+channels_last+compile+on_device"])
def test_fast_path_trains_to_the_losses_of_plain_fp32(tmp_path, plain_fp32, one_thread, overrides):
    assert_close(late_losses(tmp_path, *overrides), plain_fp32, atol=TOLERANCE, rtol=0)


def test_the_loss_comparison_catches_a_different_learning_rate(tmp_path, plain_fp32, one_thread):
    with pytest.raises(AssertionError):
        assert_close(late_losses(tmp_path, "optimizer.lr=4e-4"), plain_fp32, atol=TOLERANCE, rtol=0)
