"""UNIT / CoVAE-GAN (ganrun/games/unit.py): every loss term against hand-computed values, the game's total
against the formula written out by hand, weight sharing, two steps through the loop with grids and a
bitwise resume."""

import math

import pytest
import torch
import torch.nn.functional as F
from omegaconf import open_dict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.testing import assert_close

from ganrun import loop
from ganrun.models.unit import CoupledVAE
from ganrun.objectives.unit import UNITWeights, cycle_parts, generator_total, kl_per_unit, reconstruction, vae_parts
from ganrun.run import checkpoint
from tests.conftest import SHARED_DATA, compose_config, needs_shared_data
from tests.tiny_runs import one_thread  # noqa: F401  (module-wide: one thread, bitwise comparisons)

TINY = ["game=unit", f"dataset.root={SHARED_DATA}", "dataset.download=false", "dataset.resolution=8",
        "dataset.fraction=0.05", "trainer.steps=2", "trainer.batch_size=4", "trainer.log_every=1",
        "trainer.sample_every=1", "trainer.checkpoint_every=1", "trainer.device=cpu", "trainer.progress=off",
        "metrics=none", "architecture.generator.width=4", "architecture.discriminator.width=4",
        "architecture.latent_dim=3", "game.grid_rows=2"]


def config(*overrides: str):
    cfg = compose_config([*TINY, *overrides])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg


def test_kl_of_a_diagonal_gaussian_per_unit():
    mu, logvar = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.0, math.log(2.0)]])
    # 1/2 (sigma^2 + mu^2 - 1 - log sigma^2): unit 1: 1/2 (1 + 1 - 1 - 0); unit 2: 1/2 (2 + 4 - 1 - log 2)
    expected = (0.5 + 0.5 * (5.0 - math.log(2.0))) / 2
    assert_close(kl_per_unit(mu, logvar), torch.tensor(expected))
    assert_close(kl_per_unit(torch.tensor([3.0]), torch.zeros(1)), torch.tensor(4.5))  # the paper's q = N(mu, I)
    assert_close(kl_per_unit(torch.zeros(2, 3), torch.zeros(2, 3)), torch.tensor(0.0))  # q = p


def test_reconstruction_l1_and_l2():
    x, x_hat = torch.tensor([0.0, 1.0, -1.0, 0.5]), torch.tensor([0.5, 0.0, -1.0, 1.0])
    assert_close(reconstruction(x, x_hat), torch.tensor((0.5 + 1.0 + 0.0 + 0.5) / 4))
    assert_close(reconstruction(x, x_hat, p=2), torch.tensor((0.25 + 1.0 + 0.0 + 0.25) / 4))
    with pytest.raises(ValueError, match="shape"):
        reconstruction(x, x_hat[:3])


def test_vae_and_cycle_parts_and_the_weighted_total():
    x = torch.tensor([[1.0, -1.0]])
    parts = {**vae_parts(x, torch.tensor([[0.0, -1.0]]), torch.tensor([[2.0]]), torch.tensor([[0.0]])),
             **cycle_parts(x, torch.tensor([[1.0, 1.0]]), torch.tensor([[0.0]]), torch.tensor([[math.log(3.0)]]))}
    assert_close(parts["kl"], torch.tensor(2.0))        # 1/2 (1 + 4 - 1 - 0)
    assert_close(parts["recon"], torch.tensor(0.5))     # (1 + 0) / 2
    assert_close(parts["cycle_kl"], torch.tensor(0.5 * (3.0 - 1.0 - math.log(3.0))))
    assert_close(parts["cycle_recon"], torch.tensor(1.0))  # (0 + 2) / 2
    parts = {"gan": torch.tensor(2.0), "kl": torch.tensor(3.0), "recon": torch.tensor(0.5),
             "cycle_kl": torch.tensor(4.0), "cycle_recon": torch.tensor(0.25)}
    # the paper's lambdas: 10 * 2 + 0.1 * 3 + 100 * 0.5 + 0.1 * (3 + 4) + 100 * 0.25
    assert_close(generator_total(parts, UNITWeights()), torch.tensor(96.0))
    assert_close(generator_total(parts, UNITWeights(1.0, 2.0, 3.0, 4.0, 5.0)),
                 torch.tensor(2.0 + 6.0 + 1.5 + 28.0 + 1.25))


def _grads(module, loss):
    module.zero_grad(set_to_none=True)
    loss.backward()
    return {name: None if p.grad is None else p.grad.clone() for name, p in module.named_parameters()}


def test_shared_layers_are_one_parameter_object_with_gradients_from_both_domains():
    torch.manual_seed(0)
    vae = CoupledVAE((1, 8, 8), latent_dim=3, width=4)
    names = [name for name, _ in vae.named_parameters()]
    assert len(names) == len({id(p) for p in vae.parameters()})  # each shared parameter exists once
    x, z = torch.randn(2, 1, 8, 8), torch.randn(2, 3, 2, 2)
    for part, forward in (("encoder", lambda i: sum(t.square().sum() for t in vae.encoder(x, i))),
                          ("decoder", lambda i: vae.decoder(z, i).square().sum())):
        one, two = _grads(vae, forward(0)), _grads(vae, forward(1))
        both = _grads(vae, forward(0) + forward(1))
        shared = [n for n in names if n.startswith(f"{part}.") and ".private." not in n]
        assert shared and all(one[n] is not None and two[n] is not None for n in shared)
        for n in shared:  # the shared layer's gradient is the sum of both branches'
            assert_close(both[n], one[n] + two[n])
        assert all(one[n] is None for n in names if n.startswith(f"{part}.private.1."))
        assert all(two[n] is None for n in names if n.startswith(f"{part}.private.0."))


@needs_shared_data
def test_the_game_losses_are_the_papers_formula():
    """D's and G's losses of one step, written out by hand from the networks with the same noise."""
    from ganrun.experiment import build

    game = build(config("game.judge_reconstructions=false"), torch.device("cpu")).game
    vae, D, w = game.generator, game.discriminator, UNITWeights()
    a, b = batch = game.next_batch()
    torch.manual_seed(5)
    d_loss, _ = game.discriminator_loss(batch)
    g_loss, terms = game.generator_loss(batch)
    torch.manual_seed(5)
    codes = []
    for i, x in enumerate((a, b)):
        mu, logvar = vae.encoder(x, i)
        codes.append((mu, logvar, mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)))
    fake = [vae.decoder(codes[1][2], 0), vae.decoder(codes[0][2], 1)]  # b -> a, a -> b
    d = lambda real, f, i: F.softplus(-D(real, i)).mean() + F.softplus(D(f.detach(), i)).mean()  # noqa: E731
    assert_close(d_loss, w.gan * (d(a, fake[0], 0) + d(b, fake[1], 1)))
    expected = 0.0
    for i, x in enumerate((a, b)):
        mu, logvar, z = codes[i]
        there = fake[1 - i]
        mu_c, logvar_c = vae.encoder(there, 1 - i)
        z_c = mu_c + torch.exp(0.5 * logvar_c) * torch.randn_like(mu_c)
        kl = (0.5 * (logvar.exp() + mu**2 - 1 - logvar)).mean()
        kl_c = (0.5 * (logvar_c.exp() + mu_c**2 - 1 - logvar_c)).mean()
        recon = (vae.decoder(z, i) - x).abs().mean()
        cycle = (vae.decoder(z_c, i) - x).abs().mean()
        gan = F.softplus(-D(there, 1 - i)).mean()
        expected = expected + 10 * gan + 0.1 * kl + 100 * recon + 0.1 * (kl + kl_c) + 100 * cycle
        assert_close(terms[f"loss/cycle_recon_{'AB'[i]}"], cycle.detach())
    assert_close(g_loss, expected)


@needs_shared_data
def test_two_steps_write_both_translation_grids_and_resume_bitwise(tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    loop.run(config(), whole)
    events = EventAccumulator(str(whole))
    events.Reload()
    tags = set(events.Tags()["images"]) | set(events.Tags()["scalars"])
    expected = {"translation/A_A2B_A2B2A", "translation/B_B2A_B2A2B", "loss/kl_A", "loss/cycle_recon_B",
                "loss/gan_A", "D_A/real", "D_B/fake"}
    assert expected <= tags, expected - tags
    loop.run(config("trainer.steps=1"), parts)  # stopped after step 1 ...
    loop.run(config(), parts)                   # ... and continued from its checkpoint
    reference = checkpoint.load(checkpoint.latest(whole / "checkpoints"))
    resumed = checkpoint.load(checkpoint.latest(parts / "checkpoints"))
    assert resumed["step"] == reference["step"] == 2 and resumed.keys() == reference.keys()
    for part in reference.keys() - {"format", "config", "rng"}:
        assert_close(resumed[part], reference[part], rtol=0, atol=0, msg=lambda m: f"{part}: {m}")
    assert_close(resumed["rng"]["torch"], reference["rng"]["torch"], rtol=0, atol=0)


def test_label_accuracy_and_one_translation_per_test_split(monkeypatch):
    from ganrun.metrics.coupled import CoupledTranslationMetrics, label_accuracy

    logits = torch.tensor([[0.1, 2.0], [3.0, 0.0], [0.0, 1.0]])
    assert_close(label_accuracy(logits, torch.tensor([1, 1, 1])), torch.tensor(2 / 3))

    class Scores:  # TranslationMetrics' protocol: translates a and b once each (and the cycles)
        a, b = torch.tensor([[0.0], [1.0]]), torch.tensor([[1.0], [1.0]])

        def translate(self, fn, images):
            return fn(images)

        def __call__(self, a2b, b2a):
            fake_b, fake_a = self.translate(a2b, self.a), self.translate(b2a, self.b)
            self.translate(b2a, fake_b)
            return {"A2B/FID_classifier": 1.0}

    class Net(torch.nn.Module):  # classifies x into class round(x)
        def forward(self, x):
            return None, torch.cat([1 - x.float(), x.float()], dim=1)

    calls = []
    a2b = lambda x: calls.append("a2b") or 1 - x  # noqa: E731
    b2a = lambda x: calls.append("b2a") or x  # noqa: E731
    metrics = CoupledTranslationMetrics(Scores(), (Net(), Net()), (torch.tensor([1, 1]), torch.tensor([1, 0])),
                                        torch.device("cpu"), batch_size=2)
    monkeypatch.setattr("ganrun.metrics.coupled.quantize", lambda x: x)  # the nets read the images as they are
    out = metrics(a2b, b2a)
    assert calls == ["a2b", "b2a", "b2a"]  # the label accuracies reuse the translations
    assert out == {"A2B/FID_classifier": 1.0, "A2B/label_accuracy": 0.5, "B2A/label_accuracy": 0.5}


def test_the_paper_preset_carries_units_weights_and_adam():
    cfg = compose_config(["experiment=unit_mnist", "dataset.root=/tmp"])
    game = cfg.game
    assert (game.gan_weight, game.kl_weight, game.recon_weight, game.cycle_kl_weight, game.cycle_recon_weight) == \
        (10.0, 0.1, 100.0, 0.1, 100.0)
    assert (cfg.optimizer.lr, list(cfg.optimizer.betas), cfg.objective.name) == (1e-4, [0.5, 0.999], "ns")


@needs_shared_data
@pytest.mark.parametrize("objective", ["lsgan", "wgan_gp"])
def test_other_objectives_drive_both_adversarial_terms(objective):
    from ganrun.experiment import build

    game = build(config(f"objective={objective}", "objective.d_steps=1"), torch.device("cpu")).game
    batch = game.next_batch()
    d_loss, d_terms = game.discriminator_loss(batch)
    g_loss, g_terms = game.generator_loss(batch)
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    assert {"loss/gan_A", "loss/gan_B"} <= g_terms.keys()
    if objective == "wgan_gp":  # the gradient penalty of each domain's D
        assert {"D_A/gradient_penalty", "D_B/gradient_penalty"} <= d_terms.keys()
    d_loss.backward()
    assert all(p.grad is not None for p in game.discriminator.parameters())


def test_a_one_domain_dataset_is_refused_before_anything_runs():
    from ganrun.errors import ConfigError

    with pytest.raises(ConfigError, match="game=unit trains on dataset=mnist_negative or dataset=mnist_edge"):
        compose_config(["game=unit", "dataset=digits"])


def test_the_hand_written_loop_of_the_bench_row_trains(monkeypatch):
    from ganrun.data.base import InMemory
    from ganrun.models.cogan import CoupledDiscriminator
    from tests.conftest import REPO

    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    import plain_unit

    torch.manual_seed(0)
    domains = [InMemory(torch.rand(8, 1, 8, 8) * 2 - 1, torch.zeros(8, dtype=torch.int64), name=n, num_classes=1)
               for n in "ab"]
    vae, netD = CoupledVAE((1, 8, 8), latent_dim=3, width=4), CoupledDiscriminator((1, 8, 8), width=4)
    before = [p.detach().clone() for p in vae.parameters()]
    log = plain_unit.train(vae, netD, domains, batch_size=4, steps=3, log_every=1, device=torch.device("cpu"))
    assert [entry[0] for entry in log] == [1, 2, 3] and all(math.isfinite(e[1]) and math.isfinite(e[2]) for e in log)
    assert all(not torch.equal(a, b) for a, b in zip(before, vae.parameters()))  # every E and G weight moved
