"""experiment=began_digits (BEGAN without the collapse on 8x8 digits in 2,000 CPU steps, docs/results.md
section 3): the preset's settings, and BEGAN's k_t control with them, exactly."""

from __future__ import annotations

import torch
from ganrun.experiment import make
from ganrun.models import autoencoder
from torch.testing import assert_close

from tests.test_experiments import preset


def test_began_digits_preset_settings():
    cfg = preset("began_digits")
    assert (cfg.dataset.name, cfg.objective.name, cfg.architecture.name) == ("digits", "began", "autoencoder")
    assert (cfg.objective.equilibrium.gamma, cfg.objective.equilibrium.lambda_k) == (1.0, 0.02)
    widths = (cfg.architecture.generator.width, cfg.architecture.discriminator.width)
    assert (cfg.trainer.batch_size, *widths) == (16, 32, 32)
    # a bottleneck h = 16 (64 pixels), Adam lr 5e-4, G bounded by tanh; the paper's other settings stay:
    # no batch norm, L1 energy
    d = cfg.architecture.discriminator
    assert (cfg.optimizer.lr, d.code, d.exponent, cfg.architecture.generator.tanh) == (5e-4, 16, 1, True)
    assert not preset("began_celeba").architecture.generator.tanh  # the paper's G is unbounded
    assert not cfg.architecture.discriminator.batch_norm and not cfg.architecture.generator.batch_norm


def test_began_digits_k_control_exact():
    objective = make(preset("began_digits").objective)
    real, fake = torch.tensor([0.2, 0.3]), torch.tensor([0.1, 0.14])  # batch means 0.25 and 0.12
    # k_1 = clip(0 + 0.02 (1.0 * 0.25 - 0.12), 0, 1) = 0.02 * 0.13 = 0.0026
    terms = objective.after_step(real, fake)
    assert_close(objective.k, torch.tensor(0.0026))
    # M_global = 0.25 + |0.25 - 0.12| = 0.38
    assert_close(terms["M_global"], torch.tensor(0.38))
    # D's loss with k_1: mean En(x) - k_1 mean En(G(z)) = 0.25 - 0.0026 * 0.12
    loss, _ = objective.discriminator_loss(real, fake)
    assert_close(loss, torch.tensor(0.25 - 0.0026 * 0.12))
    # the paper's lambda_k 0.001 moves k_t 20 times less on the same energies
    slow = make(preset("began_celeba").objective)
    slow.after_step(real, fake)
    assert_close(slow.k, torch.tensor(0.001 * (0.5 * 0.25 - 0.12)))


def test_began_generator_tanh_bounds_the_decoder_exactly():
    """`architecture.generator.tanh=true`: G(z) = tanh(Dec(z)) with the same weights; off, G is the decoder."""
    torch.manual_seed(0)
    bounded = autoencoder.Generator(4, (1, 8, 8), width=4, tanh=True)
    plain = autoencoder.Generator(4, (1, 8, 8), width=4)
    plain.load_state_dict(bounded.state_dict())
    z = 3 * torch.randn(5, 4)
    assert_close(bounded(z), torch.tanh(plain(z)))
    # every weight of the last conv 0, its bias 2: the plain G draws 2 everywhere, the bounded one tanh(2)
    last = bounded.decode.body[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(2.0)
    assert_close(bounded(z), torch.full((5, 1, 8, 8), 0.9640275800758169))
