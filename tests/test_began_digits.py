"""experiment=began_digits (BEGAN without the collapse on 8x8 digits in 2,000 CPU steps, docs/results.md
section 3): the preset's settings, and BEGAN's k_t control with them, exactly."""

from __future__ import annotations

import torch
from ganrun.experiment import make
from torch.testing import assert_close

from tests.test_experiments import preset


def test_began_digits_preset_settings():
    cfg = preset("began_digits")
    assert (cfg.dataset.name, cfg.objective.name, cfg.architecture.name) == ("digits", "began", "autoencoder")
    assert (cfg.objective.equilibrium.gamma, cfg.objective.equilibrium.lambda_k) == (0.7, 0.02)
    widths = (cfg.architecture.generator.width, cfg.architecture.discriminator.width)
    assert (cfg.trainer.batch_size, *widths) == (16, 32, 32)
    # a real bottleneck h = 8 (64 pixels); the paper's other settings stay: Adam lr 1e-4, no batch norm, L1 energy
    d = cfg.architecture.discriminator
    assert (cfg.optimizer.lr, d.code, d.exponent) == (1e-4, 8, 1)
    assert not cfg.architecture.discriminator.batch_norm and not cfg.architecture.generator.batch_norm


def test_began_digits_k_control_exact():
    objective = make(preset("began_digits").objective)
    real, fake = torch.tensor([0.2, 0.3]), torch.tensor([0.1, 0.14])  # batch means 0.25 and 0.12
    # k_1 = clip(0 + 0.02 (0.7 * 0.25 - 0.12), 0, 1) = 0.02 * 0.055 = 0.0011
    terms = objective.after_step(real, fake)
    assert_close(objective.k, torch.tensor(0.0011))
    # M_global = 0.25 + |0.175 - 0.12| = 0.305
    assert_close(terms["M_global"], torch.tensor(0.305))
    # D's loss with k_1: mean En(x) - k_1 mean En(G(z)) = 0.25 - 0.0011 * 0.12
    loss, _ = objective.discriminator_loss(real, fake)
    assert_close(loss, torch.tensor(0.25 - 0.0011 * 0.12))
    # the paper's lambda_k 0.001 moves k_t 20 times less on the same energies
    slow = make(preset("began_celeba").objective)
    slow.after_step(real, fake)
    assert_close(slow.k, torch.tensor(0.001 * (0.5 * 0.25 - 0.12)))
