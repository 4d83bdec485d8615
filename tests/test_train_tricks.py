"""The tricks, conditioning and BEGAN's state inside the training loop: wired where they should act,
visible in TensorBoard, saved in the checkpoint."""

from __future__ import annotations

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.testing import assert_close

from ganrun import experiment, loop
from ganrun.games import gan
from ganrun.run import checkpoint
from tests.conftest import tiny_config


def scalars(run_dir) -> dict[str, list[float]]:
    events = EventAccumulator(str(run_dir))
    events.Reload()
    return {tag: [e.value for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def spy(monkeypatch, name, module=loop):
    """Wrap module.<name>, recording each call's arguments (and the object `build` returns)."""
    calls, real = [], getattr(module, name)

    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append((args, kwargs, result))
        return result

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_every_switch_on_trains_and_shows_in_tensorboard(tmp_path, monkeypatch):
    cfg = tiny_config("trainer.steps=3", "tricks.label_smoothing.real=0.9", "tricks.label_smoothing.fake=0.1",
                      "tricks.instance_noise.std=0.5", "tricks.instance_noise.anneal_steps=2",
                      "tricks.history.size=16", "tricks.ema_decay=0.9", "tricks.minibatch_std=true",
                      "tricks.mixed_bn_batches=true", "tricks.latent=spherical", "tricks.linear_lr_decay=true",
                      "tricks.grad_clip=1.0")
    builds, inputs, grids = spy(monkeypatch, "build"), spy(monkeypatch, "discriminator_input", gan), spy(monkeypatch, "generate", gan)
    loop.run(cfg, tmp_path)
    exp = builds[0][2]

    assert exp.game.objective.d_loss.keywords == {"real_target": 0.9, "fake_target": 0.1}  # the D loss's targets
    # instance noise: every input of D at step s got the annealed std (0.5, 0.25, 0); 3 per step
    assert [args[1] for args, _, _ in inputs] == [0.5] * 3 + [0.25] * 3 + [0.0] * 3
    values = scalars(tmp_path)
    assert values["objective/real_target"] == pytest.approx([0.9] * 3)
    assert values["objective/fake_target"] == pytest.approx([0.1] * 3)
    assert values["tricks/instance_noise_std"] == [0.5, 0.25, 0.0]
    assert values["tricks/history_fill"] == [0.25, 0.5, 0.75]  # 4 of each batch of 8 into 16 places
    assert values["tricks/ema_decay"] == pytest.approx([0.9] * 3)
    assert values["lr/D"] == pytest.approx([2e-4 * 2 / 3, 2e-4 / 3, 0.0])
    assert {"tricks/grad_clip", "tricks/minibatch_std", "tricks/mixed_bn_batches"} <= set(values)
    # grids come from the EMA generator, not from G
    assert all(args[0] is not exp.generator for args, _, _ in grids)
    state = checkpoint.load(sorted((tmp_path / "checkpoints").glob("step_*.pt"))[-1])
    assert {"ema_generator", "history", "scheduler_d", "scheduler_g"} <= set(state)
    assert state["history"]["count"] == 12


def test_adaptive_schedule_trains_d_while_above_t_d_and_g_while_above_t_g(tmp_path, monkeypatch):
    # loss_D > -1 always: D trains max_updates times; loss_G > 1e9 never: G does not train at all
    cfg = tiny_config("dataset=ring", "tricks.adaptive.t_d=-1", "tricks.adaptive.t_g=1e9",
                      "tricks.adaptive.max_updates=3", architecture="mlp")
    builds = spy(monkeypatch, "build")
    loop.run(cfg, tmp_path)
    G = builds[0][2].generator
    torch.manual_seed(cfg.seed)
    fresh = loop.build(cfg, torch.device("cpu")).generator  # the same seed's initial weights
    for (name, p), initial in zip(G.named_parameters(), fresh.parameters()):
        assert_close(p, initial, rtol=0, atol=0, msg=f"G's {name} was updated")
    values = scalars(tmp_path)
    assert values["tricks/d_updates"] == [3, 3] and values["tricks/g_updates"] == [0, 0]


def test_pacgan_packs_d_inputs(tmp_path, monkeypatch):
    cfg = tiny_config("dataset=ring", "tricks.pack=4", architecture="mlp")
    builds = spy(monkeypatch, "build")
    loop.run(cfg, tmp_path)
    D = builds[0][2].discriminator
    assert D.hidden[1].linear.in_features == 8  # 4 points of 2 coordinates
    assert scalars(tmp_path)["tricks/pack"] == [4, 4]


def test_conditional_run_gives_labels_to_g_and_d_and_one_grid_row_per_class(tmp_path, monkeypatch):
    cfg = tiny_config("conditional=true", "trainer.num_grid_samples=20")
    judged = spy(monkeypatch, "judge", gan)
    loop.run(cfg, tmp_path)
    for args, _, _ in judged:
        real_labels, fake_labels = args[2], args[4]
        assert real_labels.shape == fake_labels.shape == (8,)
        assert 0 <= int(real_labels.min()) and int(real_labels.max()) < 10
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    image = events.Images("samples/fixed")[-1]
    # 10 classes x 2 samples of 8x8 with 2-pixel padding: 10 rows of 2
    assert (image.height, image.width) == (10 * 10 + 2, 2 * 10 + 2)


def test_began_k_stays_in_0_1_is_logged_and_saved(tmp_path):
    cfg = tiny_config("objective=began", "trainer.steps=3", "objective.equilibrium.lambda_k=0.5",
                      architecture="autoencoder")
    loop.run(cfg, tmp_path)
    values = scalars(tmp_path)
    assert all(0.0 <= k <= 1.0 for k in values["objective/k_t"]) and len(values["objective/M_global"]) == 3
    state = checkpoint.load(sorted((tmp_path / "checkpoints").glob("step_*.pt"))[-1])
    assert_close(state["objective_state"]["k"], torch.tensor(values["objective/k_t"][-1]))


@pytest.mark.parametrize("overrides, architecture", [
    (["dataset=ring", "tricks.ema_decay=0.9", "tricks.history.size=12", "tricks.linear_lr_decay=true",
      "tricks.instance_noise.std=0.3", "tricks.instance_noise.anneal_steps=3"], "mlp"),
    (["objective=began", "objective.equilibrium.lambda_k=0.5"], "autoencoder"),
])
def test_a_resumed_run_continues_the_tricks_state_exactly(tmp_path, overrides, architecture):
    cfg = tiny_config(*overrides, "trainer.steps=4", "trainer.checkpoint_every=1", "trainer.keep_checkpoints=0",
                      architecture=architecture)
    loop.run(cfg, tmp_path / "straight")
    loop.run(cfg, tmp_path / "resumed")
    for late in ("step_00000003.pt", "step_00000004.pt"):  # as if killed right after step 2's checkpoint
        (tmp_path / "resumed" / "checkpoints" / late).unlink()
    loop.run(cfg, tmp_path / "resumed")
    straight, resumed = (checkpoint.load(tmp_path / run / "checkpoints" / "step_00000004.pt")
                         for run in ("straight", "resumed"))
    parts = {"generator", "discriminator", "ema_generator", "history", "scheduler_d", "scheduler_g",
             "objective_state"} & set(straight)
    assert parts >= ({"ema_generator", "history", "scheduler_d"} if architecture == "mlp" else {"objective_state"})
    for part in parts:
        assert_close(resumed[part], straight[part], rtol=0, atol=0, msg=lambda m: f"{part}: {m}")


def test_eval_and_sample_use_the_ema_generator_and_the_labels_of_a_conditional_run(tmp_path):
    from ganrun.commands import common as commands, sample

    cfg = tiny_config("conditional=true", "tricks.ema_decay=0.5", "tricks.latent=uniform")
    loop.run(cfg, tmp_path / "run")
    path = tmp_path / "run" / "checkpoints" / "step_00000002.pt"
    saved, saved_cfg = commands.checkpoint_config(str(path), [])
    _, G = commands.load_generator(saved, saved_cfg, torch.device("cpu"))
    for name, value in G.state_dict().items():  # the averaged weights, not the trained ones
        assert_close(value, saved["ema_generator"][f"module.{name}"], rtol=0, atol=0)
    sample.main([f"checkpoint={path}", "num=20", f"out={tmp_path / 'grid.png'}", "device=cpu"])
    from PIL import Image

    assert Image.open(tmp_path / "grid.png").size == (4 * 10 + 2, 5 * 10 + 2)  # 5 rows (classes 0-4) of 4


@pytest.mark.parametrize("overrides, architecture", [
    (["objective=ebgan", "trainer.precision=bf16"], "autoencoder"),  # the pull-away term reads D's encoder
    (["dataset=ring", "objective=unrolled", "objective.unroll_steps=2", "trainer.precision=bf16"], "mlp"),
    (["trainer.reuse_fake=true", "tricks.history.size=16", "tricks.ema_decay=0.9", "conditional=true"], "dcgan"),
])
def test_the_family_trains_behind_the_fast_path_wrappers(tmp_path, overrides, architecture):
    assert loop.run(tiny_config(*overrides, architecture=architecture), tmp_path) is not None
