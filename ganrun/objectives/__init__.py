"""Objectives: pure loss functions (losses, penalties, energy, fdivergence, unrolled) and the small
objects that hold them with their mechanics (objective.py). The loss functions are importable from
here too, under the names that checkpoints written before ganrun 0.2 give as `_target_`."""

from ganrun.objectives.energy import began_d_loss, ebgan_d_loss, energy_g_loss, pull_away_penalty
from ganrun.objectives.fdivergence import fgan_d_loss, fgan_g_loss
from ganrun.objectives.losses import (acgan_d_loss, acgan_g_loss, gan_d_loss, hinge_d_loss, hinge_g_loss,
                                      lsgan_d_loss, lsgan_g_loss, minimax_g_loss, ns_g_loss, source_scores,
                                      wgan_d_loss, wgan_g_loss)
from ganrun.objectives.objective import BEGAN, FGAN, Objective, Unrolled, WeightClipping
from ganrun.objectives.penalties import interpolate_penalty, perturbed_real_penalty

__all__ = [
    "Objective", "WeightClipping", "BEGAN", "Unrolled", "FGAN",
    "gan_d_loss", "minimax_g_loss", "ns_g_loss", "lsgan_d_loss", "lsgan_g_loss", "wgan_d_loss", "wgan_g_loss",
    "hinge_d_loss", "hinge_g_loss", "acgan_d_loss", "acgan_g_loss", "source_scores",
    "interpolate_penalty", "perturbed_real_penalty",
    "ebgan_d_loss", "began_d_loss", "energy_g_loss", "pull_away_penalty", "fgan_d_loss", "fgan_g_loss",
]
